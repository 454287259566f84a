"""Loss impact: the accounts we "could not afford to lose".

A key-account list that leaves out the customer whose departure would hurt most does not
survive a board meeting. The ``loss_impact`` criterion measures that hurt from three parts,
all computed from ``account_features`` (the selection runs before the CLV step, so it cannot
use the CLV model's P(alive); it reads the churn signals intake already computed instead):

* **margin at risk**: the account's share of our gross margin in the last 12 months times its
  chance of leaving. The chance of leaving is a transparent score from the data's own churn
  signals, not a fitted model::

      p_leave = 1 - (1 - 0.05) (1 - s_recency) (1 - s_trend) (1 - s_decline / 2)

  with ``s_recency`` = how far the days since the last order exceed the account's usual gap
  between orders (its tenure divided by its orders; 1 gap or less scores 0, 4 gaps or more
  scores 1), ``s_trend`` = the revenue lost in the last 12 months (minus the symmetric growth,
  0 to 1) and ``s_decline`` = the same for the 12 months before. 0.05 is the base rate every
  account carries. An account without revenue in the last 12 months is gone already (1).
* **dependency**: our dependency on the account, its share of our sales.
* **irreplaceability**: how hard its business would be to replace, the mean of
  ``1 / sqrt(1 + look-alikes)`` (look-alikes: other active accounts in the same industry whose
  revenue is within a factor of two) and our share of its wallet (revenue / wallet; an account
  that buys a whole category from us takes all of it when it goes, with no foothold left to
  win it back). A blank wallet gets the median share of wallet.

Put together, in units of "share of our business"::

    loss_impact = (margin share x p_leave + 0.25 x sales share) x (0.5 + 0.5 x irreplaceability)

so a loyal giant still carries a large impact through its dependency, an at-risk account
gains from its margin at risk, and of two equally large accounts the one that cannot be
replaced scores higher. Any input the table lacks is left out of the formula and said so in
:data:`LossImpact.notes`: without margins the sales share stands in for the margin share,
without industries all accounts compete as look-alikes, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

BASE_RATE = 0.05
"""Chance of leaving every account carries, whatever its signals."""
DEPENDENCY_WEIGHT = 0.25
"""Weight of the sales share (dependency) beside the margin at risk."""
LOOKALIKE_FACTOR = 2.0
"""Look-alikes: same industry, revenue within this factor either way."""
RECENCY_GAPS = 4.0
"""Days since the last order, in usual gaps between orders, at which s_recency reaches 1."""

COLUMNS = ["loss_impact", "loss_margin_share", "loss_p_leave", "loss_sales_share",
           "loss_lookalikes", "loss_share_of_wallet", "loss_irreplaceability"]
"""Columns of :func:`loss_table` (``selection_scores`` carries them for every account)."""


@dataclass
class LossImpact:
    """The loss impact per account (index ``account_id``) and what it could not use."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _num(feats: pd.DataFrame, column: str) -> pd.Series | None:
    import pandas as pd

    if column not in feats.columns:
        return None
    return pd.to_numeric(feats[column], errors="coerce").astype(float)


def _share(x: pd.Series) -> pd.Series:
    pos = x.fillna(0.0).clip(lower=0)
    total = float(pos.sum())
    return pos / total if total > 0 else pos * 0.0


def p_leave(feats: pd.DataFrame, notes: list[str] | None = None) -> pd.Series:
    """Chance of leaving from the churn signals in ``account_features`` (module docstring)."""
    import pandas as pd

    notes = notes if notes is not None else []
    idx = feats.index
    stay = pd.Series(1.0 - BASE_RATE, index=idx)
    recency, tenure, orders = (_num(feats, c) for c in ("recency_days", "tenure_days",
                                                         "n_orders"))
    if recency is not None and tenure is not None and orders is not None:
        gap = tenure / orders.where(orders > 0)
        ratio = recency / gap.where(gap > 0)
        s_rec = ((ratio - 1.0) / (RECENCY_GAPS - 1.0)).clip(0, 1).fillna(0.0)
        stay = stay * (1 - s_rec)
    else:
        notes.append("loss impact: no recency_days/tenure_days/n_orders, so recency was not "
                     "used in the chance of leaving.")
    growth = _num(feats, "growth_12m")
    if growth is not None:
        stay = stay * (1 - (-growth).clip(0, 1).fillna(0.0))
    else:
        notes.append("loss impact: no growth_12m, so the revenue trend was not used.")
    before = _num(feats, "growth_prev_12m")
    if before is not None:
        stay = stay * (1 - 0.5 * (-before).clip(0, 1).fillna(0.0))
    out = 1 - stay
    revenue = _num(feats, "revenue_12m")
    if revenue is not None:
        out = out.where(revenue.fillna(0) > 0, 1.0)
    return out


def lookalikes(revenue: pd.Series, industry: pd.Series | None) -> pd.Series:
    """Other active accounts in the same industry with revenue within a factor of two."""
    import pandas as pd

    rev = revenue.fillna(0.0).to_numpy(float)
    groups = (industry.astype(str).fillna("").to_numpy() if industry is not None
              else np.zeros(len(rev), dtype=object))
    out = np.zeros(len(rev), dtype=int)
    for g in pd.unique(groups):
        idx = np.flatnonzero((groups == g) & (rev > 0))
        srt = np.sort(rev[idx])
        hi = np.searchsorted(srt, rev[idx] * LOOKALIKE_FACTOR, side="right")
        lo = np.searchsorted(srt, rev[idx] / LOOKALIKE_FACTOR, side="left")
        out[idx] = hi - lo - 1  # not itself
    return pd.Series(out, index=revenue.index)


def loss_table(feats: pd.DataFrame) -> LossImpact:
    """Loss impact and its parts for every account of ``feats`` (index ``account_id``)."""
    import pandas as pd

    notes: list[str] = []
    revenue = _num(feats, "revenue_12m")
    if revenue is None:
        revenue = pd.Series(0.0, index=feats.index)
        notes.append("loss impact: no revenue_12m; every account scores 0.")
    sales = _num(feats, "share_of_sales_12m")
    sales = _share(revenue) if sales is None else sales.fillna(0.0).clip(lower=0)
    margin = _num(feats, "margin_12m")
    if margin is None:
        notes.append("loss impact: no margin_12m, so the sales share stands in for the margin "
                     "share.")
        margin_share = sales
    else:
        margin_share = _share(margin)
    leave = p_leave(feats, notes)
    industry = feats["industry"] if "industry" in feats.columns else None
    if industry is None:
        notes.append("loss impact: no industry column, so look-alikes are counted across the "
                     "whole portfolio.")
    look = lookalikes(revenue, industry)
    wallet = _num(feats, "wallet")
    sow = (revenue.clip(lower=0) / wallet.where(wallet > 0)).clip(0, 1) if wallet is not None \
        else pd.Series(np.nan, index=feats.index)
    sow_fill = float(sow.median()) if sow.notna().any() else 0.5
    irreplaceable = (1 / np.sqrt(1 + look) + sow.fillna(sow_fill)) / 2
    impact = ((margin_share * leave + DEPENDENCY_WEIGHT * sales)
              * (0.5 + 0.5 * irreplaceable))
    table = pd.DataFrame({
        "loss_impact": impact, "loss_margin_share": margin_share, "loss_p_leave": leave,
        "loss_sales_share": sales, "loss_lookalikes": look.astype(int),
        "loss_share_of_wallet": sow, "loss_irreplaceability": irreplaceable,
    }, index=feats.index)
    return LossImpact(table[COLUMNS], notes)


def why_lost(table: pd.DataFrame) -> list[str]:
    """One line per account: what losing it would cost, for the "why key" explanation."""
    from kamlib.formatting import share

    out = []
    for row in table.itertuples(index=False):
        sow = ("" if not np.isfinite(row.loss_share_of_wallet)
               else f", {share(row.loss_share_of_wallet)} of its wallet")
        look = {0: "no look-alike", 1: "1 look-alike"}.get(row.loss_lookalikes,
                                                            f"{row.loss_lookalikes} look-alikes")
        out.append(f"{share(row.loss_margin_share, digits=1)} of our margin, "
                   f"{share(row.loss_p_leave)} chance of leaving, "
                   f"{share(row.loss_sales_share, digits=1)} of our sales, {look}{sow}")
    return out
