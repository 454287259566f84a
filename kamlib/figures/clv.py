"""Figures of the CLV step: holdout tracking, calibration, P(alive) and CLV distributions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _fig(w=7.0, h=3.6):
    fig = Figure(figsize=(w, h))
    return fig, fig.add_subplot(1, 1, 1)


def holdout_tracking(tracking: pd.DataFrame, calibration_end, time_unit: str) -> Figure:
    """Cumulative repeat purchase occasions: actual vs the model, across calibration and holdout."""
    fig, ax = _fig()
    ax.plot(tracking["date"], tracking["actual"], color="black", lw=2, label="actual")
    ax.plot(tracking["date"], tracking["expected"], color="tab:blue", lw=2, ls="--",
            label="model (fitted on calibration only)")
    ax.axvline(pd.Timestamp(calibration_end), color="grey", lw=1)
    ax.text(pd.Timestamp(calibration_end), ax.get_ylim()[1] * 0.95, "  holdout starts",
            va="top", fontsize=8, color="grey")
    ax.set_ylabel("cumulative repeat purchase occasions")
    ax.set_title(f"Holdout tracking (model time unit: {time_unit})")
    ax.legend(loc="upper left", frameon=False)
    fig.autofmt_xdate()
    return fig


def calibration_by_frequency(calib: pd.DataFrame, holdout_length: float, time_unit: str) -> Figure:
    """Mean predicted vs actual holdout purchases by purchases made in the calibration period."""
    fig, ax = _fig()
    x = np.arange(len(calib))
    ax.bar(x - 0.2, calib["actual"], 0.4, color="0.3", label="actual")
    ax.bar(x + 0.2, calib["predicted"], 0.4, color="tab:blue", label="predicted")
    ax.set_xticks(x, [str(b) for b in calib["bucket"]])
    ax.set_xlabel("repeat purchase occasions in the calibration period")
    ax.set_ylabel(f"purchases per account\nin the next {holdout_length:.0f} {time_unit}s")
    ax.set_title("Calibration: predicted vs actual, by past frequency")
    for xi, n in zip(x, calib["accounts"]):
        ax.text(xi, 0, f"n={n}", ha="center", va="bottom", fontsize=7, color="white")
    ax.legend(frameon=False)
    return fig


def p_alive_distribution(clv: pd.DataFrame) -> Figure:
    """Histogram of P(alive) across accounts that have bought."""
    fig, ax = _fig()
    p = clv["p_alive"].dropna()
    ax.hist(p, bins=np.linspace(0, 1, 21), color="tab:green", edgecolor="white")
    ax.set_xlabel("P(alive): probability the account is still buying from us")
    ax.set_ylabel("accounts")
    at_risk = (p < 0.5).mean() if len(p) else np.nan
    ax.set_title(f"P(alive) across accounts ({at_risk:.0%} below 50 %)")
    return fig


def clv_distribution(clv: pd.DataFrame, key_accounts: Iterable[str] | None = None,
                     currency: str = "") -> Figure:
    """Accounts ranked by CLV with their intervals; key accounts marked when known."""
    fig, ax = _fig(7.5, 4.0)
    d = clv[clv["model"] != "no purchases"].sort_values("clv", ascending=False).reset_index(drop=True)
    rank = np.arange(1, len(d) + 1)
    ax.fill_between(rank, d["clv_low"], d["clv_high"], color="tab:blue", alpha=0.2,
                    label="interval")
    ax.plot(rank, d["clv"], color="tab:blue", lw=1.5, label="CLV")
    if key_accounts is not None:
        key = d["account_id"].isin(set(key_accounts))
        ax.scatter(rank[key], d.loc[key, "clv"], color="tab:red", s=18, zorder=3,
                   label="key accounts")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=max(1.0, float(d["clv"].abs().median() or 1)))
    ax.set_ylim(bottom=min(0.0, float(d["clv"].min())) if len(d) else 0.0)
    ax.set_xlabel("account rank by CLV (log scale)")
    ax.set_ylabel(f"CLV {currency}".strip())
    top = d["clv"].clip(lower=0)
    share = top.head(max(1, len(d) // 5)).sum() / top.sum() if top.sum() > 0 else np.nan
    ax.set_title(f"CLV by account: the top 20 % hold {share:.0%} of the value")
    ax.legend(frameon=False)
    return fig
