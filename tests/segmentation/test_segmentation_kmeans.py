"""Our numpy k-means, silhouette and ARI against scikit-learn's (which the tests may import:
only the notebook avoids it, for its import time).

scikit-learn runs on one thread here, as kamlib ran it: its k-means then adds cluster members in
row order, like ours, and the two agree to the last bit.
"""

import numpy as np
import pytest

from kamlib.segmentation import kmeans as km

sk_cluster = pytest.importorskip("sklearn.cluster")
sk_metrics = pytest.importorskip("sklearn.metrics")
threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpoolctl.threadpool_limits(limits=1):
        yield


def _data(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "blobs":
        centres = np.array([[2.0, 1.0], [-1.5, 1.2], [1.8, -1.0], [-1.0, -1.5]])
        return centres[rng.integers(0, 4, n)] + rng.normal(0, 0.6, (n, 2))
    if kind == "skewed":  # one big cloud plus a few far points, clipped like the segmenter's
        x = np.column_stack([rng.standard_t(3, n), rng.normal(0, 1, n)])
        return np.clip(x, -4, 4)
    if kind == "ties":  # many duplicate points (a growth of exactly +2 / -2, equal revenues)
        x = rng.normal(0, 1, (n, 2))
        x[: n // 3, 1] = 2.0
        x[n // 3: n // 2] = x[0]
        return x
    if kind == "three":  # the optional potential axis
        return rng.normal(0, 1, (n, 3)) * [1.0, 0.5, 2.0]
    raise ValueError(kind)


CASES = [(kind, n, seed) for kind in ("blobs", "skewed", "ties", "three")
         for n, seed in ((60, 0), (600, 1), (1500, 2))]


@pytest.mark.parametrize(("kind", "n", "seed"), CASES)
@pytest.mark.parametrize("k", [2, 4, 7])
def test_kmeans_matches_scikit_learn(kind, n, seed, k):
    x = _data(kind, n, seed)
    ours = km.KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    ref = sk_cluster.KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    assert ours.inertia_ == ref.inertia_
    assert ours.n_iter_ == ref.n_iter_
    y = _data(kind, 200, seed + 100)
    assert (ours.predict(y) == ref.predict(y)).all()


def test_kmeans_from_given_centres_matches_scikit_learn():
    x = _data("skewed", 3000, 5)
    start = km.KMeans(n_clusters=5, random_state=0).fit(x[:500]).cluster_centers_
    ours = km.KMeans(n_clusters=5, init=start, n_init=1, random_state=0).fit(x)
    ref = sk_cluster.KMeans(n_clusters=5, init=start, n_init=1, random_state=0).fit(x)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


def test_kmeans_relocates_an_empty_cluster_like_scikit_learn():
    # Start one centre far from every point: it is empty after the first assignment.
    x = _data("blobs", 300, 4)
    start = np.array([[2.0, 1.0], [-1.0, -1.5], [50.0, 50.0]])
    ours = km.KMeans(n_clusters=3, init=start, n_init=1).fit(x)
    ref = sk_cluster.KMeans(n_clusters=3, init=start, n_init=1).fit(x)
    assert len(np.unique(ours.labels_)) == 3
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


def test_kmeans_recovers_known_centres():
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    rng = np.random.default_rng(9)
    truth = np.repeat(np.arange(3), 100)
    x = centres[truth] + rng.normal(0, 0.3, (300, 2))
    fit = km.KMeans(n_clusters=3, random_state=0).fit(x)
    order = np.argsort(fit.cluster_centers_[:, 0] * 10 + fit.cluster_centers_[:, 1])
    np.testing.assert_allclose(fit.cluster_centers_[order], centres[[0, 2, 1]], atol=0.1)
    # one cluster per true blob
    assert all(len(np.unique(fit.labels_[truth == t])) == 1 for t in range(3))


@pytest.mark.parametrize(("kind", "n", "seed"), CASES)
@pytest.mark.parametrize("k", [2, 3, 6])
def test_silhouette_matches_scikit_learn(kind, n, seed, k):
    x = _data(kind, min(n, 2000), seed)
    labels = np.random.default_rng(seed).integers(0, k, len(x)) * 3 + 1  # codes need not be 0..k-1
    labels[:k] = np.arange(k) * 3 + 1
    labels[-1] = 99  # a cluster of one: silhouette 0 for it
    ours = km.silhouette_score(x, labels)
    ref = sk_metrics.silhouette_score(x, labels)
    assert ours == ref


def test_silhouette_by_hand():
    # two tight pairs far apart: a = 1, b = 10 - ... computed directly from the definition
    x = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    labels = [0, 0, 1, 1]
    a = np.array([1.0, 1.0, 1.0, 1.0])
    b = np.array([10.5, 9.5, 9.5, 10.5])
    assert km.silhouette_score(x, labels) == pytest.approx(np.mean((b - a) / b))
    with pytest.raises(ValueError, match="Number of labels"):
        km.silhouette_score(x, [0, 0, 0, 0])


@pytest.mark.parametrize("seed", range(6))
def test_adjusted_rand_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    a = rng.integers(0, int(rng.integers(1, 6)), n)
    b = np.where(rng.random(n) < 0.7, a, rng.integers(0, 5, n)) * 7
    assert km.adjusted_rand_score(a, b) == sk_metrics.adjusted_rand_score(a, b)
    assert km.adjusted_rand_score(a, a + 10) == 1.0


def test_adjusted_rand_textbook_values():
    # identical partitions (renamed) -> 1; the Hubert-Arabie example from the definition:
    # a = {0,0,0,1,1,1}, b = {0,0,1,1,2,2}: pairs together in both 2, in a only 4, in b only 1,
    # in neither 8 -> ARI = 2 (2*8 - 4*1) / ((2+4)(4+8) + (2+1)(1+8)) = 24 / 99
    assert km.adjusted_rand_score([1, 1, 2, 2], ["x", "x", "y", "y"]) == 1.0
    assert km.adjusted_rand_score([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(24 / 99)
