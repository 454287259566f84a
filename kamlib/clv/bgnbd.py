"""BG/NBD: beta-geometric / negative binomial model of repeat purchasing.

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2), 275-284. While active, an account buys as a Poisson
process with rate lambda ~ Gamma(r, alpha); after each purchase it drops out with probability
p ~ Beta(a, b).

The likelihood is evaluated in log space as ``A1 + A2 + logaddexp(A3, A4)`` (the form Fader & Hardie
recommend in "Overcoming the BG/NBD model's #NUM! error problem", 2013), with an analytic
gradient, on the unique (frequency, recency, T) triples weighted by their counts.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from kamlib.clv._mle import (
    FittedModel,
    _blas_single_thread,
    chord_newton,
    covariance_from_negll_hessian,
    hessian,
    maximise,
)
from kamlib.clv.prep import check_rfm, fit_arrays, group_rows

LARGE_FIT = 50_000
"""More accounts than this: :meth:`BGNBD.fit` takes the large-data path (:func:`_fit_large`)."""

SUBSAMPLE = 25_000
"""About how many accounts the large-data path's starting fit uses."""


def _loglik_terms(params, x, t_x, T):
    r, alpha, a, b = params
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = betaln(a, b + x) - betaln(a, b)
    A3 = -(r + x) * np.log(alpha + T)
    pos = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        A4 = np.where(
            pos, np.log(a) - np.log(b + x - 1 + (~pos)) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return A1, A2, A3, A4, pos


def loglik(params, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each account's (x, t_x, T) under BG/NBD parameters (r, alpha, a, b)."""
    A1, A2, A3, A4, _ = _loglik_terms(params, np.asarray(x, float), np.asarray(t_x, float),
                                      np.asarray(T, float))
    return A1 + A2 + np.logaddexp(A3, A4)


def _negll_and_grad(logp, x, t_x, T, w, xu=None, xi=None):
    """Negative log-likelihood and its gradient in log parameters.

    ``xu``/``xi`` (distinct frequencies and the index into them) let the special functions run
    on the few distinct frequencies instead of every row.
    """
    params = np.exp(logp)
    r, alpha, a, b = params
    if xu is None:
        xu, xi = np.unique(x, return_inverse=True)
    pos = x > 0
    # Special functions of (parameter + x): once per distinct x.
    lg = (gammaln(r + xu) + gammaln(b + xu) - gammaln(a + b + xu))[xi]
    A12 = (lg - gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b))
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + t_x)
    A3 = -(r + x) * log_at
    with np.errstate(divide="ignore", invalid="ignore"):
        log_bx1 = np.log(np.where(pos, b + x - 1, 1.0))
        A4 = np.where(pos, np.log(a) - log_bx1 - (r + x) * log_atx, -np.inf)
    lse = np.logaddexp(A3, A4)
    ll = A12 + lse
    wA3 = np.exp(A3 - lse)  # weight of the "still active at T" branch; 1 when x == 0
    wA4 = 1.0 - wA3
    psi_r = digamma(r + xu)[xi]
    psi_bx = digamma(b + xu)[xi]
    psi_abx = digamma(a + b + xu)[xi]
    psi_ab = digamma(a + b)
    d_r = psi_r - digamma(r) + np.log(alpha) - wA3 * log_at - wA4 * np.where(pos, log_atx, 0.0)
    d_alpha = r / alpha - (r + x) * (wA3 / (alpha + T) + wA4 * np.where(pos, 1 / (alpha + t_x), 0))
    d_a = psi_ab - psi_abx + wA4 * np.where(pos, 1.0 / a, 0.0)
    d_b = psi_ab + psi_bx - digamma(b) - psi_abx - wA4 * np.where(pos, np.exp(-log_bx1), 0.0)
    grad = np.array([w @ d_r, w @ d_alpha, w @ d_a, w @ d_b]) * params
    return -float(w @ ll), -grad


class _Rows:
    """Distinct histories laid out for :func:`_negll_grad_rows`: sorted by frequency, the
    non-buyers (x = 0) apart, and each frequency's block of rows marked."""

    def __init__(self, x, t_x, T, w):
        # Frequencies are counts: sorted as 16-bit integers (a radix sort) when they fit.
        small = len(x) and x.max() < 2**15 and np.array_equal(x, np.floor(x))
        order = np.argsort(x.astype(np.int16) if small else x, kind="stable")
        x, t_x, T, w = x[order], t_x[order], T[order], w[order]
        start = np.flatnonzero(np.diff(x, prepend=-1.0) != 0)
        self.xu = x[start]
        self.W = np.add.reduceat(w, start) if len(x) else np.zeros(0)
        self.total = float(w.sum())
        n0 = int(np.searchsorted(x, 0.0, side="right"))
        self.T0, self.w0 = T[:n0], w[:n0]
        self.x1, self.t1, self.T1, self.w1 = x[n0:], t_x[n0:], T[n0:], w[n0:]
        pos = self.xu > 0
        self.xu1 = self.xu[pos]
        self.start1 = start[pos] - n0
        self.cnt1 = np.diff(np.append(self.start1, len(self.x1)))
        self.wx1 = self.w1 * self.x1


def _negll_grad_rows(logp, R: _Rows):
    """:func:`_negll_and_grad` on a :class:`_Rows` layout, with fewer passes over the rows.

    Per row with x > 0 the likelihood is ``A12(x) - (r+x) log(alpha+T) + softplus(D)`` with
    ``D = log a - log(b+x-1) + (r+x) [log(alpha+T) - log(alpha+t_x)]``, the log odds of having
    dropped out after the last purchase rather than being active at T; its sigmoid ``s`` is
    the weight of that branch in the gradient. Terms of the frequency alone are summed per
    distinct frequency, weighted by its accounts.
    """
    p = np.exp(logp)
    r, alpha, a, b = p
    xu, W = R.xu, R.W
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + xu)
    ll = (W @ (gammaln(r + xu) + gammaln(b + xu) - gammaln(a + b + xu))
          + R.total * (r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b)))
    d_r = W @ digamma(r + xu) + R.total * (np.log(alpha) - digamma(r))
    d_alpha = R.total * r / alpha
    d_a = W @ (psi_ab - psi_abx)
    d_b = W @ (psi_ab + digamma(b + xu) - digamma(b) - psi_abx)
    # Non-buyers: only the "active at T" branch.
    aT0 = alpha + R.T0
    u0 = R.w0 @ np.log(aT0)
    ll -= r * u0
    d_r -= u0
    d_alpha -= r * (R.w0 @ (1.0 / aT0))
    if len(R.x1):
        aT, atx = alpha + R.T1, alpha + R.t1
        u = np.log(aT)
        uv = u - np.log(atx)
        rx = r + R.x1
        D = np.repeat(np.log(a) - np.log(b + R.xu1 - 1.0), R.cnt1) + rx * uv
        e = np.exp(-np.abs(D))
        s = np.where(D > 0, 1.0, e) / (1.0 + e)
        w1 = R.w1
        ws = w1 * s
        wu = w1 @ u
        ll += w1 @ (np.maximum(D, 0.0) + np.log1p(e)) - (r * wu + R.wx1 @ u)
        d_r += ws @ uv - wu
        iT = 1.0 / aT
        d_alpha -= (r * w1 + R.wx1) @ (iT + s * (1.0 / atx - iT))
        per_x = np.add.reduceat(ws, R.start1)
        d_a += per_x.sum() / a
        d_b -= per_x @ (1.0 / (b + R.xu1 - 1.0))
    grad = np.array([d_r, d_alpha, d_a, d_b]) * p
    return -float(ll), -grad


def _fit_large(frequency, recency, T, starts, subsample: int = SUBSAMPLE):
    """Log parameters, minimum, Hessian, converged and distinct rows, for many accounts.

    The accounts are grouped into distinct histories by hashing (:func:`group_rows`), a
    systematic subsample of about ``subsample`` accounts is fitted from ``starts``, and from its
    optimum :func:`~kamlib.clv._mle.chord_newton` finishes on all rows with the subsample's
    Hessian scaled up, a few gradients in all; the Hessian at the result is computed once.
    Should that not converge, the full optimiser runs on all rows from there. The optimum is the
    same as the plain path's (the same likelihood, to the same 1e-9 in log parameters).
    """
    x, t_x, TT = (np.asarray(v, float) for v in (frequency, recency, T))
    check_rfm(x, t_x, TT)
    full = _Rows(*group_rows(x, t_x, TT))
    k = max(1, len(x) // subsample)
    sub = _Rows(*group_rows(x[::k], t_x[::k], TT[::k]))
    f_sub = lambda lp: _negll_grad_rows(lp, sub)  # noqa: E731
    lp0, _, _ = maximise(f_sub, starts, jac=True, polish=False)
    with _blas_single_thread():
        H0 = hessian(lambda v: f_sub(v)[1], lp0) * (full.total / sub.total)
    f = lambda lp: _negll_grad_rows(lp, full)  # noqa: E731
    logp, fun, H, ok = chord_newton(f, lp0, H0)
    if not ok:
        logp, fun, ok, H = maximise(f, [logp], jac=True, with_hessian=True)
    return logp, fun, H, ok, len(full.T0) + len(full.T1)


def _hyp_term(r, alpha, a, b, x, T, t):
    """((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t)), guarded.

    scipy's hyp2f1 can return inf/nan for large parameters near z = 1; there the Euler
    transformation (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z) is used instead.
    """
    # Parameters may be arrays (many parameter draws at once): broadcast everything first.
    r, alpha, a, b, x, T, t = np.broadcast_arrays(*(np.asarray(v, float)
                                                    for v in (r, alpha, a, b, x, T, t)))
    z = t / (alpha + T + t)
    log1mz = np.log1p(-z)
    with np.errstate(all="ignore"):
        direct = np.exp((r + x) * log1mz) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        bad = ~np.isfinite(direct)
        if np.any(bad):
            ab, bb, rb, xb = a[bad], b[bad], r[bad], x[bad]
            direct = np.array(direct, dtype=float)
            direct[bad] = np.exp((ab - 1) * log1mz[bad]) * hyp2f1(
                ab + bb - 1 - rb, ab - 1, ab + bb + xb - 1, z[bad])
    if not np.all(np.isfinite(direct)):
        warnings.warn("BG/NBD: the hypergeometric term failed for some accounts (set to NaN)",
                      RuntimeWarning, stacklevel=3)
    return direct


class BGNBD(FittedModel):
    """BG/NBD model of purchase counts and P(alive).

    Parameters
    ----------
    n_starts : int
        Number of starting values tried (the best likelihood wins).
    large : int
        More accounts than this (without ``weights``) take the large-data path of :meth:`fit`.

    Attributes
    ----------
    params_ : dict
        ``r, alpha, a, b`` (time in the unit of the data it was fitted on).
    log_likelihood_ : float
    cov_log_ : ndarray
        Covariance of the log parameters (inverse Hessian).
    n_ : int
        Number of accounts fitted.
    n_unique_ : int
        Number of distinct (frequency, recency, T) triples the likelihood was evaluated on.
    converged_ : bool
    """

    param_names = ("r", "alpha", "a", "b")

    def __init__(self, n_starts: int = 3, large: int = LARGE_FIT) -> None:
        self.n_starts = n_starts
        self.large = large

    def fit(self, frequency, recency, T, weights=None) -> "BGNBD":
        """Fit by maximum likelihood on log parameters.

        Up to ``large`` accounts (and always with ``weights``): on the distinct histories,
        L-BFGS-B polished by Newton steps. Beyond: the large-data path (:func:`_fit_large`),
        which reaches the same optimum with a few passes over the rows.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases, time of the last purchase since the first, and age.
        weights : array-like, optional
            Number of accounts with each row (for pre-compressed data).
        """
        if weights is None and np.size(frequency) > self.large:
            x = np.asarray(frequency, float)
            starts = self._starts(float(x.sum()) / max(float(np.sum(T)), 1e-9))
            logp, fun, H, ok, self.n_unique_ = _fit_large(frequency, recency, T, starts)
            self._store_fit(logp, fun, covariance_from_negll_hessian(H), len(x), ok)
            return self
        x, t_x, TT, w = fit_arrays(frequency, recency, T, weights)
        starts = self._starts(float(w @ x) / max(float(w @ TT), 1e-9))
        xu, xi = np.unique(x, return_inverse=True)
        f = lambda lp: _negll_and_grad(lp, x, t_x, TT, w, xu, xi)  # noqa: E731
        logp, fun, ok, H = maximise(f, starts, jac=True, with_hessian=True)
        self._store_fit(logp, fun, covariance_from_negll_hessian(H), int(w.sum()), ok)
        self.n_unique_ = int(len(x))
        return self

    def _starts(self, mean_rate: float) -> list[np.ndarray]:
        """Starts: a moderate-heterogeneity guess scaled to the data's purchase rate, and two
        variations of dropout; all in log space."""
        mean_rate = max(mean_rate, 1e-6)
        return [
            np.log([1.0, 1.0 / mean_rate, 1.0, 1.0]),
            np.log([0.5, 0.5 / mean_rate, 0.5, 3.0]),
            np.log([2.0, 2.0 / mean_rate, 2.0, 0.5]),
        ][: max(1, self.n_starts)]

    # -- predictions ---------------------------------------------------------------------------
    def p_alive(self, frequency, recency, T, params=None) -> np.ndarray:
        """Probability the account is still active at T, given its history."""
        r, alpha, a, b = self._p(params)
        x = np.asarray(frequency, float)
        t_x = np.asarray(recency, float)
        TT = np.asarray(T, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = (np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0))
                         + (r + x) * (np.log(alpha + TT) - np.log(alpha + t_x)))
        return np.where(x > 0, expit(-log_ratio), 1.0)

    def expected_purchases_if_alive(self, t, frequency, T, params=None) -> np.ndarray:
        """Expected purchases in (T, T + t] of an account known to be alive at T.

        Depends on (x, T) only, so callers can evaluate it once per distinct pair;
        :meth:`expected_purchases` multiplies it by :meth:`p_alive`.
        """
        r, alpha, a, b = self._p(params)
        x = np.asarray(frequency, float)
        TT = np.asarray(T, float)
        hyp = _hyp_term(r, alpha, a, b, x, TT, np.asarray(t, float))
        return (a + b + x - 1) / (a - 1) * (1.0 - hyp)

    def expected_purchases(self, t, frequency, recency, T, params=None) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history (FHL 2005, eq. 10)."""
        p = self._p(params)
        return (self.expected_purchases_if_alive(t, frequency, T, params=p)
                * self.p_alive(frequency, recency, T, params=p))

    @staticmethod
    def improved(params, retention_uplift: float = 0.0):
        """Parameters with the mean dropout probability a/(a+b) cut by ``retention_uplift``.

        ``a + b`` (the spread of dropout across accounts) is kept.
        """
        r, alpha, a, b = params
        u = float(retention_uplift)
        return (r, alpha, a * (1 - u), b + a * u)

    def expected_purchases_new(self, t, params=None) -> np.ndarray:
        """Expected repeat purchases in (0, t] for a new account (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._p(params)
        t = np.asarray(t, float)
        z = t / (alpha + t)
        with np.errstate(all="ignore"):
            h = np.exp(r * np.log1p(-z)) * hyp2f1(r, b, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1.0 - h)

