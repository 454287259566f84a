"""Every step notebook passes its parameters once, to its package's one entry point ``run``,
whose keyword-only arguments are exactly the notebook's parameters (names, order, defaults)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json

import pytest

from kamlib import paths
from kamlib.params import ALWAYS, declared_parameters

ENTRY_POINTS = {
    "00_intake": "kamlib.intake",
    "10_selection": "kamlib.selection",
    "20_clv": "kamlib.clv",
    "30_segmentation": "kamlib.segmentation",
    "40_account_plans": "kamlib.planning",
    "50_portfolio_review": "kamlib.review",
}


def _parameters(notebook: str) -> dict:
    return {n: d.default for n, d in declared_parameters(paths.notebook_for(notebook)).items()
            if n not in ALWAYS}


def _code_after_parameters(notebook: str) -> ast.Module:
    cells = json.loads(paths.notebook_for(notebook).read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"
            and "parameters" not in c.get("metadata", {}).get("tags", [])]
    # IPython's trailing ';' and magics aside, cells are plain Python
    return ast.parse("\n".join(code))


def test_every_step_notebook_has_an_entry_point():
    assert sorted(ENTRY_POINTS) == sorted(p.stem for p in paths.step_notebooks())


@pytest.mark.parametrize("notebook, package", sorted(ENTRY_POINTS.items()))
def test_run_takes_exactly_the_notebooks_parameters(notebook, package):
    run = importlib.import_module(package).run
    keyword_only = {n: p.default for n, p in inspect.signature(run).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    declared = _parameters(notebook)
    assert list(keyword_only) == list(declared)
    for name, default in declared.items():
        given = list(keyword_only[name]) if isinstance(keyword_only[name], tuple) else keyword_only[name]
        assert type(given) is type(default) and given == default, name


@pytest.mark.parametrize("notebook, package", sorted(ENTRY_POINTS.items()))
def test_notebook_names_each_parameter_once_and_calls_run_once(notebook, package):
    tree = _code_after_parameters(notebook)
    variables = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert variables & set(_parameters(notebook)) == set(), "a parameter is written again"
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "run"]
    assert len(calls) == 1, "one analysis call"
    splats = [k.value for k in calls[0].keywords if k.arg is None]
    assert [ast.unparse(s) for s in splats] == ["step.params"]
    assert ast.unparse(calls[0].func) == package.rpartition(".")[2] + ".run"
