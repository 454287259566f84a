"""Absurd parameters through ``kam run`` on the sample: exit 2 with one paragraph naming the
parameter, never a note deep inside a notebook or an error blaming the data."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from kamlib import cli, paths
from kamlib.errors import ParameterError
from kamlib.intake.engagement import load_engagement
from kamlib.params import SHARED, check_value, item_type
from kamlib.runner.parameters import all_declared, resolve_parameters


def _kam_run(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["run", "--no-progress", *args])
    return code, capsys.readouterr().err


def _refused_before_any_notebook(capsys, param: str, tmp_path, monkeypatch, why: str) -> str:
    """``kam run -p param`` exits 2 naming the parameter and ``why``, and no notebook ran;
    returns the error text."""
    reports = tmp_path / "reports"
    monkeypatch.setenv("KAM_REPORTS_DIR", str(reports))
    code, err = _kam_run(capsys, "-p", param)
    name = param.split("=")[0].split(".")[-1]
    assert code == 2, err
    assert f"Parameter '{name}'" in err and why in err
    assert not reports.exists() or not any(reports.rglob("manifest.json"))  # nothing ran
    return err


@pytest.mark.parametrize("param", ["segmentation.k=-3", "k=1", "clv.interval_level=1.5",
                                   "selection.robust_threshold=0", "account_plans.momentum_weight=2",
                                   "account_plans.health_bands=[40, 170]", "clv.n_bootstrap=-1"])
def test_a_value_outside_its_declared_range_stops_before_any_notebook(capsys, param, tmp_path,
                                                                      monkeypatch):
    _refused_before_any_notebook(capsys, param, tmp_path, monkeypatch, "out of range")


@pytest.mark.parametrize("param", ["segmentation.k=1000", "segmentation.k=601",
                                   "selection.n_key_accounts=100000",
                                   "segmentation.k_range=[2, 700]"])
def test_a_value_above_the_number_of_accounts_stops_before_any_notebook(capsys, param, tmp_path,
                                                                        monkeypatch):
    err = _refused_before_any_notebook(capsys, param, tmp_path, monkeypatch, "out of range")
    assert "the accounts table holds 600 accounts" in err  # the sample's accounts


def test_a_value_up_to_the_number_of_accounts_passes_the_check_before_the_run():
    from kamlib.intake.engagement import load_engagement
    from kamlib.runner.parameters import check_against_accounts, resolve_parameters

    engagement = load_engagement("sample")
    plans = resolve_parameters(engagement, {"segmentation.k": "600",
                                            "selection.n_key_accounts": "600"})
    check_against_accounts(engagement, plans)  # 600 accounts: allowed


@pytest.mark.parametrize("param, steps, expected", [
    ("as_of=1990-01-01", "intake", "Parameter 'as_of' is 1990-01-01, before the first"),
])
def test_a_value_the_data_does_not_allow_exits_2_naming_the_parameter(capsys, param, steps,
                                                                      expected):
    code, err = _kam_run(capsys, "-p", param, "--steps", steps)
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err and "failed in cell" not in err
    assert "Export the invoice lines again" not in err


# --------------------------------------------------- every numeric parameter, just outside
def _just_outside(decl) -> list:
    """Numbers of the parameter's (or its items') type just outside each end of its declared
    range and inside each gap between its parts (``0 or [2, inf)``: -1, 1)."""
    whole = (item_type(decl) or decl.type) is int
    parts = sorted(decl.range.parts)

    def below(x, included):
        return (math.floor(x) - 1 if included or x != int(x) else int(x)) if whole \
            else (math.nextafter(x, -math.inf) if included else x)

    def above(x, included):
        return (math.ceil(x) + 1 if included or x != int(x) else int(x)) if whole \
            else (math.nextafter(x, math.inf) if included else x)

    out = []
    lo, _, lo_in, _ = parts[0]
    if math.isfinite(lo):
        out.append(below(lo, lo_in))
    _, hi, _, hi_in = parts[-1]
    if math.isfinite(hi):
        out.append(above(hi, hi_in))
    for (_, a, _, a_in), (b, _, b_in, _) in zip(parts, parts[1:]):
        gap = above(a, a_in)
        if gap < b or (gap == b and not b_in):
            out.append(gap)
    return [v for v in out if v not in decl.range]


def _with_item(decl, number):
    """``number`` as the parameter's value: itself, or the default with its first item
    replaced (a one-item list or mapping for an empty default)."""
    if decl.type is list:
        return [number, *decl.default[1:]]
    if decl.type is dict:
        return {next(iter(decl.default), "x"): number} | dict(list(decl.default.items())[1:])
    return number


NUMERIC = [(nb, decl) for nb, declared in all_declared().items() for decl in declared.values()
           if decl.range is not None]
CASES = [pytest.param(nb, decl, _with_item(decl, x), id=f"{nb}.{decl.name}={x!r}")
         for nb, decl in NUMERIC for x in _just_outside(decl)]


def test_every_numeric_parameter_has_a_value_just_outside_to_try():
    assert len(NUMERIC) >= 60
    assert {decl.name for _, decl in NUMERIC} <= {c.values[1].name for c in CASES} | {
        "value_threshold", "growth_threshold"}  # (-inf, inf): nothing lies outside


@pytest.mark.parametrize("nb, decl, value", CASES)
def test_just_outside_the_declared_range_is_refused_from_every_source(nb, decl, value, tmp_path,
                                                                      monkeypatch, capsys):
    step = paths.step_key(nb)
    text = json.dumps(value) if isinstance(value, (list, dict)) else repr(value)
    engagement = load_engagement("sample")
    # a run-wide parameter (seed) has one value for the whole run: set only at the top level
    name = decl.name if decl.name in SHARED else f"{step}.{decl.name}"
    in_file = {decl.name: value} if decl.name in SHARED else {step: {decl.name: value}}
    for source in ({"overrides": {name: text}},
                   {"overrides": {decl.name: text}},
                   {"engagement": replace(engagement, parameters=in_file)}):
        with pytest.raises(ParameterError) as err:
            resolve_parameters(source.get("engagement", engagement), source.get("overrides"))
        message = str(err.value)
        assert f"Parameter '{decl.name}' of " in message and "out of range" in message, message
        assert "\n" not in message
    reports = tmp_path / "reports"
    monkeypatch.setenv("KAM_REPORTS_DIR", str(reports))
    code, err_text = _kam_run(capsys, "-p", f"{name}={text}")
    assert code == 2 and f"Parameter '{decl.name}'" in err_text and "Traceback" not in err_text
    assert not reports.exists()  # nothing ran


@pytest.mark.parametrize("nb, name, value", [
    ("40_account_plans", "health_bands", ["forty", 70]),
    ("10_selection", "hours_by_tier", {"key": "lots"}),
    ("30_segmentation", "k_range", [2.5, 8]),
    ("40_account_plans", "governance_days", {"quarterly business review": [91]}),
    ("10_selection", "tiers", [1, 2]),
    ("40_account_plans", "five_p", [None, "Power", "Priorities", "Perception", "Proximity"]),
    ("10_selection", "direct_weights", {"billing": "half"}),
    ("10_selection", "include", {"C10001": 3}),
    ("10_selection", "criteria", [{"billing": 1}]),
    ("40_account_plans", "segment_growth", {"Star": True}),
])
def test_an_item_of_the_wrong_type_in_a_list_or_mapping_is_refused(nb, name, value):
    decl = all_declared()[nb][name]
    for source in ("engagement.yml", "the command line"):
        with pytest.raises(ParameterError) as err:
            check_value(decl, value, source)
        assert f"Parameter '{name}' of {nb} (from {source}) must be a " in str(err.value)
    with pytest.raises(ParameterError, match=f"Parameter '{name}'"):
        resolve_parameters(load_engagement("sample"), {f"{paths.step_key(nb)}.{name}": json.dumps(value)})


@pytest.mark.parametrize("nb, name, value", [
    ("40_account_plans", "health_bands", [40, 70]),  # whole numbers for numbers
    ("10_selection", "direct_weights", {"billing": 1}),
    ("10_selection", "include", {"C10001": "reference customer"}),
    ("30_segmentation", "dpm_strength_weights", {"share_of_wallet": 100}),
])
def test_items_of_the_right_type_pass(nb, name, value):
    assert check_value(all_declared()[nb][name], value) == value


@pytest.mark.parametrize("param", ["clv.model=pareto", "selection.weights=AHP",
                                   "segmentation.cluster_method=dbscan", "time_unit=fortnight",
                                   "intake.engine=pandas"])
def test_a_text_value_that_is_not_one_of_its_values_stops_before_any_notebook(capsys, param,
                                                                           tmp_path, monkeypatch):
    _refused_before_any_notebook(capsys, param, tmp_path, monkeypatch, "not one of its values")
