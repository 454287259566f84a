import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import kamlib.figures.segmentation as F
from kamlib import segmentation
from kamlib.segmentation.synthetic import synthetic_features


@pytest.fixture(scope="module")
def result():
    f = synthetic_features({"Star": 20, "Developing": 30, "Core": 30, "Laggard": 80}, seed=3,
                           prev_segments={"Star": "Core"})
    key = f["revenue_12m"].rank(ascending=False) <= 12
    sel = pd.DataFrame({"account_id": f["account_id"], "is_key": key})
    return segmentation.run(f, selection_scores=sel, k=0)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_bubble_labels_key_accounts_without_overlap(result):
    fig = F.portfolio_bubble(result.segments, result.thresholds, max_labels=12)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    anns = [t for t in ax.texts if t.get_text().startswith("Account")]
    keys = set(result.segments.loc[result.segments["is_key"], "name"])
    assert {a.get_text() for a in anns} <= keys
    assert len(anns) >= 6
    boxes = [a.get_window_extent(r) for a in anns]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("Stars (") for lab in labels)


def test_other_figures_render(result):
    figs = [F.method_comparison(result.segments, result.thresholds, result.ari),
            F.silhouette_plot(result.cluster_scores), F.migration_heatmap(result.migration_matrix),
            F.dpm_bubble(result.dpm)]
    for fig in figs:
        fig.draw_without_rendering()
    assert len(figs[0].axes) == 2
    chosen = int(result.cluster_scores.loc[result.cluster_scores["chosen"], "k"].iloc[0])
    assert f"k used = {chosen} (best silhouette)" in [t.get_text() for t in figs[1].axes[0].get_legend().get_texts()]
    heat = _texts(figs[2])
    assert str(int(result.migration_matrix.loc["Star", "Core"])) in " ".join(heat)
    assert figs[3].axes[0].get_xlim()[0] > figs[3].axes[0].get_xlim()[1]  # strong on the left
    assert any(t.startswith("Strategic") for t in _texts(figs[3]))


def test_profile_table_html(result):
    html = F.segment_profile(result.segment_summary).to_html()
    for word in ("Stars", "Laggards", "Total", "Invest for growth", "% revenue"):
        assert word in html


def test_bubble_without_key_accounts_labels_the_largest(result):
    seg = result.segments.assign(is_key=False)
    fig = F.portfolio_bubble(seg, result.thresholds, max_labels=5)
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("Account")]
    top = set(seg.nlargest(5, "revenue")["name"])
    assert labels and set(labels) <= top


def test_empty_migration_gives_a_message_figure():
    fig = F.migration_heatmap(pd.DataFrame())
    assert any("No migration" in t for t in _texts(fig))


def test_movers_and_dpm_tables(result):
    mv = result.movers(40)
    assert mv["star_slipping"].any() and not mv["star_slipping"].all()
    sty = F.movers_table(mv)
    html = sty.to_html()
    ctx = sty._compute().ctx  # (row, col) -> css of each styled cell
    red_rows = {r for (r, _c), css in ctx.items() if ("color", "#c62828") in css}
    assert red_rows == set(np.flatnonzero(mv["star_slipping"].to_numpy()))
    assert "Stars" in html
    assert F.movers_table(mv.iloc[:0]).empty
    dhtml = F.dpm_table(result.dpm).to_html()
    assert "x</td>" in dhtml
    assert any(box in dhtml for box in ("Strategic", "Status", "Streamline"))


def test_no_key_accounts_gives_an_empty_dpm_that_still_draws():
    f = synthetic_features({"Star": 10, "Laggard": 10}, seed=1)
    sel = pd.DataFrame({"account_id": f["account_id"], "is_key": False})
    r = segmentation.run(f, selection_scores=sel, k=2)
    assert r.dpm.empty and any("no key account" in n for n in r.notes)
    F.dpm_bubble(r.dpm).draw_without_rendering()
    assert F.dpm_table(r.dpm).empty


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def test_styled_tables_show_names_as_text(result):
    """Names come from the client's files: every Styler table escapes them."""
    mv = result.movers(40).assign(name=HOSTILE)
    dpm = result.dpm.assign(name=HOSTILE, account_id="<b>A</b>")
    summary = result.segment_summary.assign(strategy=HOSTILE)
    for sty in (F.movers_table(mv), F.dpm_table(dpm), F.segment_profile(summary)):
        html = sty.to_html()
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
