"""Shifted-beta-geometric (sBG) model of contract renewals.

Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive Marketing
21(1). At each renewal an account churns with probability theta ~ Beta(alpha, beta), fixed for
the account. Fitted on contract periods: an account either churned after ``t`` periods (its
contract ended) or is still active after ``t`` periods (right-censored).

Quantities:

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``
* ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` (survival to the end of period t)
* retention rate ``r_t = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)``
* DERL (Fader & Hardie 2010, "Customer-Base Valuation in a Contractual Setting"): discounted
  expected residual lifetime of an account alive after ``n`` renewals,
  ``(beta + n) / (alpha + beta + n) * 2F1(1, beta + n + 1; alpha + beta + n + 1; 1 / (1 + d))``,
  i.e. the discounted expected number of payments from the next renewal on, with that next
  payment counted undiscounted (FH's convention: it is made at the moment of renewal).
  :meth:`ShiftedBetaGeometric.expected_payments` discounts it by one period instead, so
  ``derl = (1 + d) * expected_payments(infinite horizon)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from kamlib.clv._mle import FittedModel, covariance_from_negll_hessian, maximise


def survivors_to_periods(survivors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn a cohort's survivor counts (``[n0, n1, ..., nk]``) into (periods, churned, weights).

    Returns, for each period ``t = 1..k``, those lost in ``t`` (churned=1), and the survivors at
    ``k`` as censored at ``k`` (churned=0).
    """
    s = np.asarray(survivors, float)
    lost = s[:-1] - s[1:]
    if np.any(lost < 0):
        raise ValueError("survivor counts must not increase")
    k = len(s) - 1
    periods = np.r_[np.arange(1, k + 1), k]
    churned = np.r_[np.ones(k), 0.0]
    weights = np.r_[lost, s[-1]]
    return periods.astype(float), churned, weights


def loglik(params, periods, churned) -> np.ndarray:
    """Log-likelihood: ``log P(T = t)`` for churned accounts, ``log S(t)`` for active ones."""
    a, b = params
    t = np.asarray(periods, float)
    c = np.asarray(churned, float)
    return np.where(c > 0, betaln(a + 1, b + t - 1), betaln(a, b + t)) - betaln(a, b)


def _negll_grad(lp, t, c, w):
    a, b = np.exp(lp)
    ll = loglik((a, b), t, c)
    dab = digamma(a + b)
    churn = c > 0
    # d/da and d/db of the log-beta terms.
    d_a = np.where(churn, digamma(a + 1) - digamma(a + b + t), digamma(a) - digamma(a + b + t)) - (
        digamma(a) - dab)
    d_b = np.where(churn, digamma(b + t - 1) - digamma(a + b + t),
                   digamma(b + t) - digamma(a + b + t)) - (digamma(b) - dab)
    grad = np.array([w @ d_a, w @ d_b]) * np.array([a, b])
    return -float(w @ ll), -grad


class ShiftedBetaGeometric(FittedModel):
    """sBG model of contract renewals (periods are contract periods, e.g. years).

    Attributes
    ----------
    params_ : dict
        ``alpha, beta``.
    log_likelihood_, cov_log_, n_, converged_
    """

    param_names = ("alpha", "beta")

    def __init__(self, n_starts: int = 3) -> None:
        self.n_starts = n_starts

    def fit(self, periods, churned, weights=None) -> "ShiftedBetaGeometric":
        """Fit on observed contract periods.

        Parameters
        ----------
        periods : array-like of int >= 1
            Number of periods the account was observed (churned in that period, or still
            active at its end).
        churned : array-like of bool
            Whether the account churned in that period.
        weights : array-like, optional
            Number of accounts per row.
        """
        t = np.asarray(periods, float)
        c = np.asarray(churned, float)
        w = np.ones_like(t) if weights is None else np.asarray(weights, float)
        if np.any(t < 1):
            raise ValueError("periods must be >= 1")
        # Accounts share (periods, churned) pairs: evaluate each pair once.
        key, inv = np.unique(np.column_stack([t, c]), axis=0, return_inverse=True)
        t, c, w = key[:, 0], key[:, 1], np.bincount(inv.ravel(), weights=w)
        starts = [np.log([1.0, 1.0]), np.log([0.5, 3.0]), np.log([3.0, 0.5])][: max(1, self.n_starts)]
        f = lambda lp: _negll_grad(lp, t, c, w)  # noqa: E731
        lp, fun, ok, H = maximise(f, starts, jac=True, with_hessian=True)
        self._store_fit(lp, fun, covariance_from_negll_hessian(H), int(w.sum()), ok)
        return self

    def fit_survivors(self, survivors) -> "ShiftedBetaGeometric":
        """Fit on a cohort's survivor counts ``[n0, n1, ..., nk]`` (as in FH 2007, Table 1)."""
        return self.fit(*survivors_to_periods(survivors))

    def survival(self, t, params=None) -> np.ndarray:
        """Share of a new cohort still active after ``t`` periods."""
        a, b = self._p(params)
        t = np.asarray(t, float)
        return np.exp(betaln(a, b + t) - betaln(a, b))

    def retention_rate(self, t, params=None) -> np.ndarray:
        """Retention rate from period ``t-1`` to ``t`` (rises with t: the sorting effect)."""
        a, b = self._p(params)
        t = np.asarray(t, float)
        return (b + t - 1) / (a + b + t - 1)

    def derl(self, discount: float, renewals, params=None) -> np.ndarray:
        """Discounted expected residual lifetime of an account alive after ``renewals`` renewals.

        Fader & Hardie (2010), eq. 6: the next payment counts undiscounted, later ones at
        ``discount`` per period.
        """
        a, b = self._p(params)
        n = np.asarray(renewals, float)
        return (b + n) / (a + b + n) * hyp2f1(1.0, b + n + 1, a + b + n + 1, 1.0 / (1.0 + discount))

    def expected_payments(self, horizon: int, discount: float, renewals, params=None) -> np.ndarray:
        """Discounted expected number of future payments within ``horizon`` periods.

        The finite-horizon version of :meth:`derl`: sum over k = 1..horizon of
        P(alive for k more renewals | alive now) / (1 + d)^k.
        """
        a, b = self._p(params)
        n = np.asarray(renewals, float)[..., None]
        k = np.arange(1, int(horizon) + 1, dtype=float)
        # S(n + k) / S(n) = B(a, b + n + k) / B(a, b + n)
        surv = np.exp(betaln(a, b + n + k) - betaln(a, b + n))
        return (surv / (1.0 + discount) ** k).sum(axis=-1)

    def project(self, periods: int, params=None) -> pd.DataFrame:
        """Projected survival and retention for periods 0..``periods`` of a new cohort."""
        t = np.arange(0, periods + 1)
        return pd.DataFrame({
            "period": t,
            "survival": self.survival(t, params),
            "retention_rate": np.r_[np.nan, self.retention_rate(t[1:], params)],
        })
