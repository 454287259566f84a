"""Parameter recovery: simulate from known parameters (seeded), fit, get them back.

Tolerances are a few standard errors of each fit (the fitted 95 % interval must contain the true
value) plus a loose relative bound, so a biased likelihood fails while sampling noise passes.
"""

import numpy as np
import pytest

from kamlib.clv import simulate
from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.sbg import ShiftedBetaGeometric


def assert_recovered(model, truth, rel):
    s = model.summary()
    for k, v in truth.items():
        assert s.loc[k, "ci_low"] < v < s.loc[k, "ci_high"], (k, s.loc[k].to_dict(), v)
        assert abs(s.loc[k, "estimate"] / v - 1) < rel, (k, s.loc[k, "estimate"], v)


@pytest.mark.parametrize("seed", [1, 2])
def test_bgnbd_recovers_parameters(seed):
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    d = simulate.bgnbd(40_000, *truth.values(), T=np.linspace(26, 78, 53), seed=seed,
                       resolution=1 / 7)
    m = BGNBD().fit(d["frequency"], d["recency"], d["T"])
    assert_recovered(m, truth, rel=0.2)
    assert m.n_unique_ < len(d)  # daily resolution: triples are shared and compressed


def test_bgnbd_p_alive_is_calibrated_on_simulated_truth():
    """Among simulated accounts, the mean P(alive) of a group matches the share truly alive."""
    d = simulate.bgnbd(40_000, 0.5, 6.0, 0.8, 2.5, T=52.0, seed=3)
    m = BGNBD().fit(d["frequency"], d["recency"], d["T"])
    p = m.p_alive(d["frequency"], d["recency"], d["T"])
    bins = np.digitize(p, [0.2, 0.4, 0.6, 0.8, 0.999])
    for b in np.unique(bins):
        sel = bins == b
        if sel.sum() > 500:
            assert abs(p[sel].mean() - d["alive"][sel].mean()) < 0.03


def test_pareto_nbd_recovers_parameters():
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}
    d = simulate.paretonbd(15_000, *truth.values(), T=np.linspace(26, 78, 53), seed=1,
                           resolution=1 / 7)
    m = ParetoNBD().fit(d["frequency"], d["recency"], d["T"])
    assert_recovered(m, truth, rel=0.35)


def test_gamma_gamma_recovers_parameters():
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    x = np.random.default_rng(123).integers(1, 12, 8_000)
    m = simulate.gammagamma(x, *truth.values(), seed=5)
    g = GammaGamma().fit(x, m)
    assert_recovered(g, truth, rel=0.2)
    assert abs(g.assumption_check()["correlation"]) < 0.05  # simulated independent


def test_sbg_recovers_parameters():
    truth = {"alpha": 0.7, "beta": 3.0}
    d = simulate.sbg(20_000, *truth.values(), periods=8, seed=7)
    m = ShiftedBetaGeometric().fit(d["periods"], d["churned"])
    assert_recovered(m, truth, rel=0.15)
