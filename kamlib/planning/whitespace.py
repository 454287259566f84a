"""Whitespace: categories an account does not buy (or buys little of) that its look-alikes buy.

Look-alikes are the other accounts of the same industry and size band (size = employees when
known, else revenue). For every category the look-alikes buy we estimate what the account
*could* spend::

    expected = adoption rate among look-alikes
               x median 12-month spend of the look-alikes that buy it
               x size ratio (account size / median look-alike size, clipped to [0.25, 4])
    potential = expected - what the account bought in the last 12 months

A category is whitespace when the adoption rate is at least ``min_adoption`` and the account
buys less than ``little_share`` of the expected spend. When the account's wallet (its total
spend in our category) is known, the whitespace potentials are scaled down so that they never
exceed the headroom ``wallet - revenue_12m``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kamlib.planning._common import num, text

WHITESPACE_COLUMNS: list[str] = [
    "account_id", "category", "status", "current_revenue", "peer_adoption", "peer_median_spend",
    "size_ratio", "expected_revenue", "potential", "wallet_capped", "n_peers", "peer_group", "rank",
]
"""Columns of :func:`whitespace` (the ``plan_whitespace`` table)."""


def size_bands(features: pd.DataFrame, n_bands: int = 3, measure: str = "employees") -> tuple[pd.Series, pd.Series]:
    """Size of every account and its band (0 = smallest) by quantiles.

    Uses ``measure`` where known and falls back to ``revenue_12m`` for accounts without it,
    so a missing head count never drops an account.

    Returns
    -------
    size, band : Series
        Indexed like ``features``.
    """
    size = num(features, measure)
    size = size.where(size > 0, num(features, "revenue_12m", 0.0).clip(lower=0))
    if measure in features.columns and num(features, measure).notna().any():
        # Mixing head counts and money would make bands meaningless: rank within each measure.
        known = num(features, measure) > 0
    else:
        known = pd.Series(False, index=features.index)
    band = pd.Series(0, index=features.index, dtype=int)
    for mask in (known, ~known):
        if mask.sum() == 0:
            continue
        r = size[mask].rank(method="first", pct=True)
        band[mask] = np.minimum((r * n_bands).apply(np.ceil).astype(int) - 1, n_bands - 1).clip(lower=0)
    return size, band


MIN_ADOPTION = 0.3
"""Default share of look-alike accounts that must buy a category for it to count as whitespace."""


def whitespace(
    features: pd.DataFrame,
    category_year: pd.DataFrame,
    account_ids: list[str],
    min_adoption: float = MIN_ADOPTION,
    little_share: float = 0.25,
    min_peers: int = 5,
    size_measure: str = "employees",
    n_size_bands: int = 3,
    top: int | None = 10,
) -> pd.DataFrame:
    """Whitespace rows for the accounts ``account_ids``, biggest potential first.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` of *all* accounts (look-alikes come from the whole customer base).
    category_year : DataFrame
        ``account_category_year`` (``year`` 0 = the last 12 months is used).
    account_ids : list of str
        Accounts to find whitespace for.
    min_adoption : float
        Minimum share of look-alikes buying a category for it to count.
    little_share : float
        The account "buys little" of a category when it buys less than this share of the
        expected spend.
    min_peers : int
        Fewest look-alikes to trust; with fewer, the group widens to the whole industry, then
        to all accounts (``peer_group`` says which).
    size_measure : str
        Column of ``features`` measuring size (falls back to revenue where missing).
    n_size_bands : int
        Number of size bands (quantiles).
    top : int or None
        Keep at most this many categories per account.

    Returns
    -------
    DataFrame
        Columns :data:`WHITESPACE_COLUMNS`.
    """
    f = features.copy()
    f["account_id"] = f["account_id"].astype(str)
    f = f.reset_index(drop=True)
    size, band = size_bands(f, n_size_bands, size_measure)
    f["_size"], f["_band"] = size, band
    f["_industry"] = text(f, "industry", "unknown")
    cy = category_year.copy()
    cy["account_id"] = cy["account_id"].astype(str)
    cy = cy[cy["year"] == 0]
    mat = cy.pivot_table(index="account_id", columns="category", values="revenue", aggfunc="sum", fill_value=0.0)
    mat = mat.reindex(f["account_id"], fill_value=0.0)
    cats = np.asarray(mat.columns)
    M = mat.to_numpy(dtype=float)
    pos = {a: i for i, a in enumerate(f["account_id"])}
    industry = f["_industry"].to_numpy()
    bandv = f["_band"].to_numpy()
    sizev = f["_size"].to_numpy(dtype=float)
    wallet = num(f, "wallet").to_numpy()
    rev12 = num(f, "revenue_12m", 0.0).fillna(0.0).to_numpy()
    rows = []
    for aid in map(str, account_ids):
        i = pos.get(aid)
        if i is None or len(cats) == 0:
            continue
        others = np.ones(len(f), dtype=bool)
        others[i] = False
        peers = others & (industry == industry[i]) & (bandv == bandv[i])
        label = f"{industry[i]}, size band {bandv[i] + 1} of {n_size_bands}"
        if peers.sum() < min_peers:
            peers = others & (industry == industry[i])
            label = f"{industry[i]}, all sizes"
        if peers.sum() < min_peers:
            peers = others
            label = "all accounts (too few look-alikes in the industry)"
        P = M[peers]
        buyers = P > 0
        adoption = buyers.mean(axis=0)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # categories no look-alike buys
            med = np.nanmedian(np.where(buyers, P, np.nan), axis=0)
        peer_size = np.median(sizev[peers]) if peers.any() else np.nan
        ratio = float(np.clip(sizev[i] / peer_size, 0.25, 4.0)) if peer_size and peer_size > 0 and sizev[i] > 0 else 1.0
        expected = adoption * np.nan_to_num(med) * ratio
        cur = M[i]
        keep = (adoption >= min_adoption) & (cur < little_share * expected) & (expected > 0)
        if not keep.any():
            continue
        pot = expected[keep] - cur[keep]
        capped = False
        headroom = wallet[i] - rev12[i] if wallet[i] == wallet[i] else np.nan
        if headroom == headroom:
            headroom = max(headroom, 0.0)
            if pot.sum() > headroom:
                pot = pot * (headroom / pot.sum()) if pot.sum() > 0 else pot
                capped = True
        for c, cu, ad, md, ex, po in zip(cats[keep], cur[keep], adoption[keep], med[keep], expected[keep], pot):
            rows.append((aid, str(c), "not bought" if cu <= 0 else "buys little", float(cu), float(ad),
                         float(md), ratio, float(ex), float(po), capped, int(peers.sum()), label))
    out = pd.DataFrame(rows, columns=WHITESPACE_COLUMNS[:-1])
    out = out.sort_values(["account_id", "potential", "category"], ascending=[True, False, True], kind="mergesort")
    out["rank"] = out.groupby("account_id").cumcount() + 1
    if top is not None:
        out = out[out["rank"] <= top]
    return out.reset_index(drop=True)[WHITESPACE_COLUMNS]
