"""Objectives: targets from segment strategy, momentum and CLV; stage goals."""

import numpy as np
import pandas as pd
import pytest

from kamlib.planning.objectives import MILESTONES, annual_targets


def obj(fitted, oid, milestone="Q4 / year"):
    o = fitted.objectives
    return o[(o.objective_id == oid) & (o.milestone == milestone)].iloc[0]


def test_star_target_blends_strategy_and_momentum(fitted):
    # F01: Star (+15%), flat revenue 100k: g = 0.7 * 0.15 + 0.3 * 0 = 0.105
    assert obj(fitted, "F01-REV")["target"] == pytest.approx(110_500)
    # F03: Core (+5%), symmetric growth (100-130)/115: g = 0.7*0.05 + 0.3*max(-0.26, -0.2)
    g = 0.7 * 0.05 + 0.3 * -0.2
    assert obj(fitted, "F03-REV")["target"] == pytest.approx(100_000 * (1 + g))


def test_milestones_are_cumulative_and_dated(fitted):
    o = fitted.objectives[fitted.objectives.objective_id == "F01-REV"]
    assert o["milestone"].tolist() == [m for m, _ in MILESTONES]
    assert o["target"].is_monotonic_increasing
    assert o["target"].iloc[0] == pytest.approx(110_500 * 30 / 365)
    assert (o["due_date"] - fitted.start).dt.days.tolist() == [d for _, d in MILESTONES]
    assert set(o["status"]) == {"open"} and set(o["owner"]) == {"Ann"}


def test_margin_moves_by_segment_uplift(fitted):
    # Core: +1 pp on 30% -> 31% of the revenue target
    t = fitted.targets.set_index("account_id")
    assert t.loc["F03", "margin_pct_target"] == pytest.approx(0.31)
    assert obj(fitted, "F03-MAR")["target"] == pytest.approx(t.loc["F03", "revenue_target"] * 0.31)


def test_whitespace_and_relationship_objectives_only_where_there_are_gaps(fitted):
    ids = set(fitted.objectives["objective_id"])
    assert "F02-WS" in ids and "F01-WS" not in ids
    assert "F02-REL" in ids and "F01-REL" not in ids  # F01 covers all six roles
    assert obj(fitted, "F02-REL")["target"] == 6
    assert obj(fitted, "F02-REL", "day 30")["target"] == 1  # covers one role today


def _profile(**kw):
    base = dict(account_id="A", revenue_12m=1000.0, margin_12m=200.0, segment="Star", growth_12m=0.0,
                wallet=np.nan, p_alive=np.nan)
    base.update(kw)
    return pd.DataFrame([base])


def test_low_p_alive_turns_growth_into_retention():
    t = annual_targets(_profile(p_alive=0.3), retention_p_alive=0.6).iloc[0]
    assert t["kind"] == "retain"
    assert t["revenue_target"] <= 1000.0
    assert "p_alive" in t["reason"]


def test_wallet_caps_the_target():
    t = annual_targets(_profile(wallet=1050.0), max_wallet_share=0.8).iloc[0]
    # 80% of wallet = 840 < current revenue: never target less than today
    assert t["revenue_target"] == pytest.approx(1000.0)
    t = annual_targets(_profile(wallet=1200.0, segment="Developing"), max_wallet_share=0.9).iloc[0]
    assert t["revenue_target"] == pytest.approx(1080.0)


def test_no_revenue_wins_a_share_of_whitespace():
    t = annual_targets(_profile(revenue_12m=0.0, margin_12m=0.0),
                       whitespace_potential=pd.Series({"A": 8000.0}), first_business_share=0.25).iloc[0]
    assert t["kind"] == "win" and t["revenue_target"] == pytest.approx(2000.0)


def test_segment_growth_is_a_parameter_and_missing_segment_uses_default():
    t = annual_targets(_profile(), segment_growth={"Star": 0.5}, momentum_weight=0.0).iloc[0]
    assert t["revenue_target"] == pytest.approx(1500.0)
    t = annual_targets(_profile(segment=np.nan), default_growth=0.1, momentum_weight=0.0).iloc[0]
    assert t["revenue_target"] == pytest.approx(1100.0) and "no segment" in t["reason"]
