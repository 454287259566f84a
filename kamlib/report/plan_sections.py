"""What the plan page shows of the customer's strategy, our position, the pipeline and the team.

Each function turns one account's slices (:class:`~kamlib.planning.account_plan.AccountPlan`)
into plain values for ``account_plan.html.j2``: the customer's aims, culture and our value
proposition, the SWOT, the competitors, the pipeline against the target with its bridge, and
the account team with its governance meetings. Where the account team recorded nothing, the
section carries the questions to ask instead (``to_gather``), so the page says what to find out.
"""

from __future__ import annotations

import pandas as pd

from kamlib import formatting
from kamlib.figures.planning import target_bridge_svg
from kamlib.formatting import DASH
from kamlib.planning._common import records
from kamlib.vocabulary import SWOT, TEAM_ROLES

QUESTIONS = {
    "aim": "What are the customer's strategic aims for the next two to three years (growth, new "
           "sites or markets, cost, sustainability), and which of them does our category touch?",
    "culture": "How do they buy: who specifies, who decides, who signs; tenders or long-standing "
               "suppliers; central or by site?",
    "value_proposition": "What do we offer that helps them reach those aims better than anyone "
                         "else, in their words (cost, risk, time, growth)?",
    "swot": "Where are we stronger and weaker than the competitors in the customer's eyes, and "
            "what in their plans opens doors for us (opportunities) or threatens our position?",
    "competitors": "Who else supplies them in our categories, at which sites, with what share of "
                   "their spend, and how do they rate each one (0-10)?",
    "team": "Who is our executive sponsor for this account, and who mirrors their operations, "
            "technical and finance people?",
}
"""The questions each section asks when nothing is recorded for it."""

SWOT_HEADINGS = {"strength": "Strengths", "weakness": "Weaknesses", "opportunity": "Opportunities",
                 "threat": "Threats"}


def statements(strategy: pd.DataFrame) -> dict[str, list[str]]:
    """An account's ``account_strategy`` rows as topic -> statements, in the order recorded."""
    out: dict[str, list[str]] = {}
    if len(strategy) and {"topic", "text"} <= set(strategy.columns):
        for topic, text in zip(strategy["topic"].tolist(), strategy["text"].tolist()):
            if isinstance(text, str) and text:
                out.setdefault(str(topic), []).append(text)
    return out


def strategy(plan) -> dict:
    """The customer's aims and culture, our value proposition, the SWOT; questions for gaps."""
    s = statements(plan.strategy)
    aims, culture, vp = s.get("aim", []), s.get("culture", []), s.get("value_proposition", [])
    swot = [(SWOT_HEADINGS[t], s.get(t, [])) for t in SWOT]
    gather = [QUESTIONS[k] for k, got in (("aim", aims), ("culture", culture),
                                          ("value_proposition", vp)) if not got]
    has_swot = any(items for _, items in swot)
    if not has_swot:
        gather.append(QUESTIONS["swot"])
    return dict(aims=aims, culture=culture, value_proposition=vp, swot=swot,
                has_swot=has_swot, strategy_gather=gather)


def competitors(plan, profile: dict) -> dict:
    """The competitors recorded at the account, strongest first, and what the DPM compares."""
    c = plan.competitors.reindex(columns=["competitor", "scope", "share_of_wallet", "strength",
                                          "position"])  # a frame without optional columns
    rows = []
    if len(c):
        c = c.sort_values("strength", ascending=False, na_position="last", kind="mergesort")
        rows = [dict(name=r["competitor"], scope=r["scope"] if isinstance(r.get("scope"), str) and r["scope"]
                     else "whole account",
                     share=formatting.share(r.get("share_of_wallet")),
                     strength=DASH if r.get("strength") != r.get("strength") or r.get("strength") is None
                     else f"{float(r['strength']):.0f}/10",
                     position=r.get("position") if isinstance(r.get("position"), str) else DASH)
                for r in records(c)]
    ours = profile.get("wallet_share")
    held = pd.to_numeric(c["share_of_wallet"], errors="coerce").sum() if len(c) else 0.0
    note = ""
    if rows:
        note = (f"Recorded competitors hold {formatting.share(held)} of the wallet"
                + (f", we hold {formatting.share(ours)}" if ours == ours and ours is not None else "")
                + ". The directional policy matrix compares our strength with the strongest of them.")
    return dict(competitors=rows, competitors_note=note,
                competitors_gather=[] if rows else [QUESTIONS["competitors"]])


def pipeline(plan, currency: str) -> dict:
    """The opportunities with their weighted value against the target, and the bridge."""
    p = plan.pipeline
    rows = [dict(name=r["name"], stage=r["stage"] if isinstance(r["stage"], str) else DASH,
                 status=r["status"], category=r["category"] if isinstance(r["category"], str) else DASH,
                 amount=formatting.money(r["amount"]), probability=formatting.share(r["probability"]),
                 weighted=formatting.money(r["weighted"]), close=formatting.date(r["expected_close"]),
                 owner=r["owner"] if isinstance(r["owner"], str) else DASH, in_year=bool(r["in_plan_year"]))
            for r in records(p)]
    b = plan.bridge
    base = float(b["amount"].iloc[0]) if len(b) else float("nan")
    target = float(b["running_total"].iloc[-1]) if len(b) else float("nan")
    weighted = float(p.loc[p["in_plan_year"].astype(bool), "weighted"].sum()) if len(p) else 0.0
    growth = target - base
    cover = (f"The weighted pipeline closing in the plan year, {formatting.money(weighted, currency)}, "
             f"covers {formatting.share(weighted / growth)} of the {formatting.money(growth, currency)} "
             "the target adds to this year." if growth > 0 and len(p)
             else "No open opportunity is recorded: export the CRM's opportunities so the target "
                  "rests on the pipeline." if not len(p) else "")
    steps = [dict(step=r["step"], amount=formatting.money(r["amount"], currency),
                  total=formatting.money(r["running_total"], currency), basis=r["basis"])
             for r in records(b)]
    basis = str(plan.profile.get("target_basis") or "")
    return dict(pipeline=rows, pipeline_cover=cover, bridge_steps=steps,
                bridge_svg=target_bridge_svg(b), bridge_target=formatting.money(target, currency),
                bridge_fallback=basis == "segment")


def team(plan) -> dict:
    """Our account team (gaps marked) and the governance meetings with their dates."""
    rank = {r: i for i, r in enumerate(TEAM_ROLES)}
    t = records(plan.team)
    t.sort(key=lambda r: (rank.get(r["role"], len(rank)), str(r["person"])))
    members = [dict(person=r["person"], role=r["role"], gap=r["source"] == "gap",
                    counterpart=r["counterpart"] if isinstance(r["counterpart"], str) and r["counterpart"] else DASH,
                    source=r["source"])
               for r in t]
    meetings: dict[str, dict] = {}
    for g in records(plan.governance):
        m = meetings.setdefault(g["meeting"], dict(meeting=g["meeting"], ours=g["our_side"],
                                                   theirs=g["their_side"], purpose=g["purpose"],
                                                   dates=[]))
        m["dates"].append(formatting.date(g["date"]))
    meetings_list = [{**m, "dates": ", ".join(m["dates"])} for m in meetings.values()]
    gather = [QUESTIONS["team"]] if any(m["gap"] for m in members) else []
    return dict(team=members, governance=meetings_list, team_gather=gather)


def sections(plan, profile: dict, currency: str) -> dict:
    """Every value the page's strategy, competitor, pipeline and team sections show."""
    return {**strategy(plan), **competitors(plan, profile), **pipeline(plan, currency), **team(plan)}
