"""How robust is the key-account list to the weights?

Weights are judgements; a steering committee needs to know which names survive any reasonable
disagreement about them. Two analyses:

* **Monte Carlo**: draw many weight vectors (Dirichlet around the agreed weights, its
  ``concentration`` setting how far draws stray, and/or around each manager's own weights),
  rescore and re-select every time. Output per account: P(key), the probability of making the
  list, and a 90 % rank interval. Vectorised: draws are processed in chunks, the top-k per draw
  found with ``np.argpartition`` (linear time) rather than a full sort, and rank intervals are
  estimated on a subsample of draws (full ranks are the one O(n log n) step).
* **One at a time**: each weight up and down by ``step`` (others rescaled to keep the sum 1);
  and for each criterion, the smallest change of its weight that alters the list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kamlib.errors import ParameterError

ROBUST = "key in almost every scenario"
BORDERLINE = "borderline"
NOT_KEY = "not key"

MODES = ("dirichlet", "managers", "both")


def dirichlet_draws(rng: np.random.Generator, centre: np.ndarray, concentration: float,
                    size: int) -> np.ndarray:
    """Dirichlet(concentration * centre) draws; zero weights stay zero."""
    c = np.asarray(centre, dtype=float)
    on = c > 0
    out = np.zeros((size, c.size))
    out[:, on] = rng.dirichlet(concentration * c[on] / c[on].sum(), size=size)
    return out


def weight_draws(weights: np.ndarray, n_draws: int, concentration: float, seed: int,
                 mode: str = "dirichlet", manager_weights: np.ndarray | None = None
                 ) -> np.ndarray:
    """All weight scenarios, shape (n_draws, n_criteria), each row summing to 1.

    ``mode="dirichlet"``: around the agreed (group) weights. ``"managers"``: each draw first
    picks one manager at random, then draws around that manager's weights, so the spread
    reflects the real disagreement in the room. ``"both"``: half and half.
    """
    if mode not in MODES:
        raise ParameterError(f"robustness_mode must be one of {', '.join(MODES)}, not {mode!r}.")
    if concentration <= 0:
        raise ParameterError("concentration must be positive (larger = draws closer to the "
                             "agreed weights; 50-200 is typical).")
    if n_draws < 1:
        raise ParameterError("n_draws must be at least 1.")
    rng = np.random.default_rng(seed)
    w = np.asarray(weights, dtype=float)
    if mode != "dirichlet" and (manager_weights is None or len(manager_weights) == 0):
        raise ParameterError(f"robustness_mode '{mode}' needs each manager's AHP weights. Fix: "
                             "use 'dirichlet', or provide ahp_judgements.")
    n_m = n_draws if mode == "managers" else (n_draws // 2 if mode == "both" else 0)
    parts = [dirichlet_draws(rng, w, concentration, n_draws - n_m)] if n_draws - n_m else []
    if n_m:
        mw = np.asarray(manager_weights, dtype=float)
        pick = rng.integers(0, len(mw), size=n_m)
        for i in range(len(mw)):
            k = int((pick == i).sum())
            if k:
                parts.append(dirichlet_draws(rng, mw[i], concentration, k))
    return np.vstack(parts)


@dataclass
class MonteCarloResult:
    p_key: np.ndarray        # (n_accounts,)
    rank_low: np.ndarray     # 5th percentile of rank (best plausible rank)
    rank_median: np.ndarray
    rank_high: np.ndarray    # 95th percentile (worst plausible rank)
    n_draws: int
    n_rank_draws: int


def monte_carlo(normalised: np.ndarray, draws: np.ndarray, n_key: int, chunk: int = 500,
                rank_draws: int = 500, progress: bool = False) -> MonteCarloResult:
    """P(key) and rank intervals of every account over weight scenarios.

    Parameters
    ----------
    normalised : array (n_accounts, n_criteria)
        Normalised criterion values ("higher is better").
    draws : array (n_draws, n_criteria)
        Weight scenarios (e.g. from :func:`weight_draws`).
    n_key : int
        Size of the key-account list.
    chunk : int
        Draws scored at once; memory is about ``chunk * n_accounts * 4`` bytes per array.
    rank_draws : int
        Number of draws (the first ones) on which full ranks are computed for the intervals
        (500 draws put the 5th and 95th percentiles on the 25th and 475th order statistics).
    progress : bool
        Show a tqdm progress bar.

    Notes
    -----
    Exact top-k without partitioning all accounts: the best 4k accounts under the central
    (mean) weights form a reference set R. In a draw, the k-th best score overall is at least
    the k-th best score within R, so an account scoring below that bound cannot be key in that
    draw. Only the accounts at or above the bound in a draw (a few dozen to a few hundred) are
    sorted; the result is identical to partitioning everything.
    """
    x = np.ascontiguousarray(normalised, dtype=np.float32)
    n_acc = x.shape[0]
    if not 1 <= n_key <= n_acc:
        raise ParameterError(f"The key list must hold 1 to {n_acc} accounts, not {n_key}.")
    d = np.asarray(draws, dtype=np.float32)
    n_draws = d.shape[0]
    counts = np.zeros(n_acc, dtype=np.int64)
    n_rank = max(1, min(rank_draws, n_draws))
    rank_dtype = np.uint16 if n_acc < 65535 else np.uint32
    ranks = np.empty((n_rank, n_acc), dtype=rank_dtype)
    # Reference set for the bound: the best 4k accounts under the mean weights. The k-th best
    # score among them is a lower bound on the k-th best overall (a subset cannot do better),
    # and far tighter than the k-th alone when scenarios stray far from the mean.
    n_ref = min(4 * n_key, n_acc)
    reference = (np.argpartition(-(x @ d.mean(axis=0)), n_ref - 1)[:n_ref] if n_ref < n_acc
                 else np.arange(n_acc))
    starts = range(0, n_draws, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="weight scenarios", unit="chunk")
    rank_values = np.arange(1, n_acc + 1, dtype=rank_dtype)
    for s in starts:
        w = d[s:s + chunk]
        scores = w @ x.T                      # (chunk, n_acc), rows contiguous
        if n_key < n_acc:
            ref = scores[:, reference]
            bound = np.partition(ref, n_ref - n_key, axis=1)[:, n_ref - n_key]
            # Per draw, only the accounts at or above the bound compete (a few dozen to a few
            # hundred); every draw has at least k of them. Sort those (draw, -score) and keep
            # the first k of each draw: a segmented top-k without touching the rest.
            rows, cols = np.nonzero(scores >= bound[:, None])
            order = np.lexsort((-scores[rows, cols], rows))
            rows, cols = rows[order], cols[order]
            first = np.searchsorted(rows, np.arange(len(w)))
            top = cols[(first[:, None] + np.arange(n_key)[None, :]).ravel()]
            counts += np.bincount(top, minlength=n_acc)
        else:
            counts += len(w)
        if s < n_rank:
            m = min(n_rank - s, len(w))
            order = np.argsort(-scores[:m], axis=1)
            rows = np.arange(m)[:, None]
            ranks[s:s + m][rows, order] = rank_values[None, :]
    q = np.percentile(ranks, [5, 50, 95], axis=0, method="nearest") if n_rank else np.full(
        (3, n_acc), np.nan)
    return MonteCarloResult(counts / n_draws, q[0].astype(int), q[1].astype(int),
                            q[2].astype(int), n_draws, n_rank)


def classify(p_key: np.ndarray, robust: float = 0.9, borderline: float = 0.1) -> np.ndarray:
    """Robustness class from P(key): ``>= robust`` key in almost every scenario, ``>=
    borderline`` borderline, below that not key."""
    p = np.asarray(p_key, dtype=float)
    return np.where(p >= robust, ROBUST, np.where(p >= borderline, BORDERLINE, NOT_KEY))


def _top_sets(normalised: np.ndarray, weight_rows: np.ndarray, n_key: int) -> np.ndarray:
    """Boolean (n_scenarios, n_accounts): account in the top n_key of each weight row."""
    scores = weight_rows @ normalised.T
    n_acc = normalised.shape[0]
    member = np.zeros((len(weight_rows), n_acc), dtype=bool)
    if n_key >= n_acc:
        member[:] = True
        return member
    top = np.argpartition(-scores, n_key - 1, axis=1)[:, :n_key]
    np.put_along_axis(member, top, True, axis=1)
    return member


def _rescale(weights: np.ndarray, j: int, new_wj: np.ndarray) -> np.ndarray:
    """Weight rows where criterion j gets ``new_wj`` and the others share ``1 - new_wj`` in
    their original proportions."""
    w = np.asarray(weights, dtype=float)
    others = w.copy()
    others[j] = 0.0
    rest = others.sum()
    rows = np.outer(1.0 - new_wj, others / rest if rest > 0 else others)
    rows[:, j] = new_wj
    return rows


def _first_crossings(a: np.ndarray, b: np.ndarray, member: np.ndarray, t0: float):
    """Where the key set first changes as one weight moves away from ``t0``.

    With criterion j's weight t and the other weights rescaled to ``1 - t`` in their original
    proportions, every account's score is linear in t: ``(1 - t) a_i + t b_i`` (``a`` = score
    from the other criteria at full weight, ``b`` = the account's value on j). The key set
    changes exactly when a non-member's line first crosses a member's line, so the smallest
    change is the nearest crossing above and below ``t0`` -- exact, no grid search.

    Returns ``(t_up, (leaver, enterer)), (t_down, (leaver, enterer))`` with NaN where no
    crossing exists in [0, 1].
    """
    mi, ni = np.flatnonzero(member), np.flatnonzero(~member)
    if len(mi) == 0 or len(ni) == 0:
        return (np.nan, None), (np.nan, None)
    da = a[mi][:, None] - a[ni][None, :]
    db = b[mi][:, None] - b[ni][None, :]
    denom = da - db
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(denom != 0, da / denom, np.nan)
    eps = 1e-12
    out = []
    for valid in ((t > t0 + eps) & (t <= 1 + eps), (t < t0 - eps) & (t >= -eps)):
        if not valid.any():
            out.append((np.nan, None))
            continue
        cand = np.where(valid, t, np.nan)
        k = np.nanargmin(np.abs(cand - t0))
        i, j = np.unravel_index(k, cand.shape)
        out.append((float(cand[i, j]), (int(mi[i]), int(ni[j]))))
    return out[0], out[1]


def sensitivity(normalised: np.ndarray, weights: np.ndarray, n_key: int, labels: list[str],
                step: float = 0.1, account_ids: list[str] | None = None):
    """One-at-a-time sensitivity of the key list to each weight.

    For each criterion: how many accounts enter the list when its weight moves by ``+step`` and
    ``-step`` (relative, 0.1 = 10 %; the other weights keep their proportions and the sum stays
    1), and the smallest relative increase and decrease of the weight that changes the list at
    all (computed exactly from where score lines cross, see :func:`_first_crossings`), with the
    account that would leave and the one that would enter at that point.

    Returns
    -------
    DataFrame with one row per criterion.
    """
    import pandas as pd

    x = np.asarray(normalised, dtype=float)
    w = np.asarray(weights, dtype=float)
    n_acc = x.shape[0]
    ids = np.asarray(account_ids if account_ids is not None else np.arange(n_acc).astype(str))
    base = _top_sets(x, w[None, :], n_key)[0]
    rows = []
    for j, name in enumerate(labels):
        row = {"criterion": name, "weight": w[j]}
        for sign, tag in ((1, "plus"), (-1, "minus")):
            new = np.clip(w[j] * (1 + sign * step), 0, 1)
            m = _top_sets(x, _rescale(w, j, np.array([new])), n_key)[0]
            row[f"entering_{tag}"] = int((m & ~base).sum())
        others = w.copy()
        others[j] = 0.0
        rest = others.sum()
        a = x @ (others / rest) if rest > 0 else np.zeros(n_acc)
        up, down = _first_crossings(a, x[:, j], base, w[j])
        for (t, pair), tag in ((up, "up"), (down, "down")):
            ok = pair is not None and w[j] > 0
            row[f"min_change_{tag}"] = t / w[j] - 1 if ok else np.nan
            row[f"weight_at_change_{tag}"] = t if ok else np.nan
            row[f"leaves_{tag}"] = ids[pair[0]] if ok else ""
            row[f"enters_{tag}"] = ids[pair[1]] if ok else ""
        rows.append(row)
    df = pd.DataFrame(rows)
    df["min_abs_change"] = df[["min_change_up", "min_change_down"]].abs().min(axis=1)
    return df
