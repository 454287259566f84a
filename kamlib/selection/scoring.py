"""Scoring every account with the agreed weights: the weighted sum (with each criterion's
contribution), TOPSIS beside it, the ranks, and the drivers that say why an account scores high.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kamlib.selection import mcda
from kamlib.formatting import share as fmt_share


@dataclass
class Scores:
    """Both scoring rules' results, one entry per account (in the criterion matrix's order).

    Attributes
    ----------
    normalised : ndarray (accounts x criteria)
        The criteria scaled for the weighted sum (the robustness analysis reuses them).
    score, contributions : ndarray
        The weighted sum and its split by criterion (rows add up to ``score``).
    closeness : ndarray
        TOPSIS relative closeness to the ideal account.
    rank, rank_topsis : ndarray of int
        Ordinal rank by score (ties broken by account id, so the key list has exactly the
        length asked for) and competition rank by closeness.
    """

    normalised: np.ndarray
    score: np.ndarray
    contributions: np.ndarray
    closeness: np.ndarray
    rank: np.ndarray
    rank_topsis: np.ndarray


def score_accounts(x: np.ndarray, ids: np.ndarray, benefit: np.ndarray, weights: np.ndarray,
                   normalisation: str = "minmax", topsis_normalisation: str = "vector") -> Scores:
    """Score the accounts ``ids`` on their raw criterion values ``x`` (accounts x criteria)."""
    norm = mcda.normalise(x, benefit, normalisation)
    score, contrib = mcda.weighted_sum(norm, weights)
    # Vector normalisation assumes ratio scales (a meaningful zero). Our transformed criteria
    # are interval scales (log revenue ~ 11 +/- 1, ratings 0-10, growth -2..2): dividing them by
    # their norm would all but erase the spread of the offset ones. Shifting each criterion so
    # its worst-to-best range starts at 0 restores a meaningful zero without changing the
    # order or the direction (TOPSIS still finds ideal and anti-ideal itself).
    tp = mcda.topsis(x - x.min(axis=0), weights, benefit, topsis_normalisation)
    # Ordinal rank: ties broken by account id so the list length is exactly n_key.
    order = np.lexsort((ids, -score))
    rank = np.empty(len(ids), dtype=int)
    rank[order] = np.arange(1, len(ids) + 1)
    return Scores(norm, score, contrib, tp["closeness"], rank, mcda.rank_desc(tp["closeness"]))


def drivers(contrib: np.ndarray, keys: list[str], labels: dict[str, str], top: int = 3
            ) -> list[str]:
    """'Billing 38%, Future potential 21%, ...': the largest shares of each score."""
    total = contrib.sum(axis=1, keepdims=True)
    share = np.divide(contrib, total, out=np.zeros_like(contrib), where=total > 0)
    order = np.argsort(-contrib, axis=1)[:, :top]
    out = []
    for i, idx in enumerate(order):
        parts = [f"{labels[keys[j]]} {fmt_share(share[i, j])}" for j in idx if contrib[i, j] > 0]
        out.append(", ".join(parts))
    return out
