import numpy as np
import pandas as pd
import pytest

from kamlib.errors import InputError, ParameterError
from kamlib.segmentation.measures import compute_measures, log_growth, symmetric_growth


def _features():
    return pd.DataFrame({
        "account_id": ["a", "b", "c", "d", "e"],
        "revenue_12m": [100.0, 0.0, 50.0, 0.0, 300.0],
        "revenue_prev_12m": [50.0, 80.0, 0.0, 0.0, 100.0],
        "revenue_prev2_12m": [25.0, 80.0, 0.0, 0.0, 300.0],
        "margin_12m": [30.0, 0.0, 10.0, 0.0, 60.0],
        "margin_prev_12m": [10.0, 20.0, 0.0, 0.0, 20.0],
        "wallet": [400.0, np.nan, 20.0, 10.0, 1000.0],
    })


def test_symmetric_growth_is_bounded_and_handles_zero_bases():
    g = symmetric_growth([100, 0, 50, 0, -10], [50, 80, 0, 0, 10])
    assert g[0] == pytest.approx(50 / 75)
    assert g[1] == -2.0  # lost account
    assert g[2] == 2.0   # new account
    assert g[3] == 0.0   # nothing either year
    assert g[4] == -2.0
    assert np.all(np.abs(g) <= 2)


def test_log_growth_uses_offset_and_clips_negatives():
    g = log_growth([100, 0, -5], [0, 100, 0], offset=10)
    assert g[0] == pytest.approx(np.log(110 / 10))
    assert g[1] == pytest.approx(np.log(10 / 110))
    assert g[2] == 0.0
    with pytest.raises(ParameterError):
        log_growth([1], [1], offset=0)


def test_measures_revenue_window_12_and_potential():
    m = compute_measures(_features())
    assert list(m["value"]) == [100, 0, 50, 0, 300]
    assert m["growth"].iloc[0] == pytest.approx(50 / 75)
    assert m["growth"].iloc[4] == pytest.approx(200 / 200)
    # potential = wallet - revenue, never negative, NaN without a wallet
    assert m["potential"].iloc[0] == 300
    assert np.isnan(m["potential"].iloc[1])
    assert m["potential"].iloc[2] == 0
    assert list(m["has_history"]) == [True, True, True, False, True]


def test_measures_window_24_and_lag():
    m = compute_measures(_features(), growth_window_months=24)
    assert m["growth"].iloc[0] == pytest.approx(75 / 62.5)  # 100 vs 25
    assert m["growth"].iloc[4] == pytest.approx(0.0)       # 300 vs 300
    prev = compute_measures(_features(), lag=1)
    assert list(prev["value"]) == [50, 80, 0, 0, 100]
    assert prev["growth"].iloc[4] == pytest.approx(-1.0)
    with pytest.raises(InputError, match="revenue_prev3_12m"):
        compute_measures(_features(), growth_window_months=24, lag=1)


def test_value_measures_margin_and_clv():
    f = _features()
    assert list(compute_measures(f, value_measure="margin")["value"]) == [30, 0, 10, 0, 60]
    clv = pd.DataFrame({"account_id": ["a", "e"], "clv": [1000.0, 5000.0]})
    v = compute_measures(f, value_measure="clv", clv=clv)["value"]
    assert list(v) == [1000, 0, 0, 0, 5000]
    with pytest.raises(ParameterError, match="20_clv"):
        compute_measures(f, value_measure="clv")


def test_bad_parameters_and_missing_columns():
    with pytest.raises(ParameterError):
        compute_measures(_features(), value_measure="profit")
    with pytest.raises(ParameterError):
        compute_measures(_features(), growth_measure="cagr")
    with pytest.raises(ParameterError):
        compute_measures(_features(), growth_window_months=6)
    with pytest.raises(InputError, match="revenue_prev_12m"):
        compute_measures(_features().drop(columns="revenue_prev_12m"))


def test_duplicate_clv_rows_are_an_input_error():
    clv = pd.DataFrame({"account_id": ["a", "a"], "clv": [1.0, 2.0]})
    with pytest.raises(InputError, match="not unique"):
        compute_measures(_features(), value_measure="clv", clv=clv)
