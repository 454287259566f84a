"""Segment boundaries that hold from run to run, and the noise of one year's movement."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kamlib import segmentation
from kamlib.segmentation.boundaries import mark_noise, movement_noise, stored_thresholds
from kamlib.segmentation.synthetic import synthetic_features

Q1 = {"Star": 25, "Developing": 25, "Core": 25, "Laggard": 25}
Q2 = {"Star": 45, "Developing": 25, "Core": 20, "Laggard": 10}  # the portfolio got better


def _features(sizes, as_of, seed):
    return synthetic_features(sizes, seed=seed).assign(as_of=pd.Timestamp(as_of))


def _baseline(result):
    return SimpleNamespace(tables={"segment_boundaries": result.boundaries})


def _counts(result):
    return result.segments["segment"].value_counts()


def test_boundaries_are_stored_and_reused_so_counts_can_move():
    q1 = segmentation.run(_features(Q1, "2026-06-30", 1), k=4)
    b = q1.boundaries.set_index(["measure", "kind"])
    assert b.loc[("value", "threshold"), "threshold"] == pytest.approx(q1.thresholds["value"])
    assert b.loc[("growth", "threshold"), "set_on"] == "2026-06-30"
    f2 = _features(Q2, "2026-09-30", 2)
    fresh = segmentation.run(f2, k=4)  # medians again: Stars = Laggards by construction
    assert _counts(fresh)["Star"] == _counts(fresh)["Laggard"]
    kept = segmentation.run(f2, k=4, last_plan=_baseline(q1), baseline="q1")
    assert kept.thresholds == pytest.approx(q1.thresholds)
    assert _counts(kept)["Star"] > _counts(kept)["Laggard"]
    assert "reused" in kept.boundaries["how"].iloc[0]
    off = segmentation.run(f2, k=4, last_plan=_baseline(q1), baseline="q1", reuse_boundaries=False)
    assert off.thresholds == pytest.approx(fresh.thresholds)


def test_three_runs_keep_the_first_runs_boundaries():
    q1 = segmentation.run(_features(Q1, "2026-06-30", 1), k=4)
    q2 = segmentation.run(_features(Q2, "2026-09-30", 2), k=4, last_plan=_baseline(q1), baseline="q1")
    q3 = segmentation.run(_features(Q2, "2026-12-31", 3), k=4, last_plan=_baseline(q2), baseline="q2")
    assert q3.thresholds == pytest.approx(q1.thresholds)
    assert (q3.boundaries.query("kind == 'threshold'")["set_on"] == "2026-06-30").all()


def test_thresholds_in_other_measures_are_not_reused():
    q1 = segmentation.run(_features(Q1, "2026-06-30", 1), k=4, value_measure="margin")
    assert stored_thresholds(q1.boundaries, {"value": "revenue", "growth": "symmetric"}) is None
    q2 = segmentation.run(_features(Q2, "2026-09-30", 2), k=4, last_plan=_baseline(q1), baseline="q1")
    assert "computed afresh" in " ".join(q2.notes)


def test_moves_within_one_years_noise_are_marked():
    mig = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "moved": [True, True, False, True],
                        "growth": [0.02, 0.60, 0.1, -0.01], "growth_prev": [-0.02, -0.40, 0.12, 0.5],
                        "value": [100.0, 100.0, 100.0, 100.0], "value_prev": [100.0] * 4})
    noise = {"growth": 0.05, "value": 0.1}
    out = mark_noise(mig, {"growth": 0.0, "value": 1000.0}, noise)
    assert out["within_noise"].tolist() == [True, False, False, True]
    spread = movement_noise(pd.DataFrame({"growth": np.arange(10.0), "growth_prev": np.zeros(10),
                                          "value": np.full(10, 2.0), "value_prev": np.ones(10)}))
    assert spread["value"] == pytest.approx(0.0) and spread["growth"] > 0


def test_the_sample_run_says_how_much_movement_is_noise():
    r = segmentation.run(_features(Q1, "2026-06-30", 1), k=4)
    assert "within_noise" in r.migration.columns
    assert any("within one year's noise" in n for n in r.notes)
