"""The executive summary names every override and every big account that is not key (issue 19)."""

import pandas as pd

from kamlib.report.summary import summary_page
from kamlib.review.summary import selection_decisions, summary_facts


def _scores(n: int = 30) -> pd.DataFrame:
    """Rank order, a list of 5. B000 (the largest by revenue) is excluded and B005 takes its
    place; B029 (last) is included and B004, the last key account on the criteria, makes room."""
    ids = [f"B{i:03d}" for i in range(n)]
    by_criteria = [i < 5 for i in range(n)]
    key = {"B001", "B002", "B003", "B005", "B029"}
    s = pd.DataFrame({"account_id": ids, "name": [f"Name {i}" for i in range(n)],
                      "rank": range(1, n + 1), "score": [1 - i / n for i in range(n)],
                      "revenue_12m": [1000.0 - i for i in range(n)],
                      "is_key": [i in key for i in ids], "key_by_criteria": by_criteria,
                      "override": "", "override_reason": "",
                      "why_not_key": ["" if i in key else "rank r; held back most by growth"
                                      for i in ids]})
    s["tier"] = ["key" if k else "managed" for k in s["is_key"]]
    s.loc[0, ["override", "override_reason"]] = ["exclude", "exit <2027>"]
    s.loc[0, "why_not_key"] = "excluded by management: exit <2027>"
    s.loc[n - 1, ["override", "override_reason"]] = ["include", "reference customer"]
    s.loc[4, "why_not_key"] = "rank 5, key on the criteria, but left the list to make room"
    return s


def test_overrides_are_listed_with_reason_and_what_the_criteria_said():
    overrides, _ = selection_decisions(_scores())
    o = overrides.set_index("account_id")
    assert list(overrides["override"]) == ["include", "exclude", "made room"]
    assert o.loc["B029", "reason"] == "reference customer"
    assert o.loc["B029", "criteria_alone"] == "rank 30 of 30: not key on the criteria alone"
    assert o.loc["B000", "criteria_alone"] == "rank 1 of 30: key on the criteria alone"
    assert not o.loc["B004", "is_key"] and o.loc["B029", "is_key"]


def test_big_not_key_by_revenue_and_by_clv_with_why():
    s = _scores()
    clv = pd.DataFrame({"account_id": s["account_id"],
                        "clv": [5000.0 if a == "B010" else 100.0 for a in s["account_id"]]})
    _, big = selection_decisions(s, clv, n=6)
    b = big.set_index("account_id")
    assert b.loc["B000", "by"] == "revenue #1, CLV #2"
    assert b.loc["B000", "why"] == "excluded by management: exit <2027>"
    assert b.loc["B010", "by"] == "CLV #1" and "held back" in b.loc["B010", "why"]
    assert "B001" not in b.index  # key


def test_the_summary_page_shows_both_with_the_reasons_escaped():
    s = _scores()
    page = summary_page(summary_facts(scores=s), client="X")
    assert "Board decisions on the list" in page and "Management overrides" in page
    assert "reference customer" in page and "exit &lt;2027&gt;" in page
    assert "rank 30 of 30: not key on the criteria alone" in page
    assert "Big but not key" in page and "revenue #1" in page
    quiet = s.assign(override="", override_reason="", is_key=s["key_by_criteria"],
                     revenue_12m=[1000.0 if k else 1.0 for k in s["key_by_criteria"]])
    page = summary_page(summary_facts(scores=quiet), client="X")
    assert "None: the key-account list is exactly what the agreed criteria give." in page
    assert "Every one of the 10 largest accounts" not in page  # 5 key, 10 looked at
    assert "Board decisions" not in summary_page(summary_facts(), client="X")
