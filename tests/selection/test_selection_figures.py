"""The selection figures draw what their tables say."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import selection_testdata as td  # noqa: E402

from kamlib import selection  # noqa: E402
from kamlib.figures import selection as figs  # noqa: E402


@pytest.fixture(scope="module")
def result():
    f = td.features(150)
    return selection.run(f, td.assessments(f), td.judgements(), n_key_accounts=10,
                         n_draws=200)


def test_weights_figure_shows_group_bars_and_manager_dots(result):
    fig = figs.weights_by_manager(result.weights)
    ax = fig.axes[0]
    assert len(ax.patches) == len(result.criteria)          # one group bar per criterion
    assert len(ax.collections) == len(td.MANAGERS)          # one dot series per manager
    widths = sorted(p.get_width() for p in ax.patches)
    np.testing.assert_allclose(widths, sorted(result.criteria["weight"]))


def test_agreement_heatmap_cells_are_the_ranks(result):
    fig = figs.agreement_heatmap(result.agreement, top=12)
    img = fig.axes[0].images[0].get_array()
    expected = result.agreement.lists.head(12)[list(result.agreement.overlap.columns)]
    np.testing.assert_array_equal(img.mask, expected.isna().to_numpy())
    assert "No manager" in figs.agreement_heatmap(None).axes[0].texts[0].get_text()


def test_score_breakdown_stacks_sum_to_score(result):
    fig = figs.score_breakdown(result.selection_scores, {}, top=8, n_key=result.n_key)
    ax = fig.axes[0]
    n_crit = len(result.criteria)
    right = np.zeros(8)
    assert len(ax.collections) == n_crit                     # one stack layer per criterion
    for layer in ax.collections:
        for k, bar in enumerate(layer.get_paths()):          # one rectangle per account
            right[k] = max(right[k], bar.vertices[:, 0].max())
    top = result.selection_scores.head(8)
    contrib = top[[c for c in top.columns if c.startswith("contrib_")]].clip(lower=0).sum(axis=1)
    np.testing.assert_allclose(right, contrib.to_numpy())


def test_score_breakdown_shows_the_key_list_and_five_more_by_default(result):
    fig = figs.score_breakdown(result.selection_scores, result.criterion_labels(),
                               n_key=result.n_key)
    assert len(fig.axes[0].get_yticklabels()) == result.n_key + 5
    assert len(figs.score_breakdown(result.selection_scores, {}).axes[0].get_yticklabels()) == 25


def test_p_key_chart_bars_are_p_key(result):
    fig = figs.p_key_chart(result.selection_scores, result.n_key, top=15)
    heights = [p.get_width() for p in fig.axes[0].patches[:15]]
    np.testing.assert_allclose(heights, result.selection_scores.head(15)["p_key"])
