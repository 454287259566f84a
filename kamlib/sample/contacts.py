"""Sample contacts: the people we know at each account and their place in the buying decision.

Coverage follows the relationship stages of KAM: small accounts are often unknown or
single-threaded (one buyer, the *bow-tie*), most mid-sized accounts have a few contacts, and
many large accounts are covered function-to-function (the *diamond*). Some relationships have
gone stale, and a few accounts have a decider who is hostile to us: the red flags the
relationship X-ray should find.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.intake.contract import DMU_ROLES
from kamlib.sample import catalogue as cat
from kamlib.sample.accounts import DAY0, N_DAYS

SENIORITY_POWER = {"staff": (1, 2), "manager": (2, 3), "director": (3, 4), "executive": (4, 5)}
STALE_DAYS = 180


def _coverage(rng: np.random.Generator, pct: float) -> tuple[str, int]:
    """Coverage pattern and number of contacts for an account at size percentile ``pct``."""
    if pct < 0.3:
        return ("none", 0) if rng.random() < 0.55 else ("bow-tie", 1)
    if pct < 0.8:
        return ("bow-tie", 1) if rng.random() < 0.35 else ("few", int(rng.integers(2, 6)))
    p_diamond, p_bowtie = (0.75, 0.05) if pct > 0.97 else (0.45, 0.10)
    x = rng.random()
    if x < p_bowtie:
        return "bow-tie", 1
    if x < p_bowtie + p_diamond:
        return "diamond", int(rng.integers(6, 15))
    return "few", int(rng.integers(3, 8))


def draw_contacts(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    """Contacts (contract columns of :data:`kamlib.intake.contract.CONTACTS`) for ``accounts``."""
    rows: list[dict] = []
    # our own people must not turn up as customer contacts
    ours = {*cat.ACCOUNT_MANAGERS, *cat.SPECIALISTS.values(), *(m.name for m in cat.SENIOR_MANAGERS)}
    for acc in accounts.to_dict("records"):
        kind, k = _coverage(rng, acc["_pct"])
        lost = acc["_end_day"] <= 0
        prospect = acc["_start_day"] >= N_DAYS - 30
        if prospect:
            kind, k = "bow-tie", 1
        if k == 0:
            continue
        funcs, sen = _functions_and_seniorities(rng, kind, k)
        stale = lost or rng.random() < (0.35 if acc["account_manager"] is None or pd.isna(acc["account_manager"]) else 0.12)
        hostile = kind != "bow-tie" and k >= 3 and rng.random() < 0.15
        used_names: set[str] = set(ours)
        people = [_draw_person(rng, acc, f, s, kind, stale, lost, used_names)
                  for f, s in zip(funcs, sen)]
        if hostile:
            deciders = [p for p in people if "decider" in p["roles"]]
            if deciders:
                p = deciders[int(rng.integers(len(deciders)))]
                p["attitude"] = int(rng.choice([-5, -4, -4, -3]))
                p["relationship_strength"] = min(p["relationship_strength"], 2)
        _link_hierarchy(rng, people)
        offset = len(rows)
        for p in people:
            p["_boss"] = None if p["_boss_local"] is None else offset + p["_boss_local"]
        rows.extend(people)
    return _contacts_frame(rng, rows)


def _functions_and_seniorities(rng: np.random.Generator, kind: str, k: int) -> tuple[list[str], list[str]]:
    """The function and seniority of each of an account's ``k`` contacts."""
    fn_w = np.asarray(cat.FUNCTION_WEIGHTS) / np.sum(cat.FUNCTION_WEIGHTS)
    if kind == "diamond":
        others = [f for f in cat.FUNCTIONS if f not in ("purchasing", "management")]
        n_distinct = min(len(others), max(3, k - 3))
        funcs = ["purchasing", "management", *rng.choice(others, n_distinct, replace=False)]
        funcs += list(rng.choice(cat.FUNCTIONS, k - len(funcs), p=fn_w)) if k > len(funcs) else []
        sen = list(rng.choice(cat.SENIORITIES, k, p=[0.25, 0.4, 0.25, 0.10]))
        sen[1] = "executive"
    elif kind == "few":
        funcs = ["purchasing", *rng.choice(cat.FUNCTIONS, k - 1, p=fn_w)]
        sen = list(rng.choice(cat.SENIORITIES, k, p=[0.35, 0.4, 0.18, 0.07]))
    else:
        funcs = ["purchasing"]
        sen = [str(rng.choice(["staff", "manager"], p=[0.6, 0.4]))]
    return [str(f) for f in funcs], [str(s) for s in sen]


def _draw_person(rng: np.random.Generator, acc: dict, f: str, s: str, kind: str, stale: bool,
                 lost: bool, used_names: set[str]) -> dict:
    """One contact of function ``f`` and seniority ``s``: roles, power, attitude, last touch."""
    data_end = np.datetime64(cat.DATA_END, "D")
    owner_default = acc["account_manager"] if isinstance(acc["account_manager"], str) else cat.INSIDE_SALES
    roles = {cat.FUNCTION_ROLES[f][0]}
    if rng.random() < 0.35:
        roles.add(str(rng.choice(cat.FUNCTION_ROLES[f][1:])))
    if s in ("director", "executive") and f in ("management", "operations", "finance", "purchasing") and rng.random() < 0.7:
        roles.add("decider")
    if s == "staff":
        roles.discard("decider")
        roles = roles or {"user"}
    lo, hi = SENIORITY_POWER[s]
    power = int(rng.integers(lo, hi + 1)) + ("decider" in roles and rng.random() < 0.5)
    attitude = int(np.clip(np.round(rng.normal(1.2, 1.8)), -5, 5))
    strength = rng.normal(3.2 if f == "purchasing" else 2.0, 1.1) - (0.8 if s == "executive" else 0)
    if kind == "bow-tie":
        strength = rng.normal(4.0, 0.7)
        attitude = int(np.clip(attitude + 1, -5, 5))
    if kind == "diamond":
        strength += 0.6
    owner = owner_default
    if kind == "diamond" and f in cat.SPECIALISTS and rng.random() < 0.7:
        owner = cat.SPECIALISTS[f]
    if stale:
        ago = int(rng.integers(STALE_DAYS + 5, 720))
    else:
        ago = int(min(rng.exponential(35 if owner == owner_default and f == "purchasing" else 80), STALE_DAYS - 5))
    if lost:
        ago = max(ago, int((data_end - (DAY0 + np.timedelta64(int(acc["_end_day"]), "D"))).astype(int)) + int(rng.integers(0, 60)))
    last = data_end - np.timedelta64(ago, "D")
    if last < np.datetime64(acc["relationship_start"], "D"):
        last = np.datetime64(acc["relationship_start"], "D") + np.timedelta64(int(rng.integers(0, 10)), "D")
    lang = cat.COUNTRY_LANGUAGE[acc["country"]]
    for _ in range(30):
        name = f"{rng.choice(cat.FIRST_NAMES[lang])} {rng.choice(cat.LAST_NAMES[lang])}"
        if name not in used_names:
            break
    used_names.add(name)
    return dict(
        account_id=acc["account_id"],
        name=name,
        title=cat.TITLES[f][cat.SENIORITIES.index(s)],
        function=f,
        seniority=s,
        roles=roles,
        power=int(min(power, 5)),
        attitude=attitude,
        relationship_strength=int(np.clip(np.round(strength), 0, 5)),
        owner=owner,
        last_contact=None if (not stale and rng.random() < 0.04) else last,
    )


def _contacts_frame(rng: np.random.Generator, rows: list[dict]) -> pd.DataFrame:
    """Contact ids, reporting lines and DMU roles, as the contract's columns and types."""
    ids = np.sort(rng.choice(np.arange(100_000, 100_000 + 4 * max(len(rows), 1)), len(rows), replace=False))
    for r, cid in zip(rows, ids):
        r["contact_id"] = f"P{cid}"
    for r in rows:
        r["reports_to"] = rows[r["_boss"]]["contact_id"] if r["_boss"] is not None else None
        r["dmu_roles"] = ";".join(x for x in DMU_ROLES if x in r["roles"])

    df = pd.DataFrame(rows)
    cols = ["contact_id", "account_id", "name", "title", "function", "seniority", "dmu_roles", "power",
            "attitude", "relationship_strength", "owner", "last_contact", "reports_to"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    df = df[cols]
    for c in ("contact_id", "account_id", "name", "title", "function", "seniority", "dmu_roles", "owner", "reports_to"):
        df[c] = df[c].astype("str") if c != "reports_to" else pd.Series(df[c], dtype="str")
    for c in ("power", "attitude", "relationship_strength"):
        df[c] = df[c].astype("int64")
    df["last_contact"] = pd.to_datetime(df["last_contact"]).astype("datetime64[s]")
    return df


def _link_hierarchy(rng: np.random.Generator, people: list[dict]) -> None:
    """Set ``_boss_local`` (index within the account) to a more senior colleague.

    Prefer someone senior in the same function, then management, then anyone more senior.
    """
    level = [cat.SENIORITIES.index(p["seniority"]) for p in people]
    for j, p in enumerate(people):
        above = [i for i in range(len(people)) if level[i] > level[j]]
        if not above:
            p["_boss_local"] = None
            continue
        same = [i for i in above if people[i]["function"] == p["function"]]
        mgmt = [i for i in above if people[i]["function"] == "management"]
        pool = same or mgmt or above
        nearest = min(level[i] for i in pool)
        pool = [i for i in pool if level[i] == nearest]
        p["_boss_local"] = int(rng.choice(pool))
