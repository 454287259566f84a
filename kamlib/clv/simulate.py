"""Simulate purchase histories from known parameters: for recovery tests and benchmarks.

Each function draws account-level rates from the model's mixing distributions and returns the
RFM summary the models are fitted on, so a fit should recover the parameters it was given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _rng(seed):
    return np.random.default_rng(seed)


def _ages(n, T, rng):
    if np.ndim(T) == 0:
        return np.full(n, float(T))
    T = np.asarray(T, float)
    return T if len(T) == n else rng.choice(T, n)


def _rounded(t_x, T, resolution):
    """Round times to a grid (e.g. whole days) as real data are recorded."""
    if not resolution:
        return t_x, T
    T = np.floor(T / resolution + 1e-9) * resolution
    t_x = np.minimum(np.round(t_x / resolution) * resolution, T)
    return t_x, T


def bgnbd(n: int, r: float, alpha: float, a: float, b: float, T=52.0, seed=0,
          resolution: float | None = None) -> pd.DataFrame:
    """Accounts under BG/NBD: ``frequency, recency, T`` (and the true ``alive`` state at T).

    ``T`` is a scalar or an array of ages sampled from; ``resolution`` rounds times to a grid
    (1/7 for whole days when the unit is weeks).
    """
    rng = _rng(seed)
    T = _ages(n, T, rng)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_T = rng.poisson(lam * T)
    J = rng.geometric(np.clip(p, 1e-12, 1.0))  # repeat purchases made before dropping out
    x = np.minimum(n_T, J)
    pos = x > 0
    t_x = np.zeros(n)
    # Given n_T arrivals in (0, T], the x-th is T times the x-th of n_T uniform order statistics.
    t_x[pos] = T[pos] * rng.beta(x[pos], n_T[pos] - x[pos] + 1)
    t_x, T = _rounded(t_x, T, resolution)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": T,
                         "alive": J > n_T})


def paretonbd(n: int, r: float, alpha: float, s: float, beta: float, T=52.0, seed=0,
              resolution: float | None = None) -> pd.DataFrame:
    """Accounts under Pareto/NBD: ``frequency, recency, T`` and the true ``alive`` state."""
    rng = _rng(seed)
    T = _ages(n, T, rng)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    tau = rng.exponential(1.0 / mu)
    active = np.minimum(tau, T)
    x = rng.poisson(lam * active)
    t_x = np.where(x > 0, active * rng.random(n) ** (1.0 / np.maximum(x, 1)), 0.0)
    t_x, T = _rounded(t_x, T, resolution)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": T,
                         "alive": tau > T})


def gammagamma(frequency, p: float, q: float, gamma: float, seed=0) -> np.ndarray:
    """Average value of each account's ``frequency`` occasions (NaN where frequency is 0)."""
    rng = _rng(seed)
    x = np.asarray(frequency, float)
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    out = np.full(len(x), np.nan)
    pos = x > 0
    # The mean of x Gamma(p, nu) draws is Gamma(p x, rate nu x).
    out[pos] = rng.gamma(p * x[pos], 1.0 / (nu[pos] * x[pos]))
    return out


def sbg(n: int, alpha: float, beta: float, periods: int, seed=0) -> pd.DataFrame:
    """Contract accounts under sBG observed for ``periods``: ``periods, churned``."""
    rng = _rng(seed)
    theta = rng.beta(alpha, beta, n)
    life = rng.geometric(np.clip(theta, 1e-12, 1.0))  # period in which the account churns
    churned = life <= periods
    return pd.DataFrame({"periods": np.minimum(life, periods).astype(float), "churned": churned})
