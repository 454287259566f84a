"""The parameters each notebook receives: resolved before a run, read back inside the notebook.

Before a run, :func:`resolve_parameters` merges every source (notebook default <
``engagement.yml`` < ``kam run -p`` < CLI flags) and checks each value against the notebook's
declared parameters (:func:`kamlib.params.declared_parameters`). Inside the notebook,
:func:`notebook_parameters` reads the declared names back from the notebook's namespace and
checks them again: a notebook run with plain papermill gets the same checks as one run by
``kam run``.
"""

from __future__ import annotations

import ast
import json
import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import yaml

from kamlib import paths
from kamlib.intake.engagement import Engagement, engagement_mapping, table_sheets
from kamlib.intake.loading import read_small
from kamlib.errors import KamError, ParameterError
from kamlib.params import (ALWAYS, SHARED, Declared, Params, check_range, check_value,
                           declared_parameters, parse_cli_value, plain_problem,
                           unknown_name_error)

INJECTED_HEADER = "# Parameters\n"
"""How the cell papermill injects (``-p name value``) starts."""


@dataclass
class StepPlan:
    """One notebook to run and the parameters it will receive."""

    notebook: Path
    parameters: dict[str, Any]

    @property
    def name(self) -> str:
        return self.notebook.stem


def _step_aliases(notebooks: list[Path]) -> dict[str, Path]:
    aliases: dict[str, Path] = {}
    for nb in notebooks:
        aliases[nb.stem] = nb
        aliases[paths.step_key(nb)] = nb
    return aliases


def _left_out(notebooks: list[Path]) -> set[str]:
    """Names engagement.yml may hold for steps this run leaves out: the parameters and step
    names of the step notebooks not in ``notebooks`` (of the notebooks folder and of the
    package's own), less any the run's notebooks declare. A run of some steps only (or of
    other notebooks) ignores them instead of calling them unknown; a typo stays an error."""
    chosen = {nb.resolve() for nb in notebooks}
    others = {nb.resolve() for folder in (None, paths.NOTEBOOKS_DIR)
              for nb in paths.step_notebooks(folder)} - chosen
    names = {n for nb in sorted(others) for n in declared_parameters(nb)}
    names |= {key for nb in others for key in (nb.stem, paths.step_key(nb))}
    mine = {n for nb in notebooks for n in declared_parameters(nb)} | set(_step_aliases(notebooks))
    return names - mine - set(ALWAYS)


def resolve_parameters(
    engagement: Engagement,
    overrides: Mapping[str, str] | None = None,
    typed: Mapping[str, Any] | None = None,
    notebooks: list[Path] | None = None,
) -> list[StepPlan]:
    """Work out, and check, the parameters every notebook will receive.

    Order of precedence: notebook default < ``engagement.yml`` < ``overrides`` (``-p`` text,
    ``name`` or ``step.name``) < ``typed`` (values set by CLI flags such as ``--anonymise``,
    applied to every notebook that declares them). A name no notebook declares is an error;
    a name engagement.yml holds for a step this run leaves out is ignored (:func:`_left_out`).
    Each notebook receives only the parameters it declares, and only those that differ from
    its defaults are passed (so the executed notebook shows what was changed).
    """
    notebooks = notebooks if notebooks is not None else paths.step_notebooks()
    if not notebooks:
        raise KamError(f"No step notebooks found in {paths.notebooks_dir()}.")
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    aliases = _step_aliases(notebooks)
    left_out = _left_out(notebooks)
    values: dict[Path, dict[str, Any]] = {nb: {} for nb in notebooks}
    config_file = f"{engagement.folder / 'engagement.yml'}"

    def everywhere(name: str, value: Any, where: str, parse: bool) -> None:
        targets = [nb for nb in notebooks if name in declared[nb]]
        if not targets or name in ALWAYS:
            known = sorted({n for d in declared.values() for n in d} - set(ALWAYS))
            if name in ALWAYS:
                raise ParameterError(f"'{name}' is set by kam run itself ({where}); remove it.")
            raise unknown_name_error(name, known, where)
        for nb in targets:
            decl = declared[nb][name]
            values[nb][name] = parse_cli_value(decl, value) if parse else check_value(decl, value, where)

    def in_step(step: str, name: str, value: Any, where: str, parse: bool) -> None:
        nb = aliases[step]
        if name in SHARED and name in declared[nb]:
            raise ParameterError(
                f"'{name}' is set for step '{step}' alone ({where}), but it has one value for "
                f"the whole run (every step that declares it uses it). Fix: set it at the top "
                f"level of engagement.yml's parameters, or with -p {name}=VALUE.")
        if name not in declared[nb] and name not in ALWAYS:
            elsewhere = declared_elsewhere(name, step, where, notebooks)
            if elsewhere is not None:
                raise elsewhere
        if name not in declared[nb] or name in ALWAYS:
            raise unknown_name_error(name, [n for n in declared[nb] if n not in ALWAYS],
                                     f"{where}, step '{step}'")
        decl = declared[nb][name]
        values[nb][name] = parse_cli_value(decl, value) if parse else check_value(decl, value, where)

    for key, value in engagement.parameters.items():
        if key in left_out:  # engagement.yml configures a step this run leaves out
            continue
        if key in aliases and isinstance(value, dict):
            for name, v in value.items():
                in_step(key, str(name), v, config_file, parse=False)
        else:
            everywhere(str(key), value, config_file, parse=False)
    for key, text in (overrides or {}).items():
        step, _, name = key.rpartition(".")
        if step:
            if step not in aliases:
                raise ParameterError(f"-p {key}: there is no step '{step}'. Steps: "
                                     f"{', '.join(nb.stem for nb in notebooks)}.")
            in_step(step, name, text, "the command line", parse=True)
        else:
            everywhere(name, text, "the command line", parse=True)
    for name, value in (typed or {}).items():
        for nb in notebooks:
            if name in declared[nb]:
                values[nb][name] = check_value(declared[nb][name], value, "a kam run option")
    plans = []
    for nb in notebooks:
        changed = {k: v for k, v in values[nb].items() if v != declared[nb][k].default}
        plans.append(StepPlan(nb, changed))
    return plans


def accounts_in(engagement: Engagement) -> int | None:
    """How many distinct account ids the engagement's accounts file holds (as mapped), or None
    when it cannot be read here: intake then reports why, with the file and the fix."""
    path = engagement.input_path("accounts")
    if path is None:
        return None
    try:
        raw, _ = read_small("accounts", path, engagement_mapping(engagement),
                            table_sheets(engagement).get("accounts"))
    except (KamError, OSError, ValueError):
        return None
    if "account_id" not in raw:
        return None
    ids = raw["account_id"].astype(str).str.strip()
    return int(ids[ids != ""].nunique())


def check_against_accounts(engagement: Engagement, plans: list[StepPlan]) -> None:
    """Check, before any notebook starts, the parameters whose range is bounded by the number
    of accounts (``range 0 or [2, accounts]``: more clusters or key accounts than accounts).

    Only values this run sets are checked (a default is the notebook's own concern), and the
    accounts file is read only when such a value is set. The notebooks check again against
    the accounts that pass intake's checks.
    """
    bounded = [(decl, value) for plan in plans
               for decl, value in ((declared_parameters(plan.notebook)[name], value)
                                   for name, value in plan.parameters.items())
               if decl.counts_accounts]
    if not bounded:
        return
    accounts = accounts_in(engagement)
    if accounts is None:
        return
    for decl, value in bounded:
        check_range(decl, value, accounts=accounts)


def plan_for(engagement: Engagement, notebook: Path) -> StepPlan:
    """The parameters ``engagement.yml`` gives one notebook (no command-line overrides)."""
    return next(p for p in resolve_parameters(engagement) if p.notebook == notebook)


def all_declared(notebooks: list[Path] | None = None) -> dict[str, dict[str, Declared]]:
    """Every notebook's declared parameters, by notebook stem (for ``kam new`` and docs)."""
    return {nb.stem: declared_parameters(nb) for nb in (notebooks or paths.step_notebooks())}


def write_parameters_file(run_dir: Path, plans: list[StepPlan]) -> Path:
    """``parameters.yml``: every parameter each notebook runs with, defaults included."""
    used = {p.name: {n: d.default for n, d in declared_parameters(p.notebook).items()
                     if n not in ALWAYS} | p.parameters for p in plans}
    path = Path(run_dir) / "parameters.yml"
    path.write_text("# Parameters every notebook ran with (defaults included).\n"
                    + yaml.safe_dump(used, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def injected_cell(parameters: Mapping[str, Any]) -> str:
    """The cell papermill injects for ``parameters``, proven to be plain literals.

    Every value is first checked to be plain (:func:`kamlib.params.plain_problem`); the cell
    papermill writes for them is then parsed, and every statement must assign one of the names
    a literal (:func:`ast.literal_eval`) equal to the value given, JSON for JSON. Whatever a
    value holds (quotes, backslashes, newlines, ``\"\"\"``), it stays data: a cell that is
    anything else is refused before the notebook runs.

    Raises
    ------
    ParameterError
        A value that is not plain, or one papermill would not write as that same literal.
    """
    from papermill.translators import translate_parameters

    for name, value in parameters.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ParameterError(f"{name!r} cannot be a parameter's name (not a Python name).")
        problem = plain_problem(value)
        if problem:
            raise ParameterError(f"Parameter '{name}' is not a plain value: it holds {problem}.")
    source = translate_parameters("python3", "python", dict(parameters), "Parameters")
    try:
        statements = ast.parse(source).body
    except SyntaxError:
        statements = []
    for node, (name, value) in zip_longest(statements, parameters.items()):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name
                and _literal_json(node.value) == json.dumps(value, sort_keys=True)):
            raise ParameterError(
                f"Parameter '{name}' cannot be passed to the notebook as a plain literal; "
                "nothing was run. Fix: pass plain text, numbers, true/false, lists or mappings.")
    return source


def _literal_json(node: ast.expr) -> str | None:
    try:
        return json.dumps(ast.literal_eval(node), sort_keys=True)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None


# ---------------------------------------------------------------------------- in the notebook
def injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """Names papermill injected into a notebook's kernel (its ``# Parameters`` cell).

    IPython keeps every executed cell's source in ``In``; outside a kernel there is none and
    nothing was injected.
    """
    names: list[str] = []
    for source in namespace.get("In", ()):
        if isinstance(source, str) and source.startswith(INJECTED_HEADER):
            names += [node.targets[0].id for node in ast.parse(source).body
                      if isinstance(node, ast.Assign) and len(node.targets) == 1
                      and isinstance(node.targets[0], ast.Name)]
    return names


def declared_elsewhere(name: str, step: str, where: str,
                       notebooks: list[Path] | None = None) -> ParameterError | None:
    """The error for ``name`` given to ``step`` when another step notebook declares it (each
    parameter is declared once; the steps after it read that step's tables), else None."""
    notebooks = notebooks if notebooks is not None else paths.step_notebooks()
    owners = [nb for nb in notebooks if name in declared_parameters(nb)]
    if not owners:
        return None
    return ParameterError(
        f"'{name}' is not a parameter of step '{step}' ({where}): it is declared once, by "
        f"{', '.join(o.stem for o in owners)}, and the steps after it read its decision from its "
        f"tables. Fix: set it with kam run -p {name}=VALUE, under "
        f"{paths.step_key(owners[0])}: in engagement.yml, or in {owners[0].name}.")


def notebook_parameters(notebook: Path, namespace: Mapping[str, Any]) -> Params:
    """A notebook's declared parameters read from its namespace (``globals()``), checked.

    A declared name missing from ``namespace`` takes its default. A name papermill injected
    that the notebook does not declare, or a value of the wrong type, is a
    :class:`~kamlib.errors.ParameterError` (papermill's ``-p flag false`` arrives as the text
    ``"false"``: refused, not truthy). ``engagement`` and ``run_dir`` are included.
    """
    declared = declared_parameters(notebook)
    for name in injected_names(namespace):
        if name not in declared:
            raise (declared_elsewhere(name, notebook.stem, "passed by papermill")
                   or unknown_name_error(name, list(declared), f"passed to {notebook.stem}"))
    return Params({name: check_value(decl, namespace.get(name, decl.default), "the notebook")
                   for name, decl in declared.items()})
