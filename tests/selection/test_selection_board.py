"""A list a board would sign (issue 19): size that counts, loss impact, overrides, big but not key."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import selection_testdata as td  # noqa: E402

from kamlib import selection  # noqa: E402
from kamlib.errors import ParameterError  # noqa: E402
from kamlib.figures import selection as figs  # noqa: E402
from kamlib.selection import loss  # noqa: E402
from kamlib.selection.criteria import CATALOGUE, criterion_matrix, log_floor  # noqa: E402


@pytest.fixture(scope="module")
def data():
    f = td.features(150, seed=3)
    return f, td.assessments(f), td.judgements()


# -- scaling that respects size ------------------------------------------------------------

@pytest.mark.parametrize("key,column", [("billing", "revenue_12m"), ("size", "employees"),
                                        ("purchase_volume", "quantity_12m")])
def test_the_largest_account_gets_the_highest_score_and_order_is_kept(data, key, column):
    f, _, _ = data
    res = selection.run(f, None, None, criteria=[key, "growth"], weights="equal", n_draws=50)
    sc = res.scaling[res.scaling["criterion"] == key].set_index("account_id")
    value = f.set_index("account_id")[column].reindex(sc.index)
    assert sc["score"].idxmax() == value.idxmax() and sc["score"].max() == pytest.approx(1.0)
    # order kept: a larger value never scores lower
    ordered = sc.assign(v=value).sort_values("v")
    assert ordered["score"].is_monotonic_increasing


def test_size_counts_the_largest_is_well_ahead_of_the_median_account(data):
    """On log(1 + x) from zero the #1 and the median account scored a few hundredths apart."""
    f, _, _ = data
    res = selection.run(f, None, None, criteria=["billing", "growth"], weights="equal",
                        n_draws=50)
    billing = res.scaling.query("criterion == 'billing'")["score"]
    assert billing.max() - billing.median() > 0.4


def test_log_floor_keeps_ratios_and_zeroes_the_low_end():
    col = pd.Series([0.0, 10.0, 20.0, 40.0, 80.0, 160.0])
    out = log_floor(col)
    floor = col[col > 0].quantile(0.25)
    assert out.iloc[0] == 0 and out.iloc[1] == 0  # zero and below the floor
    np.testing.assert_allclose(out.iloc[-1] - out.iloc[-2], np.log(2))  # ratio shows
    assert out.iloc[-1] == pytest.approx(np.log(160 / floor))


def test_scaling_figure_has_a_panel_per_scaled_criterion(data):
    f, a, j = data
    res = selection.run(f, a, j, n_draws=50)
    fig = figs.scaling_chart(res.scaling, res.key_flags())
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[:2] == ["Billing", "Loss impact"]
    key_points = fig.axes[0].collections[1].get_offsets()
    assert len(key_points) == int(res.selection_scores["is_key"].sum())


# -- loss impact -----------------------------------------------------------------------------

def _two_giants(n_lookalikes: int = 12) -> pd.DataFrame:
    """Two equally large accounts: A is alone in its industry and buys nearly all its wallet
    from us; B has many look-alikes in its industry and buys a small share of its wallet."""
    rows = [
        dict(account_id="A", industry="Rare", revenue_12m=1e6, margin_12m=2e5, wallet=1.1e6),
        dict(account_id="B", industry="Common", revenue_12m=1e6, margin_12m=2e5, wallet=8e6),
    ]
    rng = np.random.default_rng(0)
    for i in range(n_lookalikes):
        rows.append(dict(account_id=f"L{i}", industry="Common",
                         revenue_12m=float(rng.uniform(6e5, 1.6e6)), margin_12m=1e5,
                         wallet=3e6))
    for i in range(30):
        rows.append(dict(account_id=f"S{i}", industry="Small", revenue_12m=5e4, margin_12m=1e4,
                         wallet=2e5))
    f = pd.DataFrame(rows)
    total = f["revenue_12m"].sum()
    return f.assign(share_of_sales_12m=f["revenue_12m"] / total, growth_12m=0.0,
                    growth_prev_12m=0.0, recency_days=10.0, tenure_days=2000.0,
                    n_orders=100)


def test_a_large_dependent_account_ranks_above_an_equally_large_replaceable_one():
    f = _two_giants()
    t = loss.loss_table(f.set_index("account_id")).table
    assert t.loc["A", "loss_lookalikes"] == 0 and t.loc["B", "loss_lookalikes"] >= 10
    assert t.loc["A", "loss_impact"] > t.loc["B", "loss_impact"]
    values, _ = criterion_matrix(f, None, [CATALOGUE["loss_impact"]])
    assert values["loss_impact"].rank(ascending=False)["A"] == 1


def test_the_chance_of_leaving_follows_the_churn_signals():
    f = _two_giants(2).set_index("account_id")
    f.loc["S0", "recency_days"] = 4 * 20 * 4  # four times its usual gap (tenure / orders = 20)
    f.loc["S1", "growth_12m"] = -1.0           # lost most of its revenue this year
    f.loc["S2", "revenue_12m"] = 0.0           # gone already
    p = loss.p_leave(f)
    assert p["S0"] == pytest.approx(1.0) and p["S2"] == 1.0
    assert p["S1"] == pytest.approx(1.0)
    assert p["A"] == pytest.approx(loss.BASE_RATE)
    f.loc["S3", "growth_12m"] = -0.4
    assert loss.BASE_RATE < loss.p_leave(f)["S3"] < 1


def test_more_margin_at_risk_means_more_loss_impact():
    f = _two_giants(2).set_index("account_id")
    base = loss.loss_table(f).table.loc["A", "loss_impact"]
    f.loc["A", "growth_12m"] = -0.5
    assert loss.loss_table(f).table.loc["A", "loss_impact"] > base


def test_loss_impact_has_its_own_why_key_column(data):
    f, a, j = data
    res = selection.run(f, a, j, n_draws=50)
    why = res.why_key()
    assert list(why.columns) == ["account_id", "name", "rank", "main_drivers", "why_loss",
                                 "override_reason"]
    assert why["why_loss"].str.contains("of our margin").all()
    assert "loss_impact" in set(res.criteria["criterion"])
    assert any("margin_12m" in n for n in res.notes)  # the test data has no margins: said so


# -- overrides -------------------------------------------------------------------------------

def test_include_a_low_ranked_account_and_exclude_the_top_one(data):
    f, a, j = data
    base = selection.run(f, a, j, n_key_accounts=10, n_draws=100)
    s = base.selection_scores
    top, low = s["account_id"].iloc[0], s["account_id"].iloc[-1]
    res = selection.run(f, a, j, n_key_accounts=10, n_draws=100,
                        include={low: "reference customer in the new market"},
                        exclude={top: "being exited by 2027"})
    keys = set(res.key_accounts["account_id"])
    assert low in keys and top not in keys and len(keys) == 10  # capacity unchanged
    # the inclusion took the place the exclusion freed: nobody else moved
    criteria_key = list(s.loc[s["is_key"], "account_id"])
    assert keys == {low} | set(criteria_key[1:])
    o = res.overrides.set_index("account_id")
    assert list(o["override"]) == ["include", "exclude"]
    assert o.loc[low, "reason"] == "reference customer in the new market"
    assert o.loc[low, "criteria_alone"] == f"rank {len(f)} of {len(f)}: not key on the criteria alone"
    assert o.loc[top, "criteria_alone"] == f"rank 1 of {len(f)}: key on the criteria alone"
    sc = res.selection_scores.set_index("account_id")
    assert sc.loc[low, "tier"] == "key" and sc.loc[top, "tier"] != "key"
    assert sc.loc[top, "why_not_key"] == "excluded by management: being exited by 2027"
    assert bool(sc.loc[top, "key_by_criteria"]) and not bool(sc.loc[low, "key_by_criteria"])
    assert res.key_accounts.set_index("account_id").loc[low, "override_reason"] == (
        "reference customer in the new market")
    assert "included 1 and excluded 1" in res.headline()


def test_an_inclusion_alone_pushes_the_last_key_account_off(data):
    f, a, j = data
    base = selection.run(f, a, j, n_key_accounts=10, n_draws=100).selection_scores
    low, last = base["account_id"].iloc[-1], base["account_id"].iloc[9]
    res = selection.run(f, a, j, n_key_accounts=10, n_draws=100, include={low: "board"})
    assert len(res.key_accounts) == 10 and last not in set(res.key_accounts["account_id"])
    o = res.overrides.set_index("account_id")
    assert o.loc[last, "override"] == "made room" and not o.loc[last, "is_key"]
    sc = res.selection_scores.set_index("account_id")
    assert "left the list to make room" in sc.loc[last, "why_not_key"]
    assert sc.loc[last, "tier"] == "key-development"


def test_unknown_override_id_is_a_clear_error(data):
    f, a, j = data
    with pytest.raises(ParameterError, match=r"selection\.include.*A9999.*Fix"):
        selection.run(f, a, j, n_draws=50, include={"A9999": "why not"})
    with pytest.raises(ParameterError, match=r"A00011\. Did you mean A0011\?"):
        selection.run(f, a, j, n_draws=50, exclude={"A00011": "typo"})


def test_overrides_need_a_reason_and_one_side(data):
    f, a, j = data
    with pytest.raises(ParameterError, match="no reason for A0001"):
        selection.run(f, a, j, n_draws=50, include={"A0001": " "})
    with pytest.raises(ParameterError, match="both in selection.include"):
        selection.run(f, a, j, n_draws=50, include={"A0001": "x"}, exclude={"A0001": "y"})


def test_more_inclusions_than_places_is_over_capacity(data):
    f, a, j = data
    ids = f["account_id"].tolist()
    with pytest.raises(ParameterError, match=r"4 accounts on a key list of 3 places.*Fix"):
        selection.run(f, a, j, n_draws=50, n_key_accounts=3,
                      include={i: "board" for i in ids[:4]})
    with pytest.raises(ParameterError, match="leaves 2 accounts"):
        selection.run(f.head(12), None, None, criteria=["billing", "growth"],
                      weights="equal", n_draws=50, n_key_accounts=3,
                      exclude={i: "no" for i in ids[:10]})


# -- big but not key -------------------------------------------------------------------------

def test_big_not_key_lists_the_largest_accounts_off_the_list_with_why(data):
    f, a, j = data
    res = selection.run(f, a, j, n_key_accounts=5, n_draws=100)
    s = res.selection_scores
    top10 = s.nlargest(10, "revenue_12m")
    expected = list(top10.loc[~top10["is_key"], "account_id"])
    big = res.big_not_key
    assert list(big["account_id"]) == expected and len(big) > 0
    assert big["why_not_key"].str.contains("the list holds 5").all()
    assert big["held_back_by"].isin(set(res.criteria["label"])).all()
    excluded = top10["account_id"].iloc[0]
    res2 = selection.run(f, a, j, n_key_accounts=5, n_draws=100,
                         exclude={excluded: "served by our distributor"})
    row = res2.big_not_key.set_index("account_id").loc[excluded]
    assert row["why_not_key"] == "excluded by management: served by our distributor"
