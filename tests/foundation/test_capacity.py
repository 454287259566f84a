"""The one capacity model (issue 19): existing books counted, at-risk accounts kept, moves explained."""

import pandas as pd
import pytest

from kamlib import capacity
from kamlib.capacity import CapacityError, ResourcePlanner, book_hours


def _accounts(owners, at_risk=None, tiers=None):
    n = len(owners)
    df = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(n)],
                       "tier": tiers or ["key"] * n, "account_manager": owners})
    if at_risk is not None:
        df["at_risk"] = at_risk
    return df


def test_book_hours_follow_the_rule_by_tier_and_leave_the_assigned_accounts_out():
    feats = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e", "f"],
                          "account_manager": ["Ann", "Ann", "Ann", "Bob", None, "Bob"]})
    scores = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e", "f"],
                           "tier": ["key", "managed", "long-tail", "managed", "managed",
                                    "key-development"]})
    book = book_hours(feats, scores, assigned=["a", "f"])
    assert book == {"Ann": 12.0 + 2.0, "Bob": 12.0}  # unowned e counts for nobody
    custom = book_hours(feats, scores, ["a", "f"], {"key": 1, "key-development": 1,
                                                    "managed": 30, "long-tail": 5})
    assert custom == {"Ann": 35.0, "Bob": 30.0}
    assert book_hours(feats, None, [])["Ann"] == 3 * capacity.DEFAULT_HOURS_BY_TIER["long-tail"]


def test_the_existing_book_counts_in_capacity_and_in_the_workload():
    # Ann and Bob each own 3 key accounts (360 h); Ann's other accounts take 500 h more.
    acc = _accounts(["Ann"] * 3 + ["Bob"] * 3)
    p = ResourcePlanner(max_accounts=6, max_hours=900, switch_cost_hours=100).fit(
        acc, book={"Ann": 500.0, "Bob": 0.0})
    w = p.workload_.set_index("manager")
    assert (w["hours"] <= 900 + 1e-9).all()
    assert w.at["Ann", "book_hours"] == 500 and w.at["Ann", "plan_hours"] <= 400
    assert w.at["Ann", "hours"] == w.at["Ann", "plan_hours"] + 500
    assert w.at["Ann", "utilisation"] == pytest.approx(w.at["Ann", "hours"] / 900)
    # 360 + 500 = 860 h fits Ann's 900 h, but the fair share counts the book, and moving one
    # 120 h account towards it is worth more than the 100 h handover
    moved = p.assignment_[p.assignment_["changed"]]
    assert set(moved["previous_manager"]) == {"Ann"}
    assert w.at["Ann", "fair_share_hours"] == pytest.approx((6 * 120 + 500) / 2)
    # without the book the same accounts stay where they are
    assert ResourcePlanner(max_accounts=6, max_hours=900).fit(acc).n_changes_ == 0


def test_a_book_that_leaves_no_room_forces_a_move_and_says_so():
    acc = _accounts(["Ann"] * 3 + ["Bob"])
    p = ResourcePlanner(max_accounts=6, max_hours=900, switch_cost_hours=1e4).fit(
        acc, book={"Ann": 700.0})
    moved = p.assignment_[p.assignment_["changed"]]
    assert len(moved) == 2  # 700 + 120 fits, 700 + 240 does not
    assert (moved["reason"] == "moved: previous owner over capacity").all()
    assert moved["explanation"].str.startswith("Ann would hold 1,060 of 900 h with their "
                                               "other accounts: moved to Bob").all()
    with pytest.raises(CapacityError, match="more than any manager has free after their "
                                            "other accounts"):
        ResourcePlanner(max_accounts=6, max_hours=900).fit(acc, book={"Ann": 800, "Bob": 800})
    with pytest.raises(CapacityError, match="400 hours \\(after the 1,400 hours their other "
                                            "accounts take\\)"):
        ResourcePlanner(max_accounts=6, max_hours=900).fit(acc, book={"Ann": 700, "Bob": 700})


def test_an_at_risk_account_is_never_moved_for_balance_alone():
    owners = ["Ann"] * 5 + ["Bob"]
    risky = [True, True, True, True, True, False]
    free = ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=0).fit(
        _accounts(owners))
    assert free.n_changes_ == 2  # handovers cost nothing: balance 3/3
    kept = ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=0).fit(
        _accounts(owners, risky))
    assert kept.n_changes_ == 0
    a = kept.assignment_.set_index("account_id")
    assert a.at["A00", "explanation"] == "kept with Ann (at risk: never moved for balance alone)"
    # a mixed book: only the accounts that are not at risk move
    mixed = ResourcePlanner(max_accounts=6, max_hours=5000, switch_cost_hours=0).fit(
        _accounts(owners, [True, True, False, True, False, False]))
    moved = mixed.assignment_[mixed.assignment_["changed"]]
    assert set(moved["account_id"]) == {"A02", "A04"}
    assert moved["explanation"].str.startswith("balances workload: Ann at").all()


def test_an_at_risk_account_still_moves_when_capacity_forces_it():
    p = ResourcePlanner(max_accounts=2, max_hours=5000).fit(
        _accounts(["Ann"] * 3 + ["Bob"], [True] * 4), managers=["Ann", "Bob"])
    moved = p.assignment_[p.assignment_["changed"]]
    assert len(moved) == 1 and moved["reason"].iat[0] == "moved: previous owner over capacity"


def test_books_that_leave_no_room_are_set_aside_with_a_note_not_a_failed_run():
    # a large client: every manager's other accounts already take more than max_hours (a 10M-line
    # ledger has ~1,700 accounts per manager at 2 h each); the key accounts still get owners
    acc = _accounts(["Ann"] * 3 + ["Bob"] * 3)
    book = {"Ann": 3_400.0, "Bob": 3_500.0}
    with pytest.raises(CapacityError):
        ResourcePlanner(max_accounts=6, max_hours=900).fit(acc, book=book)
    p = capacity.fit_beside_books(ResourcePlanner(max_accounts=6, max_hours=900), acc, None, book)
    assert p.assignment_["manager"].tolist() == ["Ann"] * 3 + ["Bob"] * 3  # owners kept
    assert "6,900 hours" in p.books_note_ and "Fix:" in p.books_note_
    # with room for the books nothing is set aside and there is no note
    roomy = capacity.fit_beside_books(ResourcePlanner(max_accounts=6, max_hours=5_000), acc,
                                      None, book)
    assert roomy.books_note_ == "" and roomy.workload_["book_hours"].sum() == 6_900
    # too few managers even without the books: still the capacity error
    with pytest.raises(CapacityError):
        capacity.fit_beside_books(ResourcePlanner(max_accounts=2, max_hours=900), acc, None, book)


def test_capacity_rules_come_back_from_their_table_as_they_went_in():
    """The selection saves its capacity parameters as a table the review reads: nothing is
    lost or reordered on the way, and a table missing a rule keeps that rule's default."""
    from kamlib.capacity import CapacityRules

    rules = CapacityRules(managers=("Ana", "Ben"), max_accounts=3, max_hours=650.5,
                          hours_by_tier={"key": 200.0, "long-tail": 0.5},
                          tiers=("key",), switch_cost_hours=0.0)
    table = rules.table()
    assert list(table.columns) == ["rule", "item", "value"]
    assert CapacityRules.from_table(table) == rules
    assert CapacityRules.from_table(table.iloc[0:0]) == CapacityRules()
    assert CapacityRules.from_table(CapacityRules().table()) == CapacityRules()
