"""Objectives with stage goals: what each key account's plan aims for in the coming year.

Rules (parameters in brackets, see ``docs/planning.md``):

- **Revenue** growth ``g`` blends the segment's strategy with the account's own momentum::

      g = (1 - momentum_weight) * segment_growth[segment] + momentum_weight * clip(growth_12m, -0.2, 0.5)

  Without a segment, ``default_growth`` is used (and the plan says so). When CLV says the
  account may be slipping away (``p_alive < retention_p_alive``) the objective becomes
  *retain*: ``g = min(g, 0)``. When the wallet is known the target never exceeds
  ``max_wallet_share`` of it. An account with no revenue yet gets a *win first business*
  objective worth ``first_business_share`` of its whitespace potential.
- **Margin**: the margin rate moves by ``margin_uplift[segment]`` percentage points; the money
  target is the revenue target times that rate.
- **Whitespace**: first orders in the top whitespace categories (one by day 90, up to three in
  the year).
- **Relationship**: cover the missing DMU roles (two more by day 90, all six by the year end).

Every objective is split into stage goals: day 30, day 60, day 90 (= Q1), Q2, Q3 and Q4 (= the
year). Money goals are cumulative from the plan start and linear in time (seasonality is not
modelled: edit the milestones where the business is seasonal).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.formatting import money, share
from kamlib.planning._common import change_text, records
from kamlib.vocabulary import CORE, DEVELOPING, DMU_ROLES, LAGGARD, STAR
from kamlib.vocabulary import MILESTONES as MILESTONES
from kamlib.vocabulary import OBJECTIVE_COLUMNS as _OBJECTIVE_COLUMNS

SEGMENT_GROWTH: dict[str, float] = {STAR: 0.15, DEVELOPING: 0.25, CORE: 0.05, LAGGARD: 0.0}
"""Default yearly revenue growth target per segment (invest in Stars and Developing, hold Core,
manage Laggards for cash)."""

MARGIN_UPLIFT: dict[str, float] = {STAR: 0.0, DEVELOPING: -1.0, CORE: 1.0, LAGGARD: 2.0}
"""Default change in margin rate per segment, in percentage points (Developing accounts may
trade some margin for growth; Laggards must earn more per sale)."""

MOMENTUM_WEIGHT = 0.3
"""Default weight (0-1) of the account's own recent growth in its revenue target."""

RETENTION_P_ALIVE = 0.6
"""Default CLV probability of being alive below which the objective is to retain, not grow."""

OBJECTIVE_COLUMNS: list[str] = list(_OBJECTIVE_COLUMNS)
"""Columns of :func:`objectives` (the ``plan_objectives`` table, one row per stage goal)."""


def annual_targets(
    profile: pd.DataFrame,
    segment_growth: dict[str, float] | None = None,
    margin_uplift: dict[str, float] | None = None,
    default_growth: float = 0.05,
    momentum_weight: float = MOMENTUM_WEIGHT,
    retention_p_alive: float = RETENTION_P_ALIVE,
    max_wallet_share: float = 0.8,
    first_business_share: float = 0.25,
    whitespace_potential: pd.Series | None = None,
) -> pd.DataFrame:
    """Yearly revenue and margin targets per account, with the reason in words.

    Parameters
    ----------
    profile : DataFrame
        From :func:`kamlib.planning.profile.account_profiles`.
    segment_growth, margin_uplift : dict
        Per-segment growth (fraction) and margin-rate change (percentage points).
    default_growth : float
        Growth for accounts without a segment.
    momentum_weight : float
        Weight (0-1) of the account's own recent growth in its target.
    retention_p_alive : float
        Below this CLV probability of being alive the objective is to retain, not grow.
    max_wallet_share : float
        Cap on the revenue target as a share of the wallet, where the wallet is known.
    first_business_share : float
        Share of whitespace potential to win in the first year when there is no revenue yet.
    whitespace_potential : Series, optional
        Total whitespace potential per account id.

    Returns
    -------
    DataFrame
        ``account_id``, ``kind`` (grow / retain / win), ``growth``, ``revenue_base``,
        ``revenue_target``, ``margin_pct_base``, ``margin_pct_target``, ``margin_base``,
        ``margin_target``, ``reason``.
    """
    sg = {**SEGMENT_GROWTH, **(segment_growth or {})}
    mu = {**MARGIN_UPLIFT, **(margin_uplift or {})}
    ws = whitespace_potential if whitespace_potential is not None else pd.Series(dtype=float)
    rows = []
    for r in records(profile):
        aid = r["account_id"]
        rev = float(r["revenue_12m"]) if r["revenue_12m"] == r["revenue_12m"] else 0.0
        mar = float(r["margin_12m"]) if r["margin_12m"] == r["margin_12m"] else 0.0
        mpct = mar / rev if rev > 0 else np.nan
        seg = r["segment"] if isinstance(r["segment"], str) and r["segment"] else None
        why = []
        base_g = sg.get(seg, default_growth) if seg else default_growth
        why.append(f"segment {seg}: {share(base_g, signed=True)}" if seg else f"no segment: default {share(default_growth, signed=True)}")
        gr = r["growth_12m"]
        mom = float(np.clip(gr, -0.2, 0.5)) if gr == gr else base_g
        g = (1 - momentum_weight) * base_g + momentum_weight * mom
        if gr == gr and momentum_weight > 0:
            ch = change_text(r["revenue_12m"], r.get("revenue_prev_12m", np.nan))
            why.append((f"last 12 months {ch} on the year before" if ch not in ("new", "n/a")
                        else "momentum of a new account") + f", weighted {share(momentum_weight)}")
        kind = "grow"
        pa = r.get("p_alive", np.nan)
        if pa == pa and pa < retention_p_alive:
            kind = "retain"
            g = min(g, 0.0)
            why.append(f"CLV p_alive {pa:.2f} < {retention_p_alive:.2f}: secure the account first")
        target = rev * (1 + g)
        w = r["wallet"]
        if w == w and w > 0 and target > max_wallet_share * w:
            target = max(max_wallet_share * w, rev)
            why.append(f"capped at {share(max_wallet_share)} of wallet {money(w)}")
        if rev <= 0:
            kind = "win"
            pot = float(ws.get(aid, 0.0))
            target = first_business_share * pot
            why = [f"no revenue yet: win {share(first_business_share)} of whitespace potential {money(pot)}"]
            g = np.nan
        up = mu.get(seg, 0.0) if seg else 0.0
        mpct_t = (mpct + up / 100.0) if mpct == mpct else np.nan
        if mpct == mpct and up:
            why.append(f"margin rate {up:+.1f} pp")
        rows.append(dict(
            account_id=aid, kind=kind, growth=g, revenue_base=rev, revenue_target=target,
            margin_pct_base=mpct, margin_pct_target=mpct_t, margin_base=mar,
            margin_target=target * mpct_t if mpct_t == mpct_t else np.nan, reason="; ".join(why)))
    return pd.DataFrame(rows)


def objectives(
    targets: pd.DataFrame,
    profile: pd.DataFrame,
    relationship: pd.DataFrame,
    whitespace: pd.DataFrame,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Objectives and their stage goals, one row per (objective, milestone).

    Parameters
    ----------
    targets : DataFrame
        From :func:`annual_targets`.
    profile : DataFrame
        Plan profiles (``account_id``, ``account_manager``).
    relationship : DataFrame
        From :func:`kamlib.planning.relationship.relationship_summary`.
    whitespace : DataFrame
        From :func:`kamlib.planning.whitespace.whitespace`.
    start : Timestamp
        Plan start date.

    Returns
    -------
    DataFrame
        Columns :data:`OBJECTIVE_COLUMNS`. Objective ids are ``<account_id>-REV`` (revenue),
        ``-MAR`` (margin), ``-WS`` (whitespace), ``-REL`` (relationship). ``baseline`` is the
        value over the same span a year earlier (money) or today (counts); ``target`` is
        cumulative from the plan start.
    """
    owner = dict(zip(profile["account_id"], profile["account_manager"]))
    rel = relationship.set_index("account_id") if len(relationship) else pd.DataFrame()
    ws_n = whitespace.groupby("account_id").size() if len(whitespace) else pd.Series(dtype=int)
    ws_pot = whitespace.groupby("account_id")["potential"].sum() if len(whitespace) else pd.Series(dtype=float)
    ws_top = (whitespace[whitespace["rank"] <= 3].groupby("account_id")["category"].agg(", ".join)
              if len(whitespace) else pd.Series(dtype=str))
    rows = []
    for t in records(targets):
        aid = t["account_id"]
        own = owner.get(aid)
        own = own if isinstance(own, str) and own.strip() else "unassigned"

        def stage(oid, kind, desc, unit, base_year, target_year, ramp=True, steps=None):
            for i, (lab, days) in enumerate(MILESTONES):
                frac = days / 365.0
                if steps is not None:
                    tgt, base = steps[i], base_year
                elif ramp:
                    tgt, base = target_year * frac, base_year * frac
                else:
                    tgt, base = target_year, base_year
                rows.append((aid, oid, kind, desc, lab, days, start + pd.Timedelta(days=days),
                             base, tgt, unit, own, "open"))

        verb = {"grow": "Grow", "retain": "Retain", "win": "Win first business:"}[t["kind"]]
        stage(f"{aid}-REV", "revenue",
              f"{verb} revenue to {money(t['revenue_target'])} in the year ({t['reason']})",
              "money", t["revenue_base"], t["revenue_target"])
        if t["margin_target"] == t["margin_target"]:
            stage(f"{aid}-MAR", "margin",
                  f"Margin {money(t['margin_target'])} at {share(t['margin_pct_target'], digits=1)} "
                  f"(now {share(t['margin_pct_base'], digits=1)})", "money", t["margin_base"], t["margin_target"])
        n = int(ws_n.get(aid, 0))
        if n:
            goal = min(n, 3)
            steps = [0, 0, 1, min(2, goal), goal, goal]
            stage(f"{aid}-WS", "whitespace",
                  f"Orders in {goal} whitespace {'category' if goal == 1 else 'categories'} it does not "
                  f"buy yet or buys little of ({ws_top.get(aid, '')}; "
                  f"potential {money(float(ws_pot.get(aid, 0.0)))} a year)",
                  "categories", 0, goal, steps=steps)
        if aid in rel.index:
            r = rel.loc[aid]
            have = int(round(r["coverage"] * len(DMU_ROLES)))
            if have < 6:
                steps = [have, min(6, have + 1), min(6, have + 2), min(6, have + 3), min(6, have + 4), 6]
                missing = ", ".join(x for x in (r["roles_thin"] + ";" + r["roles_unknown"]).split(";") if x)
                stage(f"{aid}-REL", "relationship",
                      f"Cover all six DMU roles (missing: {missing})", "roles covered", have, 6, steps=steps)
    out = pd.DataFrame(rows, columns=OBJECTIVE_COLUMNS)
    out["baseline"] = out["baseline"].astype(float)
    out["target"] = out["target"].astype(float)
    return out
