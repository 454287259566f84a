"""Revenue targets from evidence: a bridge from this year's revenue to the target.

Each key account's target is this year's revenue (the *baseline*) plus what the evidence says
can be added in the plan year, one bar each (parameters in brackets, see ``docs/planning.md``):

1. **weighted pipeline** -- open opportunities expected to close within the plan year, each
   amount times its win probability (``default_probability`` where none is recorded; won and
   lost ones are not pipeline);
2. **whitespace** -- ``whitespace_capture`` of the look-alike whitespace potential in the
   categories no open opportunity already covers (a new account: ``first_business_share``);
3. **unserved sites** -- ``site_capture`` of what the sites it does not buy for would buy at
   the revenue per active site (``accounts.n_sites`` against the sites buying in 12 months);
4. **wallet headroom** -- ``headroom_capture`` of what is left up to ``wallet_reachable_share``
   of the account's wallet once the bars before are counted.

The bars never take the target above ``max_wallet_share`` of a known wallet (a bar is cut at
that cap). Only when none of them adds anything -- no open opportunity in the plan year, no
whitespace, no unserved site, no wallet headroom, or none of it known -- does the segment's
growth (:func:`kamlib.planning.objectives.annual_targets`) fill in as one *segment growth* bar;
an account to *retain* keeps that rule too. The target is the sum of the bars, summed in bar
order, so the bridge adds up to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.formatting import money
from kamlib.formatting import share as fmt_share
from kamlib.planning._common import records
from kamlib.vocabulary import (BRIDGE_BASELINE, BRIDGE_HEADROOM, BRIDGE_PIPELINE, BRIDGE_SEGMENT_GROWTH,
                               BRIDGE_SITES, BRIDGE_STEPS, BRIDGE_WHITESPACE, LOST_STAGES,
                               WON_STAGES)

BRIDGE_COLUMNS = ["account_id", "step_no", "step", "amount", "running_total", "basis"]
"""Columns of ``plan_target_bridge`` (one row per account and bar)."""

PIPELINE_COLUMNS = ["account_id", "name", "stage", "status", "category", "amount", "probability",
                    "weighted", "expected_close", "in_plan_year", "owner"]
"""Columns of ``plan_pipeline`` (one row per opportunity of a key account)."""


@dataclass(frozen=True)
class TargetRules:
    """How much of each piece of evidence a one-year target counts (see the module text)."""

    whitespace_capture: float = 0.25
    site_capture: float = 0.1
    wallet_reachable_share: float = 0.5
    headroom_capture: float = 0.1
    default_probability: float = 0.5
    max_wallet_share: float = 0.8
    first_business_share: float = 0.25


def pipeline(opportunities: pd.DataFrame | None, ids: list[str], start: pd.Timestamp,
             default_probability: float = 0.5) -> pd.DataFrame:
    """The key accounts' opportunities with their status and weighted value.

    ``status`` is won / lost (by stage, any case: :data:`~kamlib.vocabulary.WON_STAGES`,
    :data:`~kamlib.vocabulary.LOST_STAGES`) or open; ``weighted`` = amount x probability for
    open ones (``default_probability`` when blank), else 0; ``in_plan_year`` says whether an
    open one is expected to close within 365 days of ``start`` (no date: yes, it is open).
    """
    if opportunities is None or not len(opportunities):
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("amount", "probability", "weighted")
                                          else "datetime64[us]" if c == "expected_close"
                                          else bool if c == "in_plan_year" else object)
                             for c in PIPELINE_COLUMNS})
    o = opportunities.reindex(columns=["account_id", "name", "stage", "amount", "probability",
                                       "expected_close", "category", "owner"])  # optional columns
    o = o.assign(account_id=o["account_id"].astype(str))
    o = o[o["account_id"].isin(set(ids))].copy()
    stage = o["stage"].astype("string").str.strip().str.lower().fillna("")
    o["status"] = np.where(stage.isin(WON_STAGES), "won", np.where(stage.isin(LOST_STAGES), "lost", "open"))
    p = pd.to_numeric(o["probability"], errors="coerce").astype(float)
    o["probability"] = p.where(p.notna(), default_probability)
    amount = pd.to_numeric(o["amount"], errors="coerce").astype(float).fillna(0.0)
    o["amount"] = amount
    close = pd.to_datetime(o["expected_close"], errors="coerce").astype("datetime64[us]")
    o["expected_close"] = close
    o["in_plan_year"] = (o["status"] == "open") & (close.isna() | (close <= start + pd.Timedelta(days=365)))
    o["weighted"] = np.where(o["status"] == "open", amount * o["probability"], 0.0)
    order = pd.Categorical(o["account_id"], categories=ids, ordered=True)
    o = o.assign(_o=order).sort_values(["_o", "weighted", "name"], ascending=[True, False, True],
                                       kind="mergesort")
    return o[PIPELINE_COLUMNS].reset_index(drop=True)


def _evidence_bars(r: dict, pipe: pd.DataFrame, ws: pd.DataFrame, sites: tuple[float, float],
                   rules: TargetRules) -> list[tuple[str, float, str]]:
    """The evidence bars of one account (before the wallet cap), with their basis in words."""
    rev = r["revenue_base"]
    bars = []
    open_year = pipe[pipe["in_plan_year"]]
    w = float(open_year["weighted"].sum())
    bars.append((BRIDGE_PIPELINE, w, f"{len(open_year)} open opportunit"
                 f"{'y' if len(open_year) == 1 else 'ies'} closing in the plan year, "
                 f"{money(open_year['amount'].sum())} x probability" if len(open_year)
                 else "no open opportunity recorded for the plan year"))
    covered = set(open_year["category"].dropna().astype(str))
    free = ws[~ws["category"].astype(str).isin(covered)] if len(ws) else ws
    share = rules.first_business_share if rev <= 0 else rules.whitespace_capture
    pot = float(free["potential"].sum()) if len(free) else 0.0
    bars.append((BRIDGE_WHITESPACE, share * pot,
                 f"{fmt_share(share)} of the look-alike potential {money(pot)} in {len(free)} "
                 f"categor{'y' if len(free) == 1 else 'ies'} no open opportunity covers"
                 if len(free) else "no whitespace beyond the pipeline"))
    n_sites, active = sites
    if rev > 0 and n_sites == n_sites and active == active and active > 0 and n_sites > active:
        per = rev / active
        bars.append((BRIDGE_SITES, rules.site_capture * per * (n_sites - active),
                     f"{fmt_share(rules.site_capture)} of {n_sites - active:.0f} unserved site(s) at "
                     f"{money(per)} per active site ({active:.0f} of {n_sites:.0f} buy)"))
    else:
        bars.append((BRIDGE_SITES, 0.0, "every known site buys" if n_sites == n_sites
                     else "number of sites unknown"))
    wallet = r["wallet"]
    if wallet == wallet and wallet > 0:
        room = max(0.0, rules.wallet_reachable_share * wallet - rev - sum(b[1] for b in bars))
        bars.append((BRIDGE_HEADROOM, rules.headroom_capture * room,
                     f"{fmt_share(rules.headroom_capture)} of the {money(room)} left up to "
                     f"{fmt_share(rules.wallet_reachable_share)} of the wallet {money(wallet)}"))
    else:
        bars.append((BRIDGE_HEADROOM, 0.0, "wallet unknown"))
    return bars


def target_bridge(targets: pd.DataFrame, profile: pd.DataFrame, features: pd.DataFrame,
                  whitespace: pd.DataFrame, pipe: pd.DataFrame,
                  rules: TargetRules = TargetRules()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each account's bridge from this year's revenue to its target, and the targets rebuilt.

    Parameters
    ----------
    targets : DataFrame
        From :func:`kamlib.planning.objectives.annual_targets` (the segment rule: kept for
        accounts to retain and where no evidence is known).
    profile : DataFrame
        Plan profiles (``account_id``, ``wallet``, ``n_sites``).
    features : DataFrame
        ``account_features`` (``n_active_sites_12m``, optional).
    whitespace, pipe : DataFrame
        From :func:`kamlib.planning.whitespace.whitespace` and :func:`pipeline`.
    rules : TargetRules

    Returns
    -------
    bridge : DataFrame
        :data:`BRIDGE_COLUMNS`; the amounts of an account add up to its target.
    targets : DataFrame
        ``targets`` with ``revenue_target``, ``growth``, ``margin_target`` and ``reason``
        rebuilt from the bridge, and ``target_basis`` (evidence / segment).
    """
    prof = profile.set_index("account_id")
    act = (features.set_index("account_id")["n_active_sites_12m"].astype(float)
           if "n_active_sites_12m" in features.columns else pd.Series(dtype=float))
    ws_by = {k: g for k, g in whitespace.groupby("account_id", sort=False)} if len(whitespace) else {}
    pipe_by = {k: g for k, g in pipe.groupby("account_id", sort=False)} if len(pipe) else {}
    empty_ws, empty_pipe = whitespace.iloc[0:0], pipe.iloc[0:0]
    rows, out = [], []
    for t in records(targets):
        aid = t["account_id"]
        rev = float(t["revenue_base"])
        wallet = float(prof.at[aid, "wallet"]) if "wallet" in prof.columns else np.nan
        n_sites = float(prof.at[aid, "n_sites"]) if "n_sites" in prof.columns else np.nan
        sites = (n_sites, float(act.get(aid, np.nan)))
        pa, wa = pipe_by.get(aid, empty_pipe), ws_by.get(aid, empty_ws)
        bars = ([] if t["kind"] == "retain" else
                _evidence_bars({**t, "wallet": wallet}, pa, wa, sites, rules))
        basis = "evidence"
        if not any(b[1] > 0 for b in bars):  # nothing known adds to this year: the segment rule
            bars = [(BRIDGE_SEGMENT_GROWTH, float(t["revenue_target"]) - rev, t["reason"])]
            basis = "segment"
        cap = rules.max_wallet_share * wallet if wallet == wallet and wallet > 0 else np.inf
        running = rev
        steps = [(BRIDGE_BASELINE, rev, "revenue of the last 12 months")]
        for step, amount, why in bars:
            if basis == "evidence" and amount > 0 and running + amount > cap:
                amount = max(0.0, cap - running)
                why += f"; cut at {fmt_share(rules.max_wallet_share)} of the wallet"
            steps.append((step, amount, why))
            running = running + amount
        total = 0.0
        for i, (step, amount, why) in enumerate(steps):
            total = total + amount
            rows.append((aid, BRIDGE_STEPS.index(step), step, amount, total, why))
        t = dict(t)
        if basis == "evidence":
            t["revenue_target"] = total
            t["growth"] = total / rev - 1 if rev > 0 else np.nan
            added = [f"{s} {money(a)}" for s, a, _ in steps[1:] if a > 0]
            t["reason"] = ("built from evidence: " + ", ".join(added)) if added else \
                "the evidence adds nothing this year: hold revenue"
            mp = t["margin_pct_target"]
            t["margin_target"] = total * mp if mp == mp else np.nan
        t["target_basis"] = basis
        out.append(t)
    bridge = pd.DataFrame(rows, columns=BRIDGE_COLUMNS)
    return bridge, pd.DataFrame(out, columns=[*targets.columns, "target_basis"])
