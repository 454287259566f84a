"""Sample plan inputs: opportunities, competitors, account strategy, account team, and the
priorities the CRM recorded for some contacts.

An account team knows most about its largest accounts and little about the rest, so the
largest accounts (by size percentile) are filled richly -- aims, culture, value proposition,
SWOT, competitors, a pipeline and a full team --, the next ones partly (a pipeline and the
account manager, or a competitor or two), and most accounts not at all: their plan pages say
what to gather. Every draw comes from the stream given, so the rest of the sample does not move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.sample import catalogue as cat
from kamlib.sample.accounts import DAY0, N_DAYS

RICH_PCT, PARTIAL_PCT = 0.93, 0.8
"""Accounts above the first size percentile are filled richly (most of them), above the second
partly (half of them); the :data:`ALWAYS_RICH` largest always richly."""

ALWAYS_RICH = 6

COMPETITORS = ("Vantor Industrial", "Kessler Supply", "Brightline MRO", "Oderhaus Technik",
               "Iberfix", "Nordic Fastening", "Castellan Tools", "Medway Distribution")
POSITIONS = ("incumbent", "challenger", "niche specialist", "price fighter", "framework supplier")
STAGES = (("prospecting", 0.1), ("qualification", 0.2), ("proposal", 0.4), ("negotiation", 0.7),
          ("won", 1.0), ("lost", 0.0))

AIMS = ("cut unplanned downtime at every plant by a fifth within two years",
        "consolidate suppliers: fewer vendors, one framework agreement per category",
        "expand capacity with a new site in the next 18 months",
        "reach net-zero scope 2 emissions by 2030 and report scope 3 from suppliers",
        "lower working capital: vendor-managed stock on site",
        "standardise maintenance across all sites on one spare-parts catalogue")
CULTURES = ("central procurement runs tenders every three years; plants may buy off-contract "
            "for urgent needs", "engineering specifies, purchasing negotiates: win the engineers first",
            "decisions by committee; the CFO signs anything above 250k",
            "relationship-driven, long-standing suppliers are trusted; slow to change",
            "price-led e-auctions for commodities, value-led deals for engineered parts")
VALUE_PROPOSITIONS = ("one supplier for MRO across all sites with vendor-managed stock, cutting "
                      "their stock-outs and tied-up capital",
                      "technical support on site: our engineers help standardise parts and reduce downtime",
                      "fast delivery from regional hubs with consolidated monthly invoicing",
                      "safety and compliance: certified PPE with fitting and training for their crews")
SWOT_TEXTS = {
    "strength": ("delivery performance above 97 % on time for two years",
                 "our engineers are known and trusted at the main plant",
                 "broadest range in fasteners and bearings in the region"),
    "weakness": ("no presence at the sites opened last year",
                 "price perceived as 5-8 % above the challenger's",
                 "we rely on one buyer relationship"),
    "opportunity": ("supplier consolidation tender next year",
                    "new site needs a full MRO supply from day one",
                    "their sustainability targets favour our returnable packaging"),
    "threat": ("a competitor offers vending machines on site",
               "group procurement may move to a pan-European framework",
               "budget freeze announced for the second half"),
}
TEAM = (("executive sponsor", "Helga Brandt"), ("service", "Rafael Costa"),
        ("technical", "Nina Vogel"), ("finance", "Ingrid Larsen"), ("logistics", "Pieter de Vries"))
PRIORITIES = {
    "purchasing": ("total cost over three years, not unit price", "fewer suppliers, one invoice a month"),
    "operations": ("no line stoppage for want of a part", "faster changeovers"),
    "maintenance": ("parts on the shelf when a machine fails", "one catalogue for all sites"),
    "engineering": ("parts that meet the new specification", "technical advice on standardising"),
    "finance": ("less stock on the balance sheet", "predictable spend against budget"),
    "logistics": ("deliveries in fixed time windows", "returnable packaging"),
    "quality": ("certificates with every batch", "traceability to the lot"),
    "health & safety": ("zero lost-time injuries", "PPE that people actually wear"),
    "management": ("growth at the new site", "a supplier base that scales with them"),
}


def _day(offset: int) -> pd.Timestamp:
    """The data's last day plus ``offset`` days."""
    return pd.Timestamp(DAY0 + np.timedelta64(N_DAYS - 1 + int(offset), "D"))


def _opportunities(rng: np.random.Generator, acc: dict, n: int, scale: float) -> list[dict]:
    rows = []
    names = rng.choice([c.name for c in cat.CATEGORIES], size=n, replace=False)
    for i, category in enumerate(names):
        stage, prob = STAGES[int(rng.choice(len(STAGES), p=(0.2, 0.25, 0.25, 0.15, 0.08, 0.07)))]
        amount = float(np.round(scale * rng.uniform(0.04, 0.15), -3)) or 1000.0
        close = _day(int(rng.integers(-60, 300)) if stage not in ("won", "lost") else -int(rng.integers(5, 90)))
        rows.append({"account_id": acc["account_id"], "name": f"{category} {('framework', 'site roll-out', 'trial', 'upgrade')[i % 4]}",
                     "stage": stage, "amount": amount, "probability": prob,
                     "expected_close": close, "category": str(category), "owner": acc["account_manager"]})
    return rows


def _competitors(rng: np.random.Generator, acc: dict, n: int) -> list[dict]:
    shares = rng.dirichlet(np.ones(n + 1)) * rng.uniform(0.4, 0.8)
    picks = rng.choice(len(COMPETITORS), size=n, replace=False)
    return [{"account_id": acc["account_id"], "competitor": COMPETITORS[int(j)],
             "scope": None if k == 0 else str(rng.choice([c.name for c in cat.CATEGORIES])),
             "share_of_wallet": float(np.round(s, 2)), "strength": float(rng.integers(3, 10)),
             "position": str(rng.choice(POSITIONS))}
            for k, (j, s) in enumerate(zip(picks, shares[:n]))]


def _strategy(rng: np.random.Generator, acc: dict) -> list[dict]:
    aid = acc["account_id"]
    rows = [{"account_id": aid, "topic": "aim", "text": str(t), "source": "annual report"}
            for t in rng.choice(AIMS, size=2, replace=False)]
    rows.append({"account_id": aid, "topic": "culture", "text": str(rng.choice(CULTURES)),
                 "source": "account manager"})  # free text: never a person's name (anonymising)
    rows.append({"account_id": aid, "topic": "value_proposition",
                 "text": str(rng.choice(VALUE_PROPOSITIONS)), "source": "account team workshop"})
    for topic, texts in SWOT_TEXTS.items():
        rows += [{"account_id": aid, "topic": topic, "text": str(t), "source": "account team workshop"}
                 for t in rng.choice(texts, size=int(rng.integers(1, 3)), replace=False)]
    return rows


def _team(rng: np.random.Generator, acc: dict, full: bool) -> list[dict]:
    rows = [{"account_id": acc["account_id"], "person": acc["account_manager"],
             "role": "key account manager", "counterpart": None}]
    if full:
        k = int(rng.integers(2, len(TEAM) + 1))
        rows += [{"account_id": acc["account_id"], "person": person, "role": role, "counterpart": None}
                 for role, person in TEAM[:k]]
    return rows


def draw_plan_inputs(rng: np.random.Generator, accounts: pd.DataFrame,
                     revenue: pd.Series) -> dict[str, pd.DataFrame]:
    """The four plan-input tables for ``accounts`` (with their internal ``_pct`` size
    percentile); ``revenue`` (yearly, by account id) scales the opportunities."""
    from kamlib.intake.contract import TABLES

    rows: dict[str, list[dict]] = {"opportunities": [], "competitors": [], "account_strategy": [],
                                   "account_team": []}
    live = accounts[(accounts["_end_day"] > 0) & accounts["account_manager"].notna()]
    for i, acc in enumerate(live.sort_values("_pct", ascending=False).to_dict("records")):
        pct = acc["_pct"]
        if pct < PARTIAL_PCT:
            break
        wallet = float(acc["wallet"]) if acc["wallet"] == acc["wallet"] else 0.0
        scale = max(float(revenue.get(acc["account_id"], 0.0)), wallet * 0.1, 50_000.0)
        x = rng.random()
        if i < ALWAYS_RICH or (pct >= RICH_PCT and x < 0.7):  # richly; a few large ones left empty
            rows["opportunities"] += _opportunities(rng, acc, int(rng.integers(2, 6)), scale)
            rows["competitors"] += _competitors(rng, acc, int(rng.integers(1, 4)))
            rows["account_strategy"] += _strategy(rng, acc)
            rows["account_team"] += _team(rng, acc, full=True)
        elif x < 0.5:  # partly: a pipeline and the account manager, or a competitor
            if rng.random() < 0.6:
                rows["opportunities"] += _opportunities(rng, acc, int(rng.integers(1, 3)), scale)
                rows["account_team"] += _team(rng, acc, full=False)
            else:
                rows["competitors"] += _competitors(rng, acc, 1)
    out = {}
    for name, got in rows.items():
        cols = TABLES[name].column_names
        frame = pd.DataFrame(got, columns=cols)
        for c in TABLES[name].columns:
            if c.type == "date":
                frame[c.name] = pd.to_datetime(frame[c.name]).astype("datetime64[us]")
            elif c.type == "float":
                frame[c.name] = frame[c.name].astype("float64")
            else:
                frame[c.name] = frame[c.name].astype(object)
        out[name] = frame.sort_values(list(TABLES[name].key), kind="mergesort").reset_index(drop=True)
    return out


def record_priorities(rng: np.random.Generator, contacts: pd.DataFrame,
                      accounts: pd.DataFrame) -> pd.DataFrame:
    """``contacts`` with the ``priorities`` column: recorded for about half the contacts of the
    accounts filled above (the CRM of a well-run account), blank elsewhere."""
    planned = set(accounts.loc[accounts["_pct"] >= PARTIAL_PCT, "account_id"])
    out = contacts.copy()
    draws = rng.random(len(out))
    picks = rng.integers(0, 2, len(out))
    out["priorities"] = [
        PRIORITIES[f][k] if a in planned and d < 0.5 and f in PRIORITIES else None
        for a, f, d, k in zip(out["account_id"], out["function"], draws, picks)
    ]
    out["priorities"] = out["priorities"].astype(object)
    return out
