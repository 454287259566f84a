"""Revenue targets from evidence: the bridge's bars, each computed by hand, add up to the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlib import planning
from kamlib.planning.targets import TargetRules, pipeline, target_bridge

START = pd.Timestamp("2026-06-30")


def _targets(rows):
    cols = ["account_id", "kind", "growth", "revenue_base", "revenue_target", "margin_pct_base",
            "margin_pct_target", "margin_base", "margin_target", "reason"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def _world():
    targets = _targets([
        # A: 1M this year; the segment rule would say +10 %
        ("A", "grow", 0.1, 1_000_000.0, 1_100_000.0, 0.3, 0.3, 300_000.0, 330_000.0, "segment Star: +15%"),
        # B: nothing known but the segment
        ("B", "grow", 0.05, 200_000.0, 210_000.0, 0.2, 0.21, 40_000.0, 44_100.0, "segment Core: +5%"),
        # C: to retain: the segment rule, whatever the evidence
        ("C", "retain", -0.02, 500_000.0, 490_000.0, 0.3, 0.3, 150_000.0, 147_000.0, "p_alive low"),
        # D: a small wallet: the bars are cut at 80 % of it
        ("D", "grow", 0.1, 100_000.0, 110_000.0, 0.3, 0.3, 30_000.0, 33_000.0, "segment Star"),
    ])
    profile = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                            "wallet": [5_000_000.0, np.nan, 2_000_000.0, 130_000.0],
                            "n_sites": [20.0, np.nan, 4.0, 1.0]})
    features = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "n_active_sites_12m": [5.0, 2.0, 2.0, 1.0]})
    whitespace = pd.DataFrame({"account_id": ["A", "A", "D"], "category": ["X", "Y", "Z"],
                               "potential": [80_000.0, 40_000.0, 200_000.0]})
    opportunities = pd.DataFrame({
        "account_id": ["A", "A", "A", "A", "A", "C"],
        "name": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "stage": ["proposal", "Closed Won", "lost", "negotiation", "qualification", "proposal"],
        "amount": [100_000.0, 500_000.0, 300_000.0, 60_000.0, 1_000_000.0, 50_000.0],
        "probability": [0.4, 1.0, 0.0, np.nan, 0.5, 0.5],
        "expected_close": pd.to_datetime(["2026-10-01", "2026-05-01", "2026-05-01", None,
                                          "2028-01-01", "2026-09-01"]),
        "category": ["X", "X", "Y", "W", "V", "X"], "owner": ["Ann"] * 6})
    return targets, profile, features, whitespace, opportunities


def test_pipeline_weights_open_opportunities_of_the_plan_year():
    *_, opps = _world()
    p = pipeline(opps, ["A", "B", "C", "D"], START).set_index("name")
    assert p["status"].to_dict() == {"o1": "open", "o2": "won", "o3": "lost", "o4": "open",
                                     "o5": "open", "o6": "open"}
    assert p.loc["o1", "weighted"] == pytest.approx(40_000)
    assert p.loc["o4", "weighted"] == pytest.approx(30_000)  # no probability: 0.5 assumed
    assert p.loc["o2", "weighted"] == 0 and p.loc["o3", "weighted"] == 0
    assert p["in_plan_year"].to_dict() == {"o1": True, "o2": False, "o3": False, "o4": True,
                                           "o5": False, "o6": True}  # o4: no date, still open


def test_bridge_bars_by_hand_and_they_add_up_to_the_target():
    targets, profile, features, ws, opps = _world()
    pipe = pipeline(opps, ["A", "B", "C", "D"], START)
    bridge, out = target_bridge(targets, profile, features, ws, pipe, TargetRules())
    a = bridge[bridge["account_id"] == "A"].set_index("step")["amount"]
    assert a["baseline"] == 1_000_000
    assert a["weighted pipeline"] == pytest.approx(40_000 + 30_000)  # o1 + o4 in the plan year
    assert a["whitespace"] == pytest.approx(0.25 * 40_000)  # X has an open opportunity: only Y
    assert a["unserved sites"] == pytest.approx(0.1 * 1_000_000 / 5 * 15)
    so_far = 1_000_000 + 70_000 + 10_000 + 300_000
    assert a["wallet headroom"] == pytest.approx(0.1 * (0.5 * 5_000_000 - so_far))
    t = out.set_index("account_id")
    for aid, g in bridge.groupby("account_id"):
        # the last running total is the target, exactly; the bars sum to it
        assert g["running_total"].iloc[-1] == t.loc[aid, "revenue_target"]
        assert g["amount"].sum() == pytest.approx(t.loc[aid, "revenue_target"], rel=1e-12)
        assert g["step_no"].is_monotonic_increasing and g["step"].iloc[0] == "baseline"
    assert t.loc["A", "target_basis"] == "evidence"
    assert t.loc["A", "growth"] == pytest.approx(t.loc["A", "revenue_target"] / 1_000_000 - 1)
    assert t.loc["A", "margin_target"] == pytest.approx(0.3 * t.loc["A", "revenue_target"])
    assert t.loc["A", "reason"].startswith("built from evidence: weighted pipeline")


def test_segment_growth_only_where_no_evidence_adds_anything_and_for_retention():
    targets, profile, features, ws, opps = _world()
    bridge, out = target_bridge(targets, profile, features, ws, pipeline(opps, list("ABCD"), START))
    t = out.set_index("account_id")
    for aid, target in (("B", 210_000.0), ("C", 490_000.0)):
        g = bridge[bridge["account_id"] == aid]
        assert g["step"].tolist() == ["baseline", "segment growth"]
        assert t.loc[aid, "revenue_target"] == pytest.approx(target)
        assert t.loc[aid, "target_basis"] == "segment"


def test_bars_stop_at_the_wallet_cap():
    targets, profile, features, ws, opps = _world()
    bridge, out = target_bridge(targets, profile, features, ws, pipeline(opps, list("ABCD"), START))
    d = bridge[bridge["account_id"] == "D"].set_index("step")
    assert d.loc["whitespace", "amount"] == pytest.approx(0.8 * 130_000 - 100_000)  # 50k cut to 4k
    assert "cut at 80% of the wallet" in d.loc["whitespace", "basis"]
    assert out.set_index("account_id").loc["D", "revenue_target"] == pytest.approx(104_000)


def test_run_builds_the_bridge_and_the_pipeline_for_every_plan(world):
    features, cy, contacts, keys, segments = world
    opps = pd.DataFrame({"account_id": ["F02", "F03"], "name": ["Deal", "Lost one"],
                         "stage": ["proposal", "lost"], "amount": [40_000.0, 9_000.0],
                         "probability": [0.5, 0.0], "expected_close": pd.to_datetime(["2026-12-01", None]),
                         "category": ["C", "B"], "owner": ["Ann", "Ann"]})
    plans = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, opportunities=opps)
    p = plans.profile.set_index("account_id")
    for aid, g in plans.bridge.groupby("account_id"):
        assert g["running_total"].iloc[-1] == p.loc[aid, "revenue_target"]
    f02 = plans.bridge[plans.bridge["account_id"] == "F02"].set_index("step")["amount"]
    assert f02["weighted pipeline"] == pytest.approx(20_000)
    assert f02["whitespace"] == 0  # C is the whitespace, and the open deal covers it
    assert p.loc["F02", "target_basis"] == "evidence"
    assert set(plans.pipeline["account_id"]) == {"F02", "F03"}
    assert "plan_target_bridge" in plans.tables() and "plan_pipeline" in plans.tables()
    rev = plans.objectives.set_index("objective_id").loc["F02-REV"]
    assert rev["target"].iloc[-1] == pytest.approx(p.loc["F02", "revenue_target"])
