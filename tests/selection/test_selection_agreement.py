"""Kendall's W and manager agreement."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import friedmanchisquare

from kamlib.errors import InputError
from kamlib.selection.agreement import kendall_w, manager_agreement

# The 'anxiety' data of the R packages irr / DescTools: 3 raters score 20 subjects (ties).
ANXIETY = np.array([
    [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
])


def test_kendall_w_with_ties_anxiety_example():
    """DescTools::KendallW documentation (Signorell et al.), example
    ``KendallW(anxiety, correct=TRUE)`` prints 0.5396569 (tie-corrected W)."""
    res = kendall_w(ANXIETY, correct_ties=True)
    assert round(res.w, 7) == 0.5396569
    assert res.df == 19
    assert res.chi2 == pytest.approx(3 * 19 * res.w)


def test_tie_correction_matches_friedman_test():
    """Kendall's chi-square m(n-1)W equals Friedman's tie-corrected statistic (scipy's
    independent implementation), with and without ties."""
    for data in (ANXIETY, np.argsort(np.random.default_rng(5).random((4, 9)), axis=1)):
        res = kendall_w(data, correct_ties=True)
        fr = friedmanchisquare(*data.T)
        assert res.chi2 == pytest.approx(fr.statistic, rel=1e-10)
        assert res.p_value == pytest.approx(fr.pvalue, rel=1e-8)


def test_kendall_w_without_ties_needs_no_correction():
    ranks = np.array([[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5]])
    corrected = kendall_w(ranks, correct_ties=True)
    assert corrected.tie_correction == 0
    assert corrected.w == pytest.approx(kendall_w(ranks, correct_ties=False).w)
    # W by hand: rank sums 4, 6, 8, 13, 14; mean 9; S = 25+9+1+16+25 = 76; 12*76/(9*120)
    assert corrected.w == pytest.approx(12 * 76 / (9 * 120))


def test_kendall_w_extremes():
    same = np.tile(np.arange(6), (4, 1))
    assert kendall_w(same).w == pytest.approx(1.0)
    opposite = np.vstack([np.arange(6), np.arange(6)[::-1]])
    assert kendall_w(opposite).w == pytest.approx(0.0)
    assert kendall_w(opposite).p_value == pytest.approx(1.0)


def lists_table(lists, extra=None):
    rows = []
    for m, accounts in lists.items():
        for r, a in enumerate(accounts, start=1):
            rows.append({"manager": m, "account_id": a, "top_rank": r, "future_potential": 5.0})
    for m, a in (extra or []):
        rows.append({"manager": m, "account_id": a, "top_rank": np.nan, "future_potential": 3.0})
    return pd.DataFrame(rows)


def test_distinct_names_and_overlap():
    lists = {"ann": ["a", "b", "c"], "bob": ["b", "c", "d"], "cat": ["e", "f", "b"]}
    res = manager_agreement(lists_table(lists))
    s = res.summary.set_index("metric")["value"]
    assert s["distinct_accounts"] == 6
    assert s["names_given"] == 9
    assert s["named_by_all"] == 1
    assert res.overlap.loc["ann", "bob"] == 2
    assert res.overlap.loc["ann", "ann"] == 3
    assert res.jaccard.loc["ann", "cat"] == pytest.approx(1 / 5)
    assert res.split.loc[res.split["account_id"] == "b", "n_named"].item() == 3
    # b is on every list: it splits nobody; accounts on 2 of 3 lists split most
    top = res.split.iloc[0]
    assert top["n_named"] == 2
    assert res.lists.iloc[0]["account_id"] == "b"


def test_identical_lists_agree_perfectly():
    lists = {m: ["a", "b", "c", "d"] for m in ("ann", "bob", "cat")}
    s = manager_agreement(lists_table(lists)).summary.set_index("metric")["value"]
    assert s["distinct_accounts"] == 4
    assert s["kendall_w_lists"] == pytest.approx(1.0)
    assert s["mean_jaccard"] == pytest.approx(1.0)


def test_manager_without_list_is_reported_not_dropped_silently():
    lists = {"ann": ["a", "b"], "bob": ["b", "a"]}
    res = manager_agreement(lists_table(lists, extra=[("dan", "a"), ("dan", "c")]))
    assert res.missing_lists == ["dan"]
    s = res.summary.set_index("metric")
    assert s.loc["managers", "value"] == 3
    assert "dan" in s.loc["managers_without_list", "note"]


def test_fewer_than_two_lists_is_an_error():
    with pytest.raises(InputError, match="only 1 manager"):
        manager_agreement(lists_table({"ann": ["a", "b"]}, extra=[("bob", "a")]))


def test_duplicate_rank_is_an_error():
    t = lists_table({"ann": ["a", "b"], "bob": ["a", "b"]})
    t.loc[1, "top_rank"] = 1
    with pytest.raises(InputError, match="rank 1 to more than one"):
        manager_agreement(t)
