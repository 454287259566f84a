"""Published fits on the CDNOW sample, reproduced to the printed precision.

Data definition throughout: the 2,357-customer CDNOW sample, calibration 1997-01-01 ..
1997-09-30 (39 weeks), time in weeks, purchases on the same day merged into one occasion,
frequency = repeat occasions.
"""

import numpy as np
import pytest

from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.gammagamma import loglik as gg_loglik
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.paretonbd import loglik as pnbd_loglik
from kamlib.clv.sbg import ShiftedBetaGeometric


def within_printed(value, printed):
    """|value - printed| <= half a unit of the printed last decimal (plus float slack)."""
    text = repr(printed)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - printed) <= 0.5 * 10.0**-decimals + 1e-12


def test_cdnow_summary_matches_the_papers_data(cdnow_rfm):
    """Fader, Hardie & Lee (2005a) Appendix/Excel: customer 0001 has x=2, t_x=30.43, T=38.86;
    2,357 customers of whom 946 repeat (Fader & Hardie 2013, Gamma-Gamma note)."""
    assert len(cdnow_rfm) == 2357
    assert int((cdnow_rfm["frequency"] > 0).sum()) == 946
    c1 = cdnow_rfm.loc["0001"]
    assert (c1["frequency"], round(c1["recency"], 2), round(c1["T"], 2)) == (2, 30.43, 38.86)


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_rfm):
    """Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science
    24(2), Table 1 / section 4: r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4."""
    m = BGNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for k, v in published.items():
        assert within_printed(m.params_[k], v), (k, m.params_[k])
    assert within_printed(m.log_likelihood_, -9582.4)
    assert m.converged_


def test_bgnbd_matches_lifetimes_to_four_significant_digits(cdnow_rfm):
    """lifetimes 0.11.3 BetaGeoFitter on the same data gives r=0.242593, alpha=4.413532,
    a=0.792886, b=2.425752 (run in a separate venv with numpy 1.26 / scipy 1.11)."""
    m = BGNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    ref = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
    for k, v in ref.items():
        assert float(f"{m.params_[k]:.4g}") == float(f"{v:.4g}"), k


def test_bgnbd_standard_errors_are_those_of_the_hessian(cdnow_rfm):
    """lifetimes' summary for the same fit prints SEs 0.0126, 0.378, 0.186, 0.705."""
    m = BGNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    se = m.summary()["se"]
    np.testing.assert_allclose(se.to_numpy(), [0.012557, 0.378221, 0.185719, 0.705345], rtol=2e-3)
    s = m.summary()
    assert (s["ci_low"] < s["estimate"]).all() and (s["estimate"] < s["ci_high"]).all()


def test_bgnbd_conditional_expectation_of_customer_0001():
    """Fader, Hardie & Lee (2005) and their Excel companion note: with the published parameters,
    a customer with x=2, t_x=30.43, T=38.86 is expected to make 1.226 purchases in the next 39
    weeks (also lifetimes' test against Hardie's spreadsheet)."""
    params = (0.243, 4.414, 0.793, 2.426)
    e = BGNBD().expected_purchases(39, 2, 30.43, 38.86, params=params)
    assert round(float(e), 3) == 1.226


def test_pareto_nbd_reproduces_fader_hardie_lee_2005(cdnow_rfm):
    """Fader, Hardie & Lee (2005), Table 1, Pareto/NBD on the same data: r=0.553,
    alpha=10.578, s=0.606, beta=11.669, LL=-9595.0 (rounded as r=0.55, alpha=10.58, s=0.61,
    beta=11.67 in Fader & Hardie's Pareto/NBD notes)."""
    m = ParetoNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for k, v in published.items():
        # beta sits on a flat ridge (SE 6.2): allow one unit of the printed last digit.
        tol = 1.5e-3 if k == "beta" else 5e-4
        assert abs(m.params_[k] - v) <= tol, (k, m.params_[k])
    assert within_printed(m.log_likelihood_, -9595.0)
    # The optimum is at least as good as the published point.
    x, t_x, T = (cdnow_rfm[c].to_numpy() for c in ("frequency", "recency", "T"))
    assert m.log_likelihood_ >= pnbd_loglik(tuple(published.values()), x, t_x, T).sum() - 1e-6


def test_pareto_nbd_standard_errors_match_clvtools(cdnow_rfm):
    """CLVTools (R) reports SEs 0.0476, 0.8427, 0.1873, 6.2105 for this fit (its test suite)."""
    m = ParetoNBD().fit(cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"])
    np.testing.assert_allclose(m.summary()["se"].to_numpy(),
                               [0.0476264, 0.8427222, 0.1872594, 6.2105448], rtol=5e-3)


def test_pareto_nbd_p_alive_is_finite_for_heavy_buyers():
    """Regression inputs where naive hypergeometric evaluation returns NaN (documented in
    CLVTools' stability tests): P(alive) = 0.99960, 0.99956, 0.74949, 0.99426."""
    x = np.array([221.0, 254.0, 161.0, 204.0])
    t_x = np.array([103.42857, 97.14286, 94.71429, 98.57143])
    T = np.array([103.57143, 97.28571, 98.00000, 99.42857])
    p = ParetoNBD().p_alive(x, t_x, T, params=(0.5143, 2.8845, 0.2856, 14.1087))
    np.testing.assert_allclose(p, [0.99960, 0.99956, 0.74949, 0.99426], atol=1e-5)


def test_pareto_nbd_conditional_expectation_matches_lifetimes():
    """Independent implementation check: lifetimes 0.11.3 ParetoNBDFitter with the published
    parameters gives 1.45512 expected purchases in 39 weeks and P(alive)=0.86917 for customer
    0001 (x=2, t_x=30.43, T=38.86)."""
    m = ParetoNBD()
    params = (0.553, 10.578, 0.606, 11.669)
    assert float(m.expected_purchases(39, 2, 30.43, 38.86, params=params)) == pytest.approx(1.45512, abs=2e-5)
    assert float(m.p_alive(2, 30.43, 38.86, params=params)) == pytest.approx(0.86917, abs=2e-5)


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow_rfm):
    """Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": on the 946 CDNOW
    customers with repeat purchases in the 39-week calibration period, average value per repeat
    transaction, p=6.25, q=3.74, gamma=15.44; LL=-4055.9177 as asserted by CLVTools' tests for
    the same fit. The note also reports the frequency-value correlation 0.11."""
    g = GammaGamma().fit(cdnow_rfm["frequency"], cdnow_rfm["monetary_value"])
    for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert within_printed(g.params_[k], v), (k, g.params_[k])
    assert g.log_likelihood_ == pytest.approx(-4055.9177, abs=1e-3)
    assert g.n_ == 946
    assert round(g.assumption_check()["correlation"], 2) == 0.11
    rep = cdnow_rfm[cdnow_rfm["frequency"] > 0]
    assert g.log_likelihood_ >= gg_loglik((6.25, 3.74, 15.44), rep["frequency"], rep["monetary_value"]).sum()


HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


@pytest.mark.parametrize("survivors, alpha, beta, ll", [
    (HIGH_END, 0.668, 3.806, -1611.2),
    (REGULAR, 0.704, 1.182, -1680.3),
])
def test_sbg_reproduces_fader_hardie_2007(survivors, alpha, beta, ll):
    """Fader & Hardie (2007), "How to Project Customer Retention", J. Interactive Marketing
    21(1): sBG fitted to years 1-7 of the High End and Regular cohorts (Table 1 data)."""
    m = ShiftedBetaGeometric().fit_survivors(survivors[:8])
    assert within_printed(m.params_["alpha"], alpha)
    assert within_printed(m.params_["beta"], beta)
    assert within_printed(m.log_likelihood_, ll)
    # The paper's point: the projection tracks years 8-12 closely (within 3 % of the cohort).
    proj = 1000 * m.survival(np.arange(8, 13))
    assert np.max(np.abs(proj - np.array(survivors[8:]))) < 30
