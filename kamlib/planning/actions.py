"""The next 90 days: actions generated from the plan's gaps, and a contact cadence.

:func:`actions` turns every gap the earlier sections found into a dated action with an owner,
a 30-day checkpoint and the objective it serves (rules in :data:`ACTION_RULES`).
:func:`cadence` sets how often each contact should be met, by account tier and DMU role.
:func:`to_ics` writes actions and meetings as an iCalendar (RFC 5545) file an account manager
can import into Outlook, Google or Apple calendars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.formatting import money, month, share
from kamlib.planning._common import records, workday
from kamlib.planning.relationship import by_account
from kamlib.vocabulary import (
    BUYER,
    DECIDER,
    GATEKEEPER,
    INFLUENCER,
    INITIATOR,
    KEY,
    KEY_DEVELOPMENT,
    LONG_TAIL,
    MANAGED,
    USER,
)
from kamlib.vocabulary import ACTION_COLUMNS as _ACTION_COLUMNS

ACTION_RULES: dict[str, tuple[int, str, str]] = {
    # gap: (days until due, priority, objective kind it serves)
    "no_contacts": (14, "high", "relationship"),
    "decider_hostile": (21, "high", "revenue"),
    "no_decider": (30, "high", "relationship"),
    "single_point_of_contact": (45, "high", "relationship"),
    "stale_decider": (14, "high", "relationship"),
    "stale_contact": (30, "medium", "relationship"),
    "hostile_influence": (30, "medium", "revenue"),
    "no_champion": (60, "medium", "relationship"),
    "uncovered_role": (60, "medium", "relationship"),
    "declining_category": (30, "high", "revenue"),
    "whitespace": (60, "medium", "whitespace"),
    "missing_contact_data": (21, "low", "relationship"),
    "business_review": (90, "medium", "revenue"),
}
"""Action rules: for each gap, days from plan start to the due date, priority, objective kind."""

ACTION_COLUMNS: list[str] = list(_ACTION_COLUMNS)
"""Columns of :func:`actions` (the ``plan_actions`` table; :data:`kamlib.vocabulary.ACTION_COLUMNS`)."""

MAX_ACTIONS = 12
"""Default most actions per account in the 90-day plan."""

HORIZON_DAYS = 90
"""Length of the action plan and of the contact cadence, in days."""

_PRIO = {"high": 0, "medium": 1, "low": 2}

MIN_STAKE_SHARE = 0.02
"""Default share of the account's 12-month revenue an action about money (a declining
category, a whitespace category) must have at stake to be proposed."""

MIN_STAKE = 5000.0
"""Default absolute floor of the money at stake (in the data's currency)."""

HIGH_STAKE_SHARE = 0.10
"""A money action with at least this share of the account's revenue at stake is high priority;
below it, medium."""


def stake_floor(revenue: float, min_stake_share: float = MIN_STAKE_SHARE,
                min_stake: float = MIN_STAKE) -> float:
    """The least money at stake that makes an action worth proposing on an account with
    ``revenue`` a year: the larger of the share and the absolute floor."""
    rev = float(revenue) if revenue == revenue and revenue is not None else 0.0
    return max(min_stake_share * max(rev, 0.0), min_stake)


def stake_priority(stake: float, revenue: float, high_stake_share: float = HIGH_STAKE_SHARE) -> str:
    """Priority of a money action: high when its stake is ``high_stake_share`` of the
    account's revenue or more, else medium."""
    rev = float(revenue) if revenue == revenue and revenue is not None else 0.0
    return "high" if rev <= 0 or stake >= high_stake_share * rev else "medium"


def _records(df: pd.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records(df):
        out.setdefault(r["account_id"], []).append(r)
    return out


CHECKPOINTS: tuple[int, ...] = (30, 60, 90)


class _AccountActions:
    """The actions drafted for one account, in the order its gaps are found."""

    def __init__(self, account_id: str, manager: object, objective_ids: set[str],
                 revenue: float = float("nan")) -> None:
        self.account_id = account_id
        self.revenue = revenue
        self.owner = manager if isinstance(manager, str) and manager.strip() else "unassigned"
        self.objectives = {k: f"{account_id}-{s}" for k, s in (("revenue", "REV"), ("margin", "MAR"),
                                                               ("whitespace", "WS"), ("relationship", "REL"))}
        self.objective_ids = objective_ids
        self.items: list[dict] = []

    def add(self, gap: str, text: str, owner: str | None = None, contact_id: str = "",
            category: str = "", value: float = np.nan, days: int | None = None,
            priority: str | None = None) -> None:
        d, prio, kind = ACTION_RULES[gap]
        prio = priority or prio
        oid = self.objectives[kind]
        if oid not in self.objective_ids:
            # e.g. every role is covered so there is no relationship objective: the action
            # still protects revenue.
            oid = self.objectives["revenue"]
        self.items.append(dict(account_id=self.account_id, objective_id=oid, gap=gap, action=text,
                               owner=owner or self.owner, days=days if days is not None else d,
                               priority=prio, stake=abs(value) if value == value else 0.0,
                               contact_id=contact_id, category=category, value=value))


def _contact_actions(acts: _AccountActions, c: list[dict], fset: dict[str, str],
                     roles_unknown: str | None) -> None:
    """Actions for the relationship gaps: missing, hostile, stale or single contacts."""
    names = {x["contact_id"]: x["contact_name"] for x in c}
    owners = {x["contact_id"]: x["owner"] for x in c}
    if "no_contacts" in fset:
        acts.add("no_contacts", "Map the buying centre: name the people in all six DMU roles "
                 "(initiator, user, influencer, decider, buyer, gatekeeper) and record them in the CRM")
    if "decider_hostile" in fset:
        for cid in filter(None, fset["decider_hostile"].split(";")):
            acts.add("decider_hostile", f"Executive-sponsor meeting with {names.get(cid, cid)} (decider, "
                     f"hostile): hear the objections and agree what would change them", contact_id=cid)
    if "no_decider" in fset:
        cids = [x for x in fset["no_decider"].split(";") if x]
        if cids:
            acts.add("no_decider", f"Deepen the relationship with the decider {names.get(cids[0], cids[0])}: "
                     "a one-to-one meeting on their goals for next year",
                     owner=owners.get(cids[0]) or None, contact_id=cids[0])
        else:
            acts.add("no_decider", "Find out who decides: ask the buyer and our champion who signs off, "
                     "and get an introduction")
    if "single_point_of_contact" in fset:
        have = {x["function"] for x in c}
        target = next((f for f in ("operations", "finance", "engineering", "logistics", "management")
                       if f not in have), "another function")
        acts.add("single_point_of_contact", f"Open a second thread: introduce our {target} counterpart "
                 f"to theirs so the relationship no longer hangs on one person")
    _stale_contact_actions(acts, c)
    if "hostile_influence" in fset:
        for cid in filter(None, fset["hostile_influence"].split(";")):
            acts.add("hostile_influence", f"Address the objections of {names.get(cid, cid)} (powerful, "
                     "negative): find the cause and a person they trust", contact_id=cid)
    if "no_champion" in fset and c:
        rated = [x for x in c if x["attitude"] == x["attitude"]] or c
        best = max(rated, key=lambda x: x["attitude"] if x["attitude"] == x["attitude"] else -99)
        acts.add("no_champion", f"Develop a champion: agree a joint success plan with {best['contact_name']} "
                 f"(most positive contact)", owner=best["owner"] or None, contact_id=best["contact_id"])
    if c and roles_unknown is not None:
        missing_roles = [r for r in roles_unknown.split(";") if r and r != DECIDER]
        for role in missing_roles[:2]:
            acts.add("uncovered_role", f"Identify and meet the {role} (no contact in this DMU role yet)")


def _stale_contact_actions(acts: _AccountActions, c: list[dict]) -> None:
    """Re-engage up to three stale contacts, deciders and the powerful first."""
    stale = sorted((x for x in c if x["stale"]),
                   key=lambda x: (DECIDER not in x["_roles"], -(x["power"] if x["power"] == x["power"] else 0)))
    # a contact who already has an action (e.g. the hostile decider's sponsor meeting)
    # is re-engaged by it: don't send two people to the same door
    targeted = {a["contact_id"] for a in acts.items if a["contact_id"]}
    for x in [x for x in stale if x["contact_id"] not in targeted][:3]:
        gap = "stale_decider" if DECIDER in x["_roles"] else "stale_contact"
        d = x["days_since_contact"]
        when = "never" if d != d else f"{d:.0f} days ago"
        acts.add(gap, f"Re-engage {x['contact_name']} ({x['dmu_roles'].replace(';', ', ') or x['function']}; "
                 f"last contact {when})", owner=x["owner"] or None, contact_id=x["contact_id"])


def _purchase_actions(acts: _AccountActions, declining: list[dict], whitespace: list[dict],
                      max_whitespace: int, floor: float, high_stake_share: float) -> None:
    """Actions for what the account buys: declining categories to explain, whitespace to
    propose -- each only when its money at stake (the fall, the yearly potential) reaches
    ``floor``; priority follows the stake (:func:`stake_priority`)."""
    declining = [r for r in declining if -float(r["change"]) >= floor]
    whitespace = [r for r in whitespace if float(r["potential"]) >= floor]
    for r in sorted(declining, key=lambda r: r["change"])[:2]:
        acts.add("declining_category", f"Find out why {r['category']} fell {share(-r['change_pct'])} "
                 f"({money(r['revenue_1'])} -> {money(r['revenue_0'])}): price, competitor or changed need?",
                 category=r["category"], value=float(r["change"]),
                 priority=stake_priority(-float(r["change"]), acts.revenue, high_stake_share))
    for i, r in enumerate(whitespace[:max_whitespace]):
        acts.add("whitespace", f"Propose {r['category']} ({r['status']}; look-alikes: {share(r['peer_adoption'])} "
                 f"buy it; potential {money(r['potential'])} a year)",
                 category=r["category"], value=float(r["potential"]), days=45 + 15 * i,
                 priority=stake_priority(float(r["potential"]), acts.revenue, high_stake_share))


def _schedule(items: list[dict], account_id: str, start: pd.Timestamp, max_actions: int) -> list[dict]:
    """The ``max_actions`` most urgent actions (the business review always kept), numbered,
    dated (due date on a workday) and assigned to their 30-day checkpoint."""
    items = sorted(items, key=lambda a: (_PRIO[a["priority"]], -a.pop("stake", 0.0), a["days"]))
    keep = items[: max_actions - 1] + [a for a in items if a["gap"] == "business_review"]
    keep = list({id(a): a for a in keep}.values())
    keep.sort(key=lambda a: (a["days"], _PRIO[a["priority"]]))
    for i, a in enumerate(keep, 1):
        a["action_id"] = f"{account_id}-A{i:02d}"
        due = workday(start + pd.Timedelta(days=int(a.pop("days"))))
        a["due_date"] = due
        cp = next((d for d in CHECKPOINTS if start + pd.Timedelta(days=d) >= due), CHECKPOINTS[-1])
        a["checkpoint"] = f"day {cp}"
        a["checkpoint_date"] = start + pd.Timedelta(days=cp)
        a["status"] = "open"
    return keep


def actions(
    profile: pd.DataFrame,
    contacts_view: pd.DataFrame,
    summary: pd.DataFrame,
    flags: pd.DataFrame,
    whitespace: pd.DataFrame,
    trend: pd.DataFrame,
    objectives: pd.DataFrame,
    start: pd.Timestamp,
    max_actions: int = MAX_ACTIONS,
    max_whitespace: int = 3,
    decline_share: float = 0.2,
    decline_min: float = 0.0,
    min_stake_share: float = MIN_STAKE_SHARE,
    min_stake: float = MIN_STAKE,
    high_stake_share: float = HIGH_STAKE_SHARE,
) -> pd.DataFrame:
    """The 90-day action plan of every account, highest priority first.

    Parameters
    ----------
    profile : DataFrame
        Plan profiles (``account_id``, ``account_manager``).
    contacts_view, summary, flags : DataFrame
        From :mod:`kamlib.planning.relationship`.
    whitespace : DataFrame
        From :func:`kamlib.planning.whitespace.whitespace`.
    trend : DataFrame
        From :func:`kamlib.planning.profile.category_trend`.
    objectives : DataFrame
        From :func:`kamlib.planning.objectives.objectives` (actions point at its ids).
    start : Timestamp
        Plan start date.
    max_actions : int
        At most this many actions per account (by priority, then due date): a plan with 30
        actions is a plan nobody follows.
    max_whitespace : int
        Whitespace categories turned into actions per account.
    decline_share : float
        A category whose 12-month revenue fell by at least this share is *declining*.
    decline_min : float
        ... and by at least this amount of money (ignore small change).
    min_stake_share, min_stake : float
        Materiality: an action about money (a declining category, a whitespace category) is
        proposed only when its money at stake reaches the larger of ``min_stake_share`` of
        the account's 12-month revenue and ``min_stake`` (:func:`stake_floor`).
    high_stake_share : float
        Such an action is high priority when its stake is at least this share of the
        account's revenue, else medium; the plan keeps the largest stakes first.

    Returns
    -------
    DataFrame
        Columns :data:`ACTION_COLUMNS`. ``checkpoint`` is the first 30-day review (day 30,
        60 or 90) on or after the due date, where the action is checked.
    """
    obj_ids = set(objectives["objective_id"]) if len(objectives) else set()
    am = dict(zip(profile["account_id"], profile["account_manager"]))
    by_acc_c = by_account(contacts_view) if len(contacts_view) else {}
    by_acc_f: dict[str, dict[str, str]] = {}
    for aid_, flag, ids in zip(flags["account_id"], flags["flag"], flags["contact_ids"]):
        by_acc_f.setdefault(aid_, {})[flag] = ids
    by_acc_w = _records(whitespace[whitespace["potential"] > 0]) if len(whitespace) else {}
    by_acc_t = {}
    if len(trend):
        by_acc_t = _records(trend[(trend["revenue_1"] > 0) & (trend["change"] <= -decline_share * trend["revenue_1"])
                                  & (-trend["change"] >= decline_min)].sort_values("change"))
    roles_unknown = dict(zip(summary["account_id"], summary["roles_unknown"])) if len(summary) else {}
    revenue = dict(zip(profile["account_id"], profile["revenue_12m"])) if "revenue_12m" in profile else {}
    rows = []
    for aid in profile["account_id"]:
        rev = revenue.get(aid, np.nan)
        acts = _AccountActions(aid, am.get(aid), obj_ids, rev)
        fset = by_acc_f.get(aid, {})
        _contact_actions(acts, by_acc_c.get(aid, []), fset, roles_unknown.get(aid))
        _purchase_actions(acts, by_acc_t.get(aid, []), by_acc_w.get(aid, []), max_whitespace,
                          stake_floor(rev, min_stake_share, min_stake), high_stake_share)
        if "missing_contact_data" in fset:
            acts.add("missing_contact_data", "Complete the contact records (power, attitude, strength, last "
                     "contact, DMU roles) so the next review measures the relationship")
        acts.add("business_review", f"Quarterly business review with the customer ({month(start)} plan): "
                 "review this plan against its "
                 "day-90 goals and agree the next 90 days")
        rows += _schedule(acts.items, aid, start, max_actions)
    out = pd.DataFrame(rows, columns=ACTION_COLUMNS)
    out["value"] = out["value"].astype(float)
    return out


CADENCE_TIER_DAYS: dict[str, int] = {KEY: 30, KEY_DEVELOPMENT: 45, MANAGED: 90, LONG_TAIL: 180}
"""Default days between meetings with a contact, by account tier."""

CADENCE_ROLE_FACTOR: dict[str, float] = {
    DECIDER: 1.0, BUYER: 0.5, INFLUENCER: 1.0, USER: 1.5, INITIATOR: 1.5, GATEKEEPER: 2.0,
}
"""Multiplier on the tier interval by DMU role (a contact with several roles gets the smallest);
contacts without a role get 2."""

CADENCE_COLUMNS: list[str] = [
    "account_id", "contact_id", "contact_name", "dmu_roles", "owner", "tier", "interval_days",
    "first_meeting", "meetings_in_horizon",
]


def cadence(
    contacts_view: pd.DataFrame,
    profile: pd.DataFrame,
    start: pd.Timestamp,
    tier_days: dict[str, int] | None = None,
    role_factor: dict[str, float] | None = None,
    horizon_days: int = HORIZON_DAYS,
) -> pd.DataFrame:
    """How often to meet each contact of the key accounts, and when next.

    interval = tier_days[tier] x min(role_factor over the contact's roles), rounded to whole
    weeks (at least one). The first meeting is due ``interval`` days after the last contact,
    or in the first week of the plan when that is already past (or unknown).

    Returns
    -------
    DataFrame
        Columns :data:`CADENCE_COLUMNS`.
    """
    td = {**CADENCE_TIER_DAYS, **(tier_days or {})}
    rf = {**CADENCE_ROLE_FACTOR, **(role_factor or {})}
    if len(contacts_view) == 0:
        return pd.DataFrame(columns=CADENCE_COLUMNS)
    tier = dict(zip(profile["account_id"], profile["tier"]))
    am = dict(zip(profile["account_id"], profile["account_manager"]))
    c = contacts_view[contacts_view["account_id"].isin(set(profile["account_id"]))].copy()
    c["tier"] = c["account_id"].map(tier).fillna(KEY)
    base = c["tier"].map(lambda t: td.get(t, td[KEY])).astype(float)
    fac = c["dmu_roles"].map(lambda r: min((rf.get(x, 2.0) for x in r.split(";") if x), default=2.0))
    c["interval_days"] = np.maximum(7, (base * fac / 7).round() * 7).astype(int)
    nxt = c["last_contact"] + pd.to_timedelta(c["interval_days"], unit="D")
    earliest = start + pd.Timedelta(days=7)
    first = nxt.where(nxt.notna() & (nxt > earliest), earliest)
    c["first_meeting"] = pd.to_datetime(first).map(workday)
    end = start + pd.Timedelta(days=horizon_days)
    span = (end - c["first_meeting"]).dt.days
    c["meetings_in_horizon"] = np.where(span >= 0, span // c["interval_days"] + 1, 0).astype(int)
    c["owner"] = [o if o else (am.get(a) if isinstance(am.get(a), str) else "unassigned")
                  for o, a in zip(c["owner"], c["account_id"])]
    return c[CADENCE_COLUMNS].reset_index(drop=True)


# --- iCalendar (RFC 5545) ---------------------------------------------------------------
# Written by hand: the subset we need (all-day VEVENTs, RRULE, escaping, line folding) is
# small, and a dependency would not make it shorter.

_ICS_CONTROLS = dict.fromkeys([*range(0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F],
                              "\ufffd")
"""Control characters RFC 5545 leaves out of a TEXT value (all but tab and the line breaks,
which are escaped): a client's NUL or escape sequence shows as U+FFFD."""


def _ics_escape(s: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): names and ids from the client's files can never end the
    line and start a property of their own (a lone CR counts as a line break too), and hold no
    control character."""
    return (str(s).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
            .translate(_ICS_CONTROLS))


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 section 3.1), never inside a UTF-8 character."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, cur, limit = [], b"", 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > limit:
            parts.append(cur.decode("utf-8"))
            cur, limit = b"", 74  # continuation lines start with a space
        cur += b
    parts.append(cur.decode("utf-8"))
    return "\r\n ".join(parts)


def _date(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y%m%d")


def to_ics(
    actions: pd.DataFrame | None,
    cadence: pd.DataFrame | None,
    stamp: pd.Timestamp,
    calendar_name: str = "Key account plan",
    horizon_days: int = HORIZON_DAYS,
    account_names: dict[str, str] | None = None,
    governance: pd.DataFrame | None = None,
) -> str:
    """An iCalendar file with one all-day event per action (on its due date) and one recurring
    event per contact (the cadence, repeated within the horizon).

    Parameters
    ----------
    actions, cadence : DataFrame or None
        From :func:`actions` and :func:`cadence` (either may be None or empty).
    stamp : Timestamp
        DTSTAMP of every event: the plan start, so the same plan gives the same file.
    calendar_name : str
        X-WR-CALNAME shown by calendar apps.
    horizon_days : int
        Meetings recur until this many days after ``stamp``.
    account_names : dict, optional
        account_id -> name, used in event titles.
    governance : DataFrame, optional
        The governance meetings (``plan_governance``): one all-day event each.

    Returns
    -------
    str
        The file's text, CRLF line endings. UIDs are stable (``<id>@kam-workbook``) so
        re-importing an updated plan updates events instead of duplicating them.
    """
    names = account_names or {}
    st = pd.Timestamp(stamp).strftime("%Y%m%dT000000Z")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kam-workbook//account plans//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_escape(calendar_name)}"]
    if actions is not None:
        for a in records(actions):
            nm = names.get(a["account_id"], a["account_id"])
            lines += [
                "BEGIN:VEVENT", f"UID:{_ics_escape(a['action_id'])}@kam-workbook", f"DTSTAMP:{st}",
                f"DTSTART;VALUE=DATE:{_date(a['due_date'])}",
                f"DTEND;VALUE=DATE:{_date(a['due_date'] + pd.Timedelta(days=1))}",
                "SUMMARY:" + _ics_escape(f"[{nm}] {a['action']}"),
                "DESCRIPTION:" + _ics_escape(
                    f"Owner: {a['owner']}. Objective: {a['objective_id']}. "
                    f"Checkpoint: {a['checkpoint']}. Priority: {a['priority']}."),
                f"CATEGORIES:{_ics_escape(a['priority'])}",
                "TRANSP:TRANSPARENT", "END:VEVENT",
            ]
    if cadence is not None:
        end = pd.Timestamp(stamp) + pd.Timedelta(days=horizon_days)
        for c in records(cadence):
            if c["meetings_in_horizon"] <= 0:
                continue
            nm = names.get(c["account_id"], c["account_id"])
            roles = c["dmu_roles"].replace(";", ", ") or "no DMU role"
            lines += [
                "BEGIN:VEVENT",
                "UID:" + _ics_escape(f"cadence-{c['account_id']}-{c['contact_id']}") + "@kam-workbook",
                f"DTSTAMP:{st}", f"DTSTART;VALUE=DATE:{_date(c['first_meeting'])}",
                f"DTEND;VALUE=DATE:{_date(c['first_meeting'] + pd.Timedelta(days=1))}",
                f"RRULE:FREQ=DAILY;INTERVAL={int(c['interval_days'])};UNTIL={_date(end)}",
                f"SUMMARY:{_ics_escape(f'[{nm}] Meet ' + str(c['contact_name']) + f' ({roles})')}",
                "DESCRIPTION:" + _ics_escape(
                    f"Contact cadence: every {int(c['interval_days'])} days (tier {c['tier']}). Owner: {c['owner']}."),
                "TRANSP:TRANSPARENT", "END:VEVENT",
            ]
    for g in records(governance) if governance is not None else []:
        nm = names.get(g["account_id"], g["account_id"])
        lines += [
            "BEGIN:VEVENT",
            "UID:" + _ics_escape(f"governance-{g['account_id']}-{g['meeting']}-{_date(g['date'])}")
            + "@kam-workbook", f"DTSTAMP:{st}", f"DTSTART;VALUE=DATE:{_date(g['date'])}",
            f"DTEND;VALUE=DATE:{_date(g['date'] + pd.Timedelta(days=1))}",
            "SUMMARY:" + _ics_escape(f"[{nm}] {str(g['meeting']).capitalize()}"),
            "DESCRIPTION:" + _ics_escape(f"Us: {g['our_side']}. Them: {g['their_side']}. "
                                         f"Agenda: {g['purpose']}."),
            "CATEGORIES:governance", "TRANSP:TRANSPARENT", "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(x) for x in lines) + "\r\n"
