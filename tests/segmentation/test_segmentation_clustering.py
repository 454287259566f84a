import numpy as np
import pandas as pd
import pytest

from kamlib.errors import ParameterError
from kamlib.segmentation.clustering import ClusterSegmenter, name_centroids
from kamlib.segmentation.measures import compute_measures
from kamlib.segmentation.synthetic import synthetic_features

UNEQUAL = {"Star": 12, "Developing": 40, "Core": 25, "Laggard": 150}


def _blobs(sizes=UNEQUAL, seed=3):
    f = synthetic_features(sizes, seed=seed)
    return f, compute_measures(f)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_four_blobs_come_back_as_the_four_named_segments(method):
    f, m = _blobs()
    c = ClusterSegmenter(method=method, k=4, seed=0).fit(m)
    names = c.segment_names(c.labels_)
    assert (names == f["true_segment"].to_numpy()).all()
    assert sorted(c.names_) == sorted(["Star", "Developing", "Core", "Laggard"])


def test_silhouette_chooses_four_on_four_blobs_and_reports_every_k():
    f, m = _blobs()
    c = ClusterSegmenter(k=0, k_range=(2, 8), seed=0).fit(m)
    assert c.k_ == 4
    assert list(c.scores_["k"]) == list(range(2, 9))
    assert c.scores_.loc[c.scores_["chosen"], "k"].tolist() == [4]
    assert c.scores_["silhouette"].idxmax() == c.scores_.index[c.scores_["k"] == 4][0]


def test_silhouette_on_a_sample_still_chooses_four():
    f, m = _blobs({"Star": 300, "Developing": 500, "Core": 400, "Laggard": 1800})
    c = ClusterSegmenter(k=0, k_range=(2, 6), seed=1, silhouette_sample=500).fit(m)
    assert c.k_ == 4
    assert (c.scores_["silhouette_sample"] == 500).all()
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()


def test_same_seed_same_clusters():
    _, m = _blobs(seed=7)
    noisy = m.assign(growth=m["growth"] + np.random.default_rng(0).normal(0, 0.3, len(m)))
    a = ClusterSegmenter(k=0, seed=11).fit(noisy)
    b = ClusterSegmenter(k=0, seed=11).fit(noisy)
    assert a.k_ == b.k_
    assert (a.labels_ == b.labels_).all()
    pd.testing.assert_frame_equal(a.scores_, b.scores_)


def test_k_not_4_two_blobs_named_star_and_laggard():
    f, m = _blobs({"Star": 30, "Laggard": 90})
    c = ClusterSegmenter(k=2).fit(m)
    assert c.names_ == ["Star", "Laggard"]
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()


def test_k_8_on_four_blobs_subclusters_keep_their_blob_name():
    f, m = _blobs({"Star": 40, "Developing": 40, "Core": 40, "Laggard": 40})
    c = ClusterSegmenter(k=8, seed=0).fit(m)
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()
    # repeated names are numbered, in falling value
    assert len(set(c.cluster_labels_)) == 8
    assert any(lab.endswith(" 2") for lab in c.cluster_labels_)


def test_name_centroids_rules():
    # k = 4: one-to-one even when a point sits near the middle
    cents = np.array([[2.0, 0.1], [2.1, -1.0], [-1.0, 0.4], [-1.2, -0.9]])
    assert name_centroids(cents) == ["Star", "Core", "Developing", "Laggard"]
    # k = 3: quadrant relative to the mean centroid (names may repeat or be missing)
    cents3 = np.array([[3.0, 1.0], [0.0, 0.0], [-0.5, -0.2]])
    assert name_centroids(cents3) == ["Star", "Laggard", "Laggard"]
    # no spread in growth: everything is low growth, even for k = 4
    flat = np.array([[3.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [-3.0, 0.0]])
    assert name_centroids(flat) == ["Core", "Core", "Laggard", "Laggard"]


def test_all_growth_equal_gives_only_low_growth_segments():
    f, m = _blobs({"Star": 20, "Laggard": 20})
    m = m.assign(growth=0.0)
    c = ClusterSegmenter(k=2).fit(m)
    names = c.segment_names(c.labels_)
    assert set(names) == {"Core", "Laggard"}
    assert (names[f["true_segment"] == "Star"] == "Core").all()


def test_fewer_accounts_than_clusters_is_a_clear_error():
    _, m = _blobs({"Star": 2, "Laggard": 1})
    with pytest.raises(ParameterError, match="k=4 clusters need at least 4"):
        ClusterSegmenter(k=4).fit(m)
    with pytest.raises(ParameterError, match="rules method"):
        ClusterSegmenter(k=0, k_range=(2, 8)).fit(m.iloc[:2])
    # choosing k: only supported k are tried
    c = ClusterSegmenter(k=0, k_range=(2, 8)).fit(m)
    assert list(c.scores_["k"]) == [2]


@pytest.mark.parametrize("kw", [dict(k=1), dict(k=-2), dict(method="dbscan"), dict(k=0, k_range=(1, 3))])
def test_bad_parameters(kw):
    _, m = _blobs()
    with pytest.raises(ParameterError):
        ClusterSegmenter(**kw).fit(m)


def test_outliers_do_not_get_a_cluster_of_their_own():
    f, m = _blobs({"Star": 30, "Developing": 30, "Core": 30, "Laggard": 30})
    m = m.copy()
    m.loc[0, "value"] = m["value"].max() * 1e4  # one monster Star
    c = ClusterSegmenter(k=4).fit(m)
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()


def test_potential_axis_is_optional_and_keeps_names():
    f, m = _blobs({"Star": 30, "Developing": 30, "Core": 30, "Laggard": 30})
    c = ClusterSegmenter(k=4, use_potential=True).fit(m)
    assert c.centroids_.shape == (4, 3)
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()


def test_fixed_k_still_reports_the_scores_of_the_range():
    _, m = _blobs()
    c = ClusterSegmenter(k=3, k_range=(2, 6)).fit(m)
    assert c.k_ == 3
    assert list(c.scores_["k"]) == [2, 3, 4, 5, 6]
    assert c.scores_.loc[c.scores_["chosen"], "k"].tolist() == [3]
    assert (c.scores_["k_from"] == "parameter k").all()
    only = ClusterSegmenter(k=3, k_range=(2, 6)).fit(m, score=False)
    assert list(only.scores_["k"]) == [3]


def test_k_search_on_a_sample_then_refit_on_everyone():
    f, m = _blobs({"Star": 150, "Developing": 250, "Core": 200, "Laggard": 900})
    c = ClusterSegmenter(k=0, search_sample=300, silhouette_sample=200, seed=4).fit(m)
    assert c.k_ == 4
    assert (c.scores_["fit_sample"] == 300).all()
    assert len(c.labels_) == len(m)
    assert (c.segment_names(c.labels_) == f["true_segment"].to_numpy()).all()
