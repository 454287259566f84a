"""The summary's account economics: net profit, the whale curve's peak, the loss-makers, key
accounts whose ceiling does not pay a manager, the serving models."""

import pandas as pd

from kamlib.report.summary import _economics_context
from kamlib.review.economics import economics_facts


def _clv():
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E"],
        "margin_12m": [500.0, 300.0, 100.0, 50.0, 0.0],
        "cost_to_serve": [100.0, 100.0, 200.0, 250.0, 0.0],
        "net_profit_12m": [400.0, 200.0, -100.0, -200.0, 0.0],
        "net_clv": [1000.0, 500.0, -50.0, -300.0, 0.0],
        "cost_to_serve_estimated": [True, False, True, True, True],
        "covers_manager": [True, False, False, False, False],
    })


def test_economics_facts_read_the_whale_curve_from_the_clv_table():
    e = economics_facts(_clv(), None, {"A", "B"})
    assert e["net_profit"] == 300.0 and e["peak"] == 600.0 and e["peak_accounts"] == 2
    assert e["loss_accounts"] == 2 and e["loss"] == -300.0
    assert e["worst"]["account_id"].tolist() == ["D", "C"]
    assert e["estimated"] == 4 and e["net_clv"] == 1150.0
    assert e["key_short"] == ["B"] and e["serving"] is None


def test_without_net_values_there_are_no_economics():
    assert economics_facts(None, None, set()) is None
    assert economics_facts(pd.DataFrame({"account_id": ["A"], "clv": [1.0]}), None, set()) is None


def test_the_summary_section_states_the_peak_and_the_serving_models():
    serving = pd.DataFrame({"serving_model": ["inside sales", "account manager"],
                            "accounts": [3.0, 1.0], "margin_12m": [900.0, 2000.0],
                            "cost_to_serve": [100.0, 50.0], "serving_cost": [300.0, 900.0],
                            "net_profit": [500.0, 1050.0], "staff_needed": [1.0, 1.0],
                            "accounts_after_moves": [2.0, 2.0], "staff_after_moves": [1.0, 1.0],
                            "net_profit_after_moves": [300.0, 1450.0]})
    ctx = _economics_context(economics_facts(_clv(), serving, {"A", "B"}), "EUR")
    text = " ".join(ctx["lines"])
    assert "peaks at 600 EUR after 2 accounts" in text and "2 accounts cost more" in text
    assert "1 key accounts have an investment ceiling below" in text
    assert "Serving about 1 accounts with another serving model" in text
    assert "would add 200 EUR of net profit a year" in text
    assert [c for c, _ in ctx["serving"]["columns"]][0] == "Serving model"
    assert ctx["serving"]["rows"][0][0][0] == "inside sales"
