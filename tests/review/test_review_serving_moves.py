"""The resource plan follows the segmentation step's proposed serving-model moves: a moved
account takes its new model's tier and hours, and its line says so."""

import pandas as pd
import pytest

from kamlib.capacity import CapacityRules
from kamlib.errors import InputError
from kamlib.review import run
from kamlib.review.resources import accounts_to_assign, book_hours, tiers_after_moves


def _tables():
    ids = ["K1", "K2", "D1", "D2", "M1", "L1"]
    feats = pd.DataFrame({
        "account_id": ids, "name": [f"Firm {i}" for i in ids],
        "account_manager": ["Ann", "Bob", "Ann", "Bob", "Ann", "Bob"],
        "revenue_12m": [900.0, 800.0, 300.0, 200.0, 150.0, 10.0],
        "margin_12m": [200.0, 180.0, 60.0, 40.0, 45.0, 2.0],
        "as_of": pd.Timestamp("2026-09-30")})
    scores = pd.DataFrame({"account_id": ids, "score": [0.9, 0.8, 0.6, 0.5, 0.4, 0.1],
                           "tier": ["key", "key", "key-development", "key-development",
                                    "managed", "long-tail"]})
    return feats, scores


def _moves(rows):
    return pd.DataFrame(rows, columns=["account_id", "from_model", "to_model"])


DOWN = ("D2", "account manager", "inside sales")      # a small account: frees hours
UP = ("M1", "inside sales", "account manager")        # a growing account: takes hours
TAIL = ("L1", "digital / distributor", "inside sales")
RULES = CapacityRules(max_accounts=8, max_hours=900.0).table()  # step 10's capacity_rules


def _plan(moves=None, **params):
    feats, scores = _tables()
    params.setdefault("follow_serving_moves", True)  # the what-if these tests are about
    return run(feats, scores, serving_moves=moves, capacity_rules=RULES, **params)


def test_by_default_the_plan_keeps_the_owners_and_hours_the_account_plans_name():
    # the account plans name the owners settled in 10_selection; following the moves is a
    # what-if the consultant turns on
    feats, scores = _tables()
    default = run(feats, scores, serving_moves=_moves([DOWN]), capacity_rules=RULES)
    assert default.assignment.equals(_plan(None).assignment)


def _hours(result, manager):
    return result.workload.set_index("manager").at[manager, "hours"]


def test_an_account_moved_to_inside_sales_frees_its_managers_hours():
    before, after = _plan(), _plan(_moves([DOWN]))
    assert _hours(before, "Bob") - _hours(after, "Bob") == pytest.approx(60.0 - 12.0)
    line = after.assignment.set_index("account_id").loc["D2"]
    assert line["tier"] == "managed" and line["selection_tier"] == "key-development"
    assert line["hours"] == 12.0 and line["serving_move"] == "account manager -> inside sales"
    assert "follows a proposed serving-model move (account manager -> inside sales)" \
        in line["explanation"]
    others = after.assignment[after.assignment["account_id"] != "D2"]
    assert (others["serving_move"] == "").all()
    assert not others["explanation"].str.contains("serving-model").any()
    assert after.serving_moved() == 1 and "1 account(s) follow" in after.resource_line()


def test_an_account_moved_up_to_an_account_manager_joins_the_plan_and_takes_hours():
    before, after = _plan(), _plan(_moves([UP]))
    assert "M1" not in set(before.assignment["account_id"])
    line = after.assignment.set_index("account_id").loc["M1"]
    assert line["tier"] == "key-development" and line["hours"] == 60.0
    assert "follows a proposed serving-model move" in line["explanation"]
    # its 12 hours left Ann's book, 60 came into her plan
    assert _hours(after, "Ann") - _hours(before, "Ann") == pytest.approx(60.0 - 12.0)


def test_a_long_tail_account_moved_to_inside_sales_counts_in_its_owners_book():
    before, after = _plan(), _plan(_moves([TAIL]))
    assert "L1" not in set(after.assignment["account_id"])  # managed: not a planned tier
    assert _hours(after, "Bob") - _hours(before, "Bob") == pytest.approx(12.0 - 2.0)


def test_the_parameter_turns_the_moves_off():
    plain = _plan()
    off = _plan(_moves([DOWN, UP]), follow_serving_moves=False)
    pd.testing.assert_frame_equal(off.assignment, plain.assignment)
    pd.testing.assert_frame_equal(off.workload, plain.workload)
    assert off.serving_moved() == 0


def test_no_moves_leave_the_plan_as_it_was():
    plain = _plan()
    empty = _plan(_moves([]))
    pd.testing.assert_frame_equal(empty.assignment, plain.assignment)
    assert "serving_move" not in plain.assignment.columns


def test_moves_change_tiers_and_books_consistently():
    feats, scores = _tables()
    after = tiers_after_moves(scores, _moves([DOWN, UP, TAIL]))
    assert dict(zip(after["account_id"], after["tier"])) == {
        "K1": "key", "K2": "key", "D1": "key-development", "D2": "managed",
        "M1": "key-development", "L1": "managed"}
    acc = accounts_to_assign(feats, scores, moves=_moves([DOWN, UP, TAIL]))
    assert set(acc["account_id"]) == {"K1", "K2", "D1", "D2", "M1"}
    # Bob's book: L1 now managed (12 h); nothing else of his is outside the plan
    assert book_hours(feats, after, acc["account_id"]) == {"Bob": 12.0}


def test_unreadable_moves_are_a_clear_error():
    feats, scores = _tables()
    with pytest.raises(InputError, match="serving_moves"):
        tiers_after_moves(scores, pd.DataFrame({"account_id": ["D2"]}))
    with pytest.raises(InputError, match="to_model"):
        tiers_after_moves(scores, _moves([("D2", "account manager", "telepathy")]))
