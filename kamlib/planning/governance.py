"""The account team and its governance cadence: who on our side meets whom on theirs, how often.

A key account is run by a team, not by one account manager: an **executive sponsor** (a
director who meets the customer's top), the **key account manager** who leads, and the people
who mirror the customer's functions (service, technical, finance, logistics ...). The team
comes from the ``account_team`` table; where it has no key account manager the account's
``account_manager`` stands in, and a missing executive sponsor is named as a gap ("to assign").

Three meetings govern the relationship (days between two of them in brackets, parameter
``governance_days``): a **top-to-top meeting** of the executive sponsor with the customer's
senior decider (182), a **quarterly business review** of the key account manager with the
decider and buyer (91), and **operational reviews** of the service and technical people with
the users (30). Their dates in the plan year are the ``plan_governance`` table and go into the
account's calendar file.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kamlib.errors import ParameterError
from kamlib.planning._common import records
from kamlib.vocabulary import (BUSINESS_REVIEW, DECIDER, EXECUTIVE_SPONSOR, GOVERNANCE_MEETINGS,
                               KEY_ACCOUNT_MANAGER, OPERATIONAL_REVIEW, TOP_TO_TOP, USER, BUYER)

GOVERNANCE_COLUMNS = ["account_id", "meeting", "date", "our_side", "their_side", "purpose"]
"""Columns of ``plan_governance`` (one row per meeting in the plan year)."""

TEAM_COLUMNS = ["account_id", "person", "role", "counterpart", "source"]
"""Columns of ``plan_team`` (one row per person and role on a key account's team)."""

TO_ASSIGN = "to assign"
OPERATIONAL_ROLES = ("service", "technical", "logistics", "quality")
PURPOSES = {
    TOP_TO_TOP: "the customer's strategy and aims, our value proposition, the relationship at the top",
    BUSINESS_REVIEW: "results against the plan, the pipeline, what we do next and ask of each other",
    OPERATIONAL_REVIEW: "service levels, deliveries, open issues and improvement ideas",
}


def team(account_team: pd.DataFrame | None, profile: pd.DataFrame) -> pd.DataFrame:
    """Each key account's team: the recorded one, the account manager as key account manager
    where none is recorded (``source`` says which), and an executive sponsor "to assign"."""
    ids = [str(a) for a in profile["account_id"]]
    recorded: dict[str, list[tuple]] = {a: [] for a in ids}
    if account_team is not None and len(account_team):
        for r in records(account_team.assign(account_id=account_team["account_id"].astype(str))):
            if r["account_id"] in recorded:
                recorded[r["account_id"]].append((r["account_id"], r["person"], r["role"],
                                                  r.get("counterpart"), "account_team"))
    managers = dict(zip(ids, profile["account_manager"])) if "account_manager" in profile.columns else {}
    rows = []
    for aid in ids:
        mine = recorded[aid]
        roles = {m[2] for m in mine}
        if KEY_ACCOUNT_MANAGER not in roles:
            am = managers.get(aid)
            known = isinstance(am, str) and am != ""
            mine.append((aid, am if known else TO_ASSIGN, KEY_ACCOUNT_MANAGER, None,
                         "accounts.account_manager" if known else "gap"))
        if EXECUTIVE_SPONSOR not in roles:
            mine.append((aid, TO_ASSIGN, EXECUTIVE_SPONSOR, None, "gap"))
        rows += sorted(mine, key=lambda m: (str(m[2]), str(m[1])))
    return pd.DataFrame(rows, columns=TEAM_COLUMNS, dtype=object)


def _their(people: list[tuple[str, set, float]], roles: tuple[str, ...], fallback: str) -> str:
    """The customer's people holding any of ``roles``, most powerful first (at most two)."""
    hits = [(-p if p == p else 1.0, i, n) for i, (n, rs, p) in enumerate(people) if rs & set(roles)]
    return ", ".join(n for *_, n in sorted(hits)[:2]) or fallback


def governance(team_table: pd.DataFrame, contacts: pd.DataFrame, profile: pd.DataFrame,
               start: pd.Timestamp, days: Mapping[str, int] | None = None) -> pd.DataFrame:
    """The governance meetings of every key account in the plan year (see the module text).

    Parameters
    ----------
    team_table : DataFrame
        From :func:`team`.
    contacts : DataFrame
        The 5P contact view (``contact_name``, ``dmu_roles``, ``power``).
    profile : DataFrame
        Plan profiles (``account_id``).
    start : Timestamp
        Plan start; the first meeting of each kind falls one interval after it (a third of an
        interval over 91 days, at most 91 days: the sponsor meets early).
    days : mapping, optional
        Days between two meetings of each kind (default :data:`GOVERNANCE_MEETINGS`).
    """
    unknown = sorted(set(days or {}) - set(GOVERNANCE_MEETINGS))
    if unknown:
        raise ParameterError(f"governance_days: unknown meeting(s) {', '.join(unknown)}; name "
                             f"them {', '.join(GOVERNANCE_MEETINGS)}.")
    every = {**GOVERNANCE_MEETINGS, **(days or {})}
    ours_by: dict[str, list[tuple[str, str]]] = {}
    for r in records(team_table):
        ours_by.setdefault(r["account_id"], []).append((str(r["person"]), str(r["role"])))
    people: dict[str, list] = {}
    for r in records(contacts[["account_id", "contact_name", "dmu_roles", "power"]]) if len(contacts) else []:
        people.setdefault(r["account_id"], []).append(
            (str(r["contact_name"]), set(str(r["dmu_roles"]).split(";")), float(r["power"])))
    rows = []
    for aid in profile["account_id"]:
        tm, cs = ours_by.get(aid, []), people.get(aid, [])

        def ours(roles: tuple[str, ...]) -> str:
            return ", ".join(f"{p} ({r})" for p, r in tm if r in roles) or f"{roles[0]}: {TO_ASSIGN}"

        sides = {
            TOP_TO_TOP: (ours((EXECUTIVE_SPONSOR,)), _their(cs, (DECIDER,), "their senior decider (to identify)")),
            BUSINESS_REVIEW: (ours((KEY_ACCOUNT_MANAGER, EXECUTIVE_SPONSOR, "finance")),
                              _their(cs, (DECIDER, BUYER), "their decider and buyer (to identify)")),
            OPERATIONAL_REVIEW: (ours((*OPERATIONAL_ROLES, KEY_ACCOUNT_MANAGER)),
                                 _their(cs, (USER,), "their users at the sites (to identify)")),
        }
        for meeting, (our_side, their_side) in sides.items():
            gap = int(every[meeting])
            day = gap if gap <= 91 else min(gap // 3, 91)  # a long gap: meet early once
            while day <= 365:
                rows.append((aid, meeting, start + pd.Timedelta(days=day), our_side, their_side,
                             PURPOSES[meeting]))
                day += gap
    out = pd.DataFrame(rows, columns=GOVERNANCE_COLUMNS)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[us]")
    return out
