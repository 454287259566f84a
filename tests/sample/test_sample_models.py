"""The sample is fit for the CLV models the workbook teaches.

Small, self-contained likelihoods (BG/NBD of Fader, Hardie & Lee 2005; shifted-beta-geometric of
Fader & Hardie 2007) fitted here, independently of kamlib.clv, to check that the simulated buying
and renewal behaviour is the kind those models describe: a BG/NBD fitted on two years predicts
the third year's repeat purchases, and the contract renewals recover the churn rate the
generator used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from kamlib.sample import generate_sample

END, CAL = pd.Timestamp("2026-06-30"), pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def sample():
    return generate_sample()


def _occasions(tables) -> pd.DataFrame:
    tx, acc = tables["transactions"], tables["accounts"]
    ok = tx["date"].notna() & (tx["date"] <= END) & tx["account_id"].isin(acc["account_id"])
    tx = tx[ok].drop_duplicates()
    occ = tx.groupby(["account_id", "date"])["net_revenue"].sum().reset_index()
    return occ[occ["net_revenue"] > 0]


def test_bgnbd_fitted_on_two_years_predicts_the_third(sample):
    occ = _occasions(sample)
    cal, hold = occ[occ["date"] <= CAL], occ[occ["date"] > CAL]
    g = cal.groupby("account_id")["date"]
    first, last, n = g.min(), g.max(), g.size()
    x = (n - 1).to_numpy(float)
    t_x = ((last - first).dt.days / 7).to_numpy()
    T = ((CAL - first).dt.days / 7).to_numpy()
    actual = hold.groupby("account_id").size().reindex(first.index).fillna(0).to_numpy()

    def nll(p):
        r, alpha, a, b = np.exp(p)
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        alive = -(r + x) * np.log(alpha + T)
        dead = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
        return -(head + np.logaddexp(alive, dead)).sum()

    fit = minimize(nll, np.log([0.5, 1.0, 0.5, 2.0]), method="Nelder-Mead", options={"maxiter": 6000, "xatol": 1e-7, "fatol": 1e-7})
    assert fit.success
    r, alpha, a, b = np.exp(fit.x)
    t = 365.25 / 7
    expected = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    )
    expected /= 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    assert abs(expected.sum() / actual.sum() - 1) < 0.15
    assert np.corrcoef(expected, actual)[0, 1] > 0.85
    # heavy buyers are predicted as heavy buyers, light as light (by sextile of past frequency)
    by = pd.DataFrame({"x": x, "pred": expected, "act": actual}).groupby(pd.qcut(x, 6, duplicates="drop"), observed=True)
    ratio = by["pred"].sum() / by["act"].sum()
    assert ratio.between(0.75, 1.25).all()


def test_contract_renewals_recover_the_churn_rate(sample):
    """Shifted-beta-geometric on the contract accounts: mean churn near the generator's 0.2 (Beta(0.9, 3.5))."""
    acc = sample["accounts"]
    on = acc[acc["contract_start"].notna()]
    renewals = np.round((on["contract_start"] - on["relationship_start"]).dt.days / 365.25).astype(int).to_numpy()
    churned = on["contract_end"].notna().to_numpy()

    def nll(p):
        a, b = np.exp(p)
        lost = betaln(a + 1, b + renewals) - betaln(a, b)  # left at the end of term renewals + 1
        alive = betaln(a, b + renewals) - betaln(a, b)  # survived `renewals` renewals so far
        return -np.where(churned, lost, alive).sum()

    fit = minimize(nll, [0.0, 1.0], method="Nelder-Mead")
    a, b = np.exp(fit.x)
    assert 0.1 < a / (a + b) < 0.3
