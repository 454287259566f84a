"""Every parameter is written once: a name belongs to one step notebook, except the run-wide
ones (``kamlib.params.SHARED``), which every notebook declaring them declares alike and which
take one value for the whole run."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import pytest

from kamlib import paths
from kamlib.errors import ParameterError
from kamlib.intake.engagement import load_engagement
from kamlib.params import ALWAYS, SHARED, declared_parameters
from kamlib.runner.parameters import resolve_parameters


def _declared_by() -> dict[str, list]:
    by = defaultdict(list)
    for nb in paths.step_notebooks():
        for name, decl in declared_parameters(nb).items():
            by[name].append((nb.stem, decl))
    return by


def test_no_parameter_is_declared_by_two_steps_unless_it_is_run_wide():
    twice = {name: [nb for nb, _ in decls] for name, decls in _declared_by().items()
             if len(decls) > 1 and name not in ALWAYS + SHARED}
    assert twice == {}, ("declared by two steps: let one step own it and the others read its "
                         "table, or make it run-wide in kamlib.params.SHARED")


@pytest.mark.parametrize("name", SHARED)
def test_a_run_wide_parameter_is_declared_alike_everywhere(name):
    decls = _declared_by()[name]
    assert len(decls) >= 2, f"{name} is declared by one step only: it needs no SHARED entry"
    first = decls[0][1]
    for nb, decl in decls[1:]:
        assert (decl.default, decl.help) == (first.default, first.help), (name, nb)


@pytest.mark.parametrize("setting", [{"account_plans": {"baseline": "x"}}, {"clv": {"seed": 7}}])
def test_a_run_wide_parameter_cannot_be_set_for_one_step(setting):
    eng = load_engagement("sample")
    eng = dataclasses.replace(eng, parameters=setting)
    with pytest.raises(ParameterError, match="one value for the whole run"):
        resolve_parameters(eng)
    step, values = next(iter(setting.items()))
    (name, value), = values.items()
    with pytest.raises(ParameterError, match="one value for the whole run"):
        resolve_parameters(load_engagement("sample"), {f"{step}.{name}": str(value)})


def test_a_run_wide_value_reaches_every_step_that_declares_it():
    plans = resolve_parameters(load_engagement("sample"), {"seed": "7"})
    seeded = {p.name for p in plans if p.parameters.get("seed") == 7}
    assert seeded == {nb for nb, _ in _declared_by()["seed"]}


def test_a_step_given_another_steps_parameter_is_told_which_step_owns_it():
    with pytest.raises(ParameterError, match="declared once, by 10_selection"):
        resolve_parameters(load_engagement("sample"), {"portfolio_review.max_hours": "600"})


def test_papermill_giving_a_step_another_steps_parameter_names_the_owner():
    """Plain papermill -p max_hours on the review: refused, naming 10_selection."""
    from kamlib.runner.parameters import notebook_parameters

    namespace = {"In": ["# Parameters\nmax_hours = 600.0\n"], "max_hours": 600.0}
    with pytest.raises(ParameterError, match="declared once, by 10_selection"):
        notebook_parameters(paths.notebook_for("50_portfolio_review"), namespace)
