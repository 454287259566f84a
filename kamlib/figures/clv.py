"""Figures of the CLV step: holdout check, calibration, P(alive), CLV per account.

Each function takes tables of :func:`kamlib.clv.run`'s result
(:class:`~kamlib.clv.entry.CLVResult`) and returns a matplotlib ``Figure`` for ``step.figure``.
Figures are drawn with pyplot (so a notebook shows them inline)
and closed straight away (so they are shown once, where the notebook hands them on).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kamlib.clv.value import LOST_POPULATION, PURCHASE_MODELS, probably_lost
from kamlib.figures import PALETTE, count_axis, money_axis
from kamlib.formatting import part_of
from kamlib.formatting import share as fmt_share
from kamlib.vocabulary import KEY

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure



def _figure(width: float, height: float, ncols: int = 1, **kw):
    """A figure with a fixed layout: cheaper to draw than the style's constrained layout.

    ``step.figure`` renders each figure once, to a PNG with a tight bounding box, which draws it
    twice (once to measure, once to render); constrained layout and automatic title placement
    would redo their text measurements on each draw, about a third of the drawing time.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="none", **kw)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.88, wspace=0.06)
    return fig, axes


def _title(ax, text: str) -> None:
    # An explicit y switches off matplotlib's title auto-placement (a text measurement per draw).
    ax.set_title(text, y=1.0, pad=8)


def _plural(unit: str) -> str:
    return f"{unit}s"


def _key_mask(ids: pd.Series, key_accounts: Iterable[str] | None) -> np.ndarray:
    if key_accounts is None:
        return np.zeros(len(ids), bool)
    return ids.astype(str).isin(set(map(str, key_accounts))).to_numpy()


def holdout_tracking(tracking: pd.DataFrame, calibration_end, time_unit: str,
                     errors: pd.DataFrame | None = None) -> Figure:
    """Cumulative repeat purchase occasions: actual vs the model fitted on calibration data only.

    Parameters
    ----------
    tracking : DataFrame
        :func:`kamlib.clv.holdout.cumulative_tracking` (``date, actual, expected``).
    calibration_end : date
    time_unit : str
    errors : DataFrame, optional
        :func:`kamlib.clv.holdout.error_summary`; its total error goes into the title.
    """
    import matplotlib.pyplot as plt

    fig, ax = _figure(7.5, 3.8)
    ax.plot(tracking["date"], tracking["actual"], color="black", lw=2, label="actual")
    ax.plot(tracking["date"], tracking["expected"], color=PALETTE["primary"], lw=2, ls="--",
            label="model, fitted on the calibration period only")
    cut = pd.Timestamp(calibration_end)
    ax.axvspan(cut, tracking["date"].max(), color=PALETTE["light"], alpha=0.6, lw=0)
    ax.text(cut, 0.02, "  holdout: a true forecast", transform=ax.get_xaxis_transform(),
            fontsize=9, color=PALETTE["neutral"])
    count_axis(ax.yaxis)
    ax.set_ylabel("repeat purchase occasions\n(cumulative, all accounts)")
    title = "Holdout check: forecast vs what happened"
    if errors is not None and len(errors):
        e = errors.set_index("measure")["value"]["total_error_pct"]
        if np.isfinite(e):
            title = (f"Holdout check: the forecast was {abs(e):.1f} % "
                     f"{'below' if e < 0 else 'above'} what happened")
        cov = errors.set_index("measure")["value"].get("interval_coverage", np.nan)
        if np.isfinite(cov):
            title += f";\n{fmt_share(cov)} of accounts fell inside their predictive interval"
    _title(ax, title)
    ax.legend(loc="upper left")
    for label in ax.get_xticklabels():
        label.set_rotation(0)
    plt.close(fig)
    return fig


def calibration_by_frequency(calib: pd.DataFrame, holdout_length: float, time_unit: str) -> Figure:
    """Mean predicted vs actual holdout purchases, accounts grouped by past frequency."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(7.5, 3.6)
    x = np.arange(len(calib))
    ax.bar(x - 0.2, calib["actual"], 0.4, color=PALETTE["neutral"], label="actual")
    ax.bar(x + 0.2, calib["predicted"], 0.4, color=PALETTE["primary"], label="predicted")
    ax.set_xticks(x, [f"{b}\n({n} acc.)" for b, n in zip(calib["bucket"], calib["accounts"])],
                  fontsize=8)
    ax.set_xlabel("repeat purchase occasions in the calibration period")
    ax.set_ylabel(f"purchases per account in the\nnext {holdout_length:.0f} {_plural(time_unit)}")
    _title(ax, "Calibration: predicted vs actual, by past frequency")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left")
    plt.close(fig)
    return fig


def p_alive_distribution(clv: pd.DataFrame, key_accounts: Iterable[str] | None = None) -> Figure:
    """P(alive) against the time since the last purchase, for accounts of the purchase model.

    Silence means little for an account that orders twice a year and a lot for one that orders
    every week: the scatter shows P(alive) falling once the silence outgrows the account's own
    rhythm. Accounts on annual contracts (known alive or churned) are left out.
    """
    import matplotlib.pyplot as plt

    d = clv[clv["model"].astype(str).str.startswith(PURCHASE_MODELS)]
    unit = str(d["time_unit"].iloc[0]) if len(d) else "week"
    silent = (d["T"] - d["recency"]).to_numpy(float)
    p = d["p_alive"].to_numpy(float)
    key = _key_mask(d["account_id"], key_accounts)
    fig, ax = _figure(7.5, 3.8)
    ax.scatter(silent[~key], p[~key], s=14, color=PALETTE["primary"], alpha=0.45, lw=0,
               label="accounts")
    if key.any():
        ax.scatter(silent[key], p[key], s=30, color=PALETTE[KEY], lw=0, label="key accounts")
    ax.axhline(0.5, color=PALETTE["neutral"], lw=0.8, ls=":")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(0, max(float(silent.max()) if len(silent) else 1.0, 1.0) * 1.3)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"{_plural(unit)} since the last purchase (log scale)")
    ax.set_ylabel("P(alive)")
    lost, among = probably_lost(clv)
    _title(ax, f"P(alive): {part_of(lost, among, LOST_POPULATION)} are probably lost (below 50 %)")
    if (~clv["model"].astype(str).str.startswith(PURCHASE_MODELS)).any():
        ax.text(1.0, -0.22, "accounts on annual contracts and without purchases not shown",
                transform=ax.transAxes, ha="right", fontsize=8, color=PALETTE["neutral"])
    ax.legend(loc="center left")
    plt.close(fig)
    return fig


def clv_distribution(clv: pd.DataFrame, key_accounts: Iterable[str] | None = None,
                     currency: str = "") -> Figure:
    """Accounts ranked by CLV with their intervals; key accounts marked when known."""
    import matplotlib.pyplot as plt

    d = (clv[clv["model"] != "no purchases"].sort_values("clv", ascending=False)
         .reset_index(drop=True))
    total = d["clv"].clip(lower=0).sum()
    share = d["clv"].clip(lower=0).head(max(1, len(d) // 5)).sum() / total if total > 0 else np.nan
    # A log axis cannot show zero: accounts worth (next to) nothing are counted, not drawn.
    floor = float(d["clv"].max()) * 1e-4 if len(d) else 1.0
    shown = d[d["clv"] > floor]
    rank = np.arange(1, len(shown) + 1)
    fig, ax = _figure(7.5, 3.8)
    ax.fill_between(rank, shown["clv_low"].clip(lower=floor), shown["clv_high"], lw=0,
                    color=PALETTE["primary"], alpha=0.3, label="interval")
    ax.plot(rank, shown["clv"], color=PALETTE["primary"], lw=1.5, label="CLV")
    key = _key_mask(shown["account_id"], key_accounts)
    if key.any():
        ax.scatter(rank[key], shown["clv"][key], color=PALETTE[KEY], s=18, zorder=3,
                   label="key accounts")
    ax.set_yscale("log")
    money_axis(ax.yaxis)
    ax.yaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlim(0, len(d) + 1)
    ax.set_xlabel(f"accounts ranked by CLV ({len(d) - len(shown)} worth next to nothing "
                  "not drawn)")
    ax.set_ylabel(f"CLV, log scale {currency}".strip())
    _title(ax, f"CLV by account: the top 20 % hold {fmt_share(share)} of the future margin")
    ax.legend(loc="upper right")
    plt.close(fig)
    return fig


def clv_accounts(clv: pd.DataFrame, names: pd.Series | None = None,
                 key_accounts: Iterable[str] | None = None, top: int = 20,
                 currency: str = "") -> Figure:
    """Per account: CLV with its interval, and the investment ceiling next to the cost to serve.

    Shows the key accounts when they are known (largest CLV first, at most ``top``), otherwise the
    ``top`` accounts by CLV.

    Parameters
    ----------
    clv : DataFrame
        The ``clv`` table.
    names : Series, optional
        Account names indexed by account_id, for the labels.
    key_accounts : iterable of str, optional
    top : int
    currency : str
    """
    import matplotlib.pyplot as plt

    d = clv.copy()
    key = _key_mask(d["account_id"], key_accounts)
    pool = d[key] if key.any() else d
    d = pool.nlargest(top, "clv").iloc[::-1]
    label = d["account_id"].astype(str)
    if names is not None:
        nm = d["account_id"].astype(str).map(names)
        label = nm.fillna(label).astype(str).str.slice(0, 28)
    y = np.arange(len(d))
    height = 0.3 * len(d) + 1.6
    fig, (ax1, ax2) = _figure(9.5, height, 2, sharey=True, gridspec_kw={"width_ratios": [1.25, 1]})
    fig.subplots_adjust(left=0.25, top=1 - 0.75 / height, bottom=0.55 / height)
    err = np.vstack([(d["clv"] - d["clv_low"]).clip(lower=0),
                     (d["clv_high"] - d["clv"]).clip(lower=0)])
    ax1.barh(y, d["clv"], color=PALETTE[KEY] if key.any() else PALETTE["primary"], alpha=0.85)
    ax1.errorbar(d["clv"], y, xerr=err, fmt="none", ecolor="black", elinewidth=1, capsize=2)
    ax1.set_yticks(y, label, fontsize=8)
    money_axis(ax1.xaxis)
    ax1.xaxis.set_major_locator(plt.MaxNLocator(4))
    ax1.set_xlabel(currency)
    _title(ax1, "CLV with its interval")
    ax1.grid(axis="y", visible=False)
    h = 0.38
    ax2.barh(y + h / 2, d["investment_ceiling"], h, color=PALETTE["accent"],
             label="investment ceiling")
    ax2.barh(y - h / 2, d["cost_to_serve"].fillna(0), h, color=PALETTE["neutral"],
             label="cost to serve")
    unknown = d["cost_to_serve"].isna().to_numpy()
    for yi in y[unknown]:
        ax2.text(0, yi - h / 2, " cost unknown", va="center", fontsize=7, color=PALETTE["neutral"])
    money_axis(ax2.xaxis)
    ax2.xaxis.set_major_locator(plt.MaxNLocator(4))
    ax2.set_xlabel(f"{currency} per year".strip())
    _title(ax2, "Ceiling vs cost to serve")
    ax2.grid(axis="y", visible=False)
    ax2.legend(loc="lower right", fontsize=8)
    if key.any():
        who = ("Key accounts" if len(pool) <= top
               else f"The {len(d)} key accounts of largest CLV (of {len(pool)})")
    else:
        who = f"Top {len(d)} accounts by CLV"
    fig.suptitle(f"{who}: what they are worth and what they may cost", fontweight="bold",
                 x=0.01, ha="left")
    plt.close(fig)
    return fig


__all__ = ["holdout_tracking", "calibration_by_frequency", "p_alive_distribution",
           "clv_distribution", "clv_accounts"]


def holdout_intervals(holdout: pd.DataFrame, level: float, time_unit: str,
                      max_accounts: int = 400) -> Figure:
    """Each account's predictive interval of its holdout purchases, and what it really bought.

    Accounts are sorted by the predicted count; a dot outside its bar is a miss. The title gives
    the coverage: the share of accounts inside their interval (it should be close to ``level``).
    More than ``max_accounts`` accounts: an evenly spaced selection is drawn, the coverage is
    of all of them.
    """
    import matplotlib.pyplot as plt

    d = holdout.sort_values(["predicted", "account_id"], kind="stable").reset_index(drop=True)
    coverage = float(d["inside"].mean()) if len(d) else np.nan
    if len(d) > max_accounts:
        d = d.iloc[np.linspace(0, len(d) - 1, max_accounts).round().astype(int)]
    x = np.arange(len(d))
    fig, ax = _figure(7.5, 3.8)
    ax.vlines(x, d["predicted_low"], d["predicted_high"], color=PALETTE["light"], lw=2,
              label=f"{fmt_share(level)} predictive interval")
    inside = d["inside"].astype(bool).to_numpy()
    ax.scatter(x[inside], d["actual"][inside], s=6, color=PALETTE["primary"], zorder=3,
               label="actual, inside")
    ax.scatter(x[~inside], d["actual"][~inside], s=10, color=PALETTE["accent"], zorder=3,
               label="actual, outside")
    count_axis(ax.yaxis)
    ax.set_xlabel("accounts, sorted by predicted purchases")
    ax.set_ylabel(f"purchases in the holdout\n({len(holdout)} accounts)")
    ax.set_xticks([])
    _title(ax, f"Coverage: {fmt_share(coverage)} of accounts inside their {fmt_share(level)} interval")
    ax.legend(loc="upper left")
    plt.close(fig)
    return fig


def whale_curve(profitability: pd.DataFrame, currency: str = "",
                key_accounts: Iterable[str] | None = None) -> Figure:
    """Cumulative net profit (margin - cost to serve), accounts sorted by their net profit.

    The curve rises above the total and falls back over the accounts that cost more than they
    bring; its peak is marked, and key accounts are dots on the curve.
    """
    import matplotlib.pyplot as plt

    d = profitability
    fig, ax = _figure(7.5, 3.8)
    share = 100 * d["accounts_share"].to_numpy()
    cum = d["cumulative_net_profit"].to_numpy(float)
    ax.plot(share, cum, color=PALETTE["primary"], lw=2, label="cumulative net profit")
    total = float(d["net_profit"].sum()) if len(d) else 0.0
    ax.axhline(total, color=PALETTE["neutral"], lw=1, ls=":", label="total net profit")
    if len(d):
        i = int(np.argmax(cum))
        ax.scatter([share[i]], [cum[i]], color=PALETTE["accent"], s=30, zorder=3,
                   label=f"peak after {i + 1} accounts")
        key = _key_mask(d["account_id"], key_accounts)
        if key.any():
            ax.scatter(share[key], cum[key], color=PALETTE[KEY], s=12, zorder=3,
                       label="key accounts")
    money_axis(ax.yaxis)
    ax.set_xlabel("accounts sorted by net profit this year (% of accounts)")
    ax.set_ylabel(f"net profit, cumulative {currency}".strip())
    losers = int((d["net_profit"] < 0).sum())
    _title(ax, f"Whale curve: {losers} accounts cost more than they bring")
    ax.legend(loc="lower left")
    plt.close(fig)
    return fig
