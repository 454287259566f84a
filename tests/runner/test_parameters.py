"""Parameter declaration, plain values, type and range checks, resolution and the injected
cell (no notebook is executed here)."""

from __future__ import annotations

import ast
import datetime as dt
import json
import keyword
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamlib.intake.engagement import Engagement
from kamlib.errors import ParameterError
from kamlib.params import (Declared, check_value, declared_parameters, load_yaml, parse_cli_value,
                           parse_range)
from kamlib.runner import resolve_parameters
from kamlib.runner.parameters import injected_cell
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


# ------------------------------------------------------------------ plain values, safe injection
@pytest.mark.parametrize("text, tag", [
    ("w: {x: !!binary aGk=}", "!!binary"), ("w: [1, !!set {a}]", "!!set"),
    ("w: !!omap [{a: 1}]", "!!omap"), ("w: !!pairs [{a: 1}]", "!!pairs"),
    ("w: {x: !!python/object/apply:os.system [ls]}", "!!python/object/apply:os.system"),
    ("w: !!python/name:os.system ''", "!!python/name:os.system"), ("w: [!custom x]", "!custom"),
    ("w: {!!binary aGk=: 1}", "!!binary"),
])
def test_yaml_tags_that_are_not_plain_are_refused_naming_file_key_and_line(text, tag):
    with pytest.raises(ParameterError, match=r"client/engagement.yml: .*'w.*\(line 1\) is tagged "
                       + re.escape(tag)):
        load_yaml(text, "client/engagement.yml")


def test_explicit_timestamps_become_iso_text_and_plain_tags_stay_allowed():
    assert load_yaml("a: !!timestamp 2026-06-30\nb: !!timestamp 2026-06-30 10:30:00\n"
                     "c: !!str 00123\nd: !!int '7'\ne: !!float 1\n") == {
        "a": "2026-06-30", "b": "2026-06-30T10:30:00", "c": "00123", "d": 7, "e": 1.0}


def test_an_alias_bomb_is_looked_at_once():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    loaded = load_yaml("\n".join(levels))  # 9**9 leaves if expanded; returns at once
    decl = Declared("w", [], "a list", "nb")
    with pytest.raises(ParameterError, match="more than 100,000 items"):
        check_value(decl, loaded["a8"])


@pytest.mark.parametrize("value, found", [
    (b"x", "bytes"), ({"x": b"x"}, "bytes"), ([1, [2, {"a": {1, 2}}]], "set"), ((1, 2), "tuple"),
    ({1: "a"}, "keys must be text"), (float("nan"), "finite"), ([float("inf")], "finite"),
    (dt.date(2026, 1, 1), "date"), (type("Evil", (str,), {})("x"), "Evil"), ([[[[[[[[[[[[[[[[[[[[[[
        1]]]]]]]]]]]]]]]]]]]]]], "nested more than 20"),
])
def test_values_that_are_not_plain_are_refused_whatever_the_declared_type(value, found):
    for default in ([], {}, "", None):
        with pytest.raises(ParameterError, match=f"'w' of nb .*not a plain value.*{found}"):
            check_value(Declared("w", default, "", "nb"), value)
    with pytest.raises(ParameterError, match="'w' is not a plain value"):
        injected_cell({"w": value})


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
HOSTILE_TEXT = st.text(alphabet=st.sampled_from('"\'\\\n\r\t\x00#{}()[]:;,=+ bx\u2028ü'), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)),
                       PLAIN | st.lists(HOSTILE_TEXT) | st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT)
                       | HOSTILE_TEXT, max_size=4))
def test_papermills_cell_for_any_plain_value_is_exactly_that_literal(parameters):
    """The cell papermill injects for plain values is assignments of literals, equal to them."""
    source = injected_cell(parameters)
    namespace: dict = {}
    for node in ast.parse(source).body:  # literals only: evaluating them runs nothing
        namespace[node.targets[0].id] = ast.literal_eval(node.value)
    assert json.dumps(namespace, sort_keys=True) == json.dumps(parameters, sort_keys=True)


# ------------------------------------------------------------------ ranges
RANGED = '''engagement = "sample"  # engagement folder
run_dir = ""  # run folder
k = 4  # clusters; 0 chooses; range 0 or [2, inf)
share = 0.1  # a share; range [0, 1]
rate = 0.5  # an open interval; range (0, 1)
bands = [40.0, 70.0]  # limits; range [0, 100]
growth = {"Star": 0.1}  # by segment; range [-1, inf)
'''


@pytest.fixture
def ranged(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    return declared_parameters(make_notebook(tmp_path / "nb" / "00_ranged.ipynb", RANGED, "pass"))


def test_a_range_is_read_from_the_end_of_the_comment(ranged):
    assert ranged["k"].range.text == "0 or [2, inf)" and ranged["k"].help.endswith("range 0 or [2, inf)")
    assert ranged["k"].range.describe() == "0, or 2 or more"
    assert ranged["rate"].range.describe() == "from 0 (excluded) to 1 (excluded)"
    assert [x in ranged["k"].range for x in (-1, 0, 1, 2, 10**9)] == [False, True, False, True, True]
    assert [x in ranged["rate"].range for x in (0, 0.5, 1)] == [False, True, False]


@pytest.mark.parametrize("name, value", [("k", -3), ("k", 1), ("share", 1.5), ("share", -0.1),
                                         ("rate", 0), ("rate", 1.0), ("bands", [40.0, 170.0]),
                                         ("growth", {"Star": -2.0})])
def test_out_of_range_values_are_refused_naming_the_parameter(ranged, name, value):
    with pytest.raises(ParameterError, match=f"Parameter '{name}' of 00_ranged .*out of range"):
        check_value(ranged[name], value)


@pytest.mark.parametrize("name, value", [("k", 0), ("k", 1000), ("share", 0), ("share", 1),
                                         ("bands", [0, 100]), ("growth", {"Star": -1})])
def test_values_in_range_pass(ranged, name, value):
    assert check_value(ranged[name], value) == value


def test_a_range_that_cannot_be_read_is_the_notebooks_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    nb = make_notebook(tmp_path / "nb" / "00_bad.ipynb", 'k = 4  # clusters; range 2 to 8\n', "pass")
    with pytest.raises(ParameterError, match="00_bad: parameter 'k' has the range '2 to 8'"):
        check_value(declared_parameters(nb)["k"], 3)
    assert parse_range("[2, 8]").parts == ((2.0, 8.0, True, True),)


def test_out_of_range_values_are_refused_before_any_notebook_runs(ranged, tmp_path):
    with pytest.raises(ParameterError, match="'share' of 00_ranged \\(from the command line\\)"):
        resolve_parameters(_engagement(tmp_path), {"share": "2"})
    with pytest.raises(ParameterError, match="'bands' of 00_ranged \\(from .*engagement.yml\\)"):
        resolve_parameters(_engagement(tmp_path, {"bands": [10, 1000]}))


def test_engagement_yml_may_configure_steps_a_run_leaves_out(tmp_path):
    """The sample's engagement.yml sets plan_start (step 40): a run of the first steps only
    ignores it, while a misspelled name is still an error."""
    from kamlib import paths as _paths
    from kamlib.errors import ParameterError as _PE
    from kamlib.intake.engagement import load_engagement
    from kamlib.runner.parameters import resolve_parameters as _resolve

    first = _paths.step_notebooks()[:2]
    plans = _resolve(load_engagement("sample"), notebooks=first)
    assert [p.notebook for p in plans] == first
    folder = tmp_path / "eng"
    folder.mkdir()
    text = (_paths.REPO_ROOT / "data" / "sample" / "engagement.yml").read_text(encoding="utf-8")
    (folder / "engagement.yml").write_text(text.replace("plan_start:", "plan_strat:"), encoding="utf-8")
    for name in ("accounts.csv", "transactions.parquet", "contacts.csv", "assessments.xlsx",
                 "ahp_judgements.csv"):
        (folder / name).symlink_to(_paths.REPO_ROOT / "data" / "sample" / name)
    with pytest.raises(_PE, match="plan_strat"):
        _resolve(load_engagement(folder), notebooks=first)


def test_a_range_bounded_by_the_accounts_is_open_until_the_accounts_are_known():
    from kamlib.params import parse_range

    spec = "0 or [2, accounts]"
    assert 10**9 in parse_range(spec)  # papermill alone: no limit
    known = parse_range(spec, accounts=600)
    assert 600 in known and 601 not in known and 0 in known and 1 not in known
    assert known.describe() == "0, or from 2 to 600"
