"""The intake step's entry point: its keywords are the notebook's parameters, and its tables
are what the notebook saves."""

from __future__ import annotations

import ast
import inspect
import json

import pandas as pd
import pytest

from kamlib import intake, paths
from kamlib.intake.engagement import load_engagement
from kamlib.intake.entry import TABLES
from kamlib.intake.features import feature_tables


def _notebook_parameters() -> list[str]:
    nb = json.loads(paths.notebook_for("intake").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return [t.id for node in ast.parse(source).body for t in node.targets]


def test_run_takes_exactly_the_notebook_parameters():
    names = [n for n in _notebook_parameters() if n not in ("engagement", "run_dir")]
    signature = inspect.signature(intake.run)
    assert list(signature.parameters) == ["engagement", "edited", *names]
    assert all(signature.parameters[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names)


@pytest.fixture(scope="module")
def result():
    return intake.run(load_engagement("sample"), as_of="", max_set_aside_share=0.05,
                      anonymise=False, engine="", memory_limit="")


def test_tables_are_what_the_step_saves(result):
    tables = result.tables()
    assert list(tables) == list(TABLES)
    assert all(isinstance(t, pd.DataFrame) for t in tables.values())
    checked = result.inputs
    for name in ("accounts", "contacts", "assessments", "ahp_judgements"):
        assert tables[name] is checked.frames[name]
    pd.testing.assert_frame_equal(tables["data_quality"], checked.data_quality())
    pd.testing.assert_frame_equal(tables["set_aside"], checked.set_aside_table())
    again = feature_tables(checked, progress=False)
    for name in ("account_features", "account_category_year", "purchase_occasions",
                 "transactions_summary"):
        pd.testing.assert_frame_equal(tables[name], again[name])
    pd.testing.assert_frame_equal(result.monthly_revenue, again["monthly_revenue"])


def test_what_the_notebook_shows(result, tmp_path):
    assert result.report == result.inputs.to_text()
    assert "Every row is accounted for." in result.report
    assert result.row_accounts is result.inputs.accounts
    assert result.as_of == result.inputs.as_of
    curve = result.concentration()
    assert curve["value_share"].iloc[-1] == pytest.approx(1.0)
    result.write_set_aside(tmp_path)
    written = {p.stem for p in tmp_path.glob("*.csv")}
    assert written == set(result.set_aside["table"])


def test_load_is_the_check_alone():
    checked = intake.load(load_engagement("sample"))
    assert checked.to_text().endswith("Every row is accounted for.")
