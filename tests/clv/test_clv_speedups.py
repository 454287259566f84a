"""The fast paths give the same answers as the plain ones: vectorised bootstrap draws, the
quarterly discount grid, the Newton polish of the optimiser, the calibration buckets."""

import numpy as np
import pandas as pd
import pytest

from kamlib.clv import simulate
from kamlib.clv._mle import hessian, maximise
from kamlib.clv.bgnbd import BGNBD, _negll_and_grad
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.holdout import calibration_by_frequency
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.prep import compress
from kamlib.clv.value import _Purchases, clv_frame, discount_grid


@pytest.fixture(scope="module")
def sim():
    d = simulate.bgnbd(2000, 0.5, 6.0, 0.8, 2.5, T=np.linspace(20, 60, 41), seed=5,
                       resolution=1 / 7)
    d["monetary_value"] = np.nan_to_num(simulate.gammagamma(d["frequency"], 6, 4, 15, seed=6))
    return d


@pytest.mark.parametrize("Model", [BGNBD, ParetoNBD])
def test_draws_evaluated_together_equal_draws_one_by_one(sim, Model):
    m = Model().fit(sim["frequency"], sim["recency"], sim["T"])
    grid, disc = discount_grid(3.0, 0.1, "week", 4)
    pur = _Purchases(m, sim["frequency"], sim["recency"], sim["T"], grid, disc)
    draws = m.sample_params(7, seed=3)
    together = pur.per_triple(draws)[0][:, pur.inv3]
    for i, p in enumerate(draws):
        # One draw, the way a user would compute it: increments between grid points, discounted.
        cum = np.stack([m.expected_purchases(t, sim["frequency"], sim["recency"], sim["T"],
                                             params=tuple(p)) for t in grid[1:]])
        one = (np.diff(cum, axis=0, prepend=0.0) * disc[:, None]).sum(axis=0)
        np.testing.assert_allclose(together[i], one, rtol=1e-10)


def test_quarterly_grid_is_as_good_as_a_fine_one(sim):
    m = BGNBD().fit(sim["frequency"], sim["recency"], sim["T"])
    g = GammaGamma().fit(sim["frequency"], sim["monetary_value"])
    fast = clv_frame(sim, m, g, "week", 3.0, 0.10, n_bootstrap=0)
    fine = clv_frame(sim, m, g, "week", 3.0, 0.10, n_bootstrap=0, steps_per_year=365)
    np.testing.assert_allclose(fast["clv"], fine["clv"], rtol=5e-4)
    assert not np.allclose(fast["clv"], fine["clv"], rtol=1e-9, atol=0)  # really a coarser grid


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible(sim):
    m = BGNBD().fit(sim["frequency"], sim["recency"], sim["T"])
    g = GammaGamma().fit(sim["frequency"], sim["monetary_value"])
    a = clv_frame(sim, m, g, "week", 3.0, 0.10, n_bootstrap=100, seed=4)
    b = clv_frame(sim, m, g, "week", 3.0, 0.10, n_bootstrap=100, seed=4)
    pd.testing.assert_frame_equal(a, b)
    pos = a["clv"] > 0
    assert (a.loc[pos, "clv_param_low"] <= a.loc[pos, "clv"] * 1.0001).all()
    assert (a.loc[pos, "clv"] <= a.loc[pos, "clv_param_high"] * 1.0001).all()
    # Without a value model the interval is that of the purchases times the observed value.
    c = clv_frame(sim, m, None, "week", 3.0, 0.10, n_bootstrap=100, seed=4)
    assert (c["clv_param_low"] <= c["clv_param_high"]).all()


def test_newton_polish_reaches_a_zero_gradient(sim):
    x, t_x, T, w, _ = compress(sim["frequency"], sim["recency"], sim["T"])
    f = lambda lp: _negll_and_grad(lp, x, t_x, T, w)  # noqa: E731
    start = [np.log([1.0, 10.0, 1.0, 1.0])]
    rough, fun_rough, _ = maximise(f, start, jac=True, polish=False)
    fine, fun_fine, ok = maximise(f, start, jac=True)
    assert ok and fun_fine <= fun_rough + 1e-9

    def newton_step(lp):  # distance to the optimum, in log parameters (relative precision)
        return np.abs(np.linalg.solve(hessian(lambda v: f(v)[1], lp), f(lp)[1])).max()

    assert newton_step(fine) < 1e-8
    assert newton_step(fine) <= newton_step(rough)


def test_calibration_buckets_adapt_to_weekly_buyers():
    rng = np.random.default_rng(0)
    consumer = pd.DataFrame({"frequency": rng.poisson(1.5, 500)})
    consumer["predicted"] = consumer["actual"] = consumer["frequency"] * 0.5
    c = calibration_by_frequency(consumer)
    assert list(c["bucket"].astype(str))[:3] == ["0", "1", "2"]
    business = pd.DataFrame({"frequency": rng.integers(5, 400, 800)})
    business["predicted"] = business["actual"] = business["frequency"] * 0.3
    b = calibration_by_frequency(business, groups=8)
    assert len(b) == 8 and b["accounts"].sum() == 800
    assert b["accounts"].min() > 800 / 8 * 0.7  # about equally many accounts per group
    lo_hi = [tuple(map(int, s.split("-"))) for s in b["bucket"].astype(str)]
    assert all(hi + 1 == nxt for (_, hi), (nxt, _) in zip(lo_hi, lo_hi[1:]))  # no gaps
    assert lo_hi[0][0] == 5 and lo_hi[-1][1] == business["frequency"].max()


def test_pareto_hypergeometric_near_one_matches_the_exact_series():
    """Bootstrap draws of Pareto/NBD reach z = 1 - 1e-7, where scipy gives NaN and the plain
    series needs millions of terms; the transformation to 1 - z must give the series' value."""
    from kamlib.clv.paretonbd import _log_hyp1, _log_hyp1_near_one, _log_hyp1_series

    rng = np.random.default_rng(3)
    b = np.exp(rng.uniform(0, np.log(300), 60))
    m = np.r_[rng.uniform(0.05, 4, 30), rng.uniform(4, 60, 30)]
    z = 1 - np.exp(rng.uniform(np.log(2e-4), np.log(5e-3), 60))
    near = _log_hyp1_near_one(b, b + m, z)
    ok = np.isfinite(near)
    assert ok.mean() > 0.5
    exact = _log_hyp1_series(b[ok], (b + m)[ok], z[ok], 1_000_000)
    np.testing.assert_allclose(near[ok], exact, rtol=0, atol=1e-9)
    # Near-integer m (the two terms cancel) is left to the exact series.
    assert np.isnan(_log_hyp1_near_one(np.array([50.0]), np.array([52.0]), np.array([0.9999])))[0]
    # And the public function is finite where scipy alone gives NaN.
    assert np.isfinite(_log_hyp1(np.array([28556.7]), np.array([28670.6]), np.array([0.99999993])))[0]


@pytest.mark.parametrize("params, sim", [
    ((0.55, 10.6, 0.61, 11.7), dict(r=0.55, alpha=10.6, s=0.61, beta=11.7, T=39.0)),
    ((2.0, 0.5, 0.3, 100.0), dict(r=2.0, alpha=0.5, s=0.3, beta=100.0, T=np.arange(50, 300))),
])
def test_pareto_nbd_fitting_likelihood_and_gradient_are_exact(params, sim):
    """The integral form fitted with quadrature equals the 2F1 form to rounding, also for
    frequent buyers (whose integrand falls steeply), and its gradient is the derivative."""
    from kamlib.clv._mle import numeric_grad
    from kamlib.clv.paretonbd import loglik, negll_and_grad

    d = simulate.paretonbd(3000, **sim, seed=2, resolution=1 / 7)
    x, t_x, T, w, _ = compress(d["frequency"], d["recency"], d["T"])
    lp = np.log(params) + 0.1
    f, g = negll_and_grad(lp, x, t_x, T, w)
    exact = lambda v: -float(w @ loglik(np.exp(v), x, t_x, T))  # noqa: E731
    assert f == pytest.approx(exact(lp), rel=1e-10)
    np.testing.assert_allclose(g, numeric_grad(exact, lp, h=1e-6), rtol=1e-5, atol=1e-4)


def _continuous(n, seed):
    """BG/NBD accounts with ages not at day resolution, a few of them sharing an age and a
    history (as copies of an account would)."""
    rng = np.random.default_rng(seed)
    d = simulate.bgnbd(n, 0.5, 6.0, 0.8, 2.5, T=rng.uniform(20, 60, n), seed=seed)
    return pd.concat([d, d.iloc[:50], d.iloc[:10].assign(recency=0.0, frequency=0.0)],
                     ignore_index=True)


@pytest.mark.parametrize("data", ["day", "continuous"])
def test_hash_grouping_finds_the_same_histories_as_compress(sim, data):
    from kamlib.clv.prep import group_rows

    d = sim if data == "day" else _continuous(3000, 1)
    cols = (d["frequency"], d["recency"], d["T"])
    g = group_rows(*cols)
    order = np.lexsort([np.round(v, 9) for v in g[:3]][::-1])
    for got, want in zip(g, compress(*cols)[:4]):
        np.testing.assert_array_equal(got[order], want)


@pytest.mark.parametrize("data", ["day", "continuous"])
def test_row_layout_likelihood_and_gradient_equal_the_plain_ones(sim, data):
    from kamlib.clv.bgnbd import _negll_grad_rows, _Rows

    d = sim if data == "day" else _continuous(3000, 2)
    x, t_x, T, w, _ = compress(d["frequency"], d["recency"], d["T"])
    for lp in (np.log([0.5, 6.0, 0.8, 2.5]), np.log([2.0, 0.3, 5.0, 40.0]),
               np.log([0.05, 80.0, 0.1, 0.2])):
        f, g = _negll_and_grad(lp, x, t_x, T, w)
        for rows in ((x, t_x, T, w), (x[x > 0], t_x[x > 0], T[x > 0], w[x > 0])):
            if len(rows[0]) < len(x):
                f, g = _negll_and_grad(lp, *rows)
            f2, g2 = _negll_grad_rows(lp, _Rows(*rows))
            assert f2 == pytest.approx(f, rel=1e-12)
            np.testing.assert_allclose(g2, g, rtol=1e-9, atol=1e-9 * np.abs(g).max())


@pytest.mark.parametrize("data", ["day", "continuous"])
def test_large_data_path_reaches_the_plain_optimum(sim, data):
    from kamlib.clv.bgnbd import loglik

    d = simulate.bgnbd(40_000, 0.5, 6.0, 0.8, 2.5, T=np.linspace(20, 60, 41), seed=9,
                       resolution=1 / 7) if data == "day" else _continuous(40_000, 3)
    cols = (d["frequency"], d["recency"], d["T"])
    plain = BGNBD().fit(*cols)
    large = BGNBD(large=1000).fit(*cols)
    assert large.converged_ and large.n_ == plain.n_ == len(d)
    assert large.n_unique_ == plain.n_unique_
    np.testing.assert_allclose(large.log_params_, plain.log_params_, rtol=0, atol=1e-8)
    ll = [float(loglik(tuple(m.params_.values()), *cols).sum()) for m in (plain, large)]
    assert ll[1] == pytest.approx(ll[0], rel=1e-12)
    assert large.log_likelihood_ == pytest.approx(ll[1], rel=1e-12)
    np.testing.assert_allclose(large.cov_log_, plain.cov_log_, rtol=1e-5)


def test_chord_newton_falls_back_when_its_hessian_is_useless(sim):
    from kamlib.clv._mle import chord_newton

    x, t_x, T, w, _ = compress(sim["frequency"], sim["recency"], sim["T"])
    f = lambda lp: _negll_and_grad(lp, x, t_x, T, w)  # noqa: E731
    best, fun, _ = maximise(f, [np.log([1.0, 10.0, 1.0, 1.0])], jac=True)
    near = best + 0.05
    lp, f_lp, H, ok = chord_newton(f, near, hessian(lambda v: f(v)[1], near))
    assert ok and np.abs(lp - best).max() < 1e-7 and f_lp <= fun + 1e-9
    np.testing.assert_allclose(H, hessian(lambda v: f(v)[1], lp))
    # A Hessian of the wrong sign never moves uphill and says it did not converge.
    lp, f_lp, _, ok = chord_newton(f, near, -np.eye(4))
    assert not ok and f_lp <= f(near)[0]


@pytest.mark.parametrize("unit_scale", [1.0, 7.0])
def test_purchases_interpolated_in_age_equal_the_direct_ones(unit_scale):
    """Beyond MAX_PAIRS distinct (frequency, age) pairs the purchases of alive accounts are
    interpolated between age nodes: within 1e-9 of the direct evaluation, for the fitted
    parameters and for draws, for frequent buyers and for ages near zero, in weeks and days."""
    from kamlib.clv import value

    rng = np.random.default_rng(4)
    d = simulate.bgnbd(30_000, 0.9, 3.0, 0.6, 4.0, T=rng.uniform(0, 90, 30_000), seed=4)
    d[["recency", "T"]] *= unit_scale
    m = BGNBD().fit(d["frequency"], d["recency"], d["T"])
    grid, disc = discount_grid(3.0, 0.1, "week" if unit_scale == 1 else "day", 4)
    pur = _Purchases(m, d["frequency"], d["recency"], d["T"], grid, disc)
    assert pur.nodes is not None and len(pur.nodes.x) < len(pur.xu) / 3
    draws = np.vstack([[m.params_[k] for k in m.param_names], m.sample_params(4, seed=1)])
    fast = pur.alive(draws)
    pur.nodes = None
    direct = pur.alive(draws)
    for f, g in zip(fast, direct):
        np.testing.assert_allclose(f, g, rtol=1e-9, atol=0)
    assert value.MAX_PAIRS < 30_000


def test_gamma_gamma_fit_sums_the_published_density():
    from kamlib.clv.gammagamma import _negll_grad, _Values, loglik
    from kamlib.clv._mle import numeric_grad

    rng = np.random.default_rng(5)
    x = rng.integers(1, 30, 400).astype(float)
    m = rng.gamma(3.0, 10.0, 400)
    v = _Values(np.sort(x), m[np.argsort(x, kind="stable")], np.ones(400))
    lp = np.log([4.0, 3.0, 12.0])
    f, g = _negll_grad(lp, v)
    exact = lambda p: -float(v.w @ loglik(np.exp(p), v.x, v.m))  # noqa: E731
    assert f == exact(lp)  # the same expression per row: equal to the last bit
    np.testing.assert_allclose(g, numeric_grad(exact, lp, h=1e-6), rtol=1e-6)


def test_bootstrap_in_blocks_equals_all_draws_at_once(sim, monkeypatch):
    """The bootstrap interval is computed a block of accounts at a time: the same numbers as
    with every draw and account in one array."""
    from kamlib.clv import value

    m = BGNBD().fit(sim["frequency"], sim["recency"], sim["T"])
    g = GammaGamma().fit(sim["frequency"], sim["monetary_value"])
    whole = [clv_frame(sim, m, vm, "week", 3.0, 0.10, n_bootstrap=40, n_simulations=0)
             for vm in (g, None)]
    monkeypatch.setattr(value, "MAX_BLOCK", 40 * 7)  # blocks of 7 accounts
    blocks = [clv_frame(sim, m, vm, "week", 3.0, 0.10, n_bootstrap=40, n_simulations=0)
              for vm in (g, None)]
    for a, b in zip(whole, blocks):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    # And each block's discounted purchases are those of all triples together.
    grid, disc = discount_grid(3.0, 0.1, "week", 4)
    pur = _Purchases(m, sim["frequency"], sim["recency"], sim["T"], grid, disc)
    draws = m.sample_params(5, seed=2)
    together = pur.per_triple(draws)[0]
    part = pur.discounted(pur.alive_points(draws)[0], draws, np.arange(3, 40))
    np.testing.assert_array_equal(part, together[:, 3:40])
