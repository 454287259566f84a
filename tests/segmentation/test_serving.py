"""Serving models with costs: the net value rule and the moves it proposes."""

import numpy as np
import pandas as pd
import pytest

from kamlib.errors import ParameterError
from kamlib.segmentation.serving import (
    DEFAULT_MARGIN_FACTORS,
    check_serving,
    net_by_model,
    serving_economics,
)
from kamlib.vocabulary import (
    KEY,
    KEY_DEVELOPMENT,
    LONG_TAIL,
    MANAGED,
    SERVE_ACCOUNT_MANAGER,
    SERVE_DIGITAL,
    SERVE_INSIDE_SALES,
    SERVE_KAM,
    SERVING_MODELS,
)

COSTS = {SERVE_KAM: 30000.0, SERVE_ACCOUNT_MANAGER: 3000.0, SERVE_INSIDE_SALES: 500.0,
         SERVE_DIGITAL: 100.0}
CAPACITY = {SERVE_KAM: 5.0, SERVE_ACCOUNT_MANAGER: 40.0, SERVE_INSIDE_SALES: 150.0,
            SERVE_DIGITAL: 0.0}
FACTORS = {SERVE_KAM: 1.0, SERVE_ACCOUNT_MANAGER: 0.9, SERVE_INSIDE_SALES: 0.8,
           SERVE_DIGITAL: 0.5}


def _portfolio():
    features = pd.DataFrame({
        "account_id": ["K", "D", "M", "T", "U"],
        "name": ["Key", "Dev", "Managed small", "Tail big", "Tail small"],
        "revenue_12m": [1e6, 50_000, 20_000, 400_000, 2_000],
        "margin_12m": [300_000.0, 4_000.0, 2_000.0, 120_000.0, 500.0],
    })
    scores = pd.DataFrame({"account_id": ["K", "D", "M", "T", "U"],
                           "tier": [KEY, KEY_DEVELOPMENT, MANAGED, LONG_TAIL, LONG_TAIL]})
    clv = pd.DataFrame({"account_id": ["K", "D", "M", "T", "U"],
                        "cost_to_serve": [20_000.0, 500.0, 300.0, 4_000.0, 50.0]})
    return features, scores, clv


def test_net_value_under_each_model_scales_the_margin_and_charges_the_models_cost():
    features, scores, clv = _portfolio()
    notes = []
    table, moves = serving_economics(features, scores, clv, COSTS, CAPACITY, FACTORS, 1000.0,
                                     notes)
    # Tail big: 120 k margin served digitally (factor 0.5). With an account manager it keeps
    # 0.9 / 0.5 of it: 216 k - 4 k - 3 k; digitally 120 k - 4 k - 0.1 k.
    t = moves.set_index("account_id").loc["T"]
    assert t["from_model"] == SERVE_DIGITAL
    assert t["net_value_now"] == pytest.approx(120_000 - 4_000 - 100)
    # The account manager's 216 k - 4 k - 3 k beats a key-account manager's 240 k - 4 k - 30 k.
    assert t["to_model"] == SERVE_ACCOUNT_MANAGER
    assert t["net_value_after"] == pytest.approx(216_000 - 4_000 - 3_000)
    assert t["gain"] == pytest.approx(t["net_value_after"] - t["net_value_now"])
    # Dev: 4 k margin does not pay for an account manager; inside sales keeps 0.8/0.9 of it.
    d = moves.set_index("account_id").loc["D"]
    assert (d["from_model"], d["to_model"]) == (SERVE_ACCOUNT_MANAGER, SERVE_INSIDE_SALES)
    assert d["gain"] == pytest.approx((4000 * 0.8 / 0.9 - 500 - 500) - (4000 - 500 - 3000))
    assert "K" not in set(moves["account_id"])  # key accounts keep their manager
    assert "U" not in set(moves["account_id"])  # gains below the minimum are not proposed
    assert moves["gain"].is_monotonic_decreasing and (moves["gain"] >= 1000).all()
    assert "would add" in notes[-1]


def test_the_serving_model_table_adds_up_and_counts_staff_before_and_after():
    features, scores, clv = _portfolio()
    table, moves = serving_economics(features, scores, clv, COSTS, CAPACITY, FACTORS, 1000.0,
                                     [])
    t = table.set_index("serving_model")
    assert list(t.index) == list(SERVING_MODELS)
    assert t["accounts"].sum() == 5 and t["accounts_after_moves"].sum() == 5
    assert t.loc[SERVE_DIGITAL, "accounts"] == 2
    assert t.loc[SERVE_DIGITAL, "margin_12m"] == 120_500.0
    np.testing.assert_allclose(t["net_profit"],
                               t["margin_12m"] - t["cost_to_serve"] - t["serving_cost"])
    assert t.loc[SERVE_KAM, "staff_needed"] == 1
    assert t.loc[SERVE_ACCOUNT_MANAGER, "accounts_after_moves"] == 1  # D out, T in
    assert t.loc[SERVE_INSIDE_SALES, "accounts_after_moves"] == 2  # M stays, D joins
    assert t.loc[SERVE_DIGITAL, "staff_needed"] == 0  # no capacity limit
    # The moves raise the total net profit by their gains.
    assert t["net_profit_after_moves"].sum() == pytest.approx(
        t["net_profit"].sum() + moves["gain"].sum())


def test_net_by_model_matches_the_rule():
    features, scores, clv = _portfolio()
    from kamlib.segmentation.serving import account_economics

    acc = account_economics(features, scores, clv)
    net = net_by_model(acc, COSTS, FACTORS)
    assert net.loc["M", SERVE_INSIDE_SALES] == pytest.approx(2000 - 300 - 500)
    assert net.loc["M", SERVE_DIGITAL] == pytest.approx(2000 * 0.5 / 0.8 - 300 - 100)


def test_without_tiers_nothing_is_proposed_and_a_note_says_why():
    features, _, clv = _portfolio()
    notes = []
    table, moves = serving_economics(features, None, clv, COSTS, CAPACITY, FACTORS, 0.0, notes)
    assert table.empty and moves.empty and "10_selection" in notes[0]


def test_bad_serving_parameters_are_clear_errors():
    with pytest.raises(ParameterError, match="unknown serving models"):
        check_serving({"field sales": 1.0}, {}, {})
    with pytest.raises(ParameterError, match=">= 0"):
        check_serving({SERVE_KAM: -1.0}, {}, {})
    with pytest.raises(ParameterError, match="> 0"):
        check_serving({}, {}, {**DEFAULT_MARGIN_FACTORS, SERVE_DIGITAL: 0.0})
