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
