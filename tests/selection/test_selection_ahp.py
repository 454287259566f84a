"""AHP priorities and consistency against published examples, plus properties."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamlib.errors import InputError, ParameterError
from kamlib.selection.ahp import (AHP, GROUP, RANDOM_INDEX, ahp_weights, geometric_mean_matrix,
                                  harker_complete, judgement_matrices, random_index)


def matrix(pairs, order):
    idx = {c: i for i, c in enumerate(order)}
    a = np.ones((len(order), len(order)))
    for (x, y), v in pairs.items():
        a[idx[x], idx[y]] = v
        a[idx[y], idx[x]] = 1 / v
    return a


DRINKS = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
DRINK_PAIRS = {
    ("coffee", "wine"): 9, ("coffee", "tea"): 5, ("coffee", "beer"): 2, ("coffee", "soda"): 1,
    ("coffee", "milk"): 1, ("water", "coffee"): 2, ("tea", "wine"): 3, ("beer", "wine"): 9,
    ("beer", "tea"): 3, ("beer", "milk"): 1, ("soda", "wine"): 9, ("soda", "tea"): 4,
    ("soda", "beer"): 2, ("soda", "milk"): 2, ("milk", "wine"): 9, ("milk", "tea"): 3,
    ("water", "wine"): 9, ("water", "tea"): 9, ("water", "beer"): 3, ("water", "soda"): 2,
    ("water", "milk"): 3,
}


def test_saaty_drink_consumption_example():
    """Saaty, T.L. (2008) 'Decision making with the analytic hierarchy process', Int. J.
    Services Sciences 1(1), 83-98: relative consumption of drinks in the USA. Published
    eigenvector (3 decimals): coffee .177, wine .019, tea .042, beer .116, soda .190, milk .129,
    water .327, with C.R. = 0.022 (Saaty's random index)."""
    fit = AHP("saaty_1980", labels=DRINKS).fit(matrix(DRINK_PAIRS, DRINKS))
    published = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    np.testing.assert_allclose(fit.weights_.round(3), published, atol=1e-12)
    assert round(fit.cr_, 3) == 0.022
    assert fit.consistent_


def test_saaty_choosing_a_place_to_live_composite():
    """Saaty, T.L. (2005) *Theory and Applications of the Analytic Network Process*, RWS:
    choosing a city (Bethesda, Boston, Pittsburgh, Santa Fe) on five criteria. The published
    overall priorities (distributive synthesis) are .229, .275, .385, .111."""
    crit = ["Culture", "Family", "Housing", "Jobs", "Transportation"]
    cities = ["Bethesda", "Boston", "Pittsburgh", "Santa Fe"]
    crit_pairs = {("Culture", "Housing"): 3, ("Culture", "Transportation"): 5,
                  ("Family", "Culture"): 5, ("Family", "Housing"): 7,
                  ("Family", "Transportation"): 7, ("Housing", "Transportation"): 3,
                  ("Jobs", "Culture"): 2, ("Jobs", "Housing"): 4, ("Jobs", "Transportation"): 7,
                  ("Family", "Jobs"): 1}
    local = [
        {("Boston", "Bethesda"): 2, ("Boston", "Pittsburgh"): 2.5, ("Pittsburgh", "Bethesda"): 1,
         ("Santa Fe", "Bethesda"): 2, ("Santa Fe", "Pittsburgh"): 2.5, ("Boston", "Santa Fe"): 1},
        {("Bethesda", "Boston"): 2, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2,
         ("Pittsburgh", "Bethesda"): 3, ("Pittsburgh", "Boston"): 8,
         ("Pittsburgh", "Santa Fe"): 9},
        {("Bethesda", "Boston"): 5, ("Bethesda", "Santa Fe"): 2.5, ("Pittsburgh", "Bethesda"): 2,
         ("Pittsburgh", "Boston"): 9, ("Pittsburgh", "Santa Fe"): 7, ("Santa Fe", "Boston"): 4},
        {("Bethesda", "Pittsburgh"): 3, ("Bethesda", "Santa Fe"): 4, ("Boston", "Bethesda"): 2,
         ("Boston", "Pittsburgh"): 6, ("Boston", "Santa Fe"): 8, ("Pittsburgh", "Santa Fe"): 1},
        {("Bethesda", "Boston"): 1.5, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2.5,
         ("Pittsburgh", "Bethesda"): 2, ("Pittsburgh", "Boston"): 3.5,
         ("Pittsburgh", "Santa Fe"): 9},
    ]
    w = AHP().fit(matrix(crit_pairs, crit)).weights_
    p = np.column_stack([AHP().fit(matrix(d, cities)).weights_ for d in local])
    np.testing.assert_allclose((p @ w).round(3), [0.229, 0.275, 0.385, 0.111], atol=1e-12)


def test_random_index_tables_are_named_and_differ():
    assert random_index(3, "saaty_1980") == 0.58
    assert random_index(3, "alonso_lamata_2006") == 0.5247
    assert random_index(9, "saaty_1980") == 1.45
    # beyond the tables, Alonso & Lamata's linear fit continues smoothly
    assert random_index(15) < random_index(16) < random_index(20) < 1.75
    assert abs(random_index(16) - random_index(15)) < 0.02
    with pytest.raises(ParameterError, match="random-index"):
        random_index(5, "made_up")
    for table in RANDOM_INDEX.values():
        assert table[1] == table[2] == 0.0


def consistent_matrix(w):
    w = np.asarray(w, dtype=float)
    return w[:, None] / w[None, :]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 20), min_size=3, max_size=12))
def test_consistent_matrix_has_cr_zero_and_recovers_weights(raw):
    w = np.array(raw) / np.sum(raw)
    fit = AHP().fit(consistent_matrix(w))
    np.testing.assert_allclose(fit.weights_, w, rtol=1e-8)
    assert fit.lambda_max_ == pytest.approx(len(w), abs=1e-8)
    assert fit.cr_ == pytest.approx(0.0, abs=1e-9)
    assert fit.weights_.sum() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 10), st.integers(0, 10_000))
def test_random_reciprocal_matrices_properties(n, seed):
    rng = np.random.default_rng(seed)
    scale = np.array([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9])
    a = np.ones((n, n))
    for i, j in itertools.combinations(range(n), 2):
        a[i, j] = rng.choice(scale)
        a[j, i] = 1 / a[i, j]
    fit = AHP().fit(a)
    assert fit.weights_.sum() == pytest.approx(1.0)
    assert np.all(fit.weights_ > 0)
    assert fit.lambda_max_ >= n - 1e-9          # Saaty: lambda_max >= n for reciprocal matrices
    assert fit.cr_ >= 0
    # transposing a reciprocal matrix reverses every judgement: weights become proportional to 1/w
    inv = AHP().fit(a.T).weights_
    if fit.cr_ < 1e-9:
        np.testing.assert_allclose(inv, (1 / fit.weights_) / (1 / fit.weights_).sum())


def test_non_reciprocal_matrix_is_refused():
    a = consistent_matrix([0.5, 0.3, 0.2])
    a[0, 1] = 4.0  # a[1, 0] still 0.6
    with pytest.raises(ParameterError, match="not reciprocal"):
        AHP().fit(a)


def test_inconsistency_diagnostic_points_at_the_bad_judgement():
    w = np.array([0.4, 0.3, 0.2, 0.1])
    a = consistent_matrix(w)
    a[0, 3], a[3, 0] = 1 / 4, 4.0  # should be 4: reversed judgement
    fit = AHP(labels=list("abcd")).fit(a)
    assert not fit.consistent_
    worst = fit.inconsistencies(1).iloc[0]
    assert {worst["criterion_a"], worst["criterion_b"]} == {"a", "d"}
    assert worst["judgement"] == pytest.approx(0.25)
    # the rest of the judgements pull a over d well above the reversed 1/4
    assert worst["suggested"] > 3 * worst["judgement"]


def long_judgements(manager, w, labels, drop=()):
    rows = []
    for i, j in itertools.combinations(range(len(w)), 2):
        if (labels[i], labels[j]) in drop:
            continue
        rows.append({"manager": manager, "criterion_a": labels[i], "criterion_b": labels[j],
                     "value": w[i] / w[j]})
    return pd.DataFrame(rows)


LABELS = ["billing", "growth", "profitability", "strategic_fit"]


def test_identical_managers_give_the_group_their_weights():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    j = pd.concat([long_judgements(m, w, LABELS) for m in ("a", "b", "c")])
    res = ahp_weights(j, LABELS)
    wide = res.weights.pivot(index="manager", columns="criterion", values="weight")[LABELS]
    for m in ("a", "b", "c", GROUP):
        np.testing.assert_allclose(wide.loc[m], w, rtol=1e-9)
    assert set(res.consistency["manager"]) == {"a", "b", "c", GROUP}


def test_group_matrix_is_reciprocal_geometric_mean():
    rng = np.random.default_rng(0)
    mats = []
    for _ in range(4):
        w = rng.dirichlet(np.ones(5))
        m = consistent_matrix(w) * np.exp(np.triu(rng.normal(0, 0.3, (5, 5)), 1))
        m = np.triu(m, 1) + np.tril(1 / m.T, -1) + np.eye(5)
        mats.append(m)
    g = geometric_mean_matrix(mats)
    np.testing.assert_allclose(g * g.T, np.ones((5, 5)))
    np.testing.assert_allclose(g[0, 1], np.prod([m[0, 1] for m in mats]) ** 0.25)


def test_pairs_given_in_either_order_are_the_same():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    j = long_judgements("a", w, LABELS)
    flipped = j.rename(columns={"criterion_a": "criterion_b", "criterion_b": "criterion_a"})
    flipped["value"] = 1 / flipped["value"]
    np.testing.assert_allclose(judgement_matrices(j, LABELS)[0].matrix,
                               judgement_matrices(flipped, LABELS)[0].matrix)


def test_missing_comparisons_are_completed_by_harker_and_flagged():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    j = long_judgements("a", w, LABELS, drop={("billing", "growth"), ("growth", "strategic_fit")})
    mats = judgement_matrices(j, LABELS, missing="harker")
    assert mats[0].n_missing == 2
    # consistent judgements: Harker's completion recovers the exact ratios
    np.testing.assert_allclose(mats[0].matrix, consistent_matrix(w), rtol=1e-9)
    res = ahp_weights(j, LABELS)
    assert res.consistency.set_index("manager").loc["a", "n_missing"] == 2
    with pytest.raises(InputError, match="2 missing"):
        judgement_matrices(j, LABELS, missing="error")


def test_harker_completion_of_complete_matrix_is_identity():
    a = consistent_matrix([0.5, 0.25, 0.25])
    np.testing.assert_array_equal(harker_complete(a), a)


def test_criterion_never_compared_is_an_error():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    j = long_judgements("a", w, LABELS)
    j = j[(j["criterion_a"] != "strategic_fit") & (j["criterion_b"] != "strategic_fit")]
    with pytest.raises(InputError, match="never compared strategic_fit"):
        judgement_matrices(j, LABELS)


def test_contradictory_duplicate_pair_is_an_error_with_rows():
    j = long_judgements("a", np.array([0.1, 0.2, 0.3, 0.4]), LABELS)
    extra = pd.DataFrame([{"manager": "a", "criterion_a": "growth", "criterion_b": "billing",
                           "value": 0.2}])  # says billing is 5x growth; the table says 0.5x
    with pytest.raises(InputError, match="contradict") as exc:
        judgement_matrices(pd.concat([j, extra], ignore_index=True), LABELS)
    assert exc.value.rows == [1, len(j) + 1]


def test_value_off_saaty_scale_is_an_error():
    j = long_judgements("a", np.array([0.1, 0.2, 0.3, 0.4]), LABELS)
    j.loc[2, "value"] = 12
    with pytest.raises(InputError, match="Saaty's scale") as exc:
        judgement_matrices(j, LABELS)
    assert exc.value.rows == [3]


def test_comparisons_of_switched_off_criteria_are_ignored():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    j = long_judgements("a", w, LABELS)
    res = ahp_weights(j, LABELS[:3])
    got = res.weights.query("manager == 'a'")["weight"].to_numpy()
    np.testing.assert_allclose(got, w[:3] / w[:3].sum())


def test_inconsistent_manager_can_be_left_out_of_the_group():
    w = np.array([0.1, 0.2, 0.3, 0.4])
    good = long_judgements("good", w, LABELS)
    bad = long_judgements("bad", w[::-1], LABELS)
    bad.loc[0, "value"] = 1 / 9  # turns bad's judgements inconsistent
    bad.loc[5, "value"] = 9
    j = pd.concat([good, bad], ignore_index=True)
    both = ahp_weights(j, LABELS)
    only_good = ahp_weights(j, LABELS, exclude_inconsistent=True)
    cons = only_good.consistency.set_index("manager")
    assert not cons.loc["bad", "consistent"] and not cons.loc["bad", "in_group"]
    np.testing.assert_allclose(list(only_good.group_weights.values()), w, rtol=1e-9)
    assert not np.allclose(list(both.group_weights.values()), w, rtol=1e-3)
