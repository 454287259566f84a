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
