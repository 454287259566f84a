"""Account planning: a living plan per key account (step 40).

One entry point, :func:`run` (in :mod:`~kamlib.planning.entry`), returning a
:class:`~kamlib.planning.entry.PlanningResult`; :meth:`~kamlib.planning.entry.PlanningResult.account`
gives one account's :class:`~kamlib.planning.account_plan.AccountPlan` for its page.
The parts, in the order of a plan (see ``docs/planning.md``): :mod:`~kamlib.planning.profile`,
:mod:`~kamlib.planning.relationship`, :mod:`~kamlib.planning.whitespace`,
:mod:`~kamlib.planning.objectives`, :mod:`~kamlib.planning.actions`,
:mod:`~kamlib.planning.health`.
"""

from kamlib.planning.account_plan import AccountPlan
from kamlib.planning.entry import PlanningResult, run

__all__ = ["run", "PlanningResult", "AccountPlan"]
