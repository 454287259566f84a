"""Health score: weighted components, parameters, bands, and what is not measured."""

import numpy as np
import pandas as pd
import pytest

from kamlib.errors import ParameterError
from kamlib.planning.health import HEALTH_WEIGHTS, band, health


def test_score_is_the_weighted_mean_of_measured_components(fitted):
    h = fitted.health.set_index("account_id")
    r = h.loc["F02"]
    comps = {k: r[f"h_{k}"] for k in HEALTH_WEIGHTS if not np.isnan(r[f"h_{k}"])}
    expect = sum(HEALTH_WEIGHTS[k] * v for k, v in comps.items()) / sum(HEALTH_WEIGHTS[k] for k in comps)
    assert r["score"] == pytest.approx(expect, abs=0.05)
    assert r["h_coverage"] == pytest.approx(100 / 6)
    assert r["not_measured"] == "plan_progress"  # nothing due yet at plan start
    assert r["weakest"] == "coverage"


def test_components_follow_their_rules(fitted):
    h = fitted.health.set_index("account_id")
    assert h.loc["F01", "h_revenue_trend"] == 50  # flat revenue
    assert h.loc["F03", "h_freshness"] == pytest.approx(100 * (3 + 2) / (5 + 3 + 2))  # power-weighted, decider stale
    assert h.loc["F04", "h_coverage"] == 0  # a contacts table exists, this account has none
    assert h.loc["F01", "band"] == "green" and h.loc["F03", "band"] == "red"


def test_weights_and_bands_are_parameters(fitted, world):
    features, *_ = world
    prof, rel = fitted.profile, fitted.relationship
    only_cov = health(prof, features, rel, weights={k: 0.0 for k in HEALTH_WEIGHTS} | {"coverage": 1.0})
    assert only_cov.set_index("account_id").loc["F02", "score"] == pytest.approx(100 / 6, abs=0.05)
    strict = health(prof, features, rel, bands=(80, 95)).set_index("account_id")
    assert strict.loc["F01", "band"] in {"red", "amber"}
    with pytest.raises(ParameterError, match="unknown component"):
        health(prof, features, rel, weights={"happiness": 1.0})
    with pytest.raises(ParameterError):
        health(prof, features, rel, bands=(70, 40))


def test_plan_progress_counts_done_actions_that_are_due(fitted, world):
    features, *_ = world
    a = fitted.actions.copy()
    f03 = a.index[a.account_id == "F03"]
    a.loc[f03[:2], "status"] = "done"
    later = fitted.start + pd.Timedelta(days=35)
    h = health(fitted.profile, features, fitted.relationship, a, later).set_index("account_id")
    due = a[(a.account_id == "F03") & (a.due_date <= later)]
    assert h.loc["F03", "h_plan_progress"] == pytest.approx(100 * 2 / len(due))


def test_without_a_contacts_table_relationship_is_not_measured(fitted, world):
    features, *_ = world
    h = health(fitted.profile, features, fitted.relationship, contacts_known=False)
    assert h["h_coverage"].isna().all()
    assert h["not_measured"].str.contains("coverage").all()


def test_band_edges():
    assert band([39.9, 40, 69.9, 70, np.nan]).tolist() == ["red", "amber", "amber", "green", "unknown"]


def test_margin_is_ranked_among_the_planned_accounts_by_default(fitted, world):
    features, *_ = world
    prof = fitted.profile.copy()
    prof.loc[prof.account_id == "F01", "margin_pct_12m"] = 0.1  # the worst of the plans
    h = health(prof, features, fitted.relationship).set_index("account_id")
    # 4 plans with a margin rate: F01 alone at the bottom -> mid-rank 0.5 of 4
    assert h.loc["F01", "h_margin"] == pytest.approx(100 * 0.5 / 4)
    h_all = health(prof, features, fitted.relationship, margin_peers="all").set_index("account_id")
    assert h_all.loc["F01", "h_margin"] == 0  # below every account of the base (all at 30%)
    assert h_all.loc["F02", "h_margin"] == 50  # ties with all of them: the middle
    with pytest.raises(ParameterError):
        health(prof, features, fitted.relationship, margin_peers="some")


def test_score_keeps_full_precision_and_the_band_follows_the_unrounded_score(fitted, world):
    features, *_ = world
    prof, rel = fitted.profile, fitted.relationship
    only_cov = health(prof, features, rel, weights={k: 0.0 for k in HEALTH_WEIGHTS} | {"coverage": 1.0})
    assert only_cov.set_index("account_id").loc["F02", "score"] == pytest.approx(100 / 6, abs=1e-12)
    # just below the red limit is red, though it would print as 40.0
    assert list(band(np.array([39.96, 40.0, 69.99, 70.0, np.nan]))) == [
        "red", "amber", "amber", "green", "unknown"]
    at_limit = health(prof, features, rel, weights={k: 0.0 for k in HEALTH_WEIGHTS} | {"coverage": 1.0},
                      bands=(16.68, 90.0)).set_index("account_id")
    assert at_limit.loc["F02", "band"] == "red"  # 16.667 < 16.68, though it would print as 16.7
