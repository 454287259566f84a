"""Gamma-Gamma model of the value per purchase occasion.

Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (after Colombo & Jiang 1999):
each occasion's value is Gamma(p, nu) around the account's mean p/nu, and nu ~ Gamma(q, gamma)
across accounts. Fitted on accounts with at least one repeat occasion and a positive average
repeat value. The model assumes value per occasion is independent of purchase frequency, which
:meth:`GammaGamma.assumption_check` measures.

When ``q <= 1`` the population mean value is infinite (the fitted spend distribution has too
heavy a tail): the model then refuses to shrink towards an infinite mean and
:meth:`GammaGamma.expected_value` falls back to the account's own observed average (and the
median observed average for accounts without repeats), and says so in ``fallback_``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from kamlib.clv._mle import FittedModel, covariance_from_negll_hessian, maximise


class InfiniteMeanWarning(UserWarning):
    """Gamma-Gamma q <= 1: the population mean value is infinite; a fallback is used."""


def loglik(params, x, m) -> np.ndarray:
    """Log density of each account's average repeat value ``m`` over ``x`` repeat occasions."""
    p, q, g = params
    x = np.asarray(x, float)
    m = np.asarray(m, float)
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + x * m))


class _Values:
    """The fit's distinct (x, m) rows, sorted by x, with what does not depend on the
    parameters computed once: ``log m`` per row, the distinct frequencies and their blocks."""

    def __init__(self, x, m, w):
        self.x, self.m, self.w = x, m, w
        start = np.flatnonzero(np.diff(x, prepend=np.nan) != 0)
        self.xu = x[start]
        self.count = np.diff(np.append(start, len(x)))
        self.log_m = np.log(m)
        self.log_xu = np.log(self.xu)

    def rows(self, per_x: np.ndarray) -> np.ndarray:
        """A value per distinct frequency, repeated to every row."""
        return np.repeat(per_x, self.count)


def _negll_grad(lp, v: _Values):
    """Negative log-likelihood and gradient in log parameters: :func:`loglik`'s terms, with the
    special functions (which depend on the frequency only) once per distinct frequency. Every
    row's value is the same expression in the same order, so the same to the last bit."""
    p, q, g = np.exp(lp)
    pxu = p * v.xu
    px = v.rows(pxu)
    gxm = g + v.x * v.m
    lgm = np.log(gxm)
    ll = (v.rows(gammaln(pxu + q) - gammaln(pxu) - gammaln(q) + q * np.log(g))
          + (px - 1) * v.log_m + v.rows(pxu * v.log_xu) - v.rows(pxu + q) * lgm)
    psi = digamma(pxu + q)
    d_p = v.x * (v.rows(psi - digamma(pxu)) + v.log_m + v.rows(v.log_xu) - lgm)
    d_q = v.rows(psi - digamma(q) + np.log(g)) - lgm
    d_g = q / g - v.rows(pxu + q) / gxm
    w = v.w
    grad = np.array([w @ d_p, w @ d_q, w @ d_g]) * np.array([p, q, g])
    return -float(w @ ll), -grad


class GammaGamma(FittedModel):
    """Gamma-Gamma model of the expected value per purchase occasion.

    Attributes
    ----------
    params_ : dict
        ``p, q, gamma``.
    log_likelihood_, cov_log_, n_, converged_
    fallback_ : str or None
        Why the model's shrinkage is not used (``q <= 1``), else None.
    correlation_ : float
        Pearson correlation of frequency and average value among the fitted accounts.
    fallback_value_ : float
        Median observed average value, used for accounts without repeats under the fallback.
    """

    param_names = ("p", "q", "gamma")

    def __init__(self, n_starts: int = 3) -> None:
        self.n_starts = n_starts

    def fit(self, frequency, monetary_value) -> "GammaGamma":
        """Fit on accounts with ``frequency > 0`` and ``monetary_value > 0`` (others are ignored).

        Parameters
        ----------
        frequency : array-like
            Repeat occasions per account.
        monetary_value : array-like
            Average value per repeat occasion.
        """
        x = np.asarray(frequency, float)
        m = np.asarray(monetary_value, float)
        use = (x > 0) & (m > 0) & np.isfinite(m)
        if use.sum() < 10:
            raise ValueError(
                f"Gamma-Gamma needs at least 10 accounts with repeat purchases of positive value; "
                f"got {int(use.sum())}."
            )
        x, m = x[use], m[use]
        # Distinct (x, m) rows, sorted (what np.unique(axis=0) gives, without its slow path).
        kx, km = np.round(x, 9), np.round(m, 9)
        order = np.lexsort((km, kx))
        kx, km = kx[order], km[order]
        new = np.ones(len(kx), bool)
        new[1:] = (np.diff(kx) != 0) | (np.diff(km) != 0)
        counts = np.diff(np.append(np.flatnonzero(new), len(kx)))
        values = _Values(kx[new], km[new], counts.astype(float))
        mean, var = float(np.mean(m)), float(np.var(m)) or 1.0
        # Method-of-moments-like start: nu's mean ~ p/mean(m); a few shapes around it.
        starts = [np.log([p0, q0, q0 * mean / p0]) for p0, q0 in ((1.0, 2.0), (5.0, 4.0), (2.0, 10.0))]
        starts = starts[: max(1, self.n_starts)]
        f = lambda lp: _negll_grad(lp, values)  # noqa: E731
        lp, fun, ok, H = maximise(f, starts, jac=True, with_hessian=True)
        self._store_fit(lp, fun, covariance_from_negll_hessian(H),
                        int(use.sum()), ok)
        self.correlation_ = float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and var > 0 else np.nan
        self.fallback_value_ = float(np.median(m))
        self.fallback_ = None
        if self.params_["q"] <= 1.0:
            self.fallback_ = (
                f"q = {self.params_['q']:.3f} <= 1: the fitted spend distribution has no finite "
                "mean, so expected values use each account's observed average instead of "
                "Gamma-Gamma shrinkage."
            )
            warnings.warn(self.fallback_, InfiniteMeanWarning, stacklevel=2)
        return self

    @property
    def population_mean_(self) -> float:
        """Mean value per occasion across accounts, ``p gamma / (q - 1)`` (inf when q <= 1)."""
        p, q, g = (self.params_[k] for k in self.param_names)
        return p * g / (q - 1) if q > 1 else np.inf

    def expected_value(self, frequency, monetary_value, params=None) -> np.ndarray:
        """Expected value per future occasion given the account's history (FH 2013, eq. 5).

        Accounts without repeats get the population mean; accounts whose observed average is not
        positive (e.g. net returns) keep their observed average, which the model cannot describe.
        """
        self._check_fitted()
        p, q, g = params if params is not None else (self.params_[k] for k in self.param_names)
        x = np.asarray(frequency, float)
        m = np.asarray(monetary_value, float)
        if q <= 1.0:
            return np.where(x > 0, m, self.fallback_value_)
        with np.errstate(invalid="ignore"):
            ev = (g + m * x) * p / (p * x + q - 1)
        ev = np.where(x > 0, ev, p * g / (q - 1))
        return np.where((x > 0) & (m <= 0), m, ev)

    def assumption_check(self, threshold: float = 0.3) -> dict:
        """Report the frequency-value correlation (the model assumes independence).

        Returns
        -------
        dict
            ``correlation``, ``ok`` (abs correlation below ``threshold``) and a sentence.
        """
        self._check_fitted()
        c = self.correlation_
        ok = bool(np.isfinite(c) and abs(c) < threshold)
        msg = (
            f"Correlation of purchase frequency and average value per occasion: {c:.2f}. "
            + ("Small enough for the Gamma-Gamma independence assumption."
               if ok else
               "Large: frequent buyers spend differently per occasion, so Gamma-Gamma values "
               "are biased; read CLVs of very frequent or rare buyers with care.")
        )
        return {"correlation": c, "ok": ok, "message": msg}

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        return super().summary(level)
