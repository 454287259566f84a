import numpy as np
import pandas as pd
import pytest

from kamlib import segmentation
from kamlib.errors import InputError, ParameterError
from kamlib.segmentation import SEGMENTS
from kamlib.segmentation.synthetic import synthetic_features
from tests.entry_points import (
    assert_notebook_passes_its_parameters_once,
    assert_run_takes_the_notebook_parameters,
)

EQUAL = {"Star": 25, "Developing": 25, "Core": 25, "Laggard": 25}


def _selection(f, n_key=10):
    key = f["revenue_12m"].rank(ascending=False) <= n_key
    return pd.DataFrame({"account_id": f["account_id"], "is_key": key,
                         "tier": np.where(key, "key", "long-tail"), "score": f["revenue_12m"]})


def test_rules_and_clusters_agree_on_balanced_blobs():
    f = synthetic_features(EQUAL, seed=2)
    r = segmentation.run(f, selection_scores=_selection(f), k=4)
    s = r.segments
    assert len(s) == len(f) and list(s["account_id"]) == list(f["account_id"])
    assert (s["segment_rule"] == f["true_segment"]).all()
    assert (s["segment_cluster"] == f["true_segment"]).all()
    assert r.ari == pytest.approx(1.0)
    assert (s["segment"] == s["segment_rule"]).all()
    assert s["method"].iloc[0] == "rules (median)"
    assert {"value", "growth", "potential", "strategy", "is_key", "segment_serving_model"} <= set(s.columns)


def test_method_shown_clustering_and_strategies():
    f = synthetic_features({"Star": 10, "Developing": 30, "Core": 20, "Laggard": 100}, seed=2)
    r = segmentation.run(f, selection_scores=_selection(f), k=0, method_shown="clustering")
    s = r.segments
    assert (s["segment"] == f["true_segment"]).all()
    assert s["method"].iloc[0] == "kmeans (k=4)"
    assert (s.loc[s["segment"] == "Star", "strategy"] == "Invest for growth").all()
    lag = s[(s["segment"] == "Laggard") & ~s["is_key"]]
    assert (lag["segment_serving_model"] == "inside sales / e-commerce").all()
    assert (s.loc[s["is_key"], "segment_serving_model"] == "key-account team").all()


def test_summary_shares_add_up_and_key_accounts_spread():
    f = synthetic_features(EQUAL, seed=4)
    sel = _selection(f, n_key=12)
    r = segmentation.run(f, selection_scores=sel, k=4)
    summ = r.segment_summary.set_index("segment")
    body = summ.loc[list(SEGMENTS)]
    for col in ("share_accounts", "share_revenue", "share_margin", "share_key"):
        assert body[col].sum() == pytest.approx(1.0)
    assert body["n_accounts"].tolist() == [25, 25, 25, 25]
    assert summ.loc["Total", "revenue"] == pytest.approx(f["revenue_12m"].sum())
    # the 12 largest accounts are all high value: Stars or Core
    assert body.loc[["Star", "Core"], "n_key"].sum() == 12
    assert r.kpis["star_share_accounts"] == pytest.approx(0.25)


def test_determinism_with_a_fixed_seed():
    f = synthetic_features({"Star": 40, "Developing": 60, "Core": 50, "Laggard": 250}, seed=9,
                           growth_sd=0.4)
    a = segmentation.run(f, k=0, seed=5, method_shown="clustering")
    b = segmentation.run(f, k=0, seed=5, method_shown="clustering")
    for name, t in a.tables().items():
        pd.testing.assert_frame_equal(t, b.tables()[name])


def test_accounts_without_history_are_set_aside_with_a_reason():
    f = synthetic_features(EQUAL, seed=1)
    dead = f.iloc[:3].copy()
    dead["account_id"] = ["Z1", "Z2", "Z3"]
    dead[["revenue_12m", "revenue_prev_12m", "revenue_prev2_12m"]] = 0.0
    f2 = pd.concat([f, dead], ignore_index=True)
    r = segmentation.run(f2, k=4)
    s = r.segments.set_index("account_id")
    assert s.loc[["Z1", "Z2", "Z3"], "segment"].isna().all()
    assert (s.loc[["Z1", "Z2", "Z3"], "strategy"] == "No purchases: reactivate or drop").all()
    # they do not move the thresholds: the other accounts keep their blob segment
    assert (r.segments["segment"].iloc[:100] == f["true_segment"]).all()
    summ = r.segment_summary.set_index("segment")
    assert summ.loc["Not segmented", "n_accounts"] == 3
    assert any("3 account(s) bought nothing" in n for n in r.notes)


def test_degenerate_inputs():
    f = synthetic_features({"Star": 2, "Laggard": 1}, seed=1)
    # a k above the number of accounts is the user's to fix: an error naming k, not a note
    with pytest.raises(ParameterError, match=r"Parameter 'k' of 30_segmentation is 4.*\(3\)"):
        segmentation.run(f, k=4)
    # data that cannot carry k clusters (too few distinct accounts): rules still work,
    # clustering is skipped with a note
    same = f.assign(revenue_12m=1000.0, revenue_prev_12m=800.0)
    r = segmentation.run(same, k=3)
    assert r.segments["segment_cluster"].isna().all()
    assert any("Clustering skipped" in n for n in r.notes)
    with pytest.raises(ParameterError, match="k=3"):
        segmentation.run(same, k=3, method_shown="clustering")
    none = f.assign(revenue_12m=0.0, revenue_prev_12m=0.0)
    with pytest.raises(InputError, match="nothing to segment"):
        segmentation.run(none)
    dup = pd.concat([f, f.iloc[:1]], ignore_index=True)
    with pytest.raises(InputError, match="not unique"):
        segmentation.run(dup)
    with pytest.raises(ParameterError):
        segmentation.run(f, method_shown="both")


def test_all_growth_equal_is_noted():
    f = synthetic_features(EQUAL, seed=1)
    f["revenue_prev_12m"] = f["revenue_12m"]
    r = segmentation.run(f, k=2)
    assert set(r.segments["segment"]) == {"Core", "Laggard"}
    assert any("same growth" in n for n in r.notes)


def test_migration_finds_the_slipping_stars():
    # Last year the Stars were Core and the Core accounts were Stars.
    f = synthetic_features(EQUAL, seed=6, prev_segments={"Star": "Core", "Core": "Star"})
    r = segmentation.run(f, selection_scores=_selection(f), k=4)
    mig = r.migration.set_index("account_id")
    slipping = set(mig.index[mig["star_slipping"]])
    assert slipping == set(f.loc[f["true_segment"] == "Core", "account_id"])
    assert (mig.loc[list(slipping), "direction"] == "down").all()
    mat = r.migration_matrix
    assert mat.loc["Star", "Core"] == 25 and mat.loc["Core", "Star"] == 25
    assert mat.loc["Developing", "Developing"] == 25
    assert mat.to_numpy().sum() == len(f)
    # the same through clustering
    rc = segmentation.run(f, k=4, method_shown="clustering")
    assert rc.migration_matrix.loc["Star", "Core"] == 25


def test_growth_window_24_skips_migration_with_a_note():
    f = synthetic_features(EQUAL, seed=1)
    r = segmentation.run(f, growth_window_months=24, k=4)
    assert r.migration.empty and r.tables()["migration"].empty and r.movers().empty
    assert any("Migration skipped" in n for n in r.notes)


def test_clv_value_measure():
    f = synthetic_features(EQUAL, seed=1)
    clv = pd.DataFrame({"account_id": f["account_id"], "clv": f["revenue_12m"] * 3})
    r = segmentation.run(f, clv=clv, value_measure="clv", k=4)
    assert np.allclose(r.segments["value"], f["revenue_12m"] * 3)
    assert (r.segments["segment"] == f["true_segment"]).all()
    assert any("CLV has no history" in n for n in r.notes)
    with pytest.raises(ParameterError):
        segmentation.run(f, value_measure="clv")


def test_dpm_without_selection_uses_top_accounts():
    f = synthetic_features(EQUAL, seed=1)
    r = segmentation.run(f, k=4, dpm_top_n=7)
    assert len(r.dpm) == 7
    top = f.nlargest(7, "revenue_12m")["account_id"]
    assert set(r.dpm["account_id"]) == set(top)
    assert set(r.dpm["dpm_box"]) <= {"Strategic", "Star", "Status", "Streamline"}


def test_run_takes_exactly_the_notebook_parameters_with_their_defaults():
    assert_run_takes_the_notebook_parameters(
        segmentation.run, "30_segmentation",
        ["features", "clv", "selection_scores", "assessments", "contacts", "competitors"])


def test_tables_are_what_the_step_saves_and_inputs_are_reported():
    from kamlib.segmentation.entry import TABLES

    f = synthetic_features(EQUAL, seed=2)
    r = segmentation.run(f, selection_scores=_selection(f), k=4)
    assert list(r.tables()) == list(TABLES)
    assert all(isinstance(t, pd.DataFrame) for t in r.tables().values())
    av = r.availability().set_index("table")
    assert av.loc["account_features", "rows"] == len(f) and av.loc["selection_scores", "available"]
    assert not av.loc[["clv", "assessments", "contacts"], "available"].any()
    assert not av.loc["competitors", "available"]  # an optional input (intake's competitors)
    assert any("average rival" in n for n in r.notes)


def test_the_notebook_writes_each_parameter_once_and_calls_run_once():
    assert_notebook_passes_its_parameters_once("30_segmentation", "segmentation.run(")
