"""Clustering the portfolio (k-means or a Gaussian mixture) and naming the clusters.

Features. Value is skewed (a few accounts carry most of the revenue), so it enters as
``asinh(value / s)`` with ``s`` the median absolute non-zero value: logarithmic for large
accounts, linear near zero, defined for negative values (credit notes). Growth enters as it is.
Each feature is then centred on its median, divided by its standard deviation after winsorising
the outer 1 % on each side (the IQR when that is 0, else 1), and clipped to +-``clip``, so a
handful of extreme accounts can neither set the scale nor pull a centroid of their own. The
optional potential axis is scaled like value; accounts without a wallet estimate get the
median (0 after scaling).

Choosing k. With ``k=0`` every k in ``k_range`` is fitted on a seeded sample of at most
``search_sample`` accounts and scored by the mean silhouette on a seeded sample of at most
``silhouette_sample`` of them (silhouette costs O(n^2)); the best score wins, ties going to the
smaller k, and that model is refitted on all accounts starting from its sample solution. Only
the k the data can support are tried (at most the number of distinct points, at most n - 1).
With a fixed k the silhouettes of the range are still reported, for comparison.

Naming. Centroids (in scaled units) are compared with the unweighted mean of all centroids, so
cluster sizes do not move the reference point:

* k = 4: the four clusters are matched one-to-one with the four corners Star (+value, +growth),
  Developing (-, +), Core (+, -), Laggard (-, -) so that the sum of
  ``sign_value * d_value + sign_growth * d_growth`` over clusters is largest (``d`` = centroid
  minus the mean centroid). Every name is used once.
* k != 4 (and k = 4 when one axis has no spread between centroids): each cluster takes the
  quadrant its centroid lies in relative to the mean centroid (on the line counts as low). Names
  can repeat (then ``cluster_label`` numbers them "Core 1", "Core 2" by falling value) and some
  names can be missing.

Reusing a stored clustering. :meth:`ClusterSegmenter.state` is everything an assignment needs
(the features, their scaling, the clip and the centroids in scaled units); a segmenter given
such a state as ``centres`` fits nothing: it scales the accounts with the stored scaling and
puts each one in the cluster of the nearest stored centroid (Euclidean distance in the scaled
space; for a Gaussian mixture, the nearest mean). The names follow from the centroids alone, so
an account that did not change lands in the same, equally named cluster.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlib.errors import ParameterError
from kamlib.segmentation.rules import quadrant_names
from kamlib.vocabulary import SEGMENT_CORNERS as _CORNERS
from kamlib.vocabulary import SEGMENTS

CLUSTER_METHODS: tuple[str, ...] = ("kmeans", "gmm")


def _asinh_scale(x: np.ndarray) -> float:
    nz = np.abs(x[np.isfinite(x) & (x != 0)])
    return float(np.median(nz)) if nz.size else 1.0


def _robust_params(x: np.ndarray, tail: float = 0.01) -> tuple[float, float]:
    """Centre (median) and spread (standard deviation after winsorising the outer ``tail`` on
    each side) of one feature.

    The inter-quartile range would be the textbook robust spread, but on a portfolio where one
    segment holds most accounts it measures the spread *inside* that segment, which inflates
    one axis against the other and lets it dominate the distances. The winsorised standard
    deviation keeps both axes comparable while a few extreme accounts cannot set the scale.
    """
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return 0.0, 1.0
    med = float(np.median(finite))
    lo, hi = np.quantile(finite, [tail, 1 - tail])
    scale = float(np.std(np.clip(finite, lo, hi)))
    if scale <= 1e-12:
        q1, q3 = np.quantile(finite, [0.25, 0.75])
        scale = float(q3 - q1)
    if scale <= 1e-12:
        scale = 1.0
    return med, scale


def name_centroids(centroids: np.ndarray) -> list[str]:
    """Segment name of each centroid (columns: scaled value, scaled growth, ...).

    See the module docstring for the rule.
    """
    c = np.asarray(centroids, dtype=float)[:, :2]
    k = len(c)
    d = c - c.mean(axis=0)
    no_spread = np.ptp(c[:, 0]) < 1e-9 or np.ptp(c[:, 1]) < 1e-9
    if k == 4 and not no_spread:
        best, best_score = None, -np.inf
        # 24 permutations: cheaper and clearer than a general assignment solver.
        for perm in itertools.permutations(SEGMENTS):
            score = sum(
                _CORNERS[n][0] * d[i, 0] + _CORNERS[n][1] * d[i, 1] for i, n in enumerate(perm)
            )
            if score > best_score + 1e-12:
                best, best_score = perm, score
        return list(best)  # type: ignore[arg-type]
    return list(quadrant_names(d[:, 0] > 1e-12, d[:, 1] > 1e-12))


class NearestCentre:
    """A fitted-model stand-in that assigns points to the nearest of fixed centroids."""

    def __init__(self, centroids: np.ndarray) -> None:
        self.cluster_centers_ = np.asarray(centroids, dtype=float)

    def predict(self, x: np.ndarray) -> np.ndarray:
        d = ((np.asarray(x, dtype=float)[:, None, :] - self.cluster_centers_[None]) ** 2).sum(axis=2)
        return np.argmin(d, axis=1)  # ties: the lower cluster id


class ClusterSegmenter:
    """k-means or Gaussian-mixture clusters of value x growth, named as portfolio segments.

    Parameters
    ----------
    method : {"kmeans", "gmm"}
        scikit-learn ``KMeans`` or ``GaussianMixture`` (full covariance).
    k : int
        Number of clusters; 0 = choose by silhouette over ``k_range``. A fixed k is used as
        given, and the scores of the range are still reported next to it.
    k_range : (int, int)
        Smallest and largest k tried when ``k == 0`` (inclusive).
    seed : int
        Seeds the models and the silhouette sample: same data and seed, same clusters.
    silhouette_sample : int
        Accounts sampled to compute silhouette scores on large portfolios.
    search_sample : int
        While choosing k, each candidate is fitted on a seeded sample of at most this many
        accounts; the chosen k is then refitted on all accounts, starting from the sample's
        solution. (With a fixed k the model is fitted on all accounts directly.)
    clip : float
        Scaled features are clipped to +-clip (outlier robustness).
    use_potential : bool
        Add the potential axis as a third feature.
    n_threads : int or None
        Threads for scikit-learn's OpenMP/BLAS pools while fitting; None = the libraries' own
        choice. Default 1: on two dimensions the work per thread is tiny, and on a busy machine
        (several notebooks, other jobs) spinning OpenMP threads made fits 10x slower, while one
        thread does 100,000 accounts with k chosen in 2..8 in about a second.
    n_init : int, optional
        Restarts of each model (the best is kept); default 3 for k-means, 1 for the mixture
        (which starts from k-means and costs ~10x more per fit).
    centres : dict, optional
        A stored clustering (:meth:`state` of an earlier fit): ``fit`` then assigns each account
        to the nearest stored centroid in the stored scaling instead of fitting (``k``,
        ``k_range`` and ``clip`` are the stored ones).

    Attributes
    ----------
    k_ : int
        Number of clusters used.
    scores_ : DataFrame
        One row per k tried: k, silhouette, inertia (k-means) or bic (mixture) of the fit on
        ``fit_sample`` accounts, chosen (the k used), k_from ("parameter k" or "best
        silhouette"), silhouette_sample.
    centroids_ : ndarray of shape (k_, n_features)
        Centroids in scaled units, ordered like the cluster ids.
    names_ : list of str
        Segment name of each cluster id.
    labels_ : ndarray of int
        Cluster id of each account passed to ``fit``.
    """

    def __init__(
        self,
        method: str = "kmeans",
        k: int = 0,
        k_range: Sequence[int] = (2, 8),
        seed: int = 0,
        silhouette_sample: int = 2000,
        search_sample: int = 20000,
        clip: float = 4.0,
        use_potential: bool = False,
        n_init: int | None = None,
        n_threads: int | None = 1,
        centres: dict | None = None,
    ) -> None:
        self.method = method
        self.k = k
        self.k_range = k_range
        self.seed = seed
        self.silhouette_sample = silhouette_sample
        self.search_sample = search_sample
        self.clip = clip
        self.use_potential = use_potential
        self.n_init = n_init
        self.n_threads = n_threads
        self.centres = centres

    def features(self) -> tuple[str, ...]:
        """Names of the features clustered, in column order."""
        return ("value", "growth", "potential") if self.use_potential else ("value", "growth")

    def state(self) -> dict:
        """What reproduces this clustering's assignment: method, features, the value scale of
        asinh, each feature's centre and spread, the clip and the centroids (scaled units,
        ordered like the cluster ids)."""
        return {"method": self.method, "features": self.features(),
                "value_scale": float(self.value_scale_),
                "centre": [float(c) for c in self.centre_],
                "spread": [float(c) for c in self.spread_], "clip": float(self.clip),
                "centroids": np.asarray(self.centroids_, dtype=float)}

    # -- features -----------------------------------------------------------------------------
    def _fit_scaling(self, m: pd.DataFrame) -> None:
        self.value_scale_ = _asinh_scale(m["value"].to_numpy(dtype=float))
        raw = self._raw(m)
        self.centre_, self.spread_ = zip(*(_robust_params(raw[:, j]) for j in range(raw.shape[1])))

    def _raw(self, m: pd.DataFrame) -> np.ndarray:
        cols = [
            np.arcsinh(m["value"].to_numpy(dtype=float) / self.value_scale_),
            m["growth"].to_numpy(dtype=float),
        ]
        if self.use_potential:
            p = m["potential"].to_numpy(dtype=float) if "potential" in m else np.full(len(m), np.nan)
            cols.append(np.arcsinh(p / self.value_scale_))
        return np.column_stack(cols)

    def transform(self, measures: pd.DataFrame) -> np.ndarray:
        """Scaled, clipped features of ``measures`` (columns value, growth[, potential])."""
        raw = self._raw(measures)
        x = (raw - np.asarray(self.centre_)) / np.asarray(self.spread_)
        x = np.where(np.isfinite(x), x, 0.0)  # unknown potential -> the median
        return np.clip(x, -self.clip, self.clip)

    # -- models -------------------------------------------------------------------------------
    def _model(self, k: int):
        if self.method == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=k, n_init=self.n_init or 3, random_state=self.seed)
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=self.n_init or 1,
            random_state=self.seed, reg_covar=1e-4,
        )

    def _check(self, n: int, n_distinct: int, score: bool = True) -> list[int]:
        """The k to fit: the feasible part of k_range (plus a fixed k, which must be feasible).
        With a fixed k and ``score=False`` only that k."""
        if self.method not in CLUSTER_METHODS:
            raise ParameterError(
                f"cluster method must be one of {', '.join(CLUSTER_METHODS)}; got {self.method!r}."
            )
        if not isinstance(self.k, (int, np.integer)) or self.k < 0 or self.k == 1:
            raise ParameterError(f"k must be 0 (choose by silhouette) or at least 2; got {self.k!r}.")
        if self.k > 0:
            if n_distinct < self.k:
                raise ParameterError(
                    f"k={self.k} clusters need at least {self.k} accounts with different value "
                    f"and growth; the portfolio has {n} account(s) with history, {n_distinct} "
                    "distinct. Lower k, set k=0 to choose it, or use the rules method."
                )
            if not score:
                return [int(self.k)]
        lo, hi = (int(x) for x in self.k_range)
        if lo < 2 or hi < lo:
            raise ParameterError(
                f"k_range must be [low, high] with 2 <= low <= high; got {list(self.k_range)}.")
        ks = [k for k in range(lo, hi + 1) if k <= min(n_distinct, n - 1)]
        if self.k > 0:
            # A fixed k is still shown among the scores of the range, for comparison.
            return sorted(set(ks) | {int(self.k)})
        if not ks:
            raise ParameterError(
                f"cannot choose k in {lo}..{hi}: the portfolio has {n} account(s) with history "
                f"({n_distinct} distinct), and silhouette needs 2 <= k <= n - 1. Use the rules "
                "method for so small a portfolio."
            )
        return ks

    def fit(self, measures: pd.DataFrame, *, score: bool = True) -> "ClusterSegmenter":
        """Fit on ``measures`` (value, growth[, potential]) of the accounts with history.

        ``score=False`` skips the silhouette when k is fixed (used for last year's window,
        where only the clusters matter).
        """
        # Import before limiting: threadpoolctl only reaches thread pools (OpenMP, BLAS) that are
        # already loaded, and scikit-learn loads its OpenMP runtime on import.
        import sklearn.cluster  # noqa: F401
        import sklearn.metrics  # noqa: F401
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.n_threads):
            if self.centres is not None:
                return self._assign(measures, score)
            return self._fit(measures, score)

    def _assign(self, measures: pd.DataFrame, score: bool) -> "ClusterSegmenter":
        """Each account to the nearest stored centroid, in the stored scaling."""
        from sklearn.metrics import silhouette_score

        s = self.centres
        self.use_potential = "potential" in s["features"]
        self.value_scale_, self.clip = s["value_scale"], s["clip"]
        self.centre_, self.spread_ = tuple(s["centre"]), tuple(s["spread"])
        centroids = np.asarray(s["centroids"], dtype=float)
        x = self.transform(measures)
        model = NearestCentre(centroids)
        labels = model.predict(x)
        self.k_ = len(centroids)
        rng = np.random.default_rng(self.seed)
        idx = np.sort(rng.choice(len(x), size=min(len(x), self.silhouette_sample), replace=False))
        sub = labels[idx]
        sil = (float(silhouette_score(x[idx], sub))
               if score and 2 <= len(np.unique(sub)) <= len(idx) - 1 else np.nan)
        self.scores_ = pd.DataFrame([{
            "method": self.method, "k": self.k_, "silhouette": sil, "chosen": True,
            "k_from": "baseline centres", "fit_sample": 0, "silhouette_sample": len(idx)}])
        self._set_clusters(model, centroids, labels)
        return self

    def _fit(self, measures: pd.DataFrame, score: bool) -> "ClusterSegmenter":
        from sklearn.metrics import silhouette_score

        self._fit_scaling(measures)
        x = self.transform(measures)
        n = len(x)
        # hash-based count of distinct points (np.unique on rows sorts, ~50x slower)
        n_distinct = int((~pd.DataFrame(np.round(x, 9)).duplicated()).sum()) if n else 0
        ks = self._check(n, n_distinct, score)
        rng = np.random.default_rng(self.seed)
        # Choosing k: every candidate is fitted on a seeded sample of the portfolio (the
        # chosen one is then refitted on everyone), and scored on a smaller sample of that.
        search = len(ks) > 1 and n > self.search_sample
        xs = x[np.sort(rng.choice(n, size=self.search_sample, replace=False))] if search else x
        idx = np.sort(rng.choice(len(xs), size=min(len(xs), self.silhouette_sample), replace=False))
        rows, fitted = [], {}
        for k in ks:
            model = self._model(k).fit(xs)
            sub = model.predict(xs[idx])
            n_lab = len(np.unique(sub))
            sil = (
                float(silhouette_score(xs[idx], sub))
                if 2 <= n_lab <= len(idx) - 1 else np.nan
            )
            row = {"method": self.method, "k": k, "silhouette": sil}
            if self.method == "kmeans":
                row["inertia"] = float(model.inertia_)
            else:
                row["bic"] = float(model.bic(xs))
            rows.append(row)
            fitted[k] = model
        scores = pd.DataFrame(rows)
        if self.k > 0:
            best = int(self.k)
        else:
            s = scores["silhouette"].fillna(-np.inf).to_numpy()
            best = int(scores["k"].iloc[int(np.argmax(s))])  # argmax: first (smallest k) on ties
        scores["chosen"] = scores["k"] == best
        scores["k_from"] = "parameter k" if self.k > 0 else "best silhouette"
        scores["fit_sample"] = len(xs)
        scores["silhouette_sample"] = len(idx)
        self.scores_ = scores
        self.k_ = best
        model = fitted[best]
        if search:
            model = self._refit(model, best).fit(x)
        labels = model.predict(x)
        centroids = model.cluster_centers_ if self.method == "kmeans" else model.means_
        self._set_clusters(model, np.asarray(centroids), labels)
        return self

    def _refit(self, model, k: int):
        """The chosen model refitted on all accounts, started from its sample solution."""
        if self.method == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=k, init=model.cluster_centers_, n_init=1, random_state=self.seed)
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=1, random_state=self.seed,
            reg_covar=1e-4, weights_init=model.weights_, means_init=model.means_,
            precisions_init=model.precisions_,
        )

    def _set_clusters(self, model, centroids: np.ndarray, labels: np.ndarray) -> None:
        names = name_centroids(centroids)
        # Stable ids: segment order (Star first), then falling value centroid.
        order = sorted(range(len(names)), key=lambda i: (SEGMENTS.index(names[i]), -centroids[i, 0]))
        remap = np.empty(len(order), dtype=int)
        remap[order] = np.arange(len(order))
        self.model_ = model
        self._remap = remap
        self.centroids_ = centroids[order]
        self.names_ = [names[i] for i in order]
        counts = pd.Series(self.names_).value_counts()
        seen: dict[str, int] = {}
        self.cluster_labels_ = []
        for n in self.names_:
            seen[n] = seen.get(n, 0) + 1
            self.cluster_labels_.append(f"{n} {seen[n]}" if counts[n] > 1 else n)
        self.labels_ = remap[labels]

    def predict(self, measures: pd.DataFrame) -> np.ndarray:
        """Cluster id of each row (scaled with the fitted scaling)."""
        return self._remap[self.model_.predict(self.transform(measures))]

    def segment_names(self, labels: np.ndarray) -> np.ndarray:
        """Segment name for cluster ids."""
        return np.asarray(self.names_, dtype=object)[labels]

    def centroid_table(self, measures: pd.DataFrame) -> pd.DataFrame:
        """Per cluster: id, label, segment, size and the median value and growth of its members."""
        df = pd.DataFrame({"cluster": self.labels_, "value": measures["value"].to_numpy(),
                           "growth": measures["growth"].to_numpy()})
        g = df.groupby("cluster").agg(n_accounts=("value", "size"), value_median=("value", "median"),
                                      growth_median=("growth", "median"))
        g = g.reindex(range(self.k_))
        g.insert(0, "cluster_label", self.cluster_labels_)
        g.insert(1, "segment", self.names_)
        g["value_centroid_scaled"] = self.centroids_[:, 0]
        g["growth_centroid_scaled"] = self.centroids_[:, 1]
        return g.reset_index()
