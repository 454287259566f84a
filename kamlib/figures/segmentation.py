"""Figures of the segmentation step: portfolio bubble chart, rules vs clusters, silhouette
scores, migration heatmap, directional policy matrix, and the segment profile table.

Pure functions: each takes result tables and returns a matplotlib Figure (or a pandas Styler for
tables); the notebook hands it to ``step.figure``. No pyplot state is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kamlib.figures import DPI, PALETTE
from kamlib.formatting import DASH, count, missing, money, share
from kamlib.formatting import share as fmt_share
from kamlib.vocabulary import (
    DPM_STAR,
    DPM_STATUS,
    DPM_STRATEGIC,
    DPM_STRATEGIES,
    DPM_STREAMLINE,
    SEGMENT_LABELS,
    SEGMENTS,
    STAR,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

SEGMENT_ORDER: tuple[str, ...] = SEGMENTS
# The project palette, so a segment has the same colour on every page of the report.
SEGMENT_COLOURS: dict[str, str] = {s: PALETTE[s] for s in SEGMENT_ORDER}
DPM_COLOURS: dict[str, str] = {
    DPM_STRATEGIC: PALETTE["good"], DPM_STAR: PALETTE["accent"], DPM_STATUS: PALETTE["primary"],
    DPM_STREAMLINE: PALETTE["neutral"],
}
VALUE_LABELS: dict[str, str] = {"revenue": "Value: revenue, last 12 months",
                                "margin": "Value: gross margin, last 12 months",
                                "clv": "Value: customer lifetime value"}


def _figure(w: float, h: float, ncols: int = 1):
    # pyplot (then closed, so it keeps no global state) rather than a bare Figure: it gives the
    # figure the notebook backend, so a returned figure displays inline like the other steps'.
    import matplotlib.pyplot as plt

    # No constrained layout: it re-solves on every draw (slow), and it would move the axes after
    # labels are placed; the saved PNG is cropped with bbox_inches="tight" instead.
    fig = plt.figure(figsize=(w, h), dpi=DPI, layout="none")
    plt.close(fig)
    if not hasattr(fig.canvas, "get_renderer"):  # closing may leave a bare canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)  # label placement measures text with a renderer
    axes = fig.subplots(1, ncols, sharey=ncols > 1) if ncols > 1 else fig.add_subplot()
    return fig, axes


def _clean(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, which="major", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)


def _money(x: float, _pos=None) -> str:
    """Money ticks and table cells in the project's one format."""
    return money(x)


def place_labels(fig: Figure, ax: Axes, xs, ys, texts, max_labels: int = 25, fontsize: float = 7.5,
                 avoid: list | None = None) -> int:
    """Label points without labels overlapping each other.

    Greedy: points in the given order (most important first); each label tries offsets around
    its point at growing distances and takes the first whose box overlaps no placed label and
    stays inside the axes. Labels that find no room are left out. Boxes are computed from one
    measurement of each text, so trying positions costs no drawing.

    ``avoid`` lists artists (e.g. box titles) whose boxes labels must not cover.

    Returns
    -------
    int
        Number of labels left out (including those beyond ``max_labels``).
    """
    from matplotlib.transforms import Bbox

    # Display coordinates need final axis limits, not a drawn figure: these figures have no
    # layout engine, so the axes do not move, and reading the limits settles the autoscaling.
    # (A full draw here cost as much as saving the figure.)
    ax.get_xlim()
    ax.get_ylim()
    renderer = fig.canvas.get_renderer()
    ax_box = ax.get_window_extent(renderer)
    px = fig.dpi / 72.0
    placed: list = [a.get_window_extent(renderer) for a in (avoid or [])]
    skipped = 0
    dirs = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    pts = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    probe = ax.text(0, 0, "", fontsize=fontsize)
    for i, ((x0, y0), t, x, y) in enumerate(zip(pts, texts, xs, ys)):
        if i >= max_labels:
            skipped += 1
            continue
        probe.set_text(t)
        tb = probe.get_window_extent(renderer)
        w, h = tb.width * 1.05, tb.height * 1.1
        choice = None
        for r in (5, 14, 24, 36):
            for dx, dy in dirs:
                cx, cy = x0 + dx * r * px, y0 + dy * r * px
                left = cx if dx > 0 else (cx - w if dx < 0 else cx - w / 2)
                bottom = cy if dy > 0 else (cy - h if dy < 0 else cy - h / 2)
                bb = Bbox.from_bounds(left, bottom, w, h)
                inside = (bb.x0 >= ax_box.x0 and bb.x1 <= ax_box.x1 and bb.y0 >= ax_box.y0
                          and bb.y1 <= ax_box.y1)
                if inside and not any(bb.overlaps(p) for p in placed):
                    choice = (dx, dy, r, bb)
                    break
            if choice:
                break
        if choice is None:
            skipped += 1
            continue
        dx, dy, r, bb = choice
        placed.append(bb)
        ann = ax.annotate(
            t, (x, y), xytext=(dx * r, dy * r), textcoords="offset points", fontsize=fontsize,
            ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
            va="bottom" if dy > 0 else ("top" if dy < 0 else "center"),
            arrowprops=dict(arrowstyle="-", color="#718096", lw=0.5) if r > 5 else None,
            annotation_clip=False,
        )
        ann.set_in_layout(False)
    probe.remove()
    return skipped


def _short(names: pd.Series, n: int = 20) -> pd.Series:
    """Labels of about ``n`` characters a line: a long name is wrapped, never cut."""
    import textwrap

    return names.astype(str).map(lambda t: textwrap.fill(t, n, break_long_words=True))


def _value_floor(v: np.ndarray) -> tuple[np.ndarray, int, float]:
    pos = v[np.isfinite(v) & (v > 0)]
    floor = float(pos.min() / 2) if pos.size else 1.0
    n_floor = int((~(v > 0)).sum())
    return np.where(v > 0, v, floor), n_floor, floor


def _bubble_sizes(revenue: np.ndarray, max_area: float = 700.0) -> np.ndarray:
    r = np.clip(np.nan_to_num(revenue.astype(float)), 0, None)
    top = r.max() if r.size and r.max() > 0 else 1.0
    return 6 + max_area * r / top


def _scatter_segments(ax: Axes, seg: pd.DataFrame, col: str, sizes: np.ndarray, y: np.ndarray) -> None:
    from matplotlib.colors import to_rgba

    # RGBA rows, not a colour name per account: matplotlib would parse 20k names one by one
    outline = np.array([to_rgba("#1a202c"), to_rgba("white")])
    for name in SEGMENT_ORDER:
        mask = (seg[col] == name).to_numpy()
        if not mask.any():
            continue
        key = seg["is_key"].to_numpy(dtype=bool)[mask] if "is_key" in seg else np.zeros(mask.sum(), bool)
        ax.scatter(seg["growth"].to_numpy()[mask], y[mask], s=sizes[mask], c=SEGMENT_COLOURS[name],
                   alpha=0.7, edgecolors=outline[np.where(key, 0, 1)],
                   linewidths=np.where(key, 1.2, 0.4),
                   label=f"{SEGMENT_LABELS[name]} ({mask.sum()})")


def _thresholds(ax: Axes, thresholds: dict | None) -> None:
    if not thresholds:
        return
    kw = dict(color="#4a5568", lw=0.9, ls="--", zorder=0)
    if thresholds.get("value") is not None and thresholds["value"] > 0:
        ax.axhline(thresholds["value"], **kw)
    if thresholds.get("growth") is not None:
        ax.axvline(thresholds["growth"], **kw)


def portfolio_bubble(
    segments: pd.DataFrame,
    thresholds: dict | None = None,
    *,
    segment_col: str = "segment",
    max_labels: int = 15,
    value_measure: str | None = None,
    growth_label: str = "Growth (last 12 months vs the earlier window)",
) -> Figure:
    """The portfolio: growth (x) against value (y, log scale), bubble area = revenue,
    colour = segment, key accounts outlined and labelled.

    Parameters
    ----------
    segments : DataFrame
        The ``segments`` table (growth, value, revenue, segment, is_key, name).
    thresholds : dict, optional
        ``{"value": ..., "growth": ...}``: drawn as dashed lines (the rule quadrants).
    segment_col : str
        Column giving the colour (``segment``, ``segment_rule`` or ``segment_cluster``).
    max_labels : int
        Most key accounts labelled (largest revenue first).
    value_measure : str, optional
        What the value axis shows ("revenue", "margin" or "clv"), for its label; by default
        the table's ``value_measure`` column (revenue without one).
    """
    from matplotlib.ticker import FuncFormatter

    if value_measure is None:
        value_measure = str(segments["value_measure"].iloc[0]) if (
            "value_measure" in segments and len(segments)) else "revenue"

    seg = segments[segments[segment_col].notna()].reset_index(drop=True)
    fig, ax = _figure(9.0, 6.2)
    y, n_floor, floor = _value_floor(seg["value"].to_numpy(dtype=float))
    _scatter_segments(ax, seg, segment_col, _bubble_sizes(seg["revenue"].to_numpy()), y)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    _thresholds(ax, thresholds)
    _clean(ax)
    ax.set_xlabel(growth_label)
    ax.set_ylabel(VALUE_LABELS.get(value_measure, value_measure) + ", log scale")
    note = ""
    if n_floor:
        note = f"; {n_floor} with value <= 0 at the bottom edge"
        ax.annotate(f"{n_floor} account(s) with no value\n(e.g. lost: no sales this year)",
                    (float(seg["growth"][y <= floor].median()), floor), xytext=(8, 10),
                    textcoords="offset points", fontsize=7, color="#4a5568")
    ax.set_title(f"Portfolio: {len(seg)} accounts, bubble area = revenue{note}", fontsize=10, loc="left")
    has_key = "is_key" in seg and bool(seg["is_key"].any())
    leg = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
                    title="Segment (outlined = key)" if has_key else "Segment", title_fontsize=8)
    for h in leg.legend_handles:
        h.set_sizes([40])
    # Label the key accounts; without a key-account list, the largest accounts orient the reader.
    pick = seg["is_key"].to_numpy(dtype=bool) if has_key else np.ones(len(seg), dtype=bool)
    k = seg[pick].assign(_y=y[pick]).sort_values("revenue", ascending=False)
    names = k["name"] if "name" in k else k["account_id"]
    left = place_labels(fig, ax, k["growth"], k["_y"], _short(names), max_labels=max_labels)
    if left and has_key:
        ax.text(1.01, 0.0, f"{left} more key account(s)\nnot labelled",
                transform=ax.transAxes, fontsize=7, color="#4a5568", va="bottom")
    elif not has_key:
        ax.text(1.01, 0.0, "No key-account list:\nthe largest accounts\nare labelled",
                transform=ax.transAxes, fontsize=7, color="#4a5568", va="bottom")
    return fig


def method_comparison(segments: pd.DataFrame, thresholds: dict | None = None,
                      ari: float | None = None) -> Figure:
    """Rules and clusters side by side on the same axes (value log scale)."""
    from matplotlib.ticker import FuncFormatter

    seg = segments[segments["segment_rule"].notna()].reset_index(drop=True)
    has_cl = "segment_cluster" in seg and seg["segment_cluster"].notna().any()
    fig, axes = _figure(10.0, 4.6, ncols=2 if has_cl else 1)
    axes = np.atleast_1d(axes)
    y, _, _ = _value_floor(seg["value"].to_numpy(dtype=float))
    sizes = _bubble_sizes(seg["revenue"].to_numpy(), max_area=300)
    titles = [("segment_rule", "Rules (quadrants at the thresholds)"),
              ("segment_cluster", "Clusters (named from their centroids)")]
    for ax, (col, title) in zip(axes, titles):
        _scatter_segments(ax, seg, col, sizes, y)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        if col == "segment_rule":
            _thresholds(ax, thresholds)
        _clean(ax)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel("Growth")
    axes[0].set_ylabel("Value, log scale")
    leg = axes[-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    for h in leg.legend_handles:
        h.set_sizes([40])
    if ari is not None and np.isfinite(ari):
        fig.suptitle(f"Agreement between the methods: adjusted Rand index {ari:.2f} "
                     "(1 = identical, 0 = chance)", fontsize=10, x=0.01, ha="left")
    return fig


def silhouette_plot(cluster_scores: pd.DataFrame) -> Figure:
    """Mean silhouette per number of clusters, the chosen k marked."""
    fig, ax = _figure(6.0, 3.4)
    cs = cluster_scores.sort_values("k")
    ax.plot(cs["k"], cs["silhouette"], marker="o", color="#2b6cb0")
    ch = cs[cs["chosen"].astype(bool)]
    if len(ch):
        ax.scatter(ch["k"], ch["silhouette"], s=160, facecolors="none", edgecolors="#c53030",
                   linewidths=1.5, zorder=3,
                   label=f"k used = {int(ch['k'].iloc[0])}"
                   + (f" ({ch['k_from'].iloc[0]})" if "k_from" in ch else ""))
        ax.legend(frameon=False, fontsize=8, loc="best")
    ax.set_xticks(cs["k"].astype(int).tolist())
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("mean silhouette (higher = clearer clusters)")
    n = int(cs["silhouette_sample"].iloc[0]) if "silhouette_sample" in cs and len(cs) else None
    method = cs["method"].iloc[0] if len(cs) else ""
    ax.set_title(f"Choosing k ({method}" + (f", silhouette on {count(n)} accounts)" if n else ")"),
                 fontsize=10, loc="left")
    _clean(ax)
    return fig


def migration_heatmap(matrix: pd.DataFrame) -> Figure:
    """Transition counts (rows = last year, columns = this year); the diagonal outlined,
    the Star row (Stars slipping) highlighted."""
    from matplotlib.patches import Rectangle

    if matrix is None or matrix.empty:
        fig, ax = _figure(6.0, 1.2)
        ax.axis("off")
        ax.text(0.0, 0.5, "No migration: last year's window could not be segmented (see the notes).",
                fontsize=9, va="center")
        return fig
    m = matrix.to_numpy(dtype=float)
    rows = [SEGMENT_LABELS.get(r, r) for r in matrix.index]
    cols = [SEGMENT_LABELS.get(c, c) for c in matrix.columns]
    fig, ax = _figure(1.2 * len(cols) + 2.6, 0.7 * len(rows) + 1.6)
    row_tot = m.sum(axis=1, keepdims=True)
    share = np.divide(m, row_tot, out=np.zeros_like(m), where=row_tot > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.grid(False)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{int(m[i, j])}\n{fmt_share(share[i, j])}" if m[i, j] else "0", ha="center",
                    va="center", fontsize=8, color="white" if share[i, j] > 0.6 else "#1a202c")
            if i == j:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#2d3748", lw=1.2))
    if STAR in list(matrix.index):
        i = list(matrix.index).index(STAR)
        ax.add_patch(Rectangle((-0.5, i - 0.5), m.shape[1], 1, fill=False, ec="#c53030", lw=2))
    ax.set_xticks(range(len(cols)), cols, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("segment this year")
    ax.set_ylabel("segment last year")
    ax.set_title(f"Migration (count and share of last year's segment; red = {SEGMENT_LABELS[STAR]})", fontsize=10,
                 loc="left")
    return fig


def dpm_bubble(dpm: pd.DataFrame, attractiveness_split: float | None = None,
               strength_split: float | None = None, max_labels: int = 30) -> Figure:
    """McDonald's directional policy matrix: relative strength (x, log scale, high on the left as
    in the classic chart) against attractiveness (y, 0-10); bubble area = our revenue.

    The box boundaries default to those the DPM was computed with (its ``attractiveness_split``
    and ``strength_split`` columns), else 5 and 1."""
    from matplotlib.ticker import FuncFormatter

    fig, ax = _figure(8.5, 6.0)
    d = dpm.reset_index(drop=True)
    if attractiveness_split is None:
        attractiveness_split = (float(d["attractiveness_split"].iloc[0])
                                if "attractiveness_split" in d and len(d) else 5.0)
    if strength_split is None:
        strength_split = (float(d["strength_split"].iloc[0])
                          if "strength_split" in d and len(d) else 1.0)
    x = d["relative_strength"].to_numpy(dtype=float)
    lo = min(0.5, np.nanmin(x) / 1.25) if len(d) else 0.5
    hi = max(2.0, np.nanmax(x) * 1.25) if len(d) else 2.0
    ax.set_xscale("log")
    ax.set_xlim(hi, lo)  # reversed: strong on the left
    # The 0-10 scale, cut off below the accounts (with room for the lower boxes' titles): key
    # accounts rarely score low, and an empty lower half would squeeze the labels.
    low = min(float(d["attractiveness"].min()), attractiveness_split) if len(d) else 0.0
    y_lo = max(0.0, float(np.floor(low - 1.5)))
    ax.set_ylim(y_lo, 10)
    boxes = [(DPM_STRATEGIC, hi, strength_split, attractiveness_split, 10),
             (DPM_STAR, strength_split, lo, attractiveness_split, 10),
             (DPM_STATUS, hi, strength_split, y_lo, attractiveness_split),
             (DPM_STREAMLINE, strength_split, lo, y_lo, attractiveness_split)]
    corners = {DPM_STRATEGIC: (0.01, 0.99, "left", "top"), DPM_STAR: (0.99, 0.99, "right", "top"),
               DPM_STATUS: (0.01, 0.01, "left", "bottom"),
               DPM_STREAMLINE: (0.99, 0.01, "right", "bottom")}
    titles = []
    for name, x0, x1, y0, y1 in boxes:
        ax.fill_between([x1, x0], y0, y1, color=DPM_COLOURS[name], alpha=0.08, lw=0)
        cx, cy, ha, va = corners[name]
        label = f"{name} (DPM)" if name == DPM_STAR else name
        titles.append(ax.text(cx, cy, f"{label}\n{DPM_STRATEGIES[name].lower()}", ha=ha, va=va,
                              transform=ax.transAxes, fontsize=8, color=DPM_COLOURS[name],
                              fontweight="bold", alpha=0.9))
    ax.axhline(attractiveness_split, color="#4a5568", lw=0.9, ls="--")
    ax.axvline(strength_split, color="#4a5568", lw=0.9, ls="--")
    for name in DPM_COLOURS:
        mk = (d["dpm_box"] == name).to_numpy()
        if mk.any():
            ax.scatter(x[mk], d["attractiveness"].to_numpy()[mk],
                       s=_bubble_sizes(d["revenue"].to_numpy(), 900)[mk], c=DPM_COLOURS[name],
                       alpha=0.65, edgecolors="white", linewidths=0.6)
    from matplotlib.ticker import FixedLocator, NullFormatter

    ticks = [t for t in (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 10) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}x"))
    ax.set_xlabel("our relative strength (ours / best competitor), log scale - stronger to the left")
    ax.set_ylabel("account attractiveness (0-10 scale)")
    ax.set_title(f"Directional policy matrix: {len(d)} key accounts, bubble area = our revenue; "
                 f"attractive = above {attractiveness_split:.1f}", fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if len(d):
        dd = d.sort_values("revenue", ascending=False)
        names = dd["name"] if "name" in dd else dd["account_id"]
        left = place_labels(fig, ax, dd["relative_strength"], dd["attractiveness"], _short(names),
                            max_labels=max_labels, avoid=titles)
        if left:
            ax.set_title(ax.get_title(loc="left") + f" ({left} not labelled)", fontsize=10,
                         loc="left")
    return fig


def segment_profile(summary: pd.DataFrame) -> Styler:
    """The segment profile as a formatted table (HTML-friendly pandas Styler): accounts,
    revenue, margin and key accounts per segment with their shares, and the strategy."""
    cols = {"label": "Segment", "n_accounts": "Accounts", "share_accounts": "% of all accounts",
            "revenue": "Revenue", "share_revenue": "% revenue", "margin": "Margin",
            "share_margin": "% margin", "potential": "Potential", "n_key": "Key accounts",
            "share_key": "% of key", "growth_median": "Median growth", "strategy": "Strategy"}
    t = summary[list(cols)].rename(columns=cols)
    pct = ["% of all accounts", "% revenue", "% margin", "% of key"]
    sty = (
        t.style.hide(axis="index")
        # one format call: with pandas 3 a second call drops the formats of the first; every
        # call escapes (a format call resets every column it does not name to no escaping)
        .format({**{c: share for c in pct},
                 **{c: _money for c in ("Revenue", "Margin", "Potential")},
                 "Median growth": lambda v: DASH if missing(v) else f"{v:+.2f}"}, escape="html")
        .bar(subset=pd.IndexSlice[t.index[t["Segment"] != "Total"], ["% revenue", "% of all accounts"]],
             color="#bee3f8", vmin=0, vmax=1)
        .set_table_styles([
            {"selector": "th",
             "props": "text-align: left; padding: 4px 8px; border-bottom: 1px solid #a0aec0"},
            {"selector": "td", "props": "padding: 3px 8px"},
        ])
    )
    total = t.index[t["Segment"] == "Total"]
    if len(total):
        sty = sty.set_properties(subset=pd.IndexSlice[total, :], **{"font-weight": "bold",
                                                                   "border-top": "1px solid #a0aec0"})
    return sty


def movers_table(movers: pd.DataFrame) -> Styler | pd.DataFrame:
    """The accounts that changed segment, as an HTML table with slipping Stars in red."""
    if movers.empty:
        return movers
    t = movers.copy()
    for col in ("segment_prev", "segment"):
        t[col] = t[col].map(lambda s: SEGMENT_LABELS.get(s, s))
    money_cols = [c for c in ("revenue_prev", "revenue") if c in t]

    def slipping(row: pd.Series) -> list[str]:
        style = "color: #c62828; font-weight: bold" if row.get("star_slipping", False) else ""
        return [style] * len(row)

    return (t.style.hide(axis="index").apply(slipping, axis=1)
            .format({c: _money for c in money_cols}, escape="html"))


def dpm_table(dpm: pd.DataFrame) -> Styler | pd.DataFrame:
    """The DPM of the key accounts as an HTML table, the box coloured like the chart."""
    cols = [c for c in ("account_id", "name", "attractiveness", "strength", "relative_strength",
                        "dpm_box", "dpm_strategy", "segment") if c in dpm]
    if dpm.empty:
        return dpm[cols]
    t = dpm[cols]

    def box_colour(v: object) -> str:
        c = DPM_COLOURS.get(str(v))
        return f"color: {c}; font-weight: bold" if c else ""

    return (t.style.hide(axis="index").map(box_colour, subset=["dpm_box"])
            .format({"attractiveness": "{:.1f}", "strength": "{:.1f}",
                     "relative_strength": "{:.2f}x"}, na_rep=DASH, escape="html"))
