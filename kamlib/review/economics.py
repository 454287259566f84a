"""Account economics on the executive summary: net profit, the whale curve, the investment
ceiling against a dedicated manager, and the serving models.

Read from the CLV step's ``clv`` table (``net_profit_12m``, ``net_clv``, ``covers_manager``,
``cost_to_serve_estimated``) and the segmentation step's ``serving_models`` table; either may be
missing (older runs): what cannot be said is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def economics_facts(clv: pd.DataFrame | None, serving_models: pd.DataFrame | None,
                    key_ids: set[str]) -> dict | None:
    """What the summary says about money per account, or None without net values.

    Returns
    -------
    dict or None
        ``net_profit`` (this year, all accounts), ``peak`` and ``peak_accounts`` (where the
        cumulative net profit, accounts sorted by net profit, is highest), ``loss_accounts`` and
        ``loss`` (accounts with negative net profit, their sum), ``worst`` (up to five of them,
        ``account_id`` and ``net_profit_12m``), ``estimated`` (accounts whose cost to serve is
        estimated), ``net_clv`` (all accounts), ``key_short`` (key accounts whose ceiling does
        not cover a dedicated manager) and ``serving`` (the serving-model table or None).
    """
    if clv is None or "net_profit_12m" not in clv.columns:
        return None
    c = clv[(clv["margin_12m"] != 0) | (clv["cost_to_serve"].fillna(0) > 0)]
    net = c.sort_values(["net_profit_12m", "account_id"], ascending=[False, True],
                        kind="stable")
    cum = net["net_profit_12m"].cumsum().to_numpy(float)
    i = int(np.argmax(cum)) if len(cum) else 0
    losers = net[net["net_profit_12m"] < 0]
    key = clv[clv["account_id"].astype(str).isin(key_ids)]
    short = (key.loc[~key["covers_manager"].astype(bool), "account_id"].astype(str).tolist()
             if "covers_manager" in key.columns else [])
    return {
        "net_profit": float(net["net_profit_12m"].sum()),
        "peak": float(cum[i]) if len(cum) else 0.0, "peak_accounts": i + 1 if len(cum) else 0,
        "loss_accounts": len(losers), "loss": float(losers["net_profit_12m"].sum()),
        "worst": losers.sort_values("net_profit_12m").head(5)[["account_id", "net_profit_12m"]],
        "estimated": int(clv.get("cost_to_serve_estimated", pd.Series(dtype=bool)).sum()),
        "net_clv": float(clv["net_clv"].sum()) if "net_clv" in clv.columns else np.nan,
        "key_short": short,
        "serving": serving_models if serving_models is not None and len(serving_models) else None,
    }
