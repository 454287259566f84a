"""The portfolio review (step 50): who serves which key account, how the last plan went, and
what the executive summary says.

One entry point, :func:`run` (in :mod:`~kamlib.review.entry`, with its result
:class:`~kamlib.review.entry.PortfolioReview`). The modules:

* :mod:`~kamlib.review.resources` -- the resource plan: accounts to account managers within
  capacity (:class:`~kamlib.review.resources.ResourcePlanner`, ``CapacityError``);
* :mod:`~kamlib.review.plan` -- the last plan as the review reads it (checked and normalised);
  :mod:`~kamlib.review.evidence` -- what the new data says (the actual of each stage goal);
  :mod:`~kamlib.review.audit` -- stage goals, objectives, actions and segment moves judged;
* :mod:`~kamlib.review.risks` -- which key accounts are most at risk, and why;
  :mod:`~kamlib.review.summary` -- everything the executive summary states.

Like every analysis package it takes and returns DataFrames: reading the baseline run is the
runner's (:mod:`kamlib.runner.baseline`), laying out the page the report's
(:mod:`kamlib.report.summary`). ``import kamlib.review`` stays cheap: :func:`run` is imported on
first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from kamlib.review.entry import run

        return run
    raise AttributeError(f"module 'kamlib.review' has no attribute {name!r}")
