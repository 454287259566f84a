"""Figures of the intake step: data quality, revenue concentration and revenue over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamlib.figures import PALETTE, money, money_axis

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


def data_quality_figure(dq: pd.DataFrame) -> Figure:
    """Share of each input table's rows used and set aside (with counts)."""
    import matplotlib.pyplot as plt

    dq = dq.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(dq) + 1.2))
    read = dq["rows_read"].clip(lower=1).to_numpy(dtype=float)
    used = dq["rows_used"].to_numpy(dtype=float) / read
    aside = dq["rows_set_aside"].to_numpy(dtype=float) / read
    ax.barh(dq["table"], used, color=PALETTE["primary"], label="used")
    ax.barh(dq["table"], aside, left=used, color=PALETTE["accent"], label="set aside")
    for y, (_, r) in enumerate(dq.iterrows()):
        ax.text(1.01, y, f"{r.rows_used:,} used, {r.rows_set_aside:,} set aside",
                va="center", fontsize=9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.set_title("Every input row is used or set aside with a reason")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=9)
    ax.grid(axis="y", visible=False)
    plt.close(fig)
    return fig


def pareto_figure(curve: pd.DataFrame, value_label: str = "revenue, last 12 months") -> Figure:
    """Cumulative share of revenue against share of accounts, largest first (the Pareto curve).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`kamlib.features.pareto_curve`.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 4.4))
    x = np.r_[0, curve["account_share"].to_numpy()]
    y = np.r_[0, curve["value_share"].to_numpy()]
    ax.plot(x, y, color=PALETTE["primary"], lw=2)
    ax.plot([0, 1], [0, 1], color=PALETTE["neutral"], lw=1, ls="--", label="every account equal")
    for share, color in ((0.2, PALETTE["accent"]), (0.05, PALETTE["bad"])):
        v = float(np.interp(share, x, y))
        ax.plot([share, share, 0], [0, v, v], color=color, lw=1)
        ax.annotate(f"top {share:.0%} of accounts: {v:.0%} of {value_label}", (share, v),
                    xytext=(8, -14), textcoords="offset points", color=color, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    fmt = plt.FuncFormatter(lambda v, _p: f"{v:.0%}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlabel("share of accounts (largest first)")
    ax.set_ylabel(f"cumulative share of {value_label}")
    ax.set_title("Revenue concentration: a few accounts carry the business")
    ax.legend(loc="lower right", fontsize=9)
    plt.close(fig)
    return fig


def monthly_revenue_figure(monthly: pd.DataFrame, as_of, currency: str = "") -> Figure:
    """Net revenue and margin per month, with the three trailing 12-month windows shaded.

    Parameters
    ----------
    monthly : pandas.DataFrame
        From :func:`kamlib.features.monthly_revenue` (month, revenue, margin, ...).
    as_of : date
        End of the last window.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    from kamlib.features import window_bounds

    fig, ax = plt.subplots(figsize=(9, 4.0))
    months = pd.to_datetime(monthly["month"])
    ax.bar(months, monthly["revenue"], width=25, color=PALETTE["primary"], label="net revenue")
    ax.plot(months + pd.Timedelta(days=14), monthly["margin"], color=PALETTE["accent"], lw=2,
            label="gross margin")
    bounds = [pd.Timestamp(b) for b in window_bounds(as_of)]
    labels = ("last 12 months", "12 months before", "the 12 before")
    for k in range(3):
        hi, lo = bounds[k], bounds[k + 1]
        if k % 2 == 0:
            ax.axvspan(lo, hi, color=PALETTE["light"], alpha=0.5, lw=0)
        total = monthly.loc[(months > lo) & (months <= hi), "revenue"].sum()
        ax.text(lo + (hi - lo) / 2, 1.0, f"{labels[k]}\n{money(total, currency)}",
                transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8.5,
                color="#444444")
    money_axis(ax.yaxis, currency)
    ax.set_title("Revenue by month (returns netted)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.1), ncol=2, fontsize=9)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.18)
    plt.close(fig)
    return fig
