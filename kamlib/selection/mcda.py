"""Normalisation, weighted sum and TOPSIS: the two scoring rules shown side by side.

The weighted sum adds each criterion's normalised value times its weight, so every account's
score splits exactly into per-criterion contributions ("why is this account key"). TOPSIS
(Hwang & Yoon 1981) ranks by relative closeness to the ideal account (best on every criterion)
and distance from the anti-ideal; it punishes an account that is very weak on one heavily
weighted criterion more than the sum does. When the two rankings agree, the list does not hinge
on the scoring rule.
"""

from __future__ import annotations

import numpy as np

from kamlib.errors import ParameterError

NORMALISATIONS = ("minmax", "rank", "zscore", "vector")
"""Methods for :func:`normalise`."""


def _as_2d(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise ValueError("expected an accounts x criteria matrix")
    return a


def normalise(x, benefit, method: str = "minmax") -> np.ndarray:
    """Put every criterion on a common "higher is better" scale.

    Parameters
    ----------
    x : array (n_accounts, n_criteria)
        Raw criterion values, no missing values.
    benefit : array of bool (n_criteria,)
        True where more is better; cost criteria are reversed.
    method : {"minmax", "rank", "zscore", "vector"}
        ``minmax``: (x - min) / (max - min), in [0, 1] (a constant criterion gets 0 for all:
        it cannot separate accounts). ``rank``: percentile rank in [0, 1], ties averaged (robust
        to outliers). ``zscore``: (x - mean) / sd (unbounded; contributions can be negative).
        ``vector``: x / ||x|| (TOPSIS's normalisation); cost criteria become 1 - x / ||x|| so a
        sum stays "higher is better".
    """
    a = _as_2d(x)
    ben = np.asarray(benefit, dtype=bool)
    if method == "minmax":
        lo, hi = a.min(axis=0), a.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        n = (a - lo) / span
        n[:, hi <= lo] = 0.0
        return np.where(ben, n, np.where(hi > lo, 1.0 - n, 0.0))
    if method == "rank":
        from scipy.stats import rankdata

        r = rankdata(a, axis=0, method="average")
        m = a.shape[0]
        n = (r - 1) / (m - 1) if m > 1 else np.zeros_like(r)
        const = a.max(axis=0) <= a.min(axis=0)
        n[:, const] = 0.0
        return np.where(ben | const, n, 1.0 - n)
    if method == "zscore":
        sd = a.std(axis=0)
        z = (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        return np.where(ben, z, -z)
    if method == "vector":
        norm = np.linalg.norm(a, axis=0)
        v = a / np.where(norm > 0, norm, 1.0)
        return np.where(ben, v, 1.0 - v)
    raise ParameterError(f"Unknown normalisation {method!r}. Fix: use one of "
                         f"{', '.join(NORMALISATIONS)}.")


def check_weights(weights, n: int | None = None, names=None) -> np.ndarray:
    """Validate a weight vector: non-negative, not all zero, summing to 1.

    Sums within 1 % of 1 (rounding in a spreadsheet) are rescaled to exactly 1; anything else
    is refused, because silently rescaling 0.6 + 0.6 would hide a typing mistake.
    """
    w = np.asarray(weights, dtype=float)
    label = (lambda i: names[i]) if names is not None else (lambda i: f"#{i}")
    if n is not None and w.shape != (n,):
        raise ParameterError(f"Expected {n} weights, got {w.size}.")
    if not np.all(np.isfinite(w)):
        raise ParameterError("Weights must be numbers (one is blank or not a number).")
    if np.any(w < 0):
        bad = [label(i) for i in np.flatnonzero(w < 0)]
        raise ParameterError(f"Weights must not be negative ({', '.join(bad)}). Fix: use 0 to "
                             "switch a criterion off, or a cost direction to reward low values.")
    total = float(w.sum())
    if total <= 0:
        raise ParameterError("All weights are zero. Fix: give at least one criterion a weight.")
    if abs(total - 1.0) > 0.01:
        raise ParameterError(f"Weights sum to {total:.4g}, not 1. Fix: make them sum to 1 (e.g. "
                             "percentages divided by 100).")
    return w / total


def weighted_sum(normalised, weights) -> tuple[np.ndarray, np.ndarray]:
    """Weighted-sum score and per-criterion contributions (they add up to the score)."""
    n = _as_2d(normalised)
    contrib = n * np.asarray(weights, dtype=float)[None, :]
    return contrib.sum(axis=1), contrib


def topsis(x, weights, benefit, normalisation: str = "vector") -> dict[str, np.ndarray]:
    """TOPSIS relative closeness to the ideal solution (Hwang & Yoon 1981).

    Parameters
    ----------
    x : array (n_accounts, n_criteria)
        Raw criterion values (not reversed for cost criteria: TOPSIS handles direction in the
        ideal and anti-ideal points).
    weights : array (n_criteria,)
    benefit : array of bool (n_criteria,)
    normalisation : {"vector", "minmax"}
        ``vector`` (x / ||x||, Hwang & Yoon's choice) or ``minmax``.

    Returns
    -------
    dict with ``closeness`` (in [0, 1], higher is better), ``d_best``, ``d_worst``.
    """
    a = _as_2d(x)
    ben = np.asarray(benefit, dtype=bool)
    w = np.asarray(weights, dtype=float)
    if normalisation == "vector":
        norm = np.linalg.norm(a, axis=0)
        r = a / np.where(norm > 0, norm, 1.0)
    elif normalisation == "minmax":
        lo, hi = a.min(axis=0), a.max(axis=0)
        r = (a - lo) / np.where(hi > lo, hi - lo, 1.0)
    else:
        raise ParameterError(f"TOPSIS normalisation must be 'vector' or 'minmax', not "
                             f"{normalisation!r}.")
    v = r * w[None, :]
    best = np.where(ben, v.max(axis=0), v.min(axis=0))
    worst = np.where(ben, v.min(axis=0), v.max(axis=0))
    d_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_best + d_worst
    closeness = np.divide(d_worst, total, out=np.zeros_like(total), where=total > 0)
    return {"closeness": closeness, "d_best": d_best, "d_worst": d_worst}


def rank_desc(scores) -> np.ndarray:
    """Competition ranks, 1 = highest score; ties share the better rank."""
    from scipy.stats import rankdata

    return rankdata(-np.asarray(scores, dtype=float), method="min").astype(int)
