"""McDonald's directional policy matrix (DPM) for the key accounts.

Vertical axis: **account attractiveness** over the next years, a weighted sum of factors scored
0-10 (weights add up to 100, so the score is 0-10). Horizontal axis: **our relative strength** as
the customer sees it, a weighted sum of strength factors (0-10) divided by the best
competitor's score. The boxes:

=================  =====================  ============================================
box (``dpm_box``)  position               strategy
=================  =====================  ============================================
Strategic          attractive, strong     invest for growth
Star               attractive, weak       invest selectively to build the relationship
Status             unattractive, strong   maintain cost-effectively
Streamline         unattractive, weak     manage for cash, reduce cost to serve
=================  =====================  ============================================

Attractive means above the split: by default the median attractiveness of the accounts plotted
(the matrix ranks the key accounts against each other), or a fixed score. Strong means a
relative strength above 1 (ahead of the best competitor).

The DPM *Star* box is *not* the value x growth *Star* segment; the columns are ``dpm_box`` and
``segment`` so they cannot be confused.

Where the factor scores come from (each factor records its source per run):

Attractiveness
    ``volume`` - size of the prize: wallet where known, else revenue (percentile among the
    accounts plotted, x10). ``growth`` - managers' ``future_potential`` score (mean over
    managers) where assessed, else the percentile of 12-month growth. ``profit_potential`` -
    managers' ``potential_profitability``, else the percentile of the margin %.
    ``prestige`` - mean of managers' ``industry_weight`` and ``market_influence``, else the
    percentile of employees. ``strategic_fit`` - managers' ``strategic_fit``, else 5 (neutral).
    ``market_access`` - percentile of the number of sites (dispersed buying units open doors).
Strength (proxies: the client's data holds no customer survey)
    ``share_of_wallet`` - 10 x our revenue / wallet (capped at 10), else 5. A supplier with a
    large share of the account's spend is, in the customer's eyes, hard to replace.
    ``relationship_depth`` - contacts' relationship strength (0-5, weighted by their power) x 2,
    else the percentile of the number of contacts. ``relationship_breadth`` - functions we
    reach: 10 x min(functions / 5, 1) (five functions = a diamond rather than a bow-tie).
    ``attitude`` - contacts' power-weighted attitude (-5..+5) + 5, else 5.
Best competitor
    From the optional ``competitors`` table: the highest ``strength`` (0-10, as the customer
    sees it) among the competitors recorded at the account. Where none is recorded, an average
    rival scoring 5 is assumed ("average rival (5) assumed"). Relative strength = our strength
    / the best competitor's, and the vertical split at 1.0 means "stronger than the best
    competitor".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.key_accounts import key_accounts
from kamlib.vocabulary import (
    DPM_STAR,
    DPM_STATUS,
    DPM_STRATEGIC,
    DPM_STRATEGIES,
    DPM_STREAMLINE,
)

DEFAULT_ATTRACTIVENESS_WEIGHTS: dict[str, float] = {
    "volume": 25, "growth": 20, "profit_potential": 20, "prestige": 10,
    "strategic_fit": 15, "market_access": 10,
}
DEFAULT_STRENGTH_WEIGHTS: dict[str, float] = {
    "share_of_wallet": 40, "relationship_depth": 25, "relationship_breadth": 20, "attitude": 15,
}
NEUTRAL = 5.0

COMPETITOR_SOURCE = "average rival (5) assumed"
"""Where the best competitor's score comes from when the competitors table has none."""


def best_competitor(competitors: pd.DataFrame | None, ids: pd.Index) -> tuple[pd.Series, str]:
    """The strongest recorded competitor's strength per account (NEUTRAL where none is
    recorded), and where it came from in words."""
    best = pd.Series(np.nan, index=ids)
    if competitors is not None and len(competitors) and {"account_id", "strength"} <= set(competitors.columns):
        c = competitors.assign(account_id=competitors["account_id"].astype(str),
                               strength=pd.to_numeric(competitors["strength"], errors="coerce"))
        best = c.dropna(subset=["strength"]).groupby("account_id")["strength"].max().reindex(ids).astype(float)
    n = int(best.notna().sum())
    if n == 0:
        return best.fillna(NEUTRAL), COMPETITOR_SOURCE
    rest = f"; {COMPETITOR_SOURCE} for the other {len(ids) - n}" if n < len(ids) else ""
    return (best.fillna(NEUTRAL),
            f"strongest competitor in the competitors table for {n} of {len(ids)} accounts{rest}")


def check_weights(weights: Mapping[str, float], allowed: Mapping[str, float],
                  axis: str) -> dict[str, float]:
    """Validate DPM weights: known factors, non-negative, summing to 100."""
    w = {str(k): float(v) for k, v in dict(weights).items()}
    unknown = sorted(set(w) - set(allowed))
    if unknown:
        raise ParameterError(
            f"unknown {axis} factor(s) {', '.join(unknown)}; choose from {', '.join(allowed)}."
        )
    if any(v < 0 or not np.isfinite(v) for v in w.values()):
        raise ParameterError(f"{axis} weights must be non-negative numbers; got {w}.")
    total = sum(w.values())
    if abs(total - 100) > 1e-6:
        raise ParameterError(f"{axis} weights must add up to 100; they add up to {total:g}.")
    return w


def _pct(x: pd.Series) -> pd.Series:
    """0-10 score from the percentile rank among the accounts plotted (midrank, NaN stays NaN)."""
    n = x.notna().sum()
    if n == 0:
        return x * np.nan
    return 10 * (x.rank(method="average") - 0.5) / n


def _mean_assessed(assessments: pd.DataFrame | None, ids: pd.Index, cols: list[str]) -> pd.Series:
    if assessments is None or not set(cols) & set(assessments.columns):
        return pd.Series(np.nan, index=ids)
    a = assessments.assign(account_id=assessments["account_id"].astype(str))
    use = [c for c in cols if c in a.columns]
    per = a.groupby("account_id")[use].mean().mean(axis=1)
    return per.reindex(ids).astype(float)


def _contacts_scores(contacts: pd.DataFrame | None, ids: pd.Index) -> tuple[pd.Series, pd.Series]:
    nan = pd.Series(np.nan, index=ids)
    if contacts is None or "account_id" not in contacts:
        return nan, nan
    c = contacts.assign(account_id=contacts["account_id"].astype(str))
    w = c["power"].astype(float).fillna(3.0) if "power" in c else pd.Series(3.0, index=c.index)

    def weighted(col: str) -> pd.Series:
        if col not in c:
            return nan
        v = c[col].astype(float)
        ok = v.notna()
        num = (v.where(ok, 0) * w.where(ok, 0)).groupby(c["account_id"]).sum()
        den = w.where(ok, 0).groupby(c["account_id"]).sum()
        return (num / den.replace(0, np.nan)).reindex(ids)

    return weighted("relationship_strength") * 2, weighted("attitude") + 5


def _fill(primary: pd.Series, fallback: pd.Series, p_name: str, f_name: str) -> tuple[pd.Series, str]:
    s = primary.where(primary.notna(), fallback)
    n_p = int(primary.notna().sum())
    if n_p == len(primary):
        src = p_name
    elif n_p == 0:
        src = f_name
    else:
        src = f"{p_name} ({n_p} of {len(primary)} accounts), else {f_name}"
    return s.astype(float), src


def _attractiveness(col, ids: pd.Index, assessments: pd.DataFrame | None
                    ) -> dict[str, tuple[pd.Series, str]]:
    """Attractiveness factor scores (0-10) and their sources, by factor."""
    neutral = pd.Series(NEUTRAL, index=ids)
    wallet = col("wallet")
    size = wallet.where(wallet.notna(), col("revenue_12m").fillna(0.0))
    return {
        "volume": (_pct(size), "wallet (revenue where unknown), percentile x10"),
        "growth": _fill(_mean_assessed(assessments, ids, ["future_potential"]),
                        _pct(col("growth_12m")).fillna(NEUTRAL),
                        "managers' future_potential", "growth_12m percentile"),
        "profit_potential": _fill(_mean_assessed(assessments, ids, ["potential_profitability"]),
                                  _pct(col("margin_pct_12m")).fillna(NEUTRAL),
                                  "managers' potential_profitability", "margin % percentile"),
        "prestige": _fill(_mean_assessed(assessments, ids, ["industry_weight", "market_influence"]),
                          _pct(col("employees")).fillna(NEUTRAL),
                          "managers' industry_weight and market_influence", "employees percentile"),
        "strategic_fit": _fill(_mean_assessed(assessments, ids, ["strategic_fit"]), neutral,
                               "managers' strategic_fit", "neutral 5"),
        "market_access": _fill(_pct(col("n_sites")), neutral, "n_sites percentile", "neutral 5"),
    }


def _strength(col, ids: pd.Index, contacts: pd.DataFrame | None
              ) -> dict[str, tuple[pd.Series, str]]:
    """Strength factor scores (0-10, proxies from the data) and their sources, by factor."""
    neutral = pd.Series(NEUTRAL, index=ids)
    revenue, wallet = col("revenue_12m").fillna(0.0), col("wallet")
    depth_c, attitude_c = _contacts_scores(contacts, ids)
    sow = (10 * revenue.clip(lower=0) / wallet.where(wallet > 0)).clip(upper=10)
    return {
        "share_of_wallet": _fill(sow, neutral, "10 x revenue / wallet", "neutral 5"),
        "relationship_depth": _fill(depth_c, _pct(col("n_contacts")).fillna(NEUTRAL),
                                    "contacts' relationship strength x2", "n_contacts percentile"),
        "relationship_breadth": _fill(10 * (col("n_functions") / 5).clip(upper=1), neutral,
                                      "functions reached (5 = 10)", "neutral 5"),
        "attitude": _fill(attitude_c, neutral, "contacts' attitude + 5", "neutral 5"),
    }


def _attractiveness_split(split: float | str, attractiveness: pd.Series) -> float:
    """The attractiveness above which an account is attractive: the median or a fixed score."""
    if isinstance(split, str) and split != "median":
        try:  # a notebook parameter arrives as text: "5" means 5
            split = float(split)
        except ValueError:
            pass
    if split == "median":
        return float(attractiveness.median()) if len(attractiveness) else 5.0
    if isinstance(split, (int, float)) and 0 <= split <= 10:
        return float(split)
    raise ParameterError("the DPM attractiveness split must be 'median' or a number from 0 "
                         f"to 10; got {split!r}.")


def _key_account_features(features: pd.DataFrame, account_ids) -> pd.DataFrame:
    """The rows of ``features`` of the accounts to plot, indexed by account id (as text)."""
    ids = pd.Index([str(a) for a in account_ids], name="account_id")
    f = features.assign(account_id=features["account_id"].astype(str)).set_index("account_id")
    unknown = ids.difference(f.index)
    if len(unknown):
        raise InputError("selection_scores", f"{len(unknown)} key account(s) are not in "
                         f"account_features (e.g. {unknown[0]}).",
                         "re-run intake and selection on the same engagement.", column="account_id")
    return f.loc[ids]


def directional_policy_matrix(
    features: pd.DataFrame,
    account_ids: list[str] | pd.Index,
    *,
    assessments: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    attractiveness_weights: Mapping[str, float] | None = None,
    strength_weights: Mapping[str, float] | None = None,
    attractiveness_split: float | str = "median",
    strength_split: float = 1.0,
    competitors: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place accounts in the directional policy matrix.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` (account_id, name, revenue_12m, wallet, growth_12m, margin_pct_12m,
        employees, n_sites, n_contacts, n_functions; missing columns fall back to neutral 5).
    account_ids : list of str
        The accounts to plot (normally the key accounts).
    assessments, contacts : DataFrame, optional
        Managers' 0-10 scores and the contacts table.
    attractiveness_weights, strength_weights : mapping, optional
        Factor -> weight, adding up to 100; unnamed factors get weight 0.
    attractiveness_split : float or "median"
        Attractiveness above the split is high. ``"median"`` (default) splits at the median of
        the accounts plotted: accounts chosen as key are usually all attractive in absolute
        terms, and the matrix is meant to rank them against each other (McDonald leaves the
        line to judgement). A number (e.g. 5, the middle of the 0-10 scale) fixes it.
    strength_split : float
        Relative strength above the split is strong (1 = on a par with the best competitor).
    competitors : DataFrame, optional
        The competitors table (``account_id``, ``strength`` 0-10): the strongest one recorded
        at an account is its best competitor; elsewhere an average rival scoring 5.

    Returns
    -------
    dpm : DataFrame
        account_id, name, revenue, attractiveness, strength, competitor_strength,
        relative_strength, attractiveness_split and strength_split (the box boundaries used),
        dpm_box, dpm_strategy, and every factor score (``attr_<factor>``,
        ``str_<factor>``), one row per account, attractive first.
    factors : DataFrame
        axis, factor, weight, source: what each score was computed from in this run.
    """
    aw = check_weights(attractiveness_weights or DEFAULT_ATTRACTIVENESS_WEIGHTS,
                       DEFAULT_ATTRACTIVENESS_WEIGHTS, "attractiveness")
    sw = check_weights(strength_weights or DEFAULT_STRENGTH_WEIGHTS,
                       DEFAULT_STRENGTH_WEIGHTS, "strength")
    if not strength_split > 0:
        raise ParameterError(f"dpm strength split must be positive; got {strength_split!r}.")
    f = _key_account_features(features, account_ids)
    ids = f.index

    def col(name: str) -> pd.Series:
        return f[name].astype(float) if name in f else pd.Series(np.nan, index=ids)

    attr = _attractiveness(col, ids, assessments)
    stren = _strength(col, ids, contacts)
    out = pd.DataFrame(index=ids)
    out["name"] = f["name"] if "name" in f else ids.to_series()
    out["revenue"] = col("revenue_12m").fillna(0.0)
    a_score = sum(aw.get(k, 0.0) / 100 * v[0].fillna(NEUTRAL) for k, v in attr.items())
    s_score = sum(sw.get(k, 0.0) / 100 * v[0].fillna(NEUTRAL) for k, v in stren.items())
    out["attractiveness"] = a_score.clip(0, 10)
    out["strength"] = s_score.clip(0, 10)
    out["competitor_strength"], competitor_source = best_competitor(competitors, ids)
    # A floor keeps the log axis finite for an account where we have no strength at all.
    out["relative_strength"] = out["strength"].clip(lower=0.1) / out["competitor_strength"].clip(lower=0.1)
    a_split = _attractiveness_split(attractiveness_split, out["attractiveness"])
    out["attractiveness_split"] = a_split
    out["strength_split"] = float(strength_split)
    hi_a = out["attractiveness"] > a_split
    hi_s = out["relative_strength"] > strength_split
    out["dpm_box"] = np.where(hi_a, np.where(hi_s, DPM_STRATEGIC, DPM_STAR),
                              np.where(hi_s, DPM_STATUS, DPM_STREAMLINE))
    out["dpm_strategy"] = out["dpm_box"].map(DPM_STRATEGIES)
    for k, (v, _) in attr.items():
        out[f"attr_{k}"] = v.fillna(NEUTRAL)
    for k, (v, _) in stren.items():
        out[f"str_{k}"] = v.fillna(NEUTRAL)
    out = out.reset_index().sort_values(["attractiveness", "account_id"], ascending=[False, True])
    factors = pd.DataFrame(
        [("attractiveness", k, aw.get(k, 0.0), src) for k, (_, src) in attr.items()]
        + [("strength", k, sw.get(k, 0.0), src) for k, (_, src) in stren.items()]
        + [("competitor", "best_competitor", np.nan, competitor_source)],
        columns=["axis", "factor", "weight", "source"],
    )
    return out.reset_index(drop=True), factors


def key_account_dpm(
    features: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    selection_given: bool,
    top_n: int,
    assessments: pd.DataFrame | None,
    contacts: pd.DataFrame | None,
    attractiveness_weights: Mapping[str, float] | None,
    strength_weights: Mapping[str, float] | None,
    attractiveness_split: float | str,
    notes: list[str],
    competitors: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The DPM of the key accounts of ``segments`` (its ``is_key`` column), with their segment.

    Without a selection (``selection_given`` False) the ``top_n`` accounts by revenue stand in
    (the fallback of the one key-account rule, :func:`kamlib.key_accounts.key_accounts`).
    When the selection marked no key account there is no DPM: both tables are
    empty and ``notes`` says so.
    """
    if selection_given:
        key_ids = segments.loc[segments["is_key"], "account_id"].tolist()
    else:
        by_id = dict(zip(segments["account_id"].astype(str), segments["account_id"]))
        key_ids = [by_id[a] for a in key_accounts(None, None, features, top_n).ids if a in by_id]
    if not key_ids:
        notes.append("The selection step marked no key account, so there is no DPM.")
        return (pd.DataFrame(columns=["account_id", "name", "attractiveness", "relative_strength",
                                      "dpm_box"]),
                pd.DataFrame(columns=["axis", "factor", "weight", "source"]))
    dpm, factors = directional_policy_matrix(
        features, key_ids, assessments=assessments, contacts=contacts,
        attractiveness_weights=attractiveness_weights, strength_weights=strength_weights,
        attractiveness_split=attractiveness_split, competitors=competitors,
    )
    dpm = dpm.merge(segments[["account_id", "segment", "is_key"]], on="account_id", how="left")
    return dpm, factors
