"""Account planning: a living plan blueprint per key account, and the portfolio around it.

Per account (see ``docs/planning.md``): :mod:`~kamlib.planning.profile`,
:mod:`~kamlib.planning.relationship`, :mod:`~kamlib.planning.whitespace`,
:mod:`~kamlib.planning.objectives`, :mod:`~kamlib.planning.actions`,
:mod:`~kamlib.planning.health`, assembled by :mod:`~kamlib.planning.blueprint`.
Portfolio level: :mod:`~kamlib.planning.resources`, :mod:`~kamlib.planning.review`.
"""
