import numpy as np
import pandas as pd
import pytest

from kamlib.errors import InputError, ParameterError
from kamlib.segmentation.dpm import DEFAULT_ATTRACTIVENESS_WEIGHTS, directional_policy_matrix


def _features():
    return pd.DataFrame({
        "account_id": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"],
        "revenue_12m": [800.0, 200.0, 800.0, 100.0], "wallet": [1000.0, 1000.0, 1000.0, 1000.0],
        "growth_12m": [0.1, 0.2, 0.3, 0.4], "margin_pct_12m": [0.2, 0.3, 0.1, 0.4],
        "n_sites": [1, 2, 3, 4], "n_functions": [5, 1, 5, 0], "n_contacts": [4, 1, 3, 0],
    })


def _assess():
    # two managers; account a and b attractive, c and d not
    rows = []
    for mgr in ("m1", "m2"):
        for acc, fit in zip("abcd", (9, 7, 2, 3)):
            rows.append({"manager": mgr, "account_id": acc, "strategic_fit": fit + (1 if mgr == "m1" else -1)})
    return pd.DataFrame(rows)


def test_boxes_from_known_scores():
    dpm, factors = directional_policy_matrix(
        _features(), ["a", "b", "c", "d"], assessments=_assess(),
        attractiveness_weights={"strategic_fit": 100}, strength_weights={"share_of_wallet": 100})
    d = dpm.set_index("account_id")
    assert d.loc[["a", "b", "c", "d"], "attractiveness"].tolist() == pytest.approx([9, 7, 2, 3])
    # strength = 10 x share of wallet; relative to an average rival (5)
    assert d.loc[["a", "b", "c", "d"], "strength"].tolist() == pytest.approx([8, 2, 8, 1])
    assert d.loc["a", "relative_strength"] == pytest.approx(1.6)
    assert d["dpm_box"].to_dict() == {"a": "Strategic", "b": "Star", "c": "Status", "d": "Streamline"}
    assert d.loc["a", "dpm_strategy"] == "Invest for growth"
    assert "managers' strategic_fit" in factors.set_index("factor").loc["strategic_fit", "source"]


def test_best_competitor_is_an_average_rival():
    """The data contract holds no competitor scores: every account is compared with a 5."""
    dpm, factors = directional_policy_matrix(
        _features(), ["a", "b"], assessments=_assess(),
        attractiveness_weights={"strategic_fit": 100}, strength_weights={"share_of_wallet": 100})
    d = dpm.set_index("account_id")
    assert (d["competitor_strength"] == 5.0).all()
    assert d["relative_strength"].tolist() == pytest.approx((d["strength"] / 5).tolist())
    assert factors.set_index("factor").loc["best_competitor", "source"] == "average rival (5) assumed"


def test_contacts_give_power_weighted_depth_and_attitude():
    contacts = pd.DataFrame({"account_id": ["a", "a"], "power": [5, 1],
                             "relationship_strength": [5, 0], "attitude": [5, -5]})
    dpm, _ = directional_policy_matrix(
        _features(), ["a"], contacts=contacts,
        strength_weights={"relationship_depth": 50, "attitude": 50})
    d = dpm.set_index("account_id")
    depth = 2 * (5 * 5 + 1 * 0) / 6
    att = (5 * 5 + 1 * -5) / 6 + 5
    assert d.loc["a", "str_relationship_depth"] == pytest.approx(depth)
    assert d.loc["a", "strength"] == pytest.approx((depth + att) / 2)


def test_fallbacks_without_assessments_are_recorded():
    dpm, factors = directional_policy_matrix(_features(), ["a", "b", "c", "d"])
    src = factors.set_index("factor")["source"]
    assert src["strategic_fit"] == "neutral 5"
    assert src["growth"] == "growth_12m percentile"
    w = factors.set_index("factor")["weight"]
    assert w[list(DEFAULT_ATTRACTIVENESS_WEIGHTS)].sum() == 100
    assert dpm["attractiveness"].between(0, 10).all()


@pytest.mark.parametrize("weights", [{"volume": 50}, {"volume": 50, "luck": 50}, {"volume": 120, "growth": -20}])
def test_weights_must_be_known_and_add_to_100(weights):
    with pytest.raises(ParameterError):
        directional_policy_matrix(_features(), ["a"], attractiveness_weights=weights)


def test_unknown_key_account_is_an_input_error():
    with pytest.raises(InputError, match="not in account_features"):
        directional_policy_matrix(_features(), ["a", "zz"])


def test_attractiveness_split_median_or_fixed():
    kw = dict(assessments=_assess(), attractiveness_weights={"strategic_fit": 100},
              strength_weights={"share_of_wallet": 100})
    med, _ = directional_policy_matrix(_features(), ["a", "b", "c", "d"], **kw)
    assert (med["attractiveness_split"] == 5.0).all()  # median of 9, 7, 2, 3
    fixed, _ = directional_policy_matrix(_features(), ["a", "b", "c", "d"],
                                         attractiveness_split=8.0, **kw)
    d = fixed.set_index("account_id")["dpm_box"]
    assert d["a"] == "Strategic" and d["b"] == "Streamline"  # 7 is not above 8; b is weak
    # all-attractive key accounts still split in two halves by the median
    high = _assess().assign(strategic_fit=lambda x: x["strategic_fit"].clip(lower=6) + 1)
    m2, _ = directional_policy_matrix(_features(), ["a", "b", "c", "d"], **{**kw, "assessments": high})
    assert (m2["attractiveness"] > 5).all()
    assert m2["dpm_box"].isin(["Strategic", "Star"]).sum() == 2
    with pytest.raises(ParameterError):
        directional_policy_matrix(_features(), ["a"], attractiveness_split="mean")


def test_supplied_competitors_replace_the_average_rival_where_recorded():
    """The strongest recorded competitor at an account is its best competitor; elsewhere a 5."""
    competitors = pd.DataFrame({"account_id": ["a", "a", "b"], "competitor": ["X", "Y", "X"],
                                "strength": [8.0, 4.0, None]})
    dpm, factors = directional_policy_matrix(
        _features(), ["a", "b", "c"], assessments=_assess(), competitors=competitors,
        attractiveness_weights={"strategic_fit": 100}, strength_weights={"share_of_wallet": 100})
    d = dpm.set_index("account_id")
    assert d["competitor_strength"].to_dict() == {"a": 8.0, "b": 5.0, "c": 5.0}
    assert d.loc["a", "relative_strength"] == pytest.approx(8 / 8)
    assert d.loc["c", "relative_strength"] == pytest.approx(8 / 5)
    assert d.loc["a", "dpm_box"] == "Star"  # no longer ahead of the best competitor
    source = factors.set_index("factor").loc["best_competitor", "source"]
    assert source == ("strongest competitor in the competitors table for 1 of 3 accounts; "
                      "average rival (5) assumed for the other 2")
