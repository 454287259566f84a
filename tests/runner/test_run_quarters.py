"""The living plan across three quarters of a small sample company, run by the runner: each
run's plan edited as the account managers would, the next run with it as the baseline.

The three runs end on 2026-03-31 (quarter 1's data cut a quarter earlier with intake's
``as_of``), 2026-06-30 (quarter 1) and 2026-09-30 (quarter 2): a later quarter of the sample
would hold dates after today's, which intake rightly sets aside as in the future."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from kamlib.report.plan_workbook import WORKBOOK_NAME
from kamlib.runner import run_engagement
from kamlib.sample import write_quarters
from kamlib.sample.plan_edits import HAND_ACTION, edit_plan_workbook


def _table(run, name):
    return pd.read_parquet(run.run_dir / "tables" / f"{name}.parquet")


def _closed_in(workbook) -> pd.DataFrame:
    sheet = pd.read_excel(workbook, sheet_name="Actions", dtype=object)
    return sheet[sheet["status"].isin(["done", "dropped"])]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    q1, q2 = write_quarters(tmp_path_factory.mktemp("co") / "co", n_accounts=80, seed=3, quarters=2)
    quiet = dict(progress=False, echo=lambda _m: None)
    runs, edits = [], []
    for i, (folder, cut) in enumerate(((q1, {"intake.as_of": "2026-03-31"}), (q1, None), (q2, None))):
        typed = {"baseline": str(runs[-1].run_dir)} if runs else None
        run = run_engagement(folder, overrides=cut, typed=typed, label=f"q{i + 1}", **quiet)
        assert run.exit_code == 0, run.message
        workbook = run.run_dir / WORKBOOK_NAME
        # the account managers' quarter: done, dropped, re-owned, added by hand; and the first
        # action handed to someone new, still open
        edit_plan_workbook(workbook, seed=i)
        book = load_workbook(workbook)
        sheet = book["Actions"]
        header = [c.value for c in sheet[1]]
        sheet.cell(2, header.index("owner") + 1).value = "Zoe Newowner"
        sheet.cell(2, header.index("status") + 1).value = "open"
        edits.append(sheet.cell(2, header.index("action_id") + 1).value)
        book.save(workbook)
        runs.append(run)
    return runs, edits


def test_nothing_closed_is_planned_again_and_hand_edits_are_kept(chain):
    runs, edits = chain
    for before, after in zip(runs, runs[1:]):
        closed = _closed_in(before.run_dir / WORKBOOK_NAME)
        plan = _table(after, "plan_actions")
        assert len(closed)
        assert not set(closed["action_id"]) & set(plan["action_id"])
        assert set(closed["action_id"]) <= set(_table(after, "plan_closed_actions")["action_id"])
        assert (plan["status"] == "open").all()
        assert (plan["action"] == HAND_ACTION).any()
    reowned = edits[0]
    q2 = _table(runs[1], "plan_actions").set_index("action_id")
    assert q2.loc[reowned, "owner"] == "Zoe Newowner"
    # closed in quarter 1 and still closed in quarter 3
    q1_closed = set(_closed_in(runs[0].run_dir / WORKBOOK_NAME)["action_id"])
    assert not q1_closed & set(_table(runs[2], "plan_actions")["action_id"])
    assert q1_closed <= set(_table(runs[2], "plan_closed_actions")["action_id"])


def test_the_review_finds_real_outcomes(chain):
    runs, _ = chain
    review = _table(runs[1], "objective_review")["review"]
    assert (review == "met").any() and (review == "missed").any()
    actions = _table(runs[1], "action_review")["review"]
    assert {"done", "dropped"} <= set(actions)


def test_three_points_of_history_and_the_first_runs_boundaries(chain):
    runs, _ = chain
    history = _table(runs[2], "portfolio_history")
    assert history["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-31", "2026-06-30", "2026-09-30"]
    assert history["plan_completion"].iloc[1:].gt(0).all()
    first = _table(runs[0], "segment_boundaries").query("kind == 'threshold'")
    last = _table(runs[2], "segment_boundaries").query("kind == 'threshold'")
    assert last["threshold"].tolist() == pytest.approx(first["threshold"].tolist())
    assert (last["set_on"] == "2026-03-31").all()
    assert (runs[2].run_dir / "html" / "history.html").exists()
    changes = _table(runs[1], "plan_changes")
    assert changes["change"].str.contains("done").any()
