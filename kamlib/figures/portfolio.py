"""Portfolio-level figures: segment split, manager workload, effort against value, review.

Pure functions: each takes result tables and returns a matplotlib Figure (nothing is saved or
shown here; the notebook passes the figure to ``step.figure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kamlib.figures import PALETTE
from kamlib.vocabulary import AMBER, GREEN, KEY, LAGGARD, RED, SEGMENTS, STAR, TIERS
from kamlib.formatting import date as fmt_date
from kamlib.formatting import share as fmt_share

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SEGMENT_ORDER: tuple[str, ...] = SEGMENTS
# the project palette, so a segment or tier has one colour in every step
SEGMENT_COLOURS: dict[str, str] = {s: PALETTE[s] for s in SEGMENTS}
TIER_COLOURS: dict[str, str] = {t: PALETTE[t] for t in TIERS}
REVIEW_COLOURS: dict[str, str] = {
    "met": "#2f855a", "on track": "#68d391", "open": "#a0aec0", "behind": "#dd6b20",
    "missed": "#c53030", "no data": "#e2e8f0",
    "done": "#2f855a", "checkpoint passed": "#dd6b20", "overdue": "#c53030",
    "dropped": "#718096",
}


def _figure(w: float, h: float) -> tuple[Figure, object]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=110, layout="constrained")
    return fig, fig.add_subplot()


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def segment_split_figure(features: pd.DataFrame, segments: pd.DataFrame,
                         measures: tuple[str, ...] = ("accounts", "revenue_12m", "margin_12m"),
                         ) -> Figure:
    """Share of accounts, revenue and margin held by each segment (100 % stacked bars).

    The classic portfolio lesson in one picture: a few Stars and Core accounts carry most of
    the money; Laggards are many and carry little.
    """
    if segments is None or "segment" not in segments.columns:
        fig, ax = _figure(7.2, 1.2)
        ax.set_axis_off()
        ax.text(0, 0.5, "Portfolio segments are not available in this run: they come from "
                "step 30_segmentation.", va="center", fontsize=10, color="#5a6b7d")
        return fig
    df = segments[["account_id", "segment"]].merge(features, on="account_id", how="left")
    labels = {"accounts": "Segmented accounts", "revenue_12m": "Revenue (12 months)",
              "margin_12m": "Margin (12 months)", "clv": "CLV"}
    rows = {}
    for m in measures:
        if m == "accounts":
            s = df.groupby("segment").size().astype(float)
        elif m in df.columns:
            s = df.groupby("segment")[m].sum().clip(lower=0)
        else:
            continue
        rows[labels.get(m, m)] = s / s.sum() if s.sum() else s
    table = pd.DataFrame(rows).T.reindex(columns=[s for s in SEGMENT_ORDER
                                                  if s in set(df["segment"])]).fillna(0)
    fig, ax = _figure(7.2, 0.55 * len(table) + 1.3)
    left = np.zeros(len(table))
    y = np.arange(len(table))[::-1]
    for seg in table.columns:
        vals = table[seg].to_numpy()
        ax.barh(y, vals, left=left, color=SEGMENT_COLOURS.get(seg, "#718096"), label=seg,
                height=0.62, edgecolor="white")
        for yi, l, v in zip(y, left, vals):
            if v >= 0.06:
                ax.text(l + v / 2, yi, fmt_share(v), ha="center", va="center", fontsize=9,
                        color="white")
        left += vals
    ax.set_yticks(y, table.index)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: fmt_share(v))
    ax.legend(ncols=len(table.columns), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False, fontsize=9)
    _clean(ax)
    ax.set_title("Where the portfolio's value sits", loc="left", fontsize=11, pad=24)
    return fig


def workload_figure(workload: pd.DataFrame, assignment: pd.DataFrame | None = None) -> Figure:
    """Hours per account manager, stacked by tier, against capacity and fair share."""
    w = workload.sort_values("hours", ascending=True).reset_index(drop=True)
    fig, ax = _figure(7.2, 0.42 * len(w) + 1.4)
    y = np.arange(len(w))
    if assignment is not None and "tier" in assignment.columns:
        hrs = assignment.pivot_table(index="manager", columns="tier", values="hours",
                                     aggfunc="sum", fill_value=0.0).reindex(w["manager"]).fillna(0)
        left = np.zeros(len(w))
        for tier in [t for t in TIER_COLOURS if t in hrs.columns] + [
                t for t in hrs.columns if t not in TIER_COLOURS]:
            ax.barh(y, hrs[tier].to_numpy(), left=left, height=0.6, label=tier,
                    color=TIER_COLOURS.get(tier, "#718096"))
            left += hrs[tier].to_numpy()
    else:
        ax.barh(y, w["hours"], height=0.6, color=TIER_COLOURS[KEY], label="hours")
    ax.scatter(w["max_hours"], y, marker="|", s=300, color="#c53030", zorder=3,
               label="capacity")
    ax.scatter(w["fair_share_hours"], y, marker="|", s=160, color="#1a202c", zorder=3,
               label="fair share")
    ax.set_yticks(y, [f"{m}\n{n} accounts" for m, n in zip(w["manager"], w["n_accounts"])],
                  fontsize=9)
    ax.set_xlabel("hours per year")
    ax.set_xlim(0, max(w["max_hours"].max(), w["hours"].max()) * 1.12)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=5, frameon=False, fontsize=8)
    _clean(ax)
    ax.set_title("Account manager workload", loc="left", fontsize=11, pad=22)
    return fig


def effort_value_figure(effort: pd.DataFrame, by: str | None = None,
                        value_label: str = "revenue") -> Figure:
    """Share of account-manager hours against share of value, per segment.

    Bars of equal height mean time follows value; a segment whose hours bar towers over its
    value bar is being served beyond what it earns (or is an investment: say which).
    """
    e = effort.reset_index(drop=True)
    by = by or str(e.columns[0])
    fig, ax = _figure(7.2, 3.2)
    x = np.arange(len(e))
    colours = [SEGMENT_COLOURS.get(str(s), TIER_COLOURS.get(str(s), "#718096")) for s in e[by]]
    ax.bar(x - 0.19, e["hours_share"], width=0.38, color=colours, label="share of hours")
    ax.bar(x + 0.19, e["value_share"], width=0.38, color=colours, alpha=0.45, hatch="//",
           edgecolor="white", label=f"share of {value_label}")
    for xi, (h, v) in enumerate(zip(e["hours_share"], e["value_share"])):
        ax.text(xi - 0.19, h, fmt_share(h), ha="center", va="bottom", fontsize=8)
        ax.text(xi + 0.19, v, fmt_share(v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [f"{s}\n({n} acc.)" for s, n in zip(e[by], e["n_accounts"])])
    ax.yaxis.set_major_formatter(lambda v, _: fmt_share(v))
    ax.set_ylim(0, max(e["hours_share"].max(), e["value_share"].max()) * 1.18 + 1e-9)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#4a5568", label="share of hours"),
                       Patch(facecolor="#4a5568", alpha=0.45, hatch="//", edgecolor="white",
                             label=f"share of {value_label}")], frameon=False, fontsize=9)
    _clean(ax)
    ax.set_title(f"Effort against value by {by}", loc="left", fontsize=11)
    return fig


def review_figure(review) -> Figure:
    """How the last plan went: objectives and actions by review outcome (stacked bars).

    Parameters
    ----------
    review : PlanReview or None
        The plan review (``PortfolioReview.audit``, :mod:`kamlib.review.audit`); None (no
        baseline) draws a note saying how the review will come.
    """
    if review is None:
        fig, ax = _figure(7.2, 1.0)
        ax.set_axis_off()
        ax.text(0, 0.5, "No baseline yet: at the next rerun, pass this run as the baseline to "
                "review its objectives and actions.", va="center", fontsize=10,
                color="#5a6b7d")
        return fig
    objectives, actions = review.objectives, review.actions
    fig, ax = _figure(7.2, 2.1)
    rows = [("Actions", actions["review"].value_counts() if len(actions) else pd.Series()),
            ("Objectives", objectives["review"].value_counts() if len(objectives) else pd.Series())]
    for yi, (label, counts) in enumerate(rows):
        left = 0
        for status in REVIEW_COLOURS:
            n = int(counts.get(status, 0))
            if not n:
                continue
            ax.barh(yi, n, left=left, color=REVIEW_COLOURS[status], height=0.6,
                    edgecolor="white")
            ax.text(left + n / 2, yi, f"{status}\n{n}", ha="center", va="center", fontsize=7.5,
                    color="#1a202c" if status in ("open", "no data", "on track") else "white")
            left += n
    ax.set_yticks([0, 1], [r[0] for r in rows])
    ax.set_xlabel("count")
    _clean(ax)
    ax.set_title("Last plan, reviewed", loc="left", fontsize=11)
    return fig


def history_figure(history: pd.DataFrame | None) -> Figure:
    """The portfolio's trend lines, one point per run: Stars' and Laggards' revenue share,
    key accounts by health band, plan completion and the early-warning list.

    Parameters
    ----------
    history : DataFrame or None
        ``portfolio_history`` (:mod:`kamlib.review.history`), oldest run first.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(9.0, 3.0), dpi=110, layout="constrained")
    axes = fig.subplots(1, 3)
    h = history if history is not None else pd.DataFrame()
    x = [fmt_date(d) for d in pd.to_datetime(h["as_of"])]
    panels = [
        ("Revenue share", [(f"{STAR}s", "star_revenue_share", PALETTE[STAR]),
                           (f"{LAGGARD}s", "laggard_revenue_share", PALETTE[LAGGARD])], True),
        ("Key accounts by health", [(GREEN, "health_green", "#2f855a"),
                                    (AMBER, "health_amber", "#dd6b20"),
                                    (RED, "health_red", "#c53030")], False),
        ("The plan", [("completion", "plan_completion", "#2b6cb0")], True),
    ]
    for ax, (title, lines, share) in zip(axes, panels):
        for label, col, colour in lines:
            if col in h.columns:
                ax.plot(x, h[col].to_numpy(float), marker="o", color=colour, label=label)
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(title, loc="left", fontsize=10)
        ax.tick_params(axis="x", labelsize=7.5, rotation=30)
        ax.legend(fontsize=7.5, frameon=False)
        _clean(ax)
    axes[0].set_ylim(0, 1)
    axes[2].set_ylim(0, 1)
    if "early_warnings" in h.columns and len(h):
        ax2 = axes[2].twinx()
        ax2.bar(x, h["early_warnings"].to_numpy(float), color="#a0aec0", alpha=0.35, width=0.4)
        ax2.set_ylim(0, max(1.0, 1.15 * float(h["early_warnings"].max())))
        ax2.set_ylabel("early warnings (bars)", fontsize=8)
        ax2.spines["top"].set_visible(False)
        axes[2].set_zorder(ax2.get_zorder() + 1)  # the line in front of the bars
        axes[2].patch.set_visible(False)
    if len(h) < 2:
        fig.suptitle("One run so far: the lines start at the next quarterly rerun with this run "
                     "as the baseline.", fontsize=8.5, color="#5a6b7d")
    return fig
