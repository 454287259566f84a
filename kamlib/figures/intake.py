"""Figures of the intake step: data quality, revenue concentration and revenue over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamlib.figures import PALETTE, money, money_axis
from kamlib.formatting import count as fmt_count, share as fmt_share

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


def data_quality_figure(accounts) -> Figure:
    """Rows set aside, by table and reason, with the share of all rows read in the title.

    Parameters
    ----------
    accounts : list of kamlib.intake.accounting.RowAccount
        ``IntakeResult.row_accounts``.
    """
    import matplotlib.pyplot as plt

    from kamlib.intake.accounting import POLICY_REASONS

    items = [(f"{a.table}: {r}", n, r in POLICY_REASONS) for a in accounts
             for r, n in sorted(a.reasons.items(), key=lambda kv: -kv[1])]
    read = sum(a.rows_read for a in accounts)
    aside = sum(a.rows_set_aside for a in accounts)
    fig, ax = plt.subplots(figsize=(8, 0.42 * max(len(items), 2) + 1.3))
    if items:
        labels = [i[0] for i in items][::-1]
        counts = [i[1] for i in items][::-1]
        colors = [PALETTE["neutral"] if i[2] else PALETTE["accent"] for i in items][::-1]
        bars = ax.barh(labels, counts, color=colors)
        ax.bar_label(bars, labels=[fmt_count(c) for c in counts], padding=3, fontsize=9)
        ax.set_xlabel("rows set aside")
        ax.margins(x=0.12)
        ax.grid(axis="y", visible=False)
    else:
        ax.text(0.5, 0.5, "No row was set aside.", ha="center", va="center", fontsize=12,
                transform=ax.transAxes)
        ax.set_axis_off()
    share = aside / read if read else 0.0
    ax.set_title(f"{fmt_count(aside)} of {fmt_count(read)} input rows set aside ({fmt_share(share, digits=2)}), by reason")
    plt.close(fig)
    return fig


def pareto_figure(curve: pd.DataFrame, value_label: str = "revenue, last 12 months") -> Figure:
    """Cumulative share of revenue against share of accounts, largest first (the Pareto curve).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`kamlib.intake.features.pareto_curve`.
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
        ax.annotate(f"top {fmt_share(share)} of accounts: {fmt_share(v)} of {value_label}", (share, v),
                    xytext=(8, -14), textcoords="offset points", color=color, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    fmt = plt.FuncFormatter(lambda v, _p: fmt_share(v))
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
        From :func:`kamlib.intake.features.monthly_revenue` (month, revenue, margin, ...).
    as_of : date
        End of the last window.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    from kamlib.intake.aggregates import window_bounds

    fig, ax = plt.subplots(figsize=(9, 4.0))
    months = pd.to_datetime(monthly["month"])
    ax.bar(months, monthly["revenue"], width=27, align="edge", color=PALETTE["primary"],
           label="net revenue")
    ax.plot(months + pd.Timedelta(days=14), monthly["margin"], color=PALETTE["accent"], lw=2,
            label="gross margin")
    bounds = [pd.Timestamp(b) for b in window_bounds(as_of)]
    labels = ("last 12 months", "12 months before", "the 12 before")
    for k in range(3):
        hi, lo = bounds[k], bounds[k + 1]
        if k % 2 == 0:
            ax.axvspan(lo, hi, color=PALETTE["light"], alpha=0.6, lw=0, zorder=0)
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
