"""A constructed customer base whose right plans are known by design.

20 food accounts (F01..F20) and 10 metal accounts (M01..M10). Every food account buys
categories A, B and C in the last 12 months; metal accounts buy A and D. Key accounts:

- F01 "Diamond": contacts in four functions held by two of our people, decider linked and a
  champion, all fresh; wallet known and mostly ours -> integrated, no red flags.
- F02 "Bowtie": one buyer we know well, nothing else; does not buy C -> whitespace C;
  single point of contact, no decider, no champion.
- F03 "Hostile": decider with attitude -4 untouched for 200 days; category B fell by half.
- F04 "Silent": no contacts at all.
- M01 "Newcomer": no revenue in the last 12 months -> exploratory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

AS_OF = pd.Timestamp("2026-09-30")


def _world():
    rows, cy = [], []
    for i in range(1, 21):
        aid = f"F{i:02d}"
        emp = 100 + 10 * i
        cats = {"A": 50_000.0, "B": 30_000.0, "C": 20_000.0}
        prev = dict(cats)
        if aid == "F02":
            cats.pop("C")
            prev.pop("C")
        if aid == "F03":
            prev["B"] = 60_000.0
        rows.append((aid, f"Food {i}", "food", emp, cats, prev))
    for i in range(1, 11):
        aid = f"M{i:02d}"
        cats = {"A": 40_000.0, "D": 60_000.0}
        prev = dict(cats)
        if aid == "M01":
            cats = {}
        rows.append((aid, f"Metal {i}", "metal", 500 + 10 * i, cats, prev))
    feats = []
    for aid, name, ind, emp, cats, prev in rows:
        r12, rp = sum(cats.values()), sum(prev.values())
        g = 0.0 if r12 == rp == 0 else (r12 - rp) / ((abs(r12) + abs(rp)) / 2)
        feats.append(dict(
            account_id=aid, name=name, industry=ind, region="North", country="DE", n_sites=2,
            employees=emp, wallet=np.nan, cost_to_serve=1000.0,
            account_manager="Ann" if aid != "F04" else np.nan, as_of=AS_OF.date(),
            revenue_12m=r12, revenue_prev_12m=rp, revenue_prev2_12m=rp,
            margin_12m=0.3 * r12, margin_prev_12m=0.3 * rp, margin_prev2_12m=0.3 * rp,
            margin_pct_12m=0.3 if r12 > 0 else np.nan, growth_12m=g, share_of_sales_12m=0.01,
            n_categories=len(cats)))
        for yr, d in ((0, cats), (1, prev), (2, prev)):
            for c, v in d.items():
                cy.append(dict(account_id=aid, year=yr, category=c, revenue=v, margin=0.3 * v, quantity=1.0))
    features = pd.DataFrame(feats)
    features.loc[features["account_id"] == "F01", "wallet"] = 150_000.0
    category_year = pd.DataFrame(cy)
    d = lambda days: AS_OF - pd.Timedelta(days=days)  # noqa: E731
    contacts = pd.DataFrame([
        # F01: diamond
        ("c1", "F01", "Dana Decider", "CEO", "management", "executive", "decider;initiator", 5, 5, 5, "Ann", d(10)),
        ("c2", "F01", "Bob Buyer", "Buyer", "purchasing", "manager", "buyer;gatekeeper", 4, 3, 4, "Ann", d(5)),
        ("c3", "F01", "Olga Ops", "Plant manager", "operations", "director", "user;influencer", 3, 2, 4, "Tom", d(20)),
        ("c4", "F01", "Fred Finance", "CFO", "finance", "executive", "influencer", 4, 1, 3, "Tom", d(30)),
        # F02: bow-tie, one buyer
        ("c5", "F02", "Betty Buyer", "Buyer", "purchasing", "manager", "buyer", 3, 2, 4, "Ann", d(15)),
        # F03: hostile stale decider, a supporter buyer
        ("c6", "F03", "Harry Hostile", "MD", "management", "executive", "decider", 5, -4, 2, "Ann", d(200)),
        ("c7", "F03", "Sue Supporter", "Buyer", "purchasing", "manager", "buyer;user", 3, 2, 3, "Ann", d(20)),
        ("c8", "F03", "Ivan Influencer", "Engineer", "engineering", "staff", "influencer", 2, 1, 2, "Tom", d(40)),
    ], columns=["contact_id", "account_id", "name", "title", "function", "seniority", "dmu_roles", "power",
                "attitude", "relationship_strength", "owner", "last_contact"])
    keys = pd.DataFrame({"account_id": ["F01", "F02", "F03", "F04", "M01"], "rank": [1, 2, 3, 4, 5],
                         "score": [90, 80, 70, 60, 50.0], "p_key": [0.9, 0.8, 0.7, 0.6, 0.5],
                         "main_drivers": ["billing", "growth", "billing", "size", "potential"]})
    segments = pd.DataFrame({"account_id": ["F01", "F02", "F03", "M01"],
                             "segment": ["Star", "Developing", "Core", "Developing"],
                             "strategy": ["invest", "develop", "maintain", "develop"]})
    return features, category_year, contacts, keys, segments


@pytest.fixture
def world():
    return _world()


@pytest.fixture
def fitted(world):
    from kamlib import planning

    features, cy, contacts, keys, segments = world
    return planning.run(features, cy, contacts, key_accounts=keys, segments=segments)
