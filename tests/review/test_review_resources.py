"""Resource plan: capacity is respected, owners are kept when they can be, errors are clear."""

import numpy as np
import pandas as pd
import pytest

from kamlib.errors import KamError, ParameterError
from kamlib.review.resources import (
    CapacityError,
    ResourcePlanner,
    accounts_to_assign,
    assign_accounts,
    effort_by_segment,
)


def _accounts(owners, tiers=None):
    n = len(owners)
    return pd.DataFrame({
        "account_id": [f"A{i:02d}" for i in range(n)],
        "tier": tiers if tiers is not None else ["key"] * n,
        "account_manager": owners,
    })


def _check_capacity(planner, max_accounts, max_hours):
    w = planner.workload_
    assert (w["n_accounts"] <= max_accounts).all()
    assert (w["hours"] <= max_hours + 1e-9).all()
    # every account assigned exactly once, to a manager of the pool
    a = planner.assignment_
    assert a["account_id"].is_unique
    assert set(a["manager"]) <= set(w["manager"])
    assert w["n_accounts"].sum() == len(a)


def test_keeps_all_owners_when_feasible_and_balanced():
    owners = ["Ann"] * 3 + ["Bob"] * 3 + ["Cy"] * 3
    p = ResourcePlanner(max_accounts=4, max_hours=1000).fit(_accounts(owners))
    assert p.n_changes_ == 0
    assert (p.assignment_["manager"] == p.assignment_["account_manager"]).all()
    assert (p.assignment_["reason"] == "kept").all()
    _check_capacity(p, 4, 1000)


def test_overloaded_owner_gives_up_exactly_the_excess():
    # Ann holds 6 key accounts but may hold 4: two must move, and only two.
    owners = ["Ann"] * 6 + ["Bob"] * 1
    p = ResourcePlanner(max_accounts=4, max_hours=10_000, switch_cost_hours=1000).fit(
        _accounts(owners), managers=["Ann", "Bob", "Cy"])
    _check_capacity(p, 4, 10_000)
    assert p.n_changes_ == 2
    moved = p.assignment_[p.assignment_["changed"]]
    assert (moved["previous_manager"] == "Ann").all()
    assert (moved["reason"] == "moved: previous owner over capacity").all()
    w = p.workload_.set_index("manager")
    assert w.at["Ann", "lost"] == 2 and w.at["Ann", "n_accounts"] == 4


def test_hours_capacity_binds_not_only_account_count():
    # 3 key accounts at 120 h = 360 h > 300 h: one must move although the count fits.
    owners = ["Ann"] * 3 + ["Bob"]
    p = ResourcePlanner(max_accounts=10, max_hours=300, switch_cost_hours=500).fit(
        _accounts(owners))
    _check_capacity(p, 10, 300)
    assert p.n_changes_ == 1


def test_switch_cost_trades_balance_against_handovers():
    owners = ["Ann"] * 5 + ["Bob"] * 1
    acc = _accounts(owners)
    # Cheap handovers: balance 3/3. Expensive handovers: keep everyone (capacity allows).
    cheap = ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=0.0).fit(acc)
    dear = ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=1e4).fit(acc)
    assert sorted(cheap.workload_["n_accounts"]) == [3, 3]
    assert dear.n_changes_ == 0
    # A move of a 120 h account shifts 120 h towards balance: worth a 100 h handover,
    # not a 130 h one.
    assert ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=100).fit(
        acc).n_changes_ == 2
    assert ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=130).fit(
        acc).n_changes_ == 0


def test_unowned_and_departed_owners_are_reported():
    owners = ["Ann", None, "Zed", "Bob"]
    p = ResourcePlanner(max_accounts=3, max_hours=1000).fit(_accounts(owners), ["Ann", "Bob"])
    r = p.assignment_.set_index("account_id")["reason"]
    assert r["A01"] == "new: no previous owner"
    assert r["A02"] == "moved: previous owner not in the manager pool"
    assert not p.assignment_.set_index("account_id").at["A01", "changed"]
    assert p.assignment_.set_index("account_id").at["A02", "changed"]


def test_hours_by_tier_and_per_account_override():
    acc = _accounts(["Ann", "Ann", "Bob"], tiers=["key", "key-development", "key"])
    acc["hours"] = [np.nan, 10.0, np.nan]
    p = ResourcePlanner(hours_by_tier={"key": 100, "key-development": 50}).fit(acc)
    assert p.assignment_["hours"].tolist() == [100.0, 10.0, 100.0]
    assert "n_key_development" in p.workload_.columns


def test_insufficient_capacity_says_how_many_managers_are_missing():
    acc = _accounts(["Ann"] * 20)
    with pytest.raises(CapacityError) as e:
        ResourcePlanner(max_accounts=8, max_hours=10_000).fit(acc, ["Ann", "Bob"])
    assert e.value.extra_managers == 1  # 20 accounts, 16 slots, 8 per manager
    assert "add at least 1 more manager" in str(e.value)
    assert isinstance(e.value, KamError)
    with pytest.raises(CapacityError) as e:
        ResourcePlanner(max_accounts=50, max_hours=500).fit(acc, ["Ann", "Bob"])
    # 2400 h needed, 1000 h offered: 3 more managers at 500 h
    assert e.value.extra_managers == 3
    assert e.value.hours_needed == 2400


def test_account_bigger_than_any_manager():
    with pytest.raises(CapacityError, match="raise max_hours to at least 120"):
        ResourcePlanner(max_hours=100).fit(_accounts(["Ann"]))


def test_bad_parameters_are_clear():
    with pytest.raises(ParameterError, match="hours_by_tier has no hours for tier"):
        ResourcePlanner(hours_by_tier={"key": 100}).fit(
            _accounts(["Ann"], tiers=["key-development"]))
    with pytest.raises(ParameterError, match="No account managers"):
        ResourcePlanner().fit(_accounts([None]))
    with pytest.raises(ParameterError, match="max_accounts"):
        ResourcePlanner(max_accounts=0).fit(_accounts(["Ann"]))


def test_per_manager_capacity_frame():
    mgr = pd.DataFrame({"manager": ["Ann", "Bob"], "max_accounts": [1, 5]})
    p = ResourcePlanner(max_hours=1000).fit(_accounts(["Ann"] * 3), mgr)
    assert p.workload_.set_index("manager")["n_accounts"].to_dict() == {"Ann": 1, "Bob": 2}


def test_deterministic_and_random_instances_respect_capacity():
    rng = np.random.default_rng(7)
    n = 60
    acc = _accounts(rng.choice(["M0", "M1", "M2", "M3", None], n).tolist(),
                    tiers=rng.choice(["key", "key-development"], n).tolist())
    mgrs = [f"M{i}" for i in range(6)]
    a1, w1 = assign_accounts(acc, mgrs, max_accounts=12, max_hours=1300)
    a2, _ = assign_accounts(acc, mgrs, max_accounts=12, max_hours=1300)
    pd.testing.assert_frame_equal(a1, a2)
    assert (w1["n_accounts"] <= 12).all() and (w1["hours"] <= 1300).all()


def test_accounts_to_assign_and_effort_by_segment():
    feats = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "name": list("abcd"),
                          "account_manager": ["Ann", "Ann", "Bob", "Bob"],
                          "revenue_12m": [100.0, 300.0, 50.0, 10.0]})
    scores = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "score": [0.5, 0.9, 0.4, 0.1],
                           "tier": ["key", "key", "key-development", "long-tail"]})
    segs = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                         "segment": ["Star", "Core", "Star", "Laggard"]})
    acc = accounts_to_assign(feats, scores, segments=segs)
    assert acc["account_id"].tolist() == ["B", "A", "C"]  # key by score, then key-development
    p = ResourcePlanner().fit(acc)
    e = effort_by_segment(p.assignment_).set_index("segment")
    assert e.loc["Star", "hours"] == 180 and e.loc["Core", "hours"] == 120
    assert e.loc["Star", "value_share"] == pytest.approx(150 / 450)
    assert e.loc["Star", "effort_ratio"] == pytest.approx((180 / 300) / (150 / 450))


def test_effort_falls_back_to_tier_without_segments():
    acc = _accounts(["Ann", "Bob", "Ann"], tiers=["key", "key", "key-development"])
    acc["revenue_12m"] = [100.0, 100.0, 50.0]
    p = ResourcePlanner().fit(acc)
    e = effort_by_segment(p.assignment_)
    assert e.columns[0] == "tier"
    assert e.set_index("tier").loc["key", "hours_share"] == pytest.approx(240 / 300)
