"""Figures of the selection step: pure functions of its tables, each returning a Figure.

Plain matplotlib (no seaborn import: it costs half a second per notebook run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kamlib.figures import PALETTE
from kamlib.vocabulary import LONG_TAIL

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

ROBUSTNESS_COLOURS = {"key in almost every scenario": PALETTE["good"],
                      "borderline": PALETTE["accent"],
                      "not key": PALETTE[LONG_TAIL]}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _subplots(*args, **kwargs):
    """``plt.subplots`` without constrained layout.

    Constrained layout re-solves the layout on every draw, and saving a figure draws it twice
    (``bbox_inches="tight"`` measures first): about a fifth of each figure's time. These
    figures set their few spacings themselves; the saved PNG is cropped to its content.
    """
    return _plt().subplots(*args, layout="none", **kwargs)


def weights_by_manager(weights: pd.DataFrame, group: str = "group") -> Figure:
    """Criteria weights: the group's as bars, each manager's as dots beside them.

    ``weights`` is the long table ``criterion, manager, weight[, label]``.
    """
    plt = _plt()
    label_col = "label" if "label" in weights.columns else "criterion"
    wide = weights.pivot_table(index=label_col, columns="manager", values="weight")
    order = wide[group].sort_values().index if group in wide else wide.mean(axis=1).sort_values(
    ).index
    wide = wide.loc[order]
    managers = [m for m in wide.columns if m != group]
    fig, ax = _subplots(figsize=(8, 0.45 * len(wide) + 1.5))
    y = np.arange(len(wide))
    if group in wide:
        ax.barh(y, wide[group], color=PALETTE["light"], edgecolor=PALETTE["primary"],
                label="group (agreed)")
    cmap = plt.get_cmap("tab10")
    for k, m in enumerate(managers):
        jitter = (k - (len(managers) - 1) / 2) * 0.12
        ax.scatter(wide[m], y + jitter, s=28, color=cmap(k % 10), label=m, zorder=3)
    ax.set_yticks(y, wide.index)
    ax.set_xlabel("weight")
    ax.set_title("Criteria weights: each manager beside the group")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def agreement_heatmap(agreement, top: int = 25) -> Figure:
    """Who named which account (cell = the rank the manager gave it) and pairwise overlap.

    ``agreement`` is a :class:`kamlib.selection.agreement.AgreementResult` (its ``lists``
    table is sorted with the most-named accounts first), or None when no top lists were given.
    """
    plt = _plt()
    if agreement is None:
        fig, ax = _subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "No manager top lists to compare (top_rank is empty).", ha="center",
                va="center")
        return fig
    lists, overlap = agreement.lists, agreement.overlap
    managers = list(overlap.columns)
    tab = lists.head(top)
    labels = (tab["name"] if "name" in tab else tab["account_id"]).astype(str).tolist()
    ranks = tab[managers].to_numpy(dtype=float)
    fig, (ax, ax2) = _subplots(1, 2, figsize=(11, 0.3 * len(tab) + 2),
                               gridspec_kw={"width_ratios": [1.3, 1], "wspace": 0.45})
    masked = np.ma.masked_invalid(ranks)
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="#f2f2f2")
    # Every cell carries its number, so neither panel needs a colour bar.
    ax.imshow(masked, aspect="auto", cmap=cmap, vmin=1, vmax=np.nanmax(ranks))
    for i, j in zip(*np.where(~np.isnan(ranks))):
        ax.text(j, i, f"{int(ranks[i, j])}", ha="center", va="center", fontsize=7,
                color="white" if ranks[i, j] <= np.nanmax(ranks) / 2 else "black")
    ax.set_xticks(range(len(managers)), managers, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_title("Top lists: rank each manager gave (grey = not named)", fontsize=10)
    ov = overlap.to_numpy(dtype=float)
    ax2.imshow(ov, cmap="Blues", vmin=0)
    for i in range(len(managers)):
        for j in range(len(managers)):
            ax2.text(j, i, f"{int(ov[i, j])}", ha="center", va="center", fontsize=8,
                     color="white" if ov[i, j] > ov.max() / 2 else "black")
    ax2.set_xticks(range(len(managers)), managers, rotation=45, ha="right")
    ax2.set_yticks(range(len(managers)), managers)
    ax2.set_title("Accounts two managers both named", fontsize=10)
    ax.grid(False)
    ax2.grid(False)
    return fig


def score_breakdown(scores: pd.DataFrame, labels: dict[str, str], top: int | None = None,
                    n_key: int | None = None) -> Figure:
    """Stacked contributions of each criterion to the score of the top accounts.

    ``top`` accounts are shown (default: the key list and the five after it when ``n_key`` is
    given, else 25); with ``n_key`` a dashed line marks the key-list cut-off.
    """
    from matplotlib.collections import PolyCollection

    plt = _plt()
    if top is None:
        top = 25 if n_key is None else n_key + 5
    tab = scores.sort_values("rank").head(top)
    keys = [c[len("contrib_"):] for c in tab.columns if c.startswith("contrib_")]
    contrib = tab[[f"contrib_{k}" for k in keys]].to_numpy(dtype=float)
    names = (tab["name"] if "name" in tab else tab["account_id"]).astype(str).tolist()
    fig, ax = _subplots(figsize=(9, 0.32 * len(tab) + 1.8))
    y = np.arange(len(tab))[::-1]
    left = np.zeros(len(tab))
    cmap = plt.get_cmap("tab20")
    half = 0.75 / 2
    for j, k in enumerate(keys):
        pos = np.clip(contrib[:, j], 0, None)
        # One collection of rectangles per criterion draws the same bars as barh with one
        # artist instead of one per account.
        x0, x1 = left, left + pos
        verts = np.stack([np.column_stack([x0, y - half]), np.column_stack([x0, y + half]),
                          np.column_stack([x1, y + half]), np.column_stack([x1, y - half])],
                         axis=1)
        ax.add_collection(PolyCollection(verts, facecolors=cmap(j % 20), edgecolors="none",
                                         label=labels.get(k, k)), autolim=False)
        left += pos
    ax.set_xlim(0, left.max() * 1.05 if len(tab) and left.max() > 0 else 1)
    ax.set_ylim(-0.6, len(tab) - 0.4)
    ax.yaxis.grid(False)
    ax.set_yticks(y, [f"{r}. {n}" for r, n in zip(tab["rank"], names)], fontsize=8)
    if n_key is not None and n_key < len(tab):
        ax.axhline(y[n_key - 1] - 0.5, color="black", lw=1, ls="--")
        ax.text(left.max(), y[n_key - 1] - 0.5, "key-list cut-off ", va="bottom", ha="right",
                fontsize=8)
    ax.set_xlabel("score (sum of weighted, normalised criteria)")
    ax.set_title("Why these accounts: contribution of each criterion to the score")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.2 / (len(tab) + 6)),
              ncol=4, fontsize=8, frameon=False)
    return fig


def p_key_chart(scores: pd.DataFrame, n_key: int, top: int | None = None) -> Figure:
    """P(key) of the accounts around the cut-off, coloured by robustness class, with each
    account's 90 % rank interval."""
    plt = _plt()
    top = top or n_key + 15
    tab = scores.sort_values("rank").head(top)
    names = (tab["name"] if "name" in tab else tab["account_id"]).astype(str).tolist()
    colours = [ROBUSTNESS_COLOURS.get(c, "#999999") for c in tab["robustness"]]
    fig, (ax, ax2) = _subplots(1, 2, figsize=(11, 0.26 * len(tab) + 1.8), sharey=True,
                               gridspec_kw={"width_ratios": [1, 1.3], "wspace": 0.06})
    y = np.arange(len(tab))[::-1]
    ax.barh(y, tab["p_key"], color=colours, height=0.75)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(key) over weight scenarios")
    ax.set_yticks(y, [f"{r}. {n}" for r, n in zip(tab["rank"], names)], fontsize=7)
    ax.axvline(0.9, color=PALETTE["good"], lw=0.8, ls=":")
    ax.axvline(0.1, color=PALETTE["accent"], lw=0.8, ls=":")
    ax.set_title("Probability of making the key list")
    ax2.hlines(y, tab["rank_low"], tab["rank_high"], color=colours, lw=3)
    ax2.scatter(tab["rank"], y, color="black", s=12, zorder=3, label="rank with agreed weights")
    ax2.axvline(n_key + 0.5, color="black", lw=1, ls="--")
    ax2.set_xlabel("rank (90 % interval over scenarios)")
    ax2.set_xlim(0, max(float(tab["rank_high"].max()), n_key) + 2)
    ax2.set_title("Rank interval")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ROBUSTNESS_COLOURS.values()]
    ax.legend(handles, list(ROBUSTNESS_COLOURS), loc="lower right", fontsize=8, frameon=True)
    return fig


SCALED_CRITERIA_FIRST = ("billing", "loss_impact", "purchase_volume", "size", "share_of_sales")
"""Criteria the scaling figure shows first: where the scale decides whether size counts."""


def scaling_chart(scaling: pd.DataFrame, key: pd.Series | None = None,
                  criteria: list[str] | None = None, columns: int = 3) -> Figure:
    """Raw value against score, one panel per computed criterion: how the scaling treats size.

    ``scaling`` is the long table ``account_id, criterion, label, value, score`` of
    ``SelectionResult.scaling``; ``key`` (boolean by account id) colours the key accounts.
    Money and counts are drawn on a log axis (their zeros at the left edge), so the curve shows
    where the scale starts and that the largest account scores highest.
    """
    criteria = criteria or [c for c in dict.fromkeys(scaling["criterion"])
                            if scaling.loc[scaling["criterion"] == c, "value"].nunique() > 12]
    criteria = sorted(criteria, key=lambda c: (c not in SCALED_CRITERIA_FIRST,
                                               SCALED_CRITERIA_FIRST.index(c)
                                               if c in SCALED_CRITERIA_FIRST else 0))
    n = max(len(criteria), 1)
    rows = -(-n // columns)
    fig, axes = _subplots(rows, min(columns, n), figsize=(4 * min(columns, n), 3.2 * rows),
                          squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, c in zip(axes.ravel(), criteria):
        d = scaling[scaling["criterion"] == c]
        value = d["value"].to_numpy(float)
        is_key = (d["account_id"].map(key).fillna(False).astype(bool).to_numpy()
                  if key is not None else np.zeros(len(d), bool))
        pos = value[value > 0]
        heavy = len(pos) > 0 and (pos.max() / max(np.median(pos), 1e-12) > 20)
        if heavy:
            floor = pos.min() / 2
            value = np.where(value > 0, value, floor)
            ax.set_xscale("log")
        ax.scatter(value[~is_key], d["score"].to_numpy()[~is_key], s=8,
                   color=PALETTE["light"], edgecolor=PALETTE["primary"], linewidth=0.3,
                   label="other accounts")
        ax.scatter(value[is_key], d["score"].to_numpy()[is_key], s=16,
                   color=PALETTE["accent"], label="key accounts", zorder=3)
        top = int(np.nanargmax(d["value"].to_numpy(float))) if len(d) else 0
        if len(d):
            ax.annotate("largest", (value[top], d["score"].iloc[top]), fontsize=8,
                        xytext=(-40, -14), textcoords="offset points")
        ax.set_title(d["label"].iloc[0] if len(d) else c, fontsize=10)
        ax.set_xlabel("value" + (" (log scale)" if heavy else ""), fontsize=8)
        ax.set_ylabel("score (0-1)", fontsize=8)
        ax.set_ylim(-0.05, 1.08)
    axes.ravel()[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Raw value against score, per criterion", fontsize=11)
    fig.subplots_adjust(hspace=0.55, wspace=0.3)
    return fig
