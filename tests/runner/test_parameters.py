"""Parameter declaration, type checking and resolution (no notebook is executed here)."""

from __future__ import annotations

import pytest

from kamlib.intake.engagement import Engagement
from kamlib.errors import ParameterError
from kamlib.params import check_value, declared_parameters, load_yaml, parse_cli_value
from kamlib.runner import resolve_parameters
from tests.conftest import make_notebook

PARAMS = '''engagement = "sample"  # engagement folder
run_dir = ""  # run folder
anonymise = False  # pseudonyms for names
k = 4  # number of clusters
rate = 0.1  # discount rate
code = "00123"  # an identifier
criteria = ["billing", "growth"]  # criteria used
'''


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    a = make_notebook(tmp_path / "nb" / "00_first.ipynb", PARAMS, "pass")
    b = make_notebook(tmp_path / "nb" / "10_second.ipynb",
                      'engagement = "sample"\nrun_dir = ""\nk = 8  # other k\n', "pass")
    return a, b


def _engagement(tmp_path, parameters=None):
    return Engagement("t", tmp_path, "Test client", parameters=parameters or {})


def test_declared_parameters_read_defaults_types_and_help(notebooks):
    declared = declared_parameters(notebooks[0])
    assert list(declared) == ["engagement", "run_dir", "anonymise", "k", "rate", "code", "criteria"]
    assert declared["k"].default == 4 and declared["k"].type is int
    assert declared["k"].help == "number of clusters"
    assert declared["criteria"].default == ["billing", "growth"]


@pytest.mark.parametrize("name, value", [("anonymise", "false"), ("anonymise", 0), ("k", "4"),
                                         ("k", 4.5), ("k", True), ("code", 123), ("criteria", "a,b")])
def test_wrong_types_are_refused_with_the_parameter_named(notebooks, name, value):
    decl = declared_parameters(notebooks[0])[name]
    with pytest.raises(ParameterError, match=f"'{name}'"):
        check_value(decl, value)


def test_papermill_text_for_a_bool_gets_a_how_to_fix_hint(notebooks):
    decl = declared_parameters(notebooks[0])["anonymise"]
    with pytest.raises(ParameterError, match="papermill -p anonymise False"):
        check_value(decl, "false")


def test_cli_values_are_typed_and_text_keeps_leading_zeros(notebooks):
    declared = declared_parameters(notebooks[0])
    assert parse_cli_value(declared["anonymise"], "false") is False
    assert parse_cli_value(declared["k"], "6") == 6
    assert parse_cli_value(declared["rate"], "1e-3") == pytest.approx(0.001)
    assert parse_cli_value(declared["rate"], "2") == 2.0
    assert parse_cli_value(declared["code"], "00123") == "00123"
    assert parse_cli_value(declared["criteria"], "[a, b]") == ["a", "b"]
    with pytest.raises(ParameterError):
        parse_cli_value(declared["k"], "four")


def test_yaml_dates_stay_text():
    assert load_yaml("as_of: 2026-06-30") == {"as_of": "2026-06-30"}


def test_resolution_order_and_each_notebook_gets_only_its_own(notebooks, tmp_path):
    eng = _engagement(tmp_path, {"k": 5, "second": {"k": 7}})
    plans = {p.name: p.parameters for p in resolve_parameters(eng, {"first.rate": "0.2"},
                                                              {"anonymise": True})}
    assert plans["00_first"] == {"k": 5, "rate": 0.2, "anonymise": True}
    assert plans["10_second"] == {"k": 7}
    plans = {p.name: p.parameters for p in resolve_parameters(eng, {"k": "9"})}
    assert plans["00_first"]["k"] == 9 and plans["10_second"]["k"] == 9


def test_unknown_or_misspelled_names_are_errors_with_suggestions(notebooks, tmp_path):
    with pytest.raises(ParameterError, match="Did you mean 'anonymise'"):
        resolve_parameters(_engagement(tmp_path), {"anonymize": "true"})
    with pytest.raises(ParameterError, match="Unknown parameter 'colour'"):
        resolve_parameters(_engagement(tmp_path, {"colour": "red"}))
    with pytest.raises(ParameterError, match="no step 'third'"):
        resolve_parameters(_engagement(tmp_path), {"third.k": "1"})
    with pytest.raises(ParameterError, match="set by kam run"):
        resolve_parameters(_engagement(tmp_path), {"run_dir": "x"})
    with pytest.raises(ParameterError, match="'k'"):
        resolve_parameters(_engagement(tmp_path, {"second": {"k": "many"}}))
