"""Typed, validated parameters.

A step notebook declares its parameters in the cell tagged ``parameters``: one assignment per
line, a literal default and an inline comment saying what it does::

    k = 4                  # number of clusters; 0 = choose by silhouette
    value_measure = "revenue"  # revenue, margin or clv

The default's type *is* the parameter's type. Every value that reaches a notebook — from
``engagement.yml``, from ``kam run -p``, or from plain ``papermill -p`` — is checked against it
here, so ``"false"`` for a boolean or ``123`` for an identifier that was ``00123`` is a clear
error instead of a silently wrong run.
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kamlib.errors import ParameterError

ALWAYS = ("engagement", "run_dir")
"""Parameters every step notebook declares; the runner sets them."""

_TYPE_NAMES = {bool: "true/false", int: "a whole number", float: "a number", str: "text",
               list: "a list", dict: "a mapping"}


@dataclass(frozen=True)
class Declared:
    """One parameter as a notebook declares it."""

    name: str
    default: Any
    help: str
    notebook: str

    @property
    def type(self) -> type | None:
        return None if self.default is None else type(self.default)


class KamYamlLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves dates as text (``2026-06-30`` stays a string).

    Dates as ``datetime.date`` would not survive JSON (papermill's parameter injection, the
    manifest); every date parameter is text in ISO form and parsed where it is used.
    """


KamYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML with :class:`KamYamlLoader` (dates stay strings)."""
    return yaml.load(text, Loader=KamYamlLoader)


def parameters_source(notebook: Path) -> str:
    """The source of the cell tagged ``parameters`` in ``notebook``."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    raise ParameterError(
        f"{notebook}: no cell is tagged 'parameters'. Fix: tag the cell holding the defaults "
        "with 'parameters' (View > Cell toolbar > Tags in Jupyter)."
    )


@lru_cache(maxsize=64)
def _declared_cached(notebook: str, mtime: float) -> dict[str, Declared]:
    source = parameters_source(Path(notebook))
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    declared: dict[str, Declared] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ParameterError(
                f"{notebook}: the default of parameter '{name}' is not a literal. Fix: use a "
                "plain value (text, number, true/false, list or dict) in the parameters cell."
            ) from exc
        declared[name] = Declared(name, default, comments.get(node.lineno, ""), Path(notebook).stem)
    return declared


def declared_parameters(notebook: Path) -> dict[str, Declared]:
    """Parameters declared in ``notebook``'s parameters cell, by name, in file order."""
    path = Path(notebook).resolve()
    return _declared_cached(str(path), path.stat().st_mtime)


def check_value(decl: Declared, value: Any, source: str = "") -> Any:
    """Return ``value`` checked against the type of ``decl``'s default.

    Ints are accepted for float parameters (and converted); nothing else is converted: a
    string for a boolean or a number for a text parameter is an error naming the parameter,
    what was given and how to pass it.
    """
    where = f" (from {source})" if source else ""
    expected = decl.type
    if expected is None:
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    hint = ""
    if expected is bool and isinstance(value, str):
        hint = (" Papermill's -p passes words like 'false' as text: write True or False "
                f"(papermill -p {decl.name} False) or use kam run -p {decl.name}=false.")
    elif expected is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = (" A number arrived where text is expected: if it had leading zeros they were "
                f"lost. Pass text with papermill -r {decl.name} VALUE (raw), or quote it in "
                "engagement.yml.")
    raise ParameterError(
        f"Parameter '{decl.name}' of {decl.notebook}{where} must be "
        f"{_TYPE_NAMES.get(expected, expected.__name__)}, but got {value!r} "
        f"({_TYPE_NAMES.get(type(value), type(value).__name__)}).{hint}"
    )


def parse_cli_value(decl: Declared, text: str) -> Any:
    """Turn ``-p name=value`` text into a value of the declared type.

    Text parameters keep the text exactly as typed (``00123`` keeps its zeros); every other
    type is read as YAML (``false``, ``3``, ``0.1``, ``[a, b]``) and then type-checked.
    """
    if decl.type is str:
        return text
    if decl.type is float:
        try:
            return float(text)  # YAML 1.1 reads '1e-3' as text; Python reads it as a number
        except ValueError:
            pass
    try:
        value = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ParameterError(
            f"Parameter '{decl.name}': cannot read {text!r} ({exc.problem}). Fix: write a value "
            "such as true, 3, 0.5, [a, b] or {key: value}."
        ) from exc
    return check_value(decl, value, "the command line")


def unknown_name_error(name: str, known: list[str], where: str) -> ParameterError:
    """A clear error for a parameter name that no notebook declares, with close matches."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ParameterError(
        f"Unknown parameter '{name}' ({where}).{hint} Run 'kam new DIR' to see every parameter "
        "with its default and meaning."
    )


class Params(dict):
    """Validated parameter values with attribute access (``params.k``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(f"no parameter '{name}'") from exc
