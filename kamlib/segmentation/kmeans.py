"""k-means, the silhouette and the adjusted Rand index in plain numpy.

Why not scikit-learn: importing it (with the SciPy modules it pulls in) costs about 1.3 s of
CPU, most of the segmentation notebook's budget, for a job that is a few array operations on
two columns. These functions follow scikit-learn 1.x step by step -- k-means++ seeding with
greedy local trials and the same ``RandomState`` draws, Lloyd iterations with the same
convergence rule, centring, empty-cluster relocation and choice among restarts, the silhouette's
distance formula and sums, the ARI's exact pair counts -- so they give the same clusters and
scores (``tests/segmentation/test_segmentation_kmeans.py`` compares them with scikit-learn,
which the tests may import). The Gaussian mixture still comes from scikit-learn, imported only
when it is asked for.
"""

from __future__ import annotations

import numpy as np


def _row_sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _sq_distances(a: np.ndarray, b: np.ndarray, b_sq_norms: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (n_a, n_b) by the expansion |a|^2 - 2 a.b + |b|^2, clipped
    at 0 (the form scikit-learn uses, so sums and ties come out the same)."""
    d = -2 * (a @ b.T)
    d += _row_sq_norms(a)[:, None]
    d += b_sq_norms[None, :]
    np.maximum(d, 0, out=d)
    return d


def _nearest(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each row (first one on ties); |x|^2 is left out of the
    comparison since it is the same for every centre."""
    # One row per centre: |c|^2 - 2 c.x (scaling by -2 is exact, so this equals -2 (x.c) + |c|^2
    # to the bit). A running minimum over the few centres beats argmin along short rows.
    d = (-2.0 * centers) @ x.T
    d += _row_sq_norms(centers)[:, None]
    best = d[0].copy()
    label = np.zeros(x.shape[0], dtype=np.int32)
    for j in range(1, len(centers)):
        closer = d[j] < best  # strict: the first of equal centres wins
        best[closer] = d[j][closer]
        label[closer] = j
    return label


def _kmeans_plusplus(x: np.ndarray, k: int, x_sq: np.ndarray,
                     rng: np.random.RandomState) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with 2 + log(k) greedy local trials per
    centre: of the sampled candidates, the one that lowers the potential most is kept."""
    n = x.shape[0]
    weight = np.ones(n)
    n_trials = 2 + int(np.log(k))
    centers = np.empty((k, x.shape[1]))
    first = rng.choice(n, p=weight / weight.sum())
    centers[0] = x[first]
    closest = _sq_distances(centers[0, None], x, x_sq)
    pot = closest @ weight
    for c in range(1, k):
        targets = rng.uniform(size=n_trials) * pot
        cand = np.searchsorted(np.cumsum(weight * closest), targets)
        np.clip(cand, None, closest.size - 1, out=cand)
        d = _sq_distances(x[cand], x, x_sq)
        np.minimum(closest, d, out=d)
        cand_pot = d @ weight.reshape(-1, 1)
        best = np.argmin(cand_pot)
        pot = cand_pot[best]
        closest = d[best]
        centers[c] = x[cand[best]]
    return centers


def _lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int, tol: float):
    """One k-means run from ``centers``: (labels, inertia, centers, n_iter)."""
    k, n_feat = centers.shape
    labels_old = np.full(x.shape[0], -1, dtype=np.int32)
    strict = False
    i = 0
    for i in range(max_iter):
        labels = _nearest(x, centers)
        count = np.bincount(labels, minlength=k).astype(float)
        # bincount adds the members in row order, as scikit-learn's single-thread loop does
        new = np.column_stack([np.bincount(labels, weights=x[:, f], minlength=k)
                               for f in range(n_feat)])
        empty = np.flatnonzero(count == 0)
        if empty.size:
            # Relocate empty clusters to the points farthest from their centres.
            far_d = ((x - centers[labels]) ** 2).sum(axis=1)
            far = np.argpartition(far_d, -empty.size)[:-empty.size - 1:-1]
            for e, p in zip(empty, far):
                old = labels[p]
                new[old] -= x[p]
                new[e] = x[p]
                count[e] = 1.0
                count[old] -= 1.0
        nz = count > 0
        new[nz] *= (1.0 / count[nz])[:, None]
        shift = np.sqrt(((new - centers) ** 2).sum(axis=1))
        centers = new
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if (shift ** 2).sum() <= tol:
            break
        labels_old = labels
    if not strict:
        labels = _nearest(x, centers)
    sq = ((x - centers[labels]) ** 2).sum(axis=1)
    inertia = float(np.cumsum(sq)[-1]) if sq.size else 0.0  # sequential sum
    return labels, inertia, centers, i + 1


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Is ``b`` a function of ``a`` (same clusters, possibly renumbered)?"""
    seen = np.zeros((int(a.max()) + 1, int(b.max()) + 1), dtype=bool)
    seen[a, b] = True
    return bool((seen.sum(axis=1) <= 1).all())


class KMeans:
    """k-means (Lloyd) with k-means++ restarts: the subset of scikit-learn's ``KMeans`` that
    the segmentation uses, with the same results.

    Parameters
    ----------
    n_clusters : int
    init : "k-means++" or array of shape (n_clusters, n_features)
        Seeding, or the starting centres (then one run).
    n_init : int
        Restarts from k-means++ seeds; the run with the lowest inertia is kept.
    max_iter : int
    tol : float
        Convergence when the squared centre shift falls to ``tol`` times the mean feature
        variance (or when no label changes).
    random_state : int

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_
    """

    def __init__(self, n_clusters: int = 8, *, init="k-means++", n_init: int = 3,
                 max_iter: int = 300, tol: float = 1e-4, random_state: int | None = None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, x) -> "KMeans":
        x = np.array(x, dtype=float, order="C")  # a copy: centred below
        n = x.shape[0]
        if n < self.n_clusters:
            raise ValueError(f"n_samples={n} should be >= n_clusters={self.n_clusters}.")
        rng = np.random.RandomState(self.random_state)
        tol = float(np.mean(np.var(x, axis=0)) * self.tol) if self.tol else 0.0
        given = not isinstance(self.init, str)
        init = np.array(self.init, dtype=float) if given else None
        # Centring first makes the |a|^2 - 2ab + |b|^2 distances more accurate.
        mean = x.mean(axis=0)
        x -= mean
        if given:
            init -= mean
        x_sq = _row_sq_norms(x)
        best = None
        for _ in range(1 if given else self.n_init):
            start = init.copy() if given else _kmeans_plusplus(x, self.n_clusters, x_sq, rng)
            labels, inertia, centers, n_iter = _lloyd(x, start, self.max_iter, tol)
            # A run replaces the best only if it is a different partition: equal partitions
            # can differ in inertia by rounding alone.
            if best is None or (inertia < best[1] and not _same_partition(labels, best[0])):
                best = (labels, inertia, centers, n_iter)
        labels, inertia, centers, n_iter = best
        self.cluster_centers_ = centers + mean
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def predict(self, x) -> np.ndarray:
        """Index of the nearest centre of each row."""
        return _nearest(np.asarray(x, dtype=float), self.cluster_centers_)


def silhouette_score(x, labels) -> float:
    """Mean silhouette (Rousseeuw 1987) of all rows, Euclidean distance.

    For each row, a = mean distance to the other members of its cluster, b = the lowest mean
    distance to another cluster, s = (b - a) / max(a, b) (0 for a cluster of one).
    Needs 2 <= number of labels <= n - 1. O(n^2) memory: pass a sample of large data.
    """
    x = np.asarray(x, dtype=float)
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.ravel()
    n = len(codes)
    freq = np.bincount(codes)
    k = len(freq)
    if not 2 <= k <= n - 1:
        raise ValueError(f"Number of labels is {k}. Valid values are 2 to n_samples - 1 "
                         "(inclusive)")
    d = _sq_distances(x, x, _row_sq_norms(x))
    np.sqrt(d, out=d)
    d.flat[::n + 1] = 0.0
    # Per row, the sum of distances to each cluster, added in column order (a cumulative sum
    # is sequential), as scikit-learn's per-row bincount does: the same sums to the last bit.
    sums = np.empty((n, k))
    for c in range(k):
        sums[:, c] = np.cumsum(d[:, codes == c], axis=1)[:, -1]
    own = (np.arange(n), codes)
    a = sums[own]
    sums[own] = np.inf
    sums /= freq
    b = sums.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a /= (freq - 1).take(codes, mode="clip")
        s = b - a
        s /= np.maximum(a, b)
    return float(np.mean(np.nan_to_num(s)))


def adjusted_rand_score(labels_a, labels_b) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985) of two partitions, from exact pair counts:
    1 = the same partition, about 0 = no better than chance (can be negative)."""
    _, a = np.unique(np.asarray(labels_a), return_inverse=True)
    _, b = np.unique(np.asarray(labels_b), return_inverse=True)
    a, b = a.ravel(), b.ravel()
    n = len(a)
    table = np.zeros((a.max() + 1 if n else 0, b.max() + 1 if n else 0), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    # Python ints: n^2 overflows int64 only beyond 3e9 accounts, but exactness costs nothing.
    sum_sq = int((table.astype(object) ** 2).sum()) if n else 0
    both = sum_sq - n                                           # pairs together in both
    only_b = int((table @ cols).sum()) - sum_sq                 # together in b only
    only_a = int((table.T @ rows).sum()) - sum_sq               # together in a only
    neither = n * n - only_b - only_a - sum_sq
    if only_a == 0 and only_b == 0:
        return 1.0
    return 2.0 * (both * neither - only_a * only_b) / (
        (both + only_a) * (only_a + neither) + (both + only_b) * (only_b + neither))
