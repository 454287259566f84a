"""Predictive intervals: what one account may really buy, not only what the model expects.

The CLV's point value is an expectation. A single account's future is far more uncertain than
the model's parameters: it may drop out, buy more or less often than its history suggests, and
spend more or less per purchase. This module simulates that future, account by account, from
the fitted models themselves, and combines it with the uncertainty of the parameters (each
simulation uses its own parameter draw from the fit's asymptotic normal distribution).

One simulation of an account with history (x, t_x, T), for parameter draw k:

1. **Still active at T?** A Bernoulli draw with the model's P(alive) under draw k.
2. **Its own rates**, from their posterior given the history and being alive at T:
   BG/NBD: purchase rate lambda ~ Gamma(r + x, alpha + T), dropout p ~ Beta(a, b + x);
   Pareto/NBD: lambda ~ Gamma(r + x, alpha + T), lifetime rate mu ~ Gamma(s, beta + T).
3. **Its purchases** in the next ``H`` time units: BG/NBD draws M ~ Poisson(lambda H) arrivals
   and G ~ Geometric(p) purchases before it drops out, and buys N = min(M, G) times; Pareto/NBD
   draws the remaining lifetime tau ~ Exp(mu) and N ~ Poisson(lambda min(tau, H)).
4. **Discounting**: purchases of a Poisson process are uniform over the time the account is
   active, so the discounted count is N times the mean discount factor over that time (for a
   BG/NBD account that drops out, the time of its last purchase is drawn as a Beta order
   statistic). The expectation is exact; only the spread within one path is averaged.
5. **Spend**: Gamma-Gamma's nu ~ Gamma(q + p x, gamma + x m) given the account's average m,
   and N purchases are worth Gamma(p N, nu) together (discounted like the count).
6. **Drift**: the constant-rate models know nothing of accounts that grow or shrink; the rate
   is multiplied by a mean-1 Gamma factor whose variance :func:`rate_drift` measures on the
   history itself (a backtest), so the intervals carry that uncertainty too.

Everything is vectorised over accounts x simulations, in blocks so memory stays bounded, and
seeded: the same inputs and seed give the same intervals.
"""

from __future__ import annotations

import numpy as np

from kamlib.clv.bgnbd import BGNBD

BLOCK = 1_000_000
"""Largest accounts x simulations block drawn at once (a few arrays of 8 MB)."""


def mean_discount(active, log_rate: float) -> np.ndarray:
    """Mean of (1 + d)^-t over t uniform on [0, active], with ``log_rate = log(1 + d)``."""
    k = log_rate * np.asarray(active, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-k) / k
    return np.where(k > 1e-12, out, 1.0)


def _p_alive(model, x, t_x, T, draws) -> np.ndarray:
    """P(alive) per account (rows) and parameter draw (columns)."""
    if isinstance(model, BGNBD):  # elementwise in the parameters: one broadcast call
        cols = tuple(draws[:, j][None, :] for j in range(draws.shape[1]))
        return np.broadcast_to(model.p_alive(x[:, None], t_x[:, None], T[:, None], params=cols),
                               (len(x), len(draws)))
    return np.stack([model.p_alive(x, t_x, T, params=tuple(p)) for p in draws], axis=1)


def _drift(lam, drift, rng):
    """The rate times a Gamma(1/drift, drift) factor (mean 1, variance ``drift``)."""
    if drift <= 0:
        return lam
    return lam * rng.gamma(1.0 / drift, drift, lam.shape)


def _bgnbd_paths(draws, x, T, H, log_rate, rng, drift=0.0):
    r, alpha, a, b = (draws[:, j][None, :] for j in range(4))
    lam = _drift(rng.standard_gamma(r + x) / (alpha + T), drift, rng)
    M = rng.poisson(lam * H)
    H = np.broadcast_to(H, M.shape)
    n = np.zeros(M.shape, dtype=np.int64)
    disc = np.zeros(M.shape)
    buys = M > 0  # only these need a dropout draw
    Mb = M[buys]
    ab = np.broadcast_to(a, M.shape)[buys]
    bb = np.broadcast_to(b + x, M.shape)[buys]
    G = rng.geometric(np.clip(rng.beta(ab, bb), 1e-12, 1.0))
    nb = np.minimum(Mb, G)
    Hb = H[buys]
    db = nb * mean_discount(Hb, log_rate)
    dropped = G < Mb
    if log_rate > 0 and dropped.any():
        nd, md = nb[dropped], Mb[dropped]
        last = Hb[dropped] * rng.beta(nd, md - nd + 1)
        db[dropped] = np.exp(-log_rate * last) + (nd - 1) * mean_discount(last, log_rate)
    n[buys] = nb
    disc[buys] = db
    return n, disc


def _paretonbd_paths(draws, x, T, H, log_rate, rng, drift=0.0):
    r, alpha, s, beta = (draws[:, j][None, :] for j in range(4))
    lam = _drift(rng.gamma(r + x, 1.0) / (alpha + T), drift, rng)
    mu = rng.gamma(np.broadcast_to(s, lam.shape), 1.0) / (beta + T)
    active = np.minimum(rng.exponential(1.0, lam.shape) / mu, H)
    n = rng.poisson(lam * active)
    return n, n * mean_discount(active, log_rate)


def _spend_factor(vdraws, x, n, disc, rng):
    """Discounted value of ``n`` purchases divided by ``gamma + x m`` (Gamma-Gamma's posterior rate
    of nu), so that one simulation per cell serves every account in it."""
    p, q = vdraws[:, 0][None, :], vdraws[:, 1][None, :]
    nu = np.maximum(rng.standard_gamma(np.broadcast_to(q + p * x, n.shape)), 1e-300)
    total = rng.standard_gamma(np.maximum(p * n, 1e-300)) / nu
    return np.where(n > 0, total * disc / np.maximum(n, 1), 0.0)


def _cells(x, t_x, T, H):
    """Distinct (x, t_x, T, H) rows, sorted, and each account's row (hash-grouped: at a
    million accounts several times faster than ``np.unique(axis=0)``)."""
    import pandas as pd

    key = pd.DataFrame(np.round(np.column_stack([x, t_x, T, H]), 9))
    inv = key.groupby(list(key.columns), sort=True).ngroup().to_numpy()
    uniq = np.empty((inv.max() + 1 if len(inv) else 0, 4))
    uniq[inv] = key.to_numpy()
    return uniq, inv


class Predictive:
    """Central intervals of each account's simulated future (see the module docstring).

    Accounts with the same history (x, t_x, T) and horizon share one set of simulations (a
    "cell"); an account's spend enters as a factor, so its interval is its cell's scaled. The
    Gamma-Gamma scale ``gamma`` is kept at its estimate (its draws would tie the factor to the
    draw); ``p`` and ``q`` vary with the draws.

    Parameters
    ----------
    model : BGNBD or ParetoNBD
        The fitted purchase model.
    draws : ndarray
        ``(n_sims, n_params)`` parameter draws, one per simulation.
    x, t_x, T : array-like
        Each account's history.
    horizon : float or array-like
        Length of the future period in time units (one per account allowed).
    log_rate : float
        ``log(1 + d)`` for the per-unit discount rate ``d`` (0: no discounting).
    vdraws : ndarray, optional
        ``(n_sims, 3)`` Gamma-Gamma draws (p, q, gamma): also simulate spend.
    level : float
    seed : int
    block : int
        Cells x simulations per block.

    Attributes
    ----------
    count_low, count_high : ndarray
        Per account: the interval of the number of purchases (whole numbers; the smallest
        counts whose simulated distribution reaches each tail's probability).
    disc_low, disc_high : ndarray
        Per account: the interval of the discounted number of purchases.
    spend_low, spend_high : ndarray or None
        Per account: the interval of the discounted value divided by ``gamma + x m``.
    mean_count : ndarray
        Per account: the mean simulated number of purchases.
    """

    def __init__(self, model, draws, x, t_x, T, horizon, *, log_rate: float = 0.0,
                 vdraws=None, level: float = 0.90, seed: int = 0, block: int = BLOCK,
                 drift: float = 0.0):
        draws = np.atleast_2d(np.asarray(draws, float))
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        H = np.broadcast_to(np.asarray(horizon, float), x.shape)
        cells, inv = _cells(x, t_x, T, H)
        cx, ctx, cT, cH = (cells[:, j] for j in range(4))
        q = [(1 - level) / 2, 1 - (1 - level) / 2]
        out = {k: np.empty((2, len(cells))) for k in ("count", "disc", "spend")}
        mean = np.empty(len(cells))
        paths = _bgnbd_paths if isinstance(model, BGNBD) else _paretonbd_paths
        rng = np.random.default_rng(seed)
        step = max(1, block // len(draws))
        for lo in range(0, len(cells), step):
            sl = slice(lo, lo + step)
            xb = cx[sl, None]
            p_alive = _p_alive(model, cx[sl], ctx[sl], cT[sl], draws)
            alive = rng.random(p_alive.shape) < p_alive
            n, disc = paths(draws, xb, cT[sl, None], cH[sl, None], log_rate, rng, drift)
            n = np.where(alive, n, 0)
            disc = np.where(alive, disc, 0.0)
            out["count"][:, sl] = np.quantile(n, q, axis=1, method="inverted_cdf")
            out["disc"][:, sl] = np.quantile(disc, q, axis=1)
            mean[sl] = n.mean(axis=1)
            if vdraws is not None:
                spend = _spend_factor(np.atleast_2d(vdraws), xb, n, disc, rng)
                out["spend"][:, sl] = np.quantile(spend, q, axis=1)
        self.count_low, self.count_high = out["count"][:, inv]
        self.disc_low, self.disc_high = out["disc"][:, inv]
        self.spend_low, self.spend_high = (out["spend"][:, inv] if vdraws is not None
                                           else (None, None))
        self.mean_count = mean[inv]
        self.n_cells = len(cells)


def rate_drift(occasions, end, time_unit: str, window: float, min_purchases: int = 4) -> float:
    """How much accounts' purchase rates drift beyond the model's constant rate: the variance
    of a mean-1 factor on an account's rate in a future period of length ``window``.

    BG/NBD and Pareto/NBD give every account one purchase rate for life; business accounts
    grow, shrink and move part of their needs between suppliers, so their next period's count
    varies more than a Poisson count at their past average rate. This measures it on the history
    up to ``end``, as a backtest: for every account older than ``2 x window``, its repeat
    purchases before the last ``window`` give its average rate ``l``, and the count ``c`` in
    the last window is compared with ``l x window``. Under a constant rate,
    ``(c - l w)^2`` has mean ``l w (1 + w / (age - w))``; what is left over, over ``(l w)^2``,
    is the drift. Accounts with fewer than ``min_purchases`` earlier purchases are left out.
    Accounts that stopped buying in the last window stay in: the model's P(alive) covers part
    of that, so the drift errs on the wide side. 0 when nothing is left over or fewer than 10
    accounts qualify.
    """
    import pandas as pd

    from kamlib.clv.prep import unit_days

    end = pd.Timestamp(end)
    occ = occasions[["account_id", "date"]].drop_duplicates()
    occ = occ[pd.to_datetime(occ["date"]) <= end]
    days = unit_days(time_unit)
    first = pd.to_datetime(occ.groupby("account_id", observed=True)["date"].transform("min"))
    age = (end - first).dt.days / days
    since = (end - pd.to_datetime(occ["date"])).dt.days / days
    rep = pd.to_datetime(occ["date"]) > first
    g = pd.DataFrame({"id": occ["account_id"], "age": age, "early": rep & (since >= window),
                      "recent": rep & (since < window)})
    c = g.groupby("id", observed=True).agg(age=("age", "first"), early=("early", "sum"),
                                           recent=("recent", "sum"))
    c = c[(c["age"] >= 2 * window) & (c["early"] >= min_purchases)]
    if len(c) < 10:
        return 0.0
    expect = c["early"] / (c["age"] - window) * window
    poisson = expect * (1 + window / (c["age"] - window))
    excess = (((c["recent"] - expect) ** 2) - poisson).sum()
    return float(max(excess / (expect**2).sum(), 0.0))
