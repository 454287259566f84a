"""Plan review: objectives met/missed/pace, actions overdue, segment moves, baselines, Excel."""

import pandas as pd
import pytest
from openpyxl import load_workbook

from kamlib.errors import InputError, ParameterError
from kamlib.planning.review import (
    Baseline,
    load_baseline,
    read_plan_workbook,
    review_actions,
    review_objectives,
    review_outline,
    review_plan,
    segment_changes,
)
from kamlib.report.plan_workbook import write_plan_workbook

PLAN_DATE = pd.Timestamp("2026-06-30")
AS_OF = pd.Timestamp("2026-09-30")


def _objectives():
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E", "F", "G"],
        "objective_id": [f"O{i}" for i in range(7)],
        "metric": ["revenue", "revenue_12m", "margin", "revenue", "revenue", "cost_to_serve",
                   "revenue"],
        "baseline_value": [100.0, 100.0, 50.0, 100.0, 100.0, 20.0, 100.0],
        "target_value": [120.0, 120.0, 60.0, 200.0, 200.0, 15.0, 120.0],
        # A, B, C, F due at the review date or before; D, E a year after the plan
        "due_date": pd.to_datetime(["2026-09-30", "2026-09-01", "2026-09-15", "2027-06-30",
                                    "2027-06-30", "2026-09-30", "2027-06-30"]),
    })


def _features():
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E", "F"],
        "revenue_12m": [125.0, 110.0, 0.0, 130.0, 110.0, 0.0],
        "margin_12m": [0.0, 0.0, 55.0, 0.0, 0.0, 0.0],
        "cost_to_serve": [0.0, 0.0, 0.0, 0.0, 0.0, 14.0],
        "as_of": [AS_OF] * 6,
    })


def test_objectives_met_missed_and_pace():
    r = review_objectives(_objectives(), _features(), AS_OF, PLAN_DATE).set_index("account_id")
    assert r.at["A", "review"] == "met"            # 125 >= 120
    assert r.at["B", "review"] == "missed"         # 110 < 120, due before the review
    assert r.at["C", "review"] == "missed"         # margin 55 < 60
    assert r.at["F", "review"] == "met"            # target below baseline: 14 <= 15
    # A quarter of the year has passed (92 of 365 days): D achieved 30 % of its +100, on
    # track; E achieved 10 %, behind.
    assert r.at["D", "expected_progress"] == pytest.approx(92 / 365)
    assert r.at["D", "progress"] == pytest.approx(0.3)
    assert r.at["D", "review"] == "on track"
    assert r.at["E", "review"] == "behind"
    assert r.at["G", "review"] == "no data"        # account not in the new data
    assert r.at["A", "actual"] == 125 and r.at["A", "gap"] == 5
    # Without the plan date pace cannot be judged: not-yet-due objectives stay open.
    r2 = review_objectives(_objectives(), _features(), AS_OF).set_index("account_id")
    assert r2.at["D", "review"] == "open" and r2.at["E", "review"] == "open"
    assert r2.at["B", "review"] == "missed"


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


def test_actions_overdue_checkpoint_done():
    r = review_actions(_actions(), AS_OF).set_index("action_id")
    assert r["review"].to_dict() == {"X1": "done", "X2": "overdue", "X3": "checkpoint passed",
                                     "X4": "open", "X5": "dropped"}
    assert r.at["X2", "days_overdue"] == 1 and r.at["X3", "days_overdue"] == 0


def test_bad_status_names_rows():
    a = _actions()
    a.loc[3, "status"] = "finished"
    with pytest.raises(InputError) as e:
        review_actions(a, AS_OF)
    assert e.value.column == "status" and e.value.rows == [4]


def test_segment_changes():
    before = pd.DataFrame({"account_id": list("ABCDE"),
                           "segment": ["Star", "Core", "Laggard", "Developing", "Core"]})
    after = pd.DataFrame({"account_id": list("ABCDF"),
                          "segment": ["Core", "Core", "Developing", "Core", "Star"]})
    m = segment_changes(before, after).set_index("account_id")["move"].to_dict()
    assert m == {"A": "down", "B": "same", "C": "up", "D": "sideways", "E": "gone", "F": "new"}
    assert segment_changes(None, after).empty


def test_review_plan_summary_counts():
    segs_before = pd.DataFrame({"account_id": list("ABC"), "segment": ["Star", "Core", "Core"]})
    segs_after = pd.DataFrame({"account_id": list("ABC"), "segment": ["Core", "Star", "Core"]})
    b = Baseline(_objectives(), _actions(), segs_before, PLAN_DATE, "test")
    rv = review_plan(b, _features(), segs_after)
    s = rv.summary.set_index("what")["count"]
    assert s["objectives met"] == 2 and s["objectives missed"] == 2
    assert s["objectives behind pace"] == 1 and s["actions overdue"] == 1
    assert s["planned accounts that moved up"] == 1
    assert s["planned accounts that moved down"] == 1
    assert rv.as_of == AS_OF and rv.plan_date == PLAN_DATE
    assert set(review_outline()["table"]) == {"plan_review", "action_review", "segment_changes"}


def test_excel_round_trip_with_consultant_edits(tmp_path):
    obj, act = _objectives(), _actions()
    act["name"] = "Acme"  # extra columns travel along
    f = write_plan_workbook(tmp_path / "plan_workbook.xlsx", obj, act,
                            about={"as_of": PLAN_DATE.date(), "engagement": "test"})
    o2, a2, about = read_plan_workbook(f)
    pd.testing.assert_frame_equal(o2[list(obj.columns)], obj, check_dtype=False)
    assert a2["status"].tolist() == ["done", "open", "open", "open", "dropped"]
    assert (a2["due_date"] == act["due_date"]).all()
    assert about["as_of"] == "2026-06-30" and about["engagement"] == "test"

    # The file is formatted for editing: frozen header, a status drop-down, widths.
    wb = load_workbook(f)
    ws = wb["Actions"]
    assert ws.freeze_panes == "A2"
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1 and "open,done,dropped" in dvs[0].formula1
    status_col = [c.value for c in ws[1]].index("status")
    assert chr(ord("A") + status_col) in str(dvs[0].sqref)
    assert ws.column_dimensions["E"].width >= 10

    # The consultant ticks one action off and adds a new one by hand ...
    ws.cell(row=3, column=status_col + 1, value="done")
    ws.append(["A", None, "O0", "invite to the plant tour", "Bob", "2026-10-15",
               "2026-09-15", None, "Acme"])
    wb.save(f)
    # ... and the run folder with that workbook is the next baseline.
    b = load_baseline(tmp_path)
    assert b.source.startswith("edited workbook")
    assert b.as_of == PLAN_DATE
    r = review_actions(b.actions, AS_OF).set_index("action_id")
    assert r.at["X2", "review"] == "done"
    assert r.at["NEW-1", "review"] == "checkpoint passed"
    assert r.at["NEW-1", "status"] == "open"


def test_load_baseline_from_parquet_and_errors(tmp_path):
    assert load_baseline("") is None
    with pytest.raises(ParameterError, match="does not exist"):
        load_baseline(tmp_path / "nope")
    with pytest.raises(ParameterError, match="holds no plan"):
        load_baseline(tmp_path)
    (tmp_path / "tables").mkdir()
    _objectives().to_parquet(tmp_path / "tables" / "plan_objectives.parquet")
    _actions().to_parquet(tmp_path / "tables" / "plan_actions.parquet")
    _features().assign(as_of=PLAN_DATE).to_parquet(tmp_path / "tables" /
                                                   "account_features.parquet")
    b = load_baseline(str(tmp_path))
    assert b.as_of == PLAN_DATE and len(b.objectives) == 7 and b.segments is None
    assert "plan_objectives" in b.source


def test_workbook_with_missing_column_is_a_clear_error(tmp_path):
    f = write_plan_workbook(tmp_path / "w.xlsx", _objectives().drop(columns="target_value"),
                            _actions())
    with pytest.raises(InputError) as e:
        read_plan_workbook(f)
    assert e.value.column == "target_value" and "Objectives" in e.value.file
