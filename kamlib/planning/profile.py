"""Who the key accounts are and what they buy from us: the first section of every plan.

:func:`key_account_list` decides which accounts get a plan; :func:`account_profiles` gathers
one row per key account from the tables earlier steps wrote (features, segments, CLV,
selection), and records in ``missing`` which of them were not available;
:func:`category_trend` gives what each account bought by category over the three trailing
12-month windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib import key_accounts as _ka
from kamlib.planning._common import num, require_columns, text
from kamlib.vocabulary import KEY

PROFILE_COLUMNS: list[str] = [
    "account_id", "name", "industry", "region", "country", "n_sites", "parent_id", "employees",
    "account_manager", "as_of", "revenue_12m", "revenue_prev_12m", "revenue_prev2_12m",
    "margin_12m", "margin_pct_12m", "growth_12m", "share_of_sales_12m", "n_categories",
    "top_categories", "wallet", "wallet_share", "tier", "rank", "score", "p_key", "drivers",
    "segment", "strategy", "clv", "clv_low", "clv_high", "investment_ceiling", "p_alive",
    "key_source", "missing",
]
"""Columns of :func:`account_profiles` (the ``plan_profile`` table)."""


TOP_N = 25
"""Default number of accounts planned when the selection step gave no key-account list."""


def key_account_list(
    features: pd.DataFrame,
    key_accounts: pd.DataFrame | None = None,
    selection_scores: pd.DataFrame | None = None,
    top_n: int = TOP_N,
) -> tuple[pd.DataFrame, str]:
    """The accounts that get a plan, and a sentence saying where the list came from.

    The rule of :mod:`kamlib.key_accounts`: the ``key_accounts`` table; else the rows of
    ``selection_scores`` marked key; else the ``top_n`` accounts by ``revenue_12m`` -- a
    fallback the sentence says plainly, because revenue alone is not a key-account selection.

    Returns
    -------
    keys : DataFrame
        ``account_id``, ``rank``, ``score``, ``p_key``, ``tier``, ``drivers`` (NaN where unknown).
    source : str
        One sentence for the report.
    """
    cols = ["account_id", "rank", "score", "p_key", "tier", "drivers"]

    def tidy(df: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({"account_id": df["account_id"].astype(str)})
        for c in ("rank", "score", "p_key"):
            out[c] = num(df, c)
        out["tier"] = text(df, "tier", KEY)
        drv = "main_drivers" if "main_drivers" in df.columns else "drivers"
        if drv in df.columns:
            # drivers may come as text or as a list per account
            out["drivers"] = [", ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                              else ("" if v is None or v != v else str(v)) for v in df[drv].astype(object)]
        else:
            out["drivers"] = ""
        return out[cols].drop_duplicates("account_id")

    found = _ka.key_accounts(key_accounts, selection_scores, features, max(top_n, 0))
    if found.source == _ka.FROM_TABLE:
        keys = tidy(found.rows)
        if selection_scores is not None and "tier" not in found.rows.columns and "tier" in selection_scores.columns:
            tiers = dict(zip(selection_scores["account_id"].astype(str), selection_scores["tier"].astype(str)))
            keys["tier"] = keys["account_id"].map(tiers).fillna(KEY)
        src = f"{len(keys)} key accounts from the selection step (key_accounts table)."
    elif found.source == _ka.FROM_SCORES:
        keys = tidy(found.rows)
        src = f"{len(keys)} key accounts from the selection scores (is_key)."
    else:
        top = found.rows
        keys = pd.DataFrame({"account_id": top["account_id"], "rank": np.arange(1, len(top) + 1, dtype=float),
                             "score": np.nan, "p_key": np.nan, "tier": KEY, "drivers": "revenue (fallback)"})
        src = (f"No key-account list from the selection step (key_accounts / selection_scores) was found: planning for the "
               f"top {len(keys)} accounts by revenue of the last 12 months instead. Run 10_selection "
               f"for a proper key-account list.")
    keys = keys.sort_values(["rank", "account_id"], na_position="last", kind="mergesort").reset_index(drop=True)
    return keys, src


def account_profiles(
    features: pd.DataFrame,
    category_year: pd.DataFrame,
    keys: pd.DataFrame,
    segments: pd.DataFrame | None = None,
    clv: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    key_source: str = "",
) -> pd.DataFrame:
    """One row per key account: identity, purchases, segment, CLV, selection.

    Parameters
    ----------
    features : DataFrame
        ``account_features``.
    category_year : DataFrame
        ``account_category_year``.
    keys : DataFrame
        From :func:`key_account_list`.
    segments, clv, accounts, contacts : DataFrame or None
        Optional tables; when absent, ``missing`` names them and what they would add.
    key_source : str
        Where the key list came from (copied into ``key_source``).

    Returns
    -------
    DataFrame
        Columns :data:`PROFILE_COLUMNS` in the order of ``keys``. ``missing`` is a
        ';'-separated list of plain-language requests for data this account lacks.
    """
    require_columns(features, "account_features", ["account_id", "name", "revenue_12m"])
    f = features.copy()
    f["account_id"] = f["account_id"].astype(str)
    known = set(f["account_id"])
    k = keys[keys["account_id"].isin(known)]
    p = k.merge(f, on="account_id", how="left", suffixes=("", "_f"))
    if accounts is not None and "parent_id" in accounts.columns:
        ids = accounts["account_id"].astype(str)
        par = dict(zip(ids, accounts["parent_id"]))
        names = dict(zip(ids, accounts["name"].astype(str))) if "name" in accounts.columns else {}

        def group(aid):
            g = par.get(aid)
            if g is None or g != g or str(g).strip() == "":
                return np.nan
            g = str(g)
            return f"{names[g]} ({g})" if g in names else g

        p["parent_id"] = p["account_id"].map(group)
    if segments is not None and len(segments):
        s = segments.assign(account_id=segments["account_id"].astype(str)).drop_duplicates("account_id")
        p = p.merge(s[[c for c in ("account_id", "segment", "strategy") if c in s.columns]], on="account_id", how="left")
    if clv is not None and len(clv):
        c = clv.assign(account_id=clv["account_id"].astype(str)).drop_duplicates("account_id")
        keep = [x for x in ("account_id", "clv", "clv_low", "clv_high", "investment_ceiling", "p_alive") if x in c.columns]
        p = p.merge(c[keep], on="account_id", how="left")
    for col in PROFILE_COLUMNS:
        if col not in p.columns:
            p[col] = np.nan
    w = num(p, "wallet")
    p["wallet_share"] = np.where(w > 0, num(p, "revenue_12m", 0.0) / w, np.nan)
    cy = category_year[category_year["year"] == 0].copy()
    cy["account_id"] = cy["account_id"].astype(str)
    cy = cy[cy["account_id"].isin(set(p["account_id"])) & (cy["revenue"] > 0)]
    cy = cy.sort_values(["account_id", "revenue"], ascending=[True, False])
    top = cy.groupby("account_id")["category"].agg(lambda s: ";".join(map(str, s.head(3))))
    p["top_categories"] = p["account_id"].map(top).fillna("")
    p["key_source"] = key_source
    n_contacts = (contacts["account_id"].astype(str).value_counts() if contacts is not None and len(contacts)
                  else pd.Series(dtype=int))

    def asks(r) -> str:
        m = []
        if r["segment"] != r["segment"]:
            m.append("segment: run 30_segmentation for the segment and its strategy")
        if r["clv"] != r["clv"]:
            m.append("CLV: run 20_clv for lifetime value and the investment ceiling")
        if r["wallet"] != r["wallet"]:
            m.append("wallet: add the account's estimated category spend (accounts.wallet) for share of wallet")
        if n_contacts.get(r["account_id"], 0) == 0:
            m.append("contacts: export the account's CRM contacts for the relationship X-ray")
        if r["score"] != r["score"]:
            m.append("selection score: run 10_selection")
        if not str(r["account_manager"]).strip() or r["account_manager"] != r["account_manager"]:
            m.append("account manager: set accounts.account_manager so actions have an owner")
        return ";".join(m)

    p["missing"] = [asks(r) for r in p.to_dict("records")]
    return p[PROFILE_COLUMNS].reset_index(drop=True)


def category_trend(category_year: pd.DataFrame, account_ids: list[str] | None = None) -> pd.DataFrame:
    """Revenue and margin by account, category and trailing window, with a decline flag.

    Returns
    -------
    DataFrame
        ``account_id``, ``category``, ``revenue_0`` / ``revenue_1`` / ``revenue_2`` (last 12
        months, the 12 before, the 12 before that), ``margin_0``, ``change`` (revenue_0 -
        revenue_1) and ``change_pct`` (relative to revenue_1, NaN when it was 0).
    """
    cy = category_year.copy()
    cy["account_id"] = cy["account_id"].astype(str)
    if account_ids is not None:
        cy = cy[cy["account_id"].isin(set(map(str, account_ids)))]
    cy = cy[cy["year"].isin([0, 1, 2])]
    rev = cy.pivot_table(index=["account_id", "category"], columns="year", values="revenue", aggfunc="sum", fill_value=0.0)
    rev = rev.reindex(columns=[0, 1, 2], fill_value=0.0)
    rev.columns = ["revenue_0", "revenue_1", "revenue_2"]
    mar = cy[cy["year"] == 0].groupby(["account_id", "category"])["margin"].sum().rename("margin_0")
    out = rev.join(mar).fillna({"margin_0": 0.0}).reset_index()
    out["change"] = out["revenue_0"] - out["revenue_1"]
    out["change_pct"] = np.where(out["revenue_1"] > 0, out["change"] / out["revenue_1"].where(out["revenue_1"] > 0), np.nan)
    return out.sort_values(["account_id", "revenue_0"], ascending=[True, False], kind="mergesort").reset_index(drop=True)
