"""Selection: agree the criteria, score every account, and show how robust the key list is.

Modules: :mod:`~kamlib.selection.criteria` (the catalogue and the account x criterion matrix),
:mod:`~kamlib.selection.ahp` (weights from pairwise comparisons), :mod:`~kamlib.selection.agreement`
(how far managers agree), :mod:`~kamlib.selection.mcda` (normalisation, weighted sum, TOPSIS),
:mod:`~kamlib.selection.robustness` (Monte Carlo over the weights, sensitivity) and
:mod:`~kamlib.selection.tiers` (list length from capacity, serving models).
:func:`select_accounts` runs them all.
"""

from kamlib.selection.pipeline import SelectionResult, select_accounts

__all__ = ["SelectionResult", "select_accounts"]
