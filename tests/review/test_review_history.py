"""The portfolio history and the early-warning list (kamlib.review.history)."""

import pandas as pd
import pytest

from kamlib.review.history import HISTORY_COLUMNS, early_warnings, history_row, portfolio_history


def _health(scores, bands):
    return pd.DataFrame({"account_id": list(scores), "score": list(scores.values()), "band": bands})


def test_early_warnings_name_accounts_that_lost_p_alive_or_health():
    clv0 = pd.DataFrame({"account_id": ["a", "b", "c"], "p_alive": [0.9, 0.9, 0.9]})
    clv1 = pd.DataFrame({"account_id": ["a", "b", "c"], "p_alive": [0.6, 0.85, 0.95]})
    h0 = _health({"a": 70.0, "b": 72.0, "c": 50.0}, ["green", "green", "amber"])
    h1 = _health({"a": 70.0, "b": 69.0, "c": 30.0}, ["green", "amber", "red"])
    w = early_warnings(clv0, clv1, h0, h1, pd.Series({"a": "Acme", "b": "Bolt", "c": "Cog"}))
    got = set(zip(w["account_id"], w["signal"]))
    assert got == {("a", "P(alive) fell"), ("c", "health fell"), ("b", "health band green -> amber")}
    assert w.loc[w["account_id"] == "a", "name"].item() == "Acme"
    assert early_warnings(None, clv1, None, h1).empty  # a first run has nothing to compare


def test_history_grows_by_one_row_per_run_and_a_rerun_counts_once():
    seg = pd.DataFrame({"segment": ["Star", "Laggard", "Core"], "revenue": [60.0, 10.0, 30.0]})
    health = _health({"a": 80.0, "b": 50.0}, ["green", "amber"])
    acts = pd.DataFrame({"review": ["done", "done", "overdue", "dropped"]})
    warn = pd.DataFrame({"account_id": ["a"]})
    r1 = history_row(pd.Timestamp("2026-06-30"), 25, seg, health, None, warn.iloc[0:0])
    h1 = portfolio_history(None, r1)
    assert list(h1.columns) == HISTORY_COLUMNS and len(h1) == 1
    assert h1["star_revenue_share"].item() == pytest.approx(0.6)
    assert pd.isna(h1["plan_completion"].item())
    r2 = history_row(pd.Timestamp("2026-09-30"), 26, seg, health, acts, warn)
    h2 = portfolio_history(h1, r2)
    assert h2["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2026-06-30", "2026-09-30"]
    assert h2["plan_completion"].iloc[-1] == pytest.approx(0.5)
    assert h2["early_warnings"].tolist() == [0, 1]
    assert len(portfolio_history(h2, r2)) == 2  # the same data date again replaces its row
    h3 = portfolio_history(h2, history_row(pd.Timestamp("2026-12-31"), 27, seg, health, acts, warn))
    assert len(h3) == 3 and h3["key_accounts"].tolist() == [25, 26, 27]
