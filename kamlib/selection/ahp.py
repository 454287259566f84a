"""Analytic Hierarchy Process: criteria weights from managers' pairwise comparisons.

Each manager says, for every pair of criteria, how much more important one is than the other on
Saaty's 1-9 scale. The weights are the principal (Perron) eigenvector of that reciprocal matrix;
its eigenvalue ``lambda_max`` is ``n`` for perfectly consistent judgements and grows with
inconsistency. ``CI = (lambda_max - n) / (n - 1)`` and ``CR = CI / RI(n)``, where ``RI(n)`` is
the mean CI of random reciprocal matrices of size n. Saaty's rule of thumb: CR above 0.10 means
the judgements should be revisited.

Random-index tables differ between sources because they were simulated with different numbers
of matrices. Two are offered, by name:

``"alonso_lamata_2006"`` (default)
    Alonso, J.A. & Lamata, M.T. (2006), *Consistency in the analytic hierarchy process: a new
    approach*, Int. J. Uncertainty, Fuzziness and Knowledge-Based Systems 14(4), 445-459
    (simulated random matrices, n = 3..15). For n > 15 their linear fit is used:
    ``RI = (1.7699 n - 4.3513) / (n - 1)`` (it reproduces the table within 0.01 at n = 15).
``"saaty_1980"``
    Saaty, T.L. (1980), *The Analytic Hierarchy Process*, McGraw-Hill (n = 1..15; the
    classic 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 ...). Sizes above 15 use the
    Alonso-Lamata fit.

Managers are combined by the element-wise geometric mean of their matrices (Aczél & Saaty 1983:
the only aggregation that keeps the result reciprocal), whose eigenvector is the group weight.
Missing comparisons are completed with Harker's (1987) method when the comparison graph is still
connected, and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import InputError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

RANDOM_INDEX: dict[str, dict[int, float]] = {
    "alonso_lamata_2006": {1: 0.0, 2: 0.0, 3: 0.5247, 4: 0.8816, 5: 1.1086, 6: 1.2479,
                           7: 1.3417, 8: 1.4057, 9: 1.4499, 10: 1.4854, 11: 1.5140,
                           12: 1.5365, 13: 1.5551, 14: 1.5713, 15: 1.5838},
    "saaty_1980": {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
                   9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59},
}
"""Random consistency indices RI(n) by source (see the module docstring)."""

CR_THRESHOLD = 0.10
"""Saaty's limit for acceptable inconsistency."""

RECIPROCITY_TOLERANCE = 0.02
"""Relative tolerance when a pair is given both ways: 3 and 0.333 are reciprocal, 3 and 0.5 not."""


def random_index(n: int, table: str = "alonso_lamata_2006") -> float:
    """RI(n) from the named table (the Alonso-Lamata fit beyond the table's largest n)."""
    if table not in RANDOM_INDEX:
        raise ParameterError(f"Unknown random-index table {table!r}. Fix: use one of "
                             f"{', '.join(RANDOM_INDEX)}.")
    values = RANDOM_INDEX[table]
    if n in values:
        return values[n]
    if n < 1:
        raise ValueError("matrix size must be positive")
    return (1.7699 * n - 4.3513) / (n - 1)


def principal_eigen(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Perron eigenvector (normalised to sum 1) and eigenvalue of a positive matrix."""
    vals, vecs = np.linalg.eig(np.asarray(matrix, dtype=float))
    i = int(np.argmax(vals.real))
    w = np.abs(vecs[:, i].real)
    return w / w.sum(), float(vals[i].real)


def check_reciprocal(matrix: np.ndarray, tol: float = RECIPROCITY_TOLERANCE
                     ) -> list[tuple[int, int]]:
    """Index pairs (i, j), i < j, where ``a_ij * a_ji`` differs from 1 by more than ``tol``."""
    a = np.asarray(matrix, dtype=float)
    prod = a * a.T
    bad = np.argwhere(np.triu(np.abs(prod - 1) > tol, k=1))
    return [(int(i), int(j)) for i, j in bad]


class AHP:
    """Priorities and consistency of one pairwise comparison matrix.

    Parameters
    ----------
    random_index : str
        Name of the random-index table (``"alonso_lamata_2006"`` or ``"saaty_1980"``).
    labels : list of str, optional
        Names of the compared elements (criteria), for the tables.

    Attributes
    ----------
    weights_ : ndarray
        Principal eigenvector, sums to 1.
    lambda_max_, ci_, ri_, cr_ : float
        Principal eigenvalue, consistency index, random index, consistency ratio.
    consistent_ : bool
        ``cr_ <= 0.10``.
    errors_ : ndarray
        ``a_ij * w_j / w_i``: 1 where judgement ij agrees with the weights.
    """

    def __init__(self, random_index: str = "alonso_lamata_2006", labels: list[str] | None = None):
        self.random_index = random_index
        self.labels = labels

    def fit(self, matrix: np.ndarray) -> AHP:
        """Compute priorities and consistency. The matrix must be positive and reciprocal."""
        a = np.asarray(matrix, dtype=float)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ParameterError(f"A pairwise comparison matrix must be square, not {a.shape}.")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ParameterError("A pairwise comparison matrix must hold positive numbers only.")
        bad = check_reciprocal(a)
        if bad:
            i, j = bad[0]
            raise ParameterError(f"The comparison matrix is not reciprocal: a[{i},{j}] = "
                                 f"{a[i, j]:g} but a[{j},{i}] = {a[j, i]:g} (should be "
                                 f"{1 / a[i, j]:.3g}).")
        n = a.shape[0]
        self.labels_ = list(self.labels) if self.labels else [str(k) for k in range(n)]
        self.weights_, self.lambda_max_ = principal_eigen(a)
        self.ri_ = random_index(n, self.random_index)
        self.ci_ = (self.lambda_max_ - n) / (n - 1) if n > 2 else 0.0
        self.ci_ = max(self.ci_, 0.0)  # rounding can push a consistent matrix a hair below n
        self.cr_ = self.ci_ / self.ri_ if self.ri_ > 0 else 0.0
        self.consistent_ = self.cr_ <= CR_THRESHOLD
        self.matrix_ = a
        self.errors_ = a * self.weights_[None, :] / self.weights_[:, None]
        return self

    def inconsistencies(self, top: int = 5) -> pd.DataFrame:
        """The judgements that disagree most with the derived weights.

        Saaty's diagnostic: ``e_ij = a_ij w_j / w_i`` is 1 for a judgement the weights reproduce;
        the pairs with the largest ``|log e_ij|`` drive CR up. ``suggested`` is the value
        ``w_i / w_j`` that would agree with the rest of the judgements.
        """
        import pandas as pd

        n = len(self.weights_)
        iu = np.triu_indices(n, k=1)
        dev = np.abs(np.log(self.errors_[iu]))
        order = np.argsort(-dev)[:top]
        rows = []
        for k in order:
            i, j = iu[0][k], iu[1][k]
            rows.append({"criterion_a": self.labels_[i], "criterion_b": self.labels_[j],
                         "judgement": self.matrix_[i, j],
                         "suggested": self.weights_[i] / self.weights_[j],
                         "deviation_factor": float(np.exp(dev[k]))})
        return pd.DataFrame(rows)


def harker_complete(matrix: np.ndarray) -> np.ndarray:
    """Harker's (1987) auxiliary matrix for a comparison matrix with missing entries (NaN).

    Missing entries become 0 and each diagonal element becomes 1 + the number of missing
    comparisons in its row; the principal eigenvector of that matrix is Harker's estimate of the
    weights. We return the *completed* reciprocal matrix ``a_ij = w_i / w_j`` for the missing
    entries so the rest of the pipeline (CR, group mean) sees an ordinary matrix.
    """
    a = np.array(matrix, dtype=float)
    miss = np.isnan(a)
    if not miss.any():
        return a
    aux = np.where(miss, 0.0, a)
    np.fill_diagonal(aux, 1.0 + miss.sum(axis=1))
    w, _ = principal_eigen(aux)
    completed = np.where(miss, w[:, None] / w[None, :], a)
    return completed


def _connected(known: np.ndarray) -> bool:
    n = known.shape[0]
    seen = {0}
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero(known[i]):
            if j not in seen:
                seen.add(int(j))
                frontier.append(int(j))
    return len(seen) == n


@dataclass
class ManagerMatrix:
    """One manager's comparison matrix and what was repaired in it."""

    manager: str
    matrix: np.ndarray
    n_given: int
    n_missing: int


def judgement_matrices(judgements: pd.DataFrame, criteria: list[str],
                       missing: str = "harker") -> list[ManagerMatrix]:
    """Build each manager's reciprocal matrix over ``criteria`` from the ahp_judgements table.

    Pairs may be given in either order (``a`` over ``b`` = 3 is the same as ``b`` over ``a`` =
    1/3). Comparisons of criteria that are switched off are ignored (a sub-matrix of a
    comparison matrix is a comparison matrix).

    Parameters
    ----------
    judgements : DataFrame
        Columns ``manager, criterion_a, criterion_b, value``.
    criteria : list of str
        The criteria to weight, in order.
    missing : {"harker", "error"}
        What to do when a manager skipped some pairs: complete with Harker's method (and count
        them in ``n_missing``) or refuse.

    Raises
    ------
    InputError
        A value off Saaty's scale (outside 1/9..9), a pair given twice with non-reciprocal
        values, a criterion one manager never compared with any other, or (with
        ``missing="error"``) any missing pair. Row numbers are 1-based data rows.
    """
    import pandas as pd

    if missing not in ("harker", "error"):
        raise ParameterError(f"ahp_missing must be 'harker' or 'error', not {missing!r}.")
    need = {"manager", "criterion_a", "criterion_b", "value"}
    if judgements is None or len(judgements) == 0:
        raise InputError("ahp_judgements", "there are no pairwise comparisons.",
                         "fill in ahp_judgements or set weights to 'direct' with "
                         "direct_weights.")
    lacking = need - set(judgements.columns)
    if lacking:
        raise InputError("ahp_judgements", f"columns {sorted(lacking)} are missing.",
                         "use the contract's columns manager, criterion_a, criterion_b, value.")
    j = judgements.reset_index(drop=True).copy()
    j["value"] = pd.to_numeric(j["value"], errors="coerce")
    off = j.index[~j["value"].between(1 / 9 - 1e-6, 9 + 1e-6)]
    if len(off):
        raise InputError("ahp_judgements", "values must lie on Saaty's scale, 1/9 to 9.",
                         "write e.g. 3 when a matters moderately more, 0.333 when b does.",
                         column="value", rows=(off + 1).tolist())
    index = {c: k for k, c in enumerate(criteria)}
    out: list[ManagerMatrix] = []
    for manager, g in j.groupby("manager", sort=True):
        n = len(criteria)
        a = np.full((n, n), np.nan)
        np.fill_diagonal(a, 1.0)
        where: dict[tuple[int, int], int] = {}
        for row, ca, cb, v in zip(g.index, g["criterion_a"], g["criterion_b"], g["value"]):
            if ca not in index or cb not in index or ca == cb:
                continue
            i, k = index[ca], index[cb]
            key = (min(i, k), max(i, k))
            val = v if i < k else 1.0 / v
            if key in where:
                prev = a[key]
                if abs(prev * (1 / val) - 1) > RECIPROCITY_TOLERANCE:
                    raise InputError(
                        "ahp_judgements", f"manager '{manager}' compared {ca} and {cb} twice "
                        f"with values that contradict each other ({prev:.3g} vs {val:.3g} for "
                        f"{criteria[key[0]]} over {criteria[key[1]]}).",
                        "keep one of the two rows (a over b = x means b over a = 1/x).",
                        rows=[where[key] + 1, row + 1])
                continue
            where[key] = row
            a[key] = val
            a[key[::-1]] = 1.0 / val
        known = ~np.isnan(a)
        n_missing = int((~known).sum() // 2)
        if n_missing:
            absent = [criteria[i] for i in range(n) if known[i].sum() == 1]
            if absent or not _connected(known & ~np.eye(n, dtype=bool)):
                what = (f"never compared {', '.join(absent)} with any other criterion" if absent
                        else "left the criteria in groups that are never compared with each other")
                raise InputError("ahp_judgements", f"manager '{manager}' {what}, so no weight "
                                 "can be derived.", "add the comparisons, switch those criteria "
                                 "off, or use direct weights.", column="criterion_a")
            if missing == "error":
                iu = np.argwhere(np.triu(~known, k=1))
                pairs = ", ".join(f"{criteria[i]}/{criteria[k]}" for i, k in iu[:5])
                raise InputError("ahp_judgements", f"manager '{manager}' has {n_missing} missing "
                                 f"comparison(s) ({pairs}...).", "add them, or set ahp_missing "
                                 "to 'harker' to estimate them from the others.")
            a = harker_complete(a)
        out.append(ManagerMatrix(str(manager), a, len(where), n_missing))
    if not out:
        raise InputError("ahp_judgements", "no comparison involves two of the selected criteria.",
                         "compare the selected criteria or use direct weights.")
    return out


def geometric_mean_matrix(matrices: list[np.ndarray]) -> np.ndarray:
    """Element-wise geometric mean of reciprocal matrices (itself reciprocal)."""
    stack = np.stack([np.asarray(m, dtype=float) for m in matrices])
    return np.exp(np.log(stack).mean(axis=0))


@dataclass
class AHPResult:
    """Weights of every manager and of the group, with their consistency."""

    weights: pd.DataFrame          # criterion, manager, weight (long); manager "group" = combined
    consistency: pd.DataFrame      # manager, n, lambda_max, ci, ri, cr, consistent, n_missing
    inconsistencies: pd.DataFrame  # manager, criterion_a, criterion_b, judgement, suggested, ...
    group_weights: dict[str, float]
    random_index_table: str


GROUP = "group"


def ahp_weights(judgements: pd.DataFrame, criteria: list[str],
                random_index_table: str = "alonso_lamata_2006", missing: str = "harker",
                top_inconsistencies: int = 3, exclude_inconsistent: bool = False) -> AHPResult:
    """AHP weights per manager and for the group (geometric mean of the matrices).

    The group row in every table has ``manager == "group"``. The inconsistency table lists,
    for each manager whose CR exceeds 0.10 (and for the group), the judgements that disagree
    most with that manager's own weights. With ``exclude_inconsistent`` the group is formed
    from the managers with CR <= 0.10 only (all of them if none is consistent); the
    consistency table says who was left out (``in_group``).
    """
    import pandas as pd

    mats = judgement_matrices(judgements, criteria, missing=missing)
    rows, cons, inc = [], [], []
    fits = [(m.manager, m.matrix, m.n_missing) for m in mats]
    ok = [AHP(random_index_table).fit(m.matrix).consistent_ for m in mats]
    members = [m for m, good in zip(mats, ok) if good or not exclude_inconsistent]
    if not members:
        members = mats
    in_group = {m.manager for m in members}
    fits.append((GROUP, geometric_mean_matrix([m.matrix for m in members]),
                 sum(m.n_missing for m in members)))
    group_w: dict[str, float] = {}
    for manager, matrix, n_missing in fits:
        fit = AHP(random_index_table, labels=criteria).fit(matrix)
        for c, w in zip(criteria, fit.weights_):
            rows.append({"criterion": c, "manager": manager, "weight": float(w)})
        cons.append({"manager": manager, "n": len(criteria), "lambda_max": fit.lambda_max_,
                     "ci": fit.ci_, "ri": fit.ri_, "cr": fit.cr_, "consistent": fit.consistent_,
                     "n_missing": n_missing, "in_group": manager == GROUP or manager in in_group,
                     "random_index_table": random_index_table})
        if not fit.consistent_ or manager == GROUP:
            worst = fit.inconsistencies(top_inconsistencies)
            worst.insert(0, "manager", manager)
            inc.append(worst)
        if manager == GROUP:
            group_w = dict(zip(criteria, map(float, fit.weights_)))
    return AHPResult(pd.DataFrame(rows), pd.DataFrame(cons),
                     pd.concat(inc, ignore_index=True), group_w, random_index_table)
