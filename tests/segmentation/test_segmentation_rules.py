import numpy as np
import pandas as pd
import pytest

from kamlib.errors import ParameterError
from kamlib.segmentation.rules import RuleSegmenter


def _grid():
    # value 1..10 x growth -0.4..0.5: every combination once
    v, g = np.meshgrid(np.arange(1, 11, dtype=float), np.linspace(-0.4, 0.5, 10))
    return pd.DataFrame({"value": v.ravel(), "growth": g.ravel()})


def test_median_quadrants_are_balanced_on_a_grid():
    m = _grid()
    names = RuleSegmenter().fit_predict(m)
    counts = pd.Series(names).value_counts()
    assert counts.to_dict() == {"Star": 25, "Developing": 25, "Core": 25, "Laggard": 25}
    hi_v = m["value"] > 5.5
    hi_g = m["growth"] > 0.05
    assert (names[hi_v & hi_g] == "Star").all()
    assert (names[~hi_v & hi_g] == "Developing").all()
    assert (names[hi_v & ~hi_g] == "Core").all()
    assert (names[~hi_v & ~hi_g] == "Laggard").all()


def test_raising_the_value_threshold_moves_only_the_accounts_in_between():
    m = _grid()
    low = RuleSegmenter("value", value_threshold=5, growth_threshold=0).fit_predict(m)
    high = RuleSegmenter("value", value_threshold=8, growth_threshold=0).fit_predict(m)
    moved = low != high
    between = (m["value"] > 5) & (m["value"] <= 8)
    assert (moved == between).all()
    # they move down the value axis only: Star -> Developing, Core -> Laggard
    pairs = set(zip(low[moved], high[moved]))
    assert pairs == {("Star", "Developing"), ("Core", "Laggard")}


def test_raising_the_growth_threshold_moves_stars_to_core():
    m = _grid()
    a = RuleSegmenter("value", value_threshold=5, growth_threshold=0.0).fit_predict(m)
    b = RuleSegmenter("value", value_threshold=5, growth_threshold=0.25).fit_predict(m)
    moved = a != b
    assert (moved == ((m["growth"] > 0) & (m["growth"] <= 0.25))).all()
    assert set(zip(a[moved], b[moved])) == {("Star", "Core"), ("Developing", "Laggard")}


def test_quantile_thresholds():
    m = _grid()
    r = RuleSegmenter("quantile", value_quantile=0.8, growth_quantile=0.2).fit(m)
    assert r.value_threshold_ == pytest.approx(np.quantile(m["value"], 0.8))
    names = r.predict(m)
    assert (names == "Star").sum() == 2 * 8  # values 9, 10 x the 8 growth levels above q20


def test_ties_fall_on_the_low_side():
    m = pd.DataFrame({"value": [1.0, 2.0, 3.0, 4.0], "growth": [0.1, 0.1, 0.1, 0.1]})
    names = RuleSegmenter().fit_predict(m)
    assert set(names) <= {"Core", "Laggard"}


@pytest.mark.parametrize("kw", [
    dict(threshold_method="mean"),
    dict(threshold_method="quantile", value_quantile=1.0),
    dict(threshold_method="value", value_threshold=None, growth_threshold=0.0),
])
def test_bad_parameters(kw):
    with pytest.raises(ParameterError):
        RuleSegmenter(**kw).fit(_grid())


from hypothesis import given, settings
from hypothesis import strategies as st

_RANK = {"Star": (1, 1), "Core": (1, 0), "Developing": (0, 1), "Laggard": (0, 0)}


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e7, allow_nan=False), min_size=1, max_size=40),
    t1=st.floats(-1e6, 1e7, allow_nan=False), dt=st.floats(0, 1e6, allow_nan=False),
)
def test_raising_a_threshold_never_moves_an_account_up(values, t1, dt):
    rng = np.random.default_rng(len(values))
    m = pd.DataFrame({"value": values, "growth": rng.uniform(-2, 2, len(values))})
    lo = RuleSegmenter("value", value_threshold=t1, growth_threshold=0.0).fit_predict(m)
    hi = RuleSegmenter("value", value_threshold=t1 + dt, growth_threshold=0.0).fit_predict(m)
    for a, b in zip(lo, hi):
        assert _RANK[b][0] <= _RANK[a][0]  # value side can only drop
        assert _RANK[b][1] == _RANK[a][1]  # growth side untouched
