"""Project hygiene: notebooks committed clean, one dependency list, conventions kept."""

from __future__ import annotations

import json
import re
import tomllib

import yaml
from packaging.specifiers import SpecifierSet

from kamlib import paths
from kamlib.params import numbers_in, check_value, declared_parameters

ROOT = paths.REPO_ROOT


def _notebooks():
    return sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs_and_with_python3_kernel():
    for path in _notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name} has outputs: run nbstripout"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"


def test_every_step_notebook_declares_documented_parameters():
    for path in paths.step_notebooks():
        declared = declared_parameters(path)
        assert list(declared)[:2] == ["engagement", "run_dir"], path.name
        assert declared["engagement"].default == "sample" and declared["run_dir"].default == ""
        for d in declared.values():
            assert d.help, f"{path.name}: parameter '{d.name}' has no comment saying what it does"
            # papermill's own parameter parser reads 'a = b' inside a comment as an assignment
            assert "=" not in d.help, f"{path.name}: comment of '{d.name}' contains '='"


def test_every_numeric_parameter_declares_a_range_that_holds_its_default():
    """A number (or a list or mapping of numbers) has '; range ...' at the end of its comment,
    so the runner and Step.begin can check it and 'kam new' shows it."""
    for path in paths.step_notebooks():
        for d in declared_parameters(path).values():
            numbers = list(numbers_in(d.default))
            if numbers or (d.type in (int, float)):
                assert d.range is not None, f"{path.name}: numeric parameter '{d.name}' has no range"
            if d.range is not None:
                check_value(d, d.default)  # the default lies in its own range


def test_every_text_parameter_with_set_values_lists_them_and_its_default_is_one():
    """A text parameter whose comment names its values ('"ahp" ... or "equal"') ends with
    '; one of "ahp", ...', so the runner refuses a typo before any notebook starts."""
    for path in paths.step_notebooks():
        for d in declared_parameters(path).values():
            if d.type is not str or d.name in ("engagement", "run_dir", "dpm_attractiveness_split"):
                continue
            named = re.findall(r'"([^"]+)"', d.help.split("; one of")[0])
            if len(named) >= 2 and d.name not in ("as_of", "memory_limit", "baseline", "plan_start"):
                assert d.choices is not None, f"{path.name}: '{d.name}' names values but not '; one of'"
            if d.choices is not None:
                assert d.default in d.choices, f"{path.name}: default of '{d.name}' not among its values"
                assert set(named) <= set(d.choices), f"{path.name}: '{d.name}' names a value it refuses"


def test_environment_yml_installs_from_pyproject_only():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    conda = sorted(d.split("=")[0] for d in deps if isinstance(d, str))
    assert conda == ["pip", "python"], "conda packages drift from pyproject.toml: install them via pip"
    pip_lines = next(d["pip"] for d in deps if isinstance(d, dict))
    assert len(pip_lines) == 1 and pip_lines[0].replace('"', "").startswith("-e .[")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert SpecifierSet(pyproject["project"]["requires-python"]).contains(python.split("=")[1])
    extras = pip_lines[0].split("[")[1].rstrip(']"').split(",")
    assert set(extras) <= set(pyproject["project"]["optional-dependencies"])


def test_reports_are_ignored_by_git():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "reports/*" in ignore


def test_methods_notebooks_are_clean_and_not_steps_of_a_run():
    """notebooks/methods/ holds teaching notebooks: nbval executes them (pytest's testpaths),
    the runner never does (it takes the NN_name notebooks of notebooks/ only)."""
    methods = sorted((paths.NOTEBOOKS_DIR / "methods").glob("*.ipynb"))
    assert methods
    steps = set(paths.step_notebooks())
    for path in methods:
        assert path not in steps
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "notebooks" in pyproject["tool"]["pytest"]["ini_options"]["testpaths"]


def _markdown(cell) -> str:
    return "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""


def test_every_step_notebook_teaches_objectives_first_and_exercises_last():
    """A trainer's notebook: 2-4 learning objectives right after the title, and at the end 3-5
    exercises (each changes a parameter or an input) plus discussion questions (issue 16)."""
    import re

    for path in paths.step_notebooks():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert _markdown(cells[0]).startswith("# "), path.name
        objectives = _markdown(cells[1])
        assert objectives.startswith("**Learning objectives.**"), path.name
        assert 2 <= len(re.findall(r"^- ", objectives, flags=re.M)) <= 4, path.name
        last = _markdown(cells[-1])
        assert last.startswith("## Exercises") and "## Discussion" in last, path.name
        exercises = last.split("## Discussion")[0]
        numbered = re.findall(r"^\d\. \*\*.+", exercises, flags=re.M)
        assert 3 <= len(numbered) <= 5, path.name
        for item in re.split(r"^\d\. ", exercises, flags=re.M)[1:]:
            # each exercise changes something and asks what happened (a question)
            assert "`" in item and "?" in item, (path.name, item[:60])
        assert re.findall(r"^- ", last.split("## Discussion")[1], flags=re.M), path.name
