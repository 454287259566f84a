"""Relationship X-ray: who we know at each key account, in which roles, and how well.

Three pure functions, each taking and returning DataFrames:

- :func:`contact_view` -- one row per contact with the 5P view (Position, Power, Priorities,
  Perception, Proximity; the five display names are configurable).
- :func:`relationship_summary` -- one row per account: DMU role coverage, links, bow-tie vs
  diamond shape and relationship stage, each with the reason in words.
- :func:`red_flags` -- one row per red flag per account.

The rules are documented in ``docs/planning.md`` and in :class:`RelationshipRules`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.formatting import money, share
from kamlib.planning._common import num, nz, records, split_roles, text
from kamlib.planning.relationship_rules import RelationshipRules
from kamlib.planning.stages import shape_reason, stage
from kamlib.vocabulary import (
    BOW_TIE,
    DECIDER,
    DIAMOND,
    DMU_ROLES,
    FIVE_P,
    NO_CONTACTS,
    ROLE_COVERED,
    ROLE_THIN,
    ROLE_UNKNOWN,
)
from kamlib.vocabulary import RELATIONSHIP_STAGES as STAGES

__all__ = ["FIVE_P", "STAGES", "RelationshipRules", "by_account", "contact_view",
           "red_flags", "relationship_summary", "role_coverage"]

FUNCTION_PRIORITIES: dict[str, str] = {
    "purchasing": "price, terms, supply security",
    "procurement": "price, terms, supply security",
    "operations": "uptime, delivery reliability, ease of use",
    "production": "uptime, delivery reliability, ease of use",
    "logistics": "lead times, stock levels, delivery accuracy",
    "finance": "total cost, cash flow, predictable spend",
    "engineering": "specifications, quality, technical support",
    "quality": "consistency, certification, traceability",
    "it": "integration, data, security",
    "management": "growth, risk, strategic fit",
    "executive": "growth, risk, strategic fit",
    "sales": "availability for their customers, margin",
    "marketing": "brand, innovation, joint promotion",
    "r&d": "innovation, co-development, technical depth",
    "maintenance": "spare parts, response time, uptime",
}
"""Typical priorities by function, used when the contacts table records none (to confirm)."""

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


CONTACT_COLUMNS: list[str] = [
    "account_id", "contact_id", "contact_name", "title", "function", "seniority", "dmu_roles",
    "power", "attitude", "relationship_strength", "owner", "last_contact", "days_since_contact",
    "stale", "is_link", "is_champion", "is_hostile", "perception_label",
    "fivep_position", "fivep_power", "fivep_priorities", "fivep_perception", "fivep_proximity",
    "proximity_score",
]
"""Columns of :func:`contact_view` (the ``plan_relationship`` table)."""


def by_account(view: pd.DataFrame) -> dict[str, list[dict]]:
    """Contacts grouped by account as plain records, with ``_roles`` as a set.

    Per-account rules run on these rather than on DataFrame slices: with a few hundred key
    accounts, slicing a frame per account costs seconds, records cost milliseconds.
    """
    out: dict[str, list[dict]] = {}
    for c in records(view):
        c["_roles"] = set(filter(None, c["dmu_roles"].split(";")))
        out.setdefault(c["account_id"], []).append(c)
    return out


def _perception_label(att: pd.Series, rules: RelationshipRules) -> pd.Series:
    out = np.select(
        [att.isna(), att >= rules.champion_attitude, att > 0, att == 0, att > rules.hostile_attitude],
        ["unknown", "champion", "supporter", "neutral", "sceptic"],
        default="hostile",
    )
    return pd.Series(out, index=att.index, dtype=object)


def contact_view(
    contacts: pd.DataFrame | None,
    as_of: pd.Timestamp,
    rules: RelationshipRules = RelationshipRules(),
    account_ids: list[str] | None = None,
) -> pd.DataFrame:
    """One row per contact with the 5P view and the flags the rules use.

    Parameters
    ----------
    contacts : DataFrame or None
        The contract ``contacts`` table (None or empty when the client has none).
    as_of : Timestamp
        The plan's reference date; freshness is measured from it.
    rules : RelationshipRules
        Thresholds.
    account_ids : list of str, optional
        Keep only these accounts.

    Returns
    -------
    DataFrame
        Columns :data:`CONTACT_COLUMNS`, sorted by account, power (high first) and name.
    """
    if contacts is None or len(contacts) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CONTACT_COLUMNS})
    c = contacts.copy()
    c["account_id"] = c["account_id"].astype(str)
    if account_ids is not None:
        c = c[c["account_id"].isin(set(map(str, account_ids)))]
    out = pd.DataFrame(index=c.index)
    out["account_id"] = c["account_id"]
    out["contact_id"] = c["contact_id"].astype(str)
    out["contact_name"] = text(c, "name", "(no name)")
    out["title"] = text(c, "title")
    out["function"] = text(c, "function", "unknown").str.strip().str.lower()
    out["seniority"] = text(c, "seniority")
    roles = c["dmu_roles"].map(split_roles) if "dmu_roles" in c.columns else pd.Series([[]] * len(c), index=c.index)
    out["dmu_roles"] = roles.map(";".join)
    out["power"] = num(c, "power")
    out["attitude"] = num(c, "attitude")
    out["relationship_strength"] = num(c, "relationship_strength")
    out["owner"] = text(c, "owner")
    last = pd.to_datetime(c["last_contact"], errors="coerce") if "last_contact" in c.columns else pd.Series(pd.NaT, index=c.index)
    out["last_contact"] = last
    days = (pd.Timestamp(as_of) - last).dt.days
    out["days_since_contact"] = days.astype(float)
    # A contact we have no date for is as good as never touched.
    out["stale"] = days.isna() | (days > rules.stale_days)
    strength = out["relationship_strength"].fillna(0)
    out["is_link"] = (strength >= rules.link_strength) & ~out["stale"]
    out["is_champion"] = out["attitude"] >= rules.champion_attitude
    out["is_hostile"] = out["attitude"] <= rules.hostile_attitude
    out["perception_label"] = _perception_label(out["attitude"], rules)

    # The 5P view, as short texts a reader can scan.
    head = out["title"].where(out["title"] != "", out["function"])
    sen = out["seniority"].map(lambda s: f" ({s})" if s else "")
    role_txt = out["dmu_roles"].map(lambda r: r.replace(";", ", ") if r else "no DMU role recorded")
    out["fivep_position"] = head + sen + ", " + out["function"] + "; " + role_txt
    p = out["power"]
    plabel = np.select([p.isna(), p >= 4, p >= 3], ["unknown", "high", "medium"], default="low")
    out["fivep_power"] = [f"{lab} ({v:.0f}/5)" if v == v else lab for lab, v in zip(plabel, p)]
    if "priorities" in c.columns:
        recorded = text(c, "priorities")
    else:
        recorded = pd.Series("", index=c.index)
    assumed = out["function"].map(lambda f: FUNCTION_PRIORITIES.get(f, ""))
    out["fivep_priorities"] = np.where(
        recorded != "", recorded,
        np.where(assumed != "", "assumed from function: " + assumed + " (confirm)",
                 "not recorded: ask"))
    att = out["attitude"]
    out["fivep_perception"] = [
        f"{lab} ({v:+.0f})" if v == v else "unknown: ask the owner"
        for lab, v in zip(out["perception_label"], att)
    ]
    fresh_txt = [
        "never / no date" if d != d else f"last contact {d:.0f} days ago" for d in out["days_since_contact"]
    ]
    out["fivep_proximity"] = [
        (f"strength {s:.0f}/5" if s == s else "strength unknown") + ", " + f + (" (stale)" if st else "")
        for s, f, st in zip(out["relationship_strength"], fresh_txt, out["stale"])
    ]
    # Proximity as a number: depth of the relationship, halved when it has gone cold.
    out["proximity_score"] = strength * np.where(out["stale"], 0.5, 1.0)
    out = out.sort_values(["account_id", "power", "contact_name"], ascending=[True, False, True],
                          na_position="last", kind="mergesort")
    return out[CONTACT_COLUMNS].reset_index(drop=True)


def role_coverage(contacts: list[dict], cover_strength: int) -> dict[str, list[str]]:
    """How well each DMU role is known at one account: the one coverage rule.

    A role is *covered* when a contact holding it has ``relationship_strength`` of at least
    ``cover_strength`` (missing strength counts as 0), *thin* when only weaker contacts hold it,
    *unknown* when nobody does. ``contacts`` are one account's records with ``_roles`` (a set)
    and ``relationship_strength`` (see :func:`by_account`).

    Returns
    -------
    dict
        ``{"covered": [...], "thin": [...], "unknown": [...]}``, roles in contract order. The
        account plans store the covered ones in ``plan_profile.roles_covered``; the plan review
        reads them from there, so both steps count roles by this rule and one threshold.
    """
    out: dict[str, list[str]] = {ROLE_COVERED: [], ROLE_THIN: [], ROLE_UNKNOWN: []}
    for role in DMU_ROLES:
        holders = [c for c in contacts if role in c["_roles"]]
        if any(nz(c["relationship_strength"]) >= cover_strength for c in holders):
            out[ROLE_COVERED].append(role)
        elif holders:
            out[ROLE_THIN].append(role)
        else:
            out[ROLE_UNKNOWN].append(role)
    return out


SUMMARY_COLUMNS: list[str] = [
    "account_id", "n_contacts", "n_functions", "n_levels", "roles_covered", "roles_thin",
    "roles_unknown", "coverage", "n_links", "link_functions", "n_link_functions", "n_owners",
    "champions", "deciders", "shape", "shape_reason", "stage", "stage_reason",
    "freshness", "wallet_share",
]
"""Columns of :func:`relationship_summary`."""


def relationship_summary(
    view: pd.DataFrame,
    features: pd.DataFrame,
    rules: RelationshipRules = RelationshipRules(),
) -> pd.DataFrame:
    """One row per account in ``features``: role coverage, shape and stage.

    Parameters
    ----------
    view : DataFrame
        Output of :func:`contact_view`.
    features : DataFrame
        ``account_features`` rows of the accounts to summarise (``account_id``,
        ``revenue_12m``; ``wallet`` optional).
    rules : RelationshipRules
        Thresholds.

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`. ``coverage`` is the share of the six DMU roles
        covered; ``freshness`` the power-weighted share of contacts touched within
        ``stale_days`` (NaN without contacts).

    Notes
    -----
    Shape: a *diamond* has links (contacts with strength >= ``link_strength`` touched within
    ``stale_days``) in at least ``diamond_functions`` functions held by at least two of our
    people; anything less is a *bow-tie*, where the relationship hangs on a thread or two.

    Stage, first rule that applies:

    1. exploratory -- no revenue in the last 12 months;
    2. integrated -- diamond, decider linked, links in >= ``integrated_functions`` functions,
       a director/executive linked, a champion, and a known share of wallet >=
       ``integrated_wallet_share``;
    3. interdependent -- diamond with the decider linked;
    4. cooperative -- links in at least two functions;
    5. basic -- otherwise (transactional).
    """
    ids = features["account_id"].astype(str).tolist()
    rev = dict(zip(ids, num(features, "revenue_12m", 0.0).fillna(0.0)))
    lost = dict(zip(ids, num(features, "revenue_prev_12m", 0.0).fillna(0.0) > 0))
    wallet = dict(zip(ids, num(features, "wallet")))
    groups = by_account(view)
    rows = []
    for aid in ids:
        g = groups.get(aid, [])
        r: dict[str, object] = {"account_id": aid, "_lost": bool(lost[aid])}
        w = wallet.get(aid, np.nan)
        r["wallet_share"] = rev[aid] / w if w == w and w > 0 else np.nan
        if not g:
            r.update(n_contacts=0, n_functions=0, n_levels=0, roles_covered="", roles_thin="",
                     roles_unknown=";".join(DMU_ROLES), coverage=0.0, n_links=0, link_functions="",
                     n_link_functions=0, n_owners=0, champions="", deciders="",
                     shape=NO_CONTACTS, shape_reason="no contacts recorded", freshness=np.nan)
        else:
            roles = role_coverage(g, rules.cover_strength)
            covered, thin, unknown = roles[ROLE_COVERED], roles[ROLE_THIN], roles[ROLE_UNKNOWN]
            links = [c for c in g if c["is_link"]]
            lf = sorted({c["function"] for c in links})
            owners = sorted({c["owner"] for c in links} - {""})
            pw = [c["power"] if c["power"] == c["power"] else 1.0 for c in g]
            r.update(
                n_contacts=len(g), n_functions=len({c["function"] for c in g}),
                n_levels=len({c["seniority"] for c in g} - {""}),
                roles_covered=";".join(covered), roles_thin=";".join(thin),
                roles_unknown=";".join(unknown), coverage=len(covered) / len(DMU_ROLES),
                n_links=len(links), link_functions=";".join(lf), n_link_functions=len(lf),
                n_owners=len(owners),
                champions=";".join(c["contact_name"] for c in g if c["is_champion"]),
                deciders=";".join(c["contact_name"] for c in g if DECIDER in c["_roles"]),
                freshness=float(sum(p for p, c in zip(pw, g) if not c["stale"]) / sum(pw)),
            )
            r["shape"] = (DIAMOND if len(lf) >= rules.diamond_functions and len(owners) >= 2
                          else BOW_TIE)
            r["shape_reason"] = shape_reason(g, links, lf, owners, rules)
            r["_decider_linked"] = any(DECIDER in c["_roles"] for c in links)
            r["_senior_linked"] = any(c["seniority"] in ("director", "executive") for c in links)
        rows.append(r)
    out = pd.DataFrame(rows)
    stages, reasons = [], []
    for r in records(out):
        s, why = stage(r, rev[r["account_id"]], rules)
        stages.append(s)
        reasons.append(why)
    out["stage"] = stages
    out["stage_reason"] = reasons
    return out[SUMMARY_COLUMNS]


FLAG_COLUMNS: list[str] = ["account_id", "flag", "severity", "message", "contact_ids"]
"""Columns of :func:`red_flags` (the ``plan_red_flags`` table)."""



def red_flags(
    view: pd.DataFrame,
    summary: pd.DataFrame,
    features: pd.DataFrame,
    rules: RelationshipRules = RelationshipRules(),
    decline_threshold: float = 0.10,
) -> pd.DataFrame:
    """One row per red flag per account, most severe first.

    Parameters
    ----------
    view, summary : DataFrame
        Outputs of :func:`contact_view` and :func:`relationship_summary`.
    features : DataFrame
        ``account_features`` rows (``growth_12m`` for the declining-revenue flag).
    rules : RelationshipRules
        Thresholds.
    decline_threshold : float
        Revenue growth (symmetric, as in ``growth_12m``) at or below ``-decline_threshold``
        raises ``revenue_declining``.

    Returns
    -------
    DataFrame
        Columns :data:`FLAG_COLUMNS`; ``flag`` is a key of :data:`kamlib.vocabulary.RED_FLAGS`, ``contact_ids`` the
        ';'-separated contacts concerned.
    """
    ids = features["account_id"].astype(str)
    growth = dict(zip(ids, num(features, "growth_12m")))
    revs = dict(zip(ids, zip(num(features, "revenue_12m"), num(features, "revenue_prev_12m"))))
    groups = by_account(view)
    rows: list[tuple] = []

    def add(aid, flag, sev, msg, ids=()):
        rows.append((aid, flag, sev, msg, ";".join(ids)))

    def strength_txt(c):
        v = c["relationship_strength"]
        return f"{c['contact_name']} (strength {v:.0f})" if v == v else f"{c['contact_name']} (strength unknown)"

    for s in records(summary):
        aid = s["account_id"]
        gr = growth.get(aid, np.nan)
        if gr == gr and gr <= -decline_threshold:
            now, before = revs[aid]
            change = f" ({share(now / before - 1, signed=True)})" if before == before and before > 0 else ""
            add(aid, "revenue_declining", "high" if gr <= -0.5 else "medium",
                f"Revenue fell from {money(before)} to {money(now)} in the last 12 months{change}.")
        g = groups.get(aid, [])
        if not g:
            add(aid, "no_contacts", "high",
                "No contacts recorded: export this account's CRM contacts (contacts table: "
                "name, function, DMU roles, power, attitude, strength, last contact) to assess the relationship.")
            continue
        dec = [c for c in g if DECIDER in c["_roles"]]
        if DECIDER not in s["roles_covered"].split(";"):
            if dec:
                add(aid, "no_decider", "high",
                    "The decider is known only thinly: " + ", ".join(strength_txt(c) for c in dec) + ".",
                    [c["contact_id"] for c in dec])
            else:
                add(aid, "no_decider", "high", "Nobody we know holds the decider role.")
        if not any(c["is_champion"] for c in g):
            rated = [c for c in g if c["attitude"] == c["attitude"]]
            hint = ""
            if rated:
                best = max(rated, key=lambda c: c["attitude"])
                hint = f" Most positive: {best['contact_name']} ({best['attitude']:+.0f})."
            add(aid, "no_champion", "medium",
                f"No contact with attitude {rules.champion_attitude:+d} or better." + hint)
        hostile_dec = [c for c in dec if c["is_hostile"]]
        if hostile_dec:
            add(aid, "decider_hostile", "high",
                "Decider hostile to us: " + ", ".join(
                    f"{c['contact_name']} ({c['attitude']:+.0f})" for c in hostile_dec) + ".",
                [c["contact_id"] for c in hostile_dec])
        hostile_pow = [c for c in g if DECIDER not in c["_roles"] and c["is_hostile"]
                       and nz(c["power"]) >= rules.high_power]
        if hostile_pow:
            add(aid, "hostile_influence", "medium",
                "Powerful contact hostile to us: " + ", ".join(
                    f"{c['contact_name']} (power {c['power']:.0f}, attitude {c['attitude']:+.0f})"
                    for c in hostile_pow) + ".",
                [c["contact_id"] for c in hostile_pow])
        known = [c for c in g if nz(c["relationship_strength"]) >= rules.cover_strength]
        if len(known) <= 1:
            who = f" ({known[0]['contact_name']})" if known else ""
            add(aid, "single_point_of_contact", "high",
                f"The relationship hangs on {len(known)} well-known contact(s){who}: if they leave, we lose access.",
                [c["contact_id"] for c in known])
        stale = [c for c in g if c["stale"]]
        if stale:
            sev = "high" if any(DECIDER in c["_roles"] for c in stale) else "medium"
            add(aid, "stale_contacts", sev,
                f"{len(stale)} of {len(g)} contacts not touched in {rules.stale_days} days: " + ", ".join(
                    f"{c['contact_name']} "
                    f"({'never' if c['days_since_contact'] != c['days_since_contact'] else format(c['days_since_contact'], '.0f') + ' days'})"
                    for c in stale) + ".",
                [c["contact_id"] for c in stale])
        gaps = []
        for col, lab in (("power", "power"), ("attitude", "attitude"),
                         ("relationship_strength", "strength"), ("last_contact", "last contact")):
            n_missing = sum(1 for c in g if pd.isna(c[col]))
            if n_missing:
                gaps.append(f"{lab} for {n_missing}")
        n_noroles = sum(1 for c in g if not c["_roles"])
        if n_noroles:
            gaps.append(f"DMU roles for {n_noroles}")
        if gaps:
            add(aid, "missing_contact_data", "low",
                "Missing in the contacts table: " + ", ".join(gaps) + ". Ask the owners to fill them in.")
    out = pd.DataFrame(rows, columns=FLAG_COLUMNS)
    out["_o"] = out["severity"].map(_SEVERITY_ORDER)
    out = out.sort_values(["account_id", "_o"], kind="mergesort").drop(columns="_o")
    return out.reset_index(drop=True)
