"""Discounted CLV per account, with an interval, from a purchase model and a value model.

CLV here is the discounted expected value (gross margin by default) of an account's purchases
over a horizon:

    CLV = E[value per occasion] x sum_k (1 + d)^-t_k x E[purchases in (t_{k-1}, t_k]]

The purchase increments come from the fitted BG/NBD or Pareto/NBD on a quarterly grid, each
discounted at its mid-point; ``d`` is the annual rate converted to the time unit. Both purchase
models factor as ``P(alive) x E[purchases | alive]`` with the second part depending on
(frequency, T) only, so it is computed once per distinct pair, and P(alive) once per distinct
(frequency, recency, T) triple — the reason a million accounts take seconds. Bootstrap draws
are evaluated together, as one broadcast array per block of draws.

Two intervals. ``clv_low``/``clv_high`` are predictive: what this one account may bring, from
simulations of its purchases, dropout and spend combined with the parameters' uncertainty
(:mod:`~kamlib.clv.predictive`). ``clv_param_low``/``clv_param_high`` reflect only how well the
model's parameters are known (the standard errors from the Hessian), i.e. the uncertainty of
the expectation: either a parametric bootstrap over the parameters' asymptotic normal
distribution (``n_bootstrap > 0``) or the delta method on the log scale (``n_bootstrap = 0``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.predictive import Predictive
from kamlib.clv.prep import compress, per_unit_discount, units_per_year


def discount_grid(horizon_years: float, discount_rate: float, time_unit: str,
                  steps_per_year: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Grid end points (in time units) and the discount factor of each step's mid-point."""
    n = max(1, int(np.ceil(horizon_years * steps_per_year)))
    horizon = horizon_years * units_per_year(time_unit)
    t = np.linspace(0.0, horizon, n + 1)
    d = per_unit_discount(discount_rate, time_unit)
    mid = (t[1:] + t[:-1]) / 2
    return t, (1.0 + d) ** -mid


def _pairs(x, T):
    """Distinct (x, T) pairs (rounded to 1e-9), sorted, and each row's pair: what
    ``np.unique(axis=0, return_inverse=True)`` gives, by a lexsort (many times faster)."""
    kx, kT = np.round(x, 9), np.round(T, 9)
    order = np.lexsort((kT, kx))
    new = np.ones(len(order), bool)
    new[1:] = (np.diff(kx[order]) != 0) | (np.diff(kT[order]) != 0)
    inv = np.empty(len(order), np.int64)
    inv[order] = np.cumsum(new) - 1
    first = order[new]
    return kx[first], kT[first], inv


MAX_BLOCK = 2_000_000
"""Largest draws x grid x (frequency, T) block evaluated at once (16 MB of float64)."""

MAX_PAIRS = 20_000
"""More distinct (frequency, T) pairs than this (ages not at day resolution): BG/NBD's
purchases of alive accounts are interpolated in the age (:class:`_AgeNodes`)."""

NODE_STEP = 1e-2
"""Spacing of :class:`_AgeNodes` in ``log(alpha + T)``: cubic interpolation is then within
1e-9 relative of the direct evaluation (tested), far inside any interval."""


class _AgeNodes:
    """Evaluation points for the purchases of alive accounts, and the way back to every pair.

    The expected purchases of an account known to be alive depend on its frequency and age
    smoothly, and cost a hypergeometric function each: with a million distinct ages that is the
    table's largest cost. For a frequency with more distinct ages than nodes, the function is
    evaluated on nodes spaced :data:`NODE_STEP` apart in ``log(scale + T)`` (``scale`` is the
    fitted ``alpha``) and each account's value is the 4-point Lagrange (cubic) interpolation
    between the nodes around it; every other pair is evaluated as it is.
    """

    def __init__(self, xu, Tu, scale: float, step: float = NODE_STEP):
        v = np.log(scale + Tu)
        start = np.flatnonzero(np.diff(xu, prepend=np.nan) != 0)  # xu is sorted
        end = np.append(start[1:], len(xu))
        vmin, vmax = np.minimum.reduceat(v, start), np.maximum.reduceat(v, start)
        k = np.floor((vmax - vmin) / step).astype(np.int64) + 4
        interp = (end - start) > k
        n_direct = int(np.sum((end - start)[~interp]))
        direct = np.repeat(~interp, end - start)
        node_off = n_direct + np.concatenate([[0], np.cumsum(k[interp])[:-1]])
        xs, ts = [xu[direct]], [Tu[direct]]
        idx = np.empty((len(xu), 4), np.int64)
        wts = np.zeros((len(xu), 4))
        idx[direct] = np.arange(n_direct)[:, None]
        wts[direct, 0] = 1.0
        for g, off in zip(np.flatnonzero(interp), node_off):
            v0 = vmin[g] - step
            nodes = v0 + step * np.arange(k[g])
            xs.append(np.full(k[g], xu[start[g]]))
            ts.append(np.exp(nodes) - scale)
            pos = (v[start[g]:end[g]] - v0) / step
            i = np.clip(np.floor(pos).astype(np.int64), 1, k[g] - 3)
            f = pos - i
            idx[start[g]:end[g]] = off + i[:, None] + np.arange(-1, 3)[None, :]
            wts[start[g]:end[g]] = np.column_stack([
                -f * (f - 1) * (f - 2) / 6, (f + 1) * (f - 1) * (f - 2) / 2,
                -(f + 1) * f * (f - 2) / 2, (f + 1) * f * (f - 1) / 6])
        self.x, self.T = np.concatenate(xs), np.concatenate(ts)
        self.idx, self.wts = idx, wts

    def back(self, vals: np.ndarray, pairs=None) -> np.ndarray:
        """Values at the evaluation points, ``(k, n_points)``, to every pair (or to the pairs
        ``pairs``), ``(k, n_pairs)``."""
        idx, wts = (self.idx, self.wts) if pairs is None else (self.idx[pairs], self.wts[pairs])
        return np.einsum("kpj,pj->kp", vals[:, idx], wts)


class _Purchases:
    """Discounted and undiscounted expected purchases, for one or many parameter vectors.

    Work is done once per distinct (frequency, recency, T) triple (P(alive)) and once per
    distinct (frequency, T) pair (purchases of an account known to be alive), and parameter
    draws are evaluated together as one broadcast array instead of one by one.
    """

    def __init__(self, model, x, t_x, T, grid, disc):
        self.model = model
        self.x3, self.tx3, self.T3, _, self.inv3 = compress(x, t_x, T)
        self.xu, self.Tu, self.pair_of_triple = _pairs(self.x3, self.T3)
        self.grid, self.disc = np.asarray(grid, float), np.asarray(disc, float)
        self.nodes = (_AgeNodes(self.xu, self.Tu, model.params_["alpha"])
                      if isinstance(model, BGNBD) and len(self.xu) > MAX_PAIRS else None)

    def alive_points(self, params: np.ndarray):
        """Expected purchases of alive accounts at the evaluation points: the distinct
        (frequency, T) pairs, or the age nodes and the pairs evaluated directly
        (:class:`_AgeNodes`). ``params`` is ``(k, n_params)``; returns discounted and
        undiscounted expectations over the horizon, each ``(k, n_points)``."""
        params = np.atleast_2d(np.asarray(params, float))
        xe, Te = (self.nodes.x, self.nodes.T) if self.nodes else (self.xu, self.Tu)
        k, n_grid = len(params), len(self.grid) - 1
        disc_out = np.empty((k, len(xe)))
        total_out = np.empty((k, len(xe)))
        chunk = max(1, MAX_BLOCK // max(1, n_grid * len(xe)))
        t = self.grid[1:][None, :, None]
        for lo in range(0, k, chunk):
            p = params[lo:lo + chunk]
            cols = tuple(p[:, j][:, None, None] for j in range(p.shape[1]))
            cum = self.model.expected_purchases_if_alive(
                t, xe[None, None, :], Te[None, None, :], params=cols)
            steps = np.diff(cum, axis=1, prepend=0.0)  # purchases within each grid step
            disc_out[lo:lo + chunk] = np.einsum("kgp,g->kp", steps, self.disc)
            total_out[lo:lo + chunk] = cum[:, -1, :]
        return disc_out, total_out

    def alive(self, params: np.ndarray):
        """Expected purchases of alive accounts per distinct (frequency, T) pair: discounted
        and undiscounted, each ``(k, n_pairs)`` for ``(k, n_params)`` parameters."""
        disc, total = self.alive_points(params)
        if self.nodes:
            return self.nodes.back(disc), self.nodes.back(total)
        return disc, total

    def discounted(self, disc_points: np.ndarray, params: np.ndarray, triples) -> np.ndarray:
        """Discounted purchases ``(k, len(triples))`` of the distinct triples ``triples`` under
        each of the ``k`` parameter vectors, from the discounted purchases of alive accounts
        at the evaluation points (:meth:`alive_points`): a block at a time, so that draws x
        histories never sits in memory at once."""
        j = self.pair_of_triple[triples]
        d = self.nodes.back(disc_points, j) if self.nodes else disc_points[:, j]
        x, t_x, T = self.x3[triples], self.tx3[triples], self.T3[triples]
        return d * np.stack([self.model.p_alive(x, t_x, T, params=tuple(p)) for p in params])

    def p_alive(self, params: np.ndarray) -> np.ndarray:
        """P(alive) per distinct triple, ``(k, n_triples)``."""
        params = np.atleast_2d(np.asarray(params, float))
        return np.stack([self.model.p_alive(self.x3, self.tx3, self.T3, params=tuple(p))
                         for p in params])

    def per_triple(self, params: np.ndarray, retention_uplift: float = 0.0):
        """(discounted purchases, purchases, P(alive)), each ``(k, n_triples)``."""
        params = np.atleast_2d(np.asarray(params, float))
        alive_params = (np.column_stack(self.model.improved(params.T, retention_uplift))
                        if retention_uplift else params)
        disc, total = self.alive(alive_params)
        pa = self.p_alive(params)
        j = self.pair_of_triple
        return disc[:, j] * pa, total[:, j] * pa, pa

    def __call__(self, params, retention_uplift: float = 0.0):
        """(discounted expected purchases, expected purchases, p_alive) per account."""
        d, n, pa = self.per_triple(params, retention_uplift)
        i = self.inv3
        return d[0, i], n[0, i], pa[0, i]


def _delta_sd_log(f, log_params, cov, h=1e-4):
    """Standard deviation of log f(params) by the delta method (central differences)."""
    if not np.all(np.isfinite(cov)):
        return None
    grads = []
    for i in range(len(log_params)):
        e = np.zeros(len(log_params))
        e[i] = h
        up = np.log(np.abs(f(np.exp(log_params + e))))
        dn = np.log(np.abs(f(np.exp(log_params - e))))
        grads.append((up - dn) / (2 * h))
    G = np.vstack(grads)  # k x n
    return np.sqrt(np.einsum("in,ij,jn->n", G, cov, G).clip(min=0))


def clv_frame(
    rfm: pd.DataFrame,
    purchase_model,
    value_model,
    time_unit: str,
    horizon_years: float = 3.0,
    discount_rate: float = 0.10,
    n_bootstrap: int = 200,
    level: float = 0.90,
    seed: int = 0,
    retention_uplift: float = 0.0,
    frequency_uplift: float = 0.0,
    steps_per_year: int = 4,
    n_simulations: int = 1000,
    drift: float = 0.0,
) -> pd.DataFrame:
    """CLV per account with an interval.

    Parameters
    ----------
    rfm : DataFrame
        From :func:`kamlib.clv.prep.rfm_summary` (``frequency, recency, T, monetary_value``).
    purchase_model : BGNBD or ParetoNBD
        Fitted on data in ``time_unit``.
    value_model : GammaGamma or None
        Fitted; None uses each account's observed average (population median without repeats).
    time_unit : str
    horizon_years : float
        How far ahead the CLV looks.
    discount_rate : float
        Annual rate, converted to the time unit.
    n_bootstrap : int
        Parameter draws for the interval; 0 = delta method.
    level : float
        Interval coverage (0.90 = 5 %..95 %).
    seed : int
    retention_uplift, frequency_uplift : float
        If non-zero, also compute ``clv_uplift``: CLV when a programme cuts dropout by
        ``retention_uplift`` and raises purchase frequency by ``frequency_uplift`` (shares).
    n_simulations : int
        Simulated futures per account for the predictive interval (0: none, the interval is
        the parameter-only one).
    drift : float
        Variance of the accounts' rate drift (:func:`~kamlib.clv.predictive.rate_drift`).
    steps_per_year : int
        Discounting grid. Each step's purchases are discounted at its mid-point, so the error
        comes only from the curvature of the discount factor within a step: with quarterly
        steps at 10 % a year the CLV is within 5e-4 (relative) of a daily grid, far inside the
        interval, at a third of the work of a monthly grid.

    Returns
    -------
    DataFrame
        Indexed like ``rfm``: ``expected_purchases`` (over the horizon), ``p_alive``,
        ``expected_value``, ``discounted_purchases``, ``clv``, ``clv_low``, ``clv_high`` (the
        predictive interval: what this account may really bring, see
        :mod:`~kamlib.clv.predictive`), ``clv_param_low``, ``clv_param_high`` (the interval of
        the expectation from the parameters' uncertainty only) and, with an uplift,
        ``clv_uplift``.
    """
    grid, disc = discount_grid(horizon_years, discount_rate, time_unit, steps_per_year)
    x = rfm["frequency"].to_numpy(float)
    m = rfm["monetary_value"].to_numpy(float)
    pur = _Purchases(purchase_model, x, rfm["recency"], rfm["T"], grid, disc)
    theta = tuple(purchase_model.params_[k] for k in purchase_model.param_names)
    det, exp_n, p_alive = pur(theta)
    if value_model is not None:
        ev = value_model.expected_value(x, m)
    else:
        pos = m[(x > 0) & (m > 0)]
        ev = np.where(x > 0, m, np.median(pos) if len(pos) else 0.0)
    clv = det * ev
    out = pd.DataFrame(
        {"expected_purchases": exp_n, "p_alive": p_alive, "expected_value": ev,
         "discounted_purchases": det, "clv": clv},
        index=rfm.index,
    )
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    if n_bootstrap and n_bootstrap > 0:
        draws = purchase_model.sample_params(n_bootstrap, seed=seed)
        disc_points = pur.alive_points(draws)[0]
        # Accounts (or histories) in blocks, so that draws x accounts never sits in memory.
        step = max(1, MAX_BLOCK // n_bootstrap)
        if value_model is not None and value_model.fallback_ is None:
            vdraws = value_model.sample_params(n_bootstrap, seed=seed + 1)
            lo, hi = np.empty(len(x)), np.empty(len(x))
            for s0 in range(0, len(x), step):
                blk = slice(s0, s0 + step)
                ev_draws = np.stack([value_model.expected_value(x[blk], m[blk], params=tuple(v))
                                     for v in vdraws])
                tri, back = np.unique(pur.inv3[blk], return_inverse=True)
                sims = pur.discounted(disc_points, draws, tri)[:, back.ravel()] * ev_draws
                lo[blk], hi[blk] = np.quantile(sims, [lo_q, hi_q], axis=0)
        else:
            # The value per occasion is fixed: quantiles per triple, then scaled per account
            # (a negative value, from net returns, swaps the ends).
            q_lo, q_hi = np.empty(len(pur.x3)), np.empty(len(pur.x3))
            for s0 in range(0, len(pur.x3), step):
                blk = slice(s0, s0 + step)
                q_lo[blk], q_hi[blk] = np.quantile(pur.discounted(disc_points, draws, blk),
                                                   [lo_q, hi_q], axis=0)
            a, b = q_lo[pur.inv3] * ev, q_hi[pur.inv3] * ev
            lo, hi = np.minimum(a, b), np.maximum(a, b)
        out["clv_param_low"] = lo
        out["clv_param_high"] = hi
    else:
        z = ndtri(hi_q)
        sd = _delta_sd_log(lambda p: pur(tuple(p))[0], purchase_model.log_params_,
                           purchase_model.cov_log_)
        sd = np.zeros(len(x)) if sd is None else sd
        if value_model is not None and value_model.fallback_ is None:
            sd_v = _delta_sd_log(lambda p: value_model.expected_value(x, m, params=tuple(p)),
                                 value_model.log_params_, value_model.cov_log_)
            if sd_v is not None:
                sd = np.sqrt(sd**2 + np.nan_to_num(sd_v) ** 2)
        a, b = clv * np.exp(-z * sd), clv * np.exp(z * sd)
        out["clv_param_low"], out["clv_param_high"] = np.minimum(a, b), np.maximum(a, b)
    if n_simulations > 0:
        out["clv_low"], out["clv_high"] = predictive_clv(
            rfm, purchase_model, value_model, ev, horizon_years * units_per_year(time_unit),
            np.log1p(per_unit_discount(discount_rate, time_unit)), n_simulations, level, seed,
            drift, n_cells=len(pur.x3))
    else:
        out["clv_low"], out["clv_high"] = out["clv_param_low"], out["clv_param_high"]
    if retention_uplift or frequency_uplift:
        det_u = pur(theta, retention_uplift=retention_uplift)[0] * (1.0 + frequency_uplift)
        out["clv_uplift"] = det_u * ev - clv
    return out[[c for c in CLV_FRAME_COLUMNS if c in out.columns]]


CLV_FRAME_COLUMNS = ["expected_purchases", "p_alive", "expected_value", "discounted_purchases",
                     "clv", "clv_low", "clv_high", "clv_param_low", "clv_param_high",
                     "clv_uplift"]
"""Columns of :func:`clv_frame`, in order."""

MAX_CELLS = 20_000
"""More distinct histories than this: the simulation groups recency and age to coarser times."""


def predictive_clv(rfm: pd.DataFrame, purchase_model, value_model, ev: np.ndarray,
                   horizon: float, log_rate: float, n_simulations: int, level: float,
                   seed: int, drift: float = 0.0, n_cells: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Predictive ``level`` interval of each account's discounted value over ``horizon`` time
    units (see :mod:`~kamlib.clv.predictive`), with parameter draws from both fits.

    Accounts the Gamma-Gamma model describes get its spend simulation; an account with a
    non-positive average value, or every account when Gamma-Gamma is not used, keeps its fixed
    expected value ``ev`` per purchase. Beyond :data:`MAX_CELLS` distinct histories, recency and
    age are grouped for the simulation, to whole time units and, if still too many, to 2, 4, ...
    (the point CLV stays exact).
    """
    x = rfm["frequency"].to_numpy(float)
    m = rfm["monetary_value"].to_numpy(float)
    t_x, T = rfm["recency"].to_numpy(float), rfm["T"].to_numpy(float)
    T0, t0, res = T, t_x, 1.0
    cells = n_cells if n_cells is not None else len(compress(x, t_x, T)[0])
    while cells > MAX_CELLS:
        T = np.round(T0 / res) * res
        t_x = np.minimum(np.round(t0 / res) * res, T)
        # On the grid, a history is three whole numbers: one integer key per account.
        span = int(np.round(T.max() / res)) + 1
        key = (x.astype(np.int64) * span + np.round(t_x / res).astype(np.int64)) * span \
            + np.round(T / res).astype(np.int64)
        cells = len(np.unique(key))
        res *= 2
    gg = value_model is not None and value_model.fallback_ is None
    vdraws = value_model.sample_params(n_simulations, seed=seed + 1) if gg else None
    sim = Predictive(purchase_model, purchase_model.sample_params(n_simulations, seed=seed),
                     x, t_x, T, horizon, log_rate=log_rate, vdraws=vdraws, level=level,
                     seed=seed + 2, drift=drift)
    a, b = sim.disc_low * ev, sim.disc_high * ev
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    if gg:
        own = (x > 0) & (m > 0)
        use = own | (x == 0)
        factor = value_model.params_["gamma"] + np.where(own, x * m, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            s_lo, s_hi = factor * sim.spend_low, factor * sim.spend_high
        use &= np.isfinite(s_lo) & np.isfinite(s_hi)
        lo = np.where(use, s_lo, lo)
        hi = np.where(use, s_hi, hi)
    return lo, hi


LOST_BELOW = 0.5
"""P(alive) below which an account counts as probably lost."""

PURCHASE_MODELS = ("BG/NBD", "Pareto/NBD")
"""How the ``clv`` table's ``model`` starts for an account valued by a purchase model (the
others are on annual contracts, or never bought)."""

LOST_POPULATION = "accounts of the purchase model"
"""What :func:`probably_lost` counts among (its denominator, named on every page)."""


def probably_lost(clv: pd.DataFrame) -> tuple[int, int]:
    """(accounts probably lost, accounts of the purchase model) from the ``clv`` table: the
    one count the CLV page's figure and text both state (with :data:`LOST_POPULATION`).
    Accounts on annual contracts have a P(alive) of another kind and are not counted."""
    d = clv[clv["model"].astype(str).str.startswith(PURCHASE_MODELS)]
    p = pd.to_numeric(d["p_alive"], errors="coerce").dropna()
    return int((p < LOST_BELOW).sum()), int(len(p))
