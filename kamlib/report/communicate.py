"""Step 7 of the key-account process, communicate: a page for the whole company and a review
pack for each customer.

:func:`key_accounts_page` is the internal one-pager "our key accounts and why": every key
account with its owner, executive sponsor, the reason it is key and where requests go, so that
everyone in the company knows who the key accounts are and why. :func:`customer_pack` is the
customer-facing review of one account: what we did together, what we plan, what we ask of
them. It is built from an allow-list of what a customer may see -- their purchases, our
proposals, the meetings, our value proposition, their aims as we understood them -- and never
from the plan's internal figures (lifetime value, health, investment ceiling, margins, wallet
and share of wallet, targets, SWOT, competitors, the 5P view, red flags, notes).
"""

from __future__ import annotations

import pandas as pd

from kamlib import formatting
from kamlib.formatting import DASH
from kamlib.paths import safe_name
from kamlib.planning._common import records
from kamlib.report import pages
from kamlib.report.plan_sections import statements
from kamlib.vocabulary import (BUYER, DECIDER, DMU_ROLES, EXECUTIVE_SPONSOR, GATEKEEPER,
                               INFLUENCER, INITIATOR, KEY_ACCOUNT_MANAGER, USER)

CUSTOMER_FOLDER = "customer"
"""Where the customer review packs go, inside the run's ``html/`` folder."""

KEY_ACCOUNTS_FILE = "key_accounts.html"

ASK_ROLE = {
    DECIDER: "a meeting with the person who decides on supplies like ours",
    BUYER: "an introduction to your purchasing team",
    INFLUENCER: "time with your engineers or specialists who specify what is bought",
    USER: "a visit to the sites and people who use our products",
    INITIATOR: "to hear early when a new need or project starts",
    GATEKEEPER: "to know whom to keep informed about our proposals",
}
"""What we ask a customer for when nobody in a DMU role is known to us (in their terms)."""


def _team_member(team: pd.DataFrame, aid: str, role: str) -> str:
    t = team[(team["account_id"] == aid) & (team["role"] == role)]
    names = [str(p) for p in t["person"] if isinstance(p, str)]
    return ", ".join(names) or DASH


def key_accounts_page(plans, run_label: str = "") -> str:
    """The internal one-pager: every key account, its owner and sponsor, why it is key, and
    where requests about it go (printable HTML)."""
    rows = []
    for p in records(plans.profile):
        aid = p["account_id"]
        kam = _team_member(plans.team, aid, KEY_ACCOUNT_MANAGER)
        sponsor = _team_member(plans.team, aid, EXECUTIVE_SPONSOR)
        why = [x for x in (str(p.get("drivers") or ""), str(p.get("strategy") or "")) if x and x != "nan"]
        rows.append(dict(name=p["name"], industry=p.get("industry") or DASH,
                         segment=p.get("segment") if isinstance(p.get("segment"), str) else DASH,
                         kam=kam, sponsor=sponsor,
                         why="; ".join(why) or "chosen as key in the selection",
                         route=f"{kam} (key account manager)"
                               + (f"; escalate to {sponsor}" if sponsor not in (DASH, "to assign") else "")))
    return pages.render("key_accounts.html.j2", css=pages.stylesheet("account_plan.css"),
                        run_label=run_label, start=formatting.date(plans.start), rows=rows,
                        n=len(rows))


def _together(plan, currency: str) -> list[dict]:
    return [dict(category=t["category"], now=formatting.money(t["revenue_0"], currency),
                 before=formatting.money(t["revenue_1"], currency))
            for t in records(plan.trend.head(10)) if t["revenue_0"] > 0 or t["revenue_1"] > 0]


def _asks(plan, aims: list[str]) -> list[str]:
    known = {r for roles in plan.contacts["dmu_roles"].astype(str) for r in roles.split(";")} \
        if len(plan.contacts) else set()
    asks = [ASK_ROLE[r] for r in DMU_ROLES if r not in known]
    asks.append("to confirm your aims for the coming years, as listed above, or correct them"
                if aims else "to share your aims for the coming years, so our plan serves them")
    asks.append("your feedback on our service: what we should keep, start and stop doing")
    return [a[0].upper() + a[1:] for a in asks]


def customer_pack(plan, supplier: str = "", currency: str = "") -> str:
    """The customer-facing review pack of one account (printable HTML).

    Only what the customer may see goes in (see the module text): it is built from the
    account's purchases (``trend``), open opportunities (name, category, expected close),
    whitespace categories (names only), the governance meetings, our value proposition and
    their aims as recorded.
    """
    said = statements(plan.strategy)
    aims = said.get("aim", [])
    pipe = plan.pipeline[plan.pipeline["status"] == "open"] if len(plan.pipeline) else plan.pipeline
    proposals = [dict(name=o["name"], category=o["category"] if isinstance(o["category"], str) else DASH,
                      when=formatting.date(o["expected_close"]))
                 for o in records(pipe)]
    offered = {str(o["category"]) for o in records(pipe)}
    explore = [str(c) for c in plan.whitespace["category"] if str(c) not in offered] \
        if len(plan.whitespace) else []
    dates: dict[str, list[str]] = {}
    for g in records(plan.governance):
        dates.setdefault(g["meeting"], []).append(formatting.date(g["date"]))
    meetings = [dict(meeting=m, dates=", ".join(d)) for m, d in dates.items()]
    kam = [str(p) for p in plan.team.loc[plan.team["role"] == KEY_ACCOUNT_MANAGER, "person"]
           if isinstance(p, str) and p != "to assign"] if len(plan.team) else []
    return pages.render(
        "customer_pack.html.j2", css=pages.stylesheet("account_plan.css"), name=plan.name,
        supplier=supplier, start=formatting.date(plan.start), together=_together(plan, currency),
        value_proposition=said.get("value_proposition", []), aims=aims, proposals=proposals,
        explore=explore[:5], meetings=meetings, asks=_asks(plan, aims), contact=", ".join(kam))


def customer_packs(plans, supplier: str = "", currency: str = "") -> list[tuple[str, str, str]]:
    """Every key account's review pack, as ``(title, relpath, html)`` under ``customer/``."""
    return [(f"Review pack - {name}", f"{CUSTOMER_FOLDER}/{safe_name(aid)}.html",
             customer_pack(plans.account(aid), supplier=supplier, currency=currency))
            for aid, name in zip(plans.profile["account_id"], plans.profile["name"].astype(str))]
