"""The plan workbook read back: a header the consultant removed is a clear error."""

import pytest

from kamlib.errors import InputError
from kamlib.report.plan_workbook import read_plan_workbook, write_plan_workbook
from tests.review.plan_data import _actions, _objectives


def test_workbook_with_missing_column_is_a_clear_error(tmp_path):
    f = write_plan_workbook(tmp_path / "w.xlsx", _objectives().drop(columns="target"),
                            _actions())
    with pytest.raises(InputError) as e:
        read_plan_workbook(f)
    assert e.value.column == "target" and "Objectives" in e.value.file


HOSTILE = ['=HYPERLINK("http://evil")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3",
           "http://evil.example", "\t=1+1", "<b>x</b>", " =1+1"]
# (a carriage return is written as text too, but openpyxl reads it back as _x000D_)


def test_client_text_is_written_as_text_and_read_back_unchanged(tmp_path):
    from openpyxl import load_workbook

    actions = _actions()
    actions["action"] = HOSTILE[:5]
    actions["owner"] = HOSTILE[4:9]
    objectives = _objectives()
    objectives["description"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(objectives))]
    f = write_plan_workbook(tmp_path / "w.xlsx", objectives, actions,
                            about={"client": "=HYPERLINK(\"http://evil-client\")"})
    book = load_workbook(f)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f" or c.hyperlink is not None]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(HOSTILE) <= texts
    kinds = {ws.title: {c.data_type for row in ws.iter_rows(min_row=2) for c in row}
             for ws in book.worksheets}
    assert {"n", "d", "s"} <= kinds["Objectives"]  # targets stay numbers, dates stay dates
    back_objectives, back_actions, about = read_plan_workbook(f)
    assert back_actions["action"].tolist() == HOSTILE[:5]
    assert back_actions["owner"].tolist() == HOSTILE[4:9]
    assert sorted(back_objectives["description"]) == sorted(objectives["description"])
    assert about["client"] == "=HYPERLINK(\"http://evil-client\")"


def test_plan_input_sheets_are_written_and_read_back(tmp_path):
    import pandas as pd

    from kamlib.intake.contract import TABLES
    from kamlib.report.plan_workbook import PLAN_INPUT_SHEETS, read_plan_input_sheets

    team = pd.DataFrame({"account_id": ["001"], "person": ["=HYPERLINK(\"x\")"],
                         "role": ["service"], "extra": ["dropped"]})
    opps = pd.DataFrame({"account_id": ["001"], "name": ["Deal"], "amount": [1000.0],
                         "expected_close": pd.to_datetime(["2026-10-01"])})
    f = write_plan_workbook(tmp_path / "w.xlsx", _objectives(), _actions(),
                            plan_inputs={"account_team": team, "opportunities": opps})
    back = read_plan_input_sheets(f)
    # empty sheets (competitors, strategy: headers only) leave the engagement's files in use
    assert sorted(back) == ["account_team", "opportunities"]
    assert list(back["account_team"].columns) == TABLES["account_team"].column_names
    assert back["account_team"]["person"].tolist() == ["=HYPERLINK(\"x\")"]  # text, not a formula
    assert back["opportunities"].attrs["source"] == f"w.xlsx, sheet {PLAN_INPUT_SHEETS['opportunities']}"
    # the objectives and actions read back as before
    objectives, actions, _ = read_plan_workbook(f)
    assert len(objectives) == len(_objectives()) and len(actions) == len(_actions())
