"""Cluster centres stored in ``segment_boundaries`` and reused by a run with a baseline."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kamlib import segmentation
from kamlib.segmentation.boundaries import centre_rows, stored_centres
from kamlib.segmentation.clustering import ClusterSegmenter
from kamlib.segmentation.measures import compute_measures
from kamlib.segmentation.synthetic import synthetic_features

Q1 = {"Star": 25, "Developing": 25, "Core": 25, "Laggard": 25}
Q2 = {"Star": 45, "Developing": 25, "Core": 20, "Laggard": 10}
MEASURES = {"value": "revenue", "growth": "symmetric"}


def _features(sizes, as_of, seed):
    return synthetic_features(sizes, seed=seed).assign(as_of=pd.Timestamp(as_of))


def _baseline(result):
    return SimpleNamespace(tables={"segment_boundaries": result.boundaries})


def _clustered(features, **kw):
    return segmentation.run(features, method_shown="clustering", **kw)


def _centres(result):
    return result.boundaries[result.boundaries["kind"].str.startswith("centre")]


def test_the_stored_centres_round_trip_through_the_table(tmp_path):
    m = compute_measures(_features(Q1, "2026-06-30", 1), lag=0)
    fitted = ClusterSegmenter(k=4, seed=3, use_potential=True).fit(m[m["has_history"]])
    table = pd.DataFrame(centre_rows(fitted.state(), MEASURES, "2026-06-30"),
                         columns=["measure", "based_on", "kind", "threshold", "set_on", "how"])
    state, based, set_on = stored_centres(table)
    want = fitted.state()
    assert set_on == "2026-06-30" and state["method"] == "kmeans"
    assert state["features"] == ("value", "growth", "potential")
    assert based == {"value": "revenue", "growth": "symmetric", "potential": "potential"}
    np.testing.assert_array_equal(state["centroids"], want["centroids"])
    for key in ("value_scale", "centre", "spread", "clip"):
        assert state[key] == want[key]
    # the run writes them and reads them back too: one row per centre and feature
    r = _clustered(_features(Q1, "2026-06-30", 1), k=4)
    assert len(_centres(r)) == 4 * 2
    np.testing.assert_allclose(stored_centres(r.boundaries)[0]["centroids"],
                               r.clusters[["value_centroid_scaled", "growth_centroid_scaled"]])
    # ... and through the run folder's Parquet file, exactly
    r.boundaries.to_parquet(tmp_path / "segment_boundaries.parquet")
    back = stored_centres(pd.read_parquet(tmp_path / "segment_boundaries.parquet"))[0]
    np.testing.assert_array_equal(back["centroids"], stored_centres(r.boundaries)[0]["centroids"])
    assert back["spread"] == stored_centres(r.boundaries)[0]["spread"]


def test_reused_centres_keep_an_unchanged_account_in_its_cluster():
    f1 = _features(Q1, "2026-06-30", 1)
    q1 = _clustered(f1, k=4)
    again = _clustered(f1, k=4, last_plan=_baseline(q1), baseline="q1")
    assert again.segments["cluster"].equals(q1.segments["cluster"])
    assert again.segments["segment_cluster"].equals(q1.segments["segment_cluster"])
    assert any("Cluster centres reused from the baseline (set on 2026-06-30)" in n
               for n in again.notes)
    assert again.cluster_scores["k_from"].tolist() == ["baseline centres"]
    # a later quarter with other accounts: the centres stay the first run's, and so does
    # the cluster of each account whose coordinates did not change
    f2 = _features(Q2, "2026-09-30", 2)
    q2 = _clustered(f2, k=4, last_plan=_baseline(q1), baseline="q1")
    np.testing.assert_allclose(_centres(q2)["threshold"], _centres(q1)["threshold"])
    assert (_centres(q2)["set_on"] == "2026-06-30").all()
    moved = f2.iloc[:5].assign(account_id=f1["account_id"].iloc[:5].to_numpy())
    cols = [c for c in f1.columns if c not in ("account_id", "name")]
    moved.loc[:, cols] = f1.iloc[:5][cols].to_numpy()  # 5 accounts exactly as in quarter 1
    q2b = _clustered(pd.concat([moved, f2.iloc[5:]], ignore_index=True), k=4,
                     last_plan=_baseline(q1), baseline="q1")
    assert q2b.segments["cluster"].iloc[:5].tolist() == q1.segments["cluster"].iloc[:5].tolist()
    # a fresh fit of quarter 2 places its own centres
    fresh = _clustered(f2, k=4)
    assert not np.allclose(_centres(fresh)["threshold"], _centres(q1)["threshold"])


def test_the_clusters_are_refitted_when_k_features_or_method_differ():
    f1, f2 = _features(Q1, "2026-06-30", 1), _features(Q2, "2026-09-30", 2)
    q1 = _clustered(f1, k=4)
    for kw, why in ((dict(k=3), "they are 4 centres, this run asks for k=3"),
                    (dict(k=4, use_potential=True), "potential (potential)"),
                    (dict(k=4, value_measure="margin"), "value (margin)"),
                    (dict(k=4, cluster_method="gmm"), "this run uses gmm")):
        r = _clustered(f2, last_plan=_baseline(q1), baseline="q1", **kw)
        fresh = _clustered(f2, **kw)
        assert r.segments["cluster"].equals(fresh.segments["cluster"]), kw
        assert any("are not reused" in n and why in n for n in r.notes), (kw, r.notes)
    assert len(_centres(_clustered(f2, k=3, last_plan=_baseline(q1)))) == 3 * 2
    # k=0 (choose k) takes the stored number of centres
    chosen = _clustered(f2, k=0, last_plan=_baseline(q1), baseline="q1")
    assert chosen.params["k_chosen"] == 4


def test_reuse_boundaries_off_refits_the_clusters():
    f1, f2 = _features(Q1, "2026-06-30", 1), _features(Q2, "2026-09-30", 2)
    q1 = _clustered(f1, k=4)
    off = _clustered(f2, k=4, last_plan=_baseline(q1), baseline="q1", reuse_boundaries=False)
    assert off.segments["cluster"].equals(_clustered(f2, k=4).segments["cluster"])
    assert not any("cluster centres" in n.lower() for n in off.notes)


def test_a_baseline_without_centres_says_the_clusters_are_fitted_afresh():
    rules = segmentation.run(_features(Q1, "2026-06-30", 1), k=4)  # rules shown: no centres
    assert not len(_centres(rules))
    r = _clustered(_features(Q2, "2026-09-30", 2), k=4, last_plan=_baseline(rules), baseline="q1")
    assert any("stored no cluster centres" in n for n in r.notes)


@pytest.mark.parametrize("drop", ["scaling spread", "centre 1"])
def test_an_incomplete_centre_table_is_not_reused(drop):
    q1 = _clustered(_features(Q1, "2026-06-30", 1), k=4)
    b = q1.boundaries
    b = b[~((b["kind"] == drop) & (b["measure"] == "growth"))]
    assert stored_centres(b) is None
