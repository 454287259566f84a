"""Selection: agree the criteria, score every account, and show how robust the key list is.

One entry point, :func:`run` (the selection step; :mod:`~kamlib.selection.entry`), returning a
:class:`~kamlib.selection.entry.SelectionResult`. The modules it runs, in order:
:mod:`~kamlib.selection.criteria` (the catalogue and the account x criterion matrix),
:mod:`~kamlib.selection.weighting` (where the weights come from) with
:mod:`~kamlib.selection.ahp` (weights from pairwise comparisons),
:mod:`~kamlib.selection.scoring` with :mod:`~kamlib.selection.mcda` (normalisation, weighted
sum, TOPSIS), :mod:`~kamlib.selection.robustness` (Monte Carlo over the weights, sensitivity),
:mod:`~kamlib.selection.tiers` (list length from capacity, serving models) and
:mod:`~kamlib.selection.agreement` (how far managers agree).

``import kamlib.selection`` stays cheap: :func:`run` is imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run", "SelectionResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kamlib.selection import entry

        return getattr(entry, name)
    raise AttributeError(f"module 'kamlib.selection' has no attribute {name!r}")
