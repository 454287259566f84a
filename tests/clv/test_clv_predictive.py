"""Predictive intervals: simulated futures that agree with the model's expectations, and
intervals whose coverage is checked on real holdout data."""

import numpy as np
import pytest

from kamlib.clv import simulate
from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.contracts import renewal_paths
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.holdout import error_summary, holdout_predictions
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.predictive import Predictive, mean_discount, rate_drift
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.clv.value import clv_frame


def test_cdnow_master_90_percent_intervals_cover_85_to_95_percent(cdnow_master_rfm):
    """The full CDNOW cohort: BG/NBD fitted on 39 weeks, intervals of the next 39 weeks'
    purchases per customer (with parameter uncertainty)."""
    rfm = cdnow_master_rfm
    assert len(rfm) == 23_570
    m = BGNBD().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    pred = holdout_predictions(m, rfm, level=0.90, n_simulations=400, seed=5)
    coverage = error_summary(pred).set_index("measure")["value"]["interval_coverage"]
    assert 0.85 <= coverage <= 0.95
    assert (pred["predicted_low"] <= pred["predicted_high"]).all()


@pytest.mark.parametrize("Model", [BGNBD, ParetoNBD])
def test_simulated_purchases_average_to_the_models_expectation(cdnow_rfm, Model):
    m = Model().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    point = np.tile(list(m.params_.values()), (2000, 1))
    rfm = cdnow_rfm.iloc[:300]
    sim = Predictive(m, point, rfm["frequency"], rfm["recency"], rfm["T"], 39.0, seed=1)
    expected = m.expected_purchases(39.0, rfm["frequency"], rfm["recency"], rfm["T"])
    assert sim.mean_count.sum() == pytest.approx(expected.sum(), rel=0.03)
    assert sim.n_cells <= len(rfm)


def test_simulated_values_average_to_the_clv_and_are_wider_than_the_parameters_interval():
    d = simulate.bgnbd(3000, 0.243, 4.414, 0.793, 2.426, T=np.arange(13, 79), seed=3)
    d["monetary_value"] = np.nan_to_num(simulate.gammagamma(d["frequency"], 6, 4, 15, seed=4))
    m = BGNBD().fit(d["frequency"], d["recency"], d["T"])
    g = GammaGamma().fit(d["frequency"], d["monetary_value"])
    c = clv_frame(d, m, g, "week", 3.0, 0.10, n_bootstrap=100, seed=2, n_simulations=600)
    active = c["clv"] > c["clv"].quantile(0.75)
    width = (c["clv_high"] - c["clv_low"])[active]
    param = (c["clv_param_high"] - c["clv_param_low"])[active]
    assert (width > param).mean() > 0.95
    assert (c["clv_low"] >= 0).all() and (c["clv_low"] <= c["clv_high"]).all()
    again = clv_frame(d, m, g, "week", 3.0, 0.10, n_bootstrap=100, seed=2, n_simulations=600)
    np.testing.assert_array_equal(c["clv_low"], again["clv_low"])


def test_mean_discount_is_the_average_discount_factor():
    t = np.linspace(0, 100, 200_001)
    d = np.log(1.002)
    assert mean_discount(100.0, d) == pytest.approx(np.exp(-d * t).mean(), rel=1e-5)
    assert mean_discount(0.0, d) == 1.0 and mean_discount(5.0, 0.0) == 1.0


def test_renewal_paths_average_to_the_expected_payments():
    model = ShiftedBetaGeometric()
    model.params_ = {"alpha": 0.7, "beta": 3.0}
    renewals = np.array([0, 2, 6])
    draws = np.tile([0.7, 3.0], (40_000, 1))
    sims = renewal_paths(draws, renewals, 5, 0.1, seed=1)
    np.testing.assert_allclose(sims.mean(axis=0), model.expected_payments(5, 0.1, renewals),
                               rtol=0.02)


def test_rate_drift_is_zero_for_poisson_buyers_and_positive_for_drifting_ones():
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        rate = rng.gamma(5, 1 / 5) * 2  # purchases a week
        for half, factor in ((0, 1.0), (1, rng.gamma(2, 1 / 2) if i % 2 else 1.0)):
            n = rng.poisson(rate * factor * 52)
            days = rng.uniform(0, 364, n) + 364 * half
            rows += [(f"A{i}", pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(x)))
                     for x in days]
        rows.append((f"A{i}", pd.Timestamp("2022-01-01")))
    occ = pd.DataFrame(rows, columns=["account_id", "date"])
    steady = occ[occ["account_id"].isin([f"A{i}" for i in range(0, 300, 2)])]
    assert rate_drift(steady, "2023-12-31", "week", 52.0) < 0.02
    assert rate_drift(occ, "2023-12-31", "week", 52.0) > 0.1
