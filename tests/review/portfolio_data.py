"""A small portfolio (eight accounts, four of them key) with every table the summary reads."""

import numpy as np
import pandas as pd

from kamlib.review.resources import ResourcePlanner, accounts_to_assign


def _portfolio():
    ids = list("ABCDEFGH")
    feats = pd.DataFrame({
        "account_id": ids, "name": [f"Firm {c}" for c in ids],
        "industry": ["Food"] * 8,
        "account_manager": ["Ann", "Ann", "Bob", "Bob", "Ann", "Bob", "Ann", "Bob"],
        "revenue_12m": [900.0, 500.0, 400.0, 300.0, 50.0, 40.0, 30.0, 0.0],
        "revenue_prev_12m": [800.0, 700.0, 380.0, 250.0, 60.0, 40.0, 30.0, 10.0],
        "margin_12m": [200.0, 90.0, 80.0, 60.0, 10.0, 8.0, 5.0, 0.0],
        "as_of": pd.Timestamp("2026-09-30"),
    })
    scores = pd.DataFrame({"account_id": ids, "score": np.linspace(0.9, 0.2, 8),
                           "rank": range(1, 9),
                           "tier": ["key"] * 4 + ["key-development"] + ["managed"] * 3})
    scores["is_key"] = scores["tier"] == "key"
    segments = pd.DataFrame({"account_id": ids, "segment": ["Star", "Core", "Star", "Developing",
                                                            "Developing", "Laggard", "Laggard",
                                                            "Laggard"]})
    clv = pd.DataFrame({"account_id": ids, "clv": [3000.0, 1500, 1200, 2000, 100, 80, 50, 0],
                        "clv_low": [2000.0, 1000, 800, 1500, 50, 40, 20, 0],
                        "clv_high": [4000.0, 2000, 1500, 2500, 150, 120, 80, 0],
                        "investment_ceiling": [300.0, 150, 100, 250, 10, 8, 5, 0],
                        "p_alive": [0.99, 0.95, 0.4, 0.9, 0.9, 0.9, 0.9, 0.2]})
    health = pd.DataFrame({"account_id": list("ABCD"), "score": [80.0, 30.0, 60.0, 75.0],
                           "band": ["green", "red", "amber", "green"]})
    flags = pd.DataFrame({"account_id": ["D", "D", "A"],
                          "flag": ["no_decider", "single_point_of_contact", "no_champion"],
                          "message": ["No decider covered.", "One contact only.",
                                      "Nobody champions us."]})
    return feats, scores, segments, clv, health, flags


def _inputs(**over):
    """The tables :func:`kamlib.review.summary.summary_facts` reads, with a resource plan."""
    feats, scores, segments, clv, health, flags = _portfolio()
    acc = accounts_to_assign(feats, scores, segments=segments, clv=clv)
    plan = ResourcePlanner(max_accounts=4, max_hours=1000).fit(acc)
    d = dict(features=feats, scores=scores, key_accounts=scores[scores["is_key"]],
             segments=segments, clv=clv, health=health, red_flags=flags,
             assignment=plan.assignment_, workload=plan.workload_)
    d.update(over)
    return d
