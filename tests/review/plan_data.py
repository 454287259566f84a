"""A small last plan (objectives with stage goals, actions) shared by the review's tests."""

import pandas as pd

PLAN_DATE = pd.Timestamp("2026-06-30")
AS_OF = pd.Timestamp("2026-09-30")  # 92 days later


def _objectives():
    rows = [  # account, objective id, kind, milestone, days, baseline, target
        ("A", "A-REV", "revenue", "day 30", 30, 90.0, 100.0),
        ("A", "A-REV", "revenue", "day 90 / Q1", 90, 270.0, 300.0),
        ("A", "A-REV", "revenue", "Q2", 182, 540.0, 600.0),
        ("B", "B-MAR", "margin", "day 30", 30, 8.0, 10.0),
        ("B", "B-MAR", "margin", "Q2", 182, 80.0, 100.0),
        ("C", "C-REV", "revenue", "Q2", 182, 90.0, 100.0),
        ("D", "D-WS", "whitespace", "day 90 / Q1", 90, 0.0, 1.0),
        ("D", "D-WS", "whitespace", "Q2", 182, 0.0, 2.0),
        ("E", "E-REL", "relationship", "day 90 / Q1", 90, 2.0, 4.0),
        ("F", "F-LOY", "loyalty", "Q2", 182, 0.0, 1.0),
        ("G", "G-REV", "revenue", "day 30", 30, 9.0, 10.0),
    ]
    df = pd.DataFrame(rows, columns=["account_id", "objective_id", "objective", "milestone",
                                     "days", "baseline", "target"])
    df["due_date"] = PLAN_DATE + pd.to_timedelta(df["days"], unit="D")
    df["description"] = df["objective"] + " goal"
    df["unit"], df["owner"], df["status"] = "money", "Ann", "open"
    return df


def _actions():
    return pd.DataFrame({
        "account_id": ["A", "A", "B", "C", "D"],
        "action_id": ["X1", "X2", "X3", "X4", "X5"],
        "objective_id": ["O0", "O0", "O1", "O2", "O3"],
        "action": ["meet the CFO", "map the DMU", "propose category", "QBR", "site visit"],
        "owner": ["Ann"] * 5,
        "due_date": pd.to_datetime(["2026-08-01", "2026-09-29", "2026-12-01", "2026-12-01",
                                    "2026-09-30"]),
        "checkpoint_date": pd.to_datetime(["2026-07-15", "2026-08-01", "2026-09-01",
                                           "2026-10-31", "2026-08-30"]),
        "status": ["done", "open", "open", "open", "Dropped "],
    })


def _features():
    return pd.DataFrame({"account_id": list("ABCDEF"), "as_of": [AS_OF] * 6})
