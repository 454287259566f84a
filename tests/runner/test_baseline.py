"""The baseline: the last plan read from an earlier run folder or its edited plan workbook."""

import pandas as pd
import pytest
from openpyxl import load_workbook

from kamlib.errors import ParameterError
from kamlib.report.plan_workbook import read_plan_workbook, write_plan_workbook
from kamlib.review.audit import review_actions
from kamlib.runner.baseline import baseline_hint, load_baseline
from tests.review.plan_data import AS_OF, PLAN_DATE, _actions, _features, _objectives


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
    assert b.source.startswith("the edited plan_workbook.xlsx of run ")
    assert str(tmp_path.parent) not in b.source  # no path of the consultant's disk on the client's page
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
    assert b.as_of == PLAN_DATE and len(b.objectives) == 11 and b.segments is None
    assert "plan_objectives" in b.source


def test_the_hint_says_how_to_pass_this_run_as_the_next_baseline(tmp_path):
    hint = baseline_hint(tmp_path / "20260930-120000", "acme")
    assert "first plan" in hint and "plan_workbook.xlsx" in hint
    assert f"kam run acme --baseline {tmp_path / '20260930-120000'}" in hint


def test_plan_inputs_come_back_from_the_baseline_workbook(tmp_path):
    from kamlib.runner.baseline import load_plan_inputs

    assert load_plan_inputs("") == {}
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    assert load_plan_inputs(run) == {}  # a run without a workbook: the files are read as usual
    team = pd.DataFrame({"account_id": ["001"], "person": ["Ann"], "role": ["finance"]})
    write_plan_workbook(run / "plan_workbook.xlsx", _objectives(), _actions(),
                        plan_inputs={"account_team": team})
    for ref in (run, run / "plan_workbook.xlsx"):
        got = load_plan_inputs(ref)
        assert list(got) == ["account_team"] and got["account_team"]["role"].tolist() == ["finance"]
    with pytest.raises(ParameterError):
        load_plan_inputs(tmp_path / "nowhere")
