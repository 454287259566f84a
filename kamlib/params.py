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
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kamlib.errors import ParameterError
from kamlib.formatting import count as fmt_count

ALWAYS = ("engagement", "run_dir")
"""Parameters every step notebook declares; the runner sets them."""

SHARED = ("baseline", "seed")
"""Run-wide parameters: the only names more than one step notebook may declare, each with the
same default and comment in every one (``tests/project`` checks it). They have one value for
the whole run, set at the top level of ``engagement.yml`` or with ``-p name=value``; a value for
one step only is refused (:func:`kamlib.runner.parameters.resolve_parameters`). Every other
parameter belongs to one step: a step that needs another step's decision reads that step's
table (the review reads the selection's ``capacity_rules``)."""

_TYPE_NAMES = {bool: "true/false", int: "a whole number", float: "a number", str: "text",
               list: "a list", dict: "a mapping", type(None): "null"}
_ITEM_NAMES = {bool: "true/false values", int: "whole numbers", float: "numbers", str: "texts"}


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

    @property
    def range(self) -> Range | None:
        """The valid range the comment ends with (``; range [0, 1]``), or None; a bound
        written ``accounts`` (the number of accounts) is no limit here."""
        return self.range_for()

    @property
    def counts_accounts(self) -> bool:
        """Whether the range has a bound written ``accounts``, known only from the data."""
        found = _RANGE_IN_HELP.search(self.help)
        return bool(found) and "accounts" in found.group("spec")

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The only values a text parameter takes, as its comment ends
        (``; one of "ahp", "direct", "equal"``), or None for free text."""
        found = _CHOICES_IN_HELP.search(self.help)
        return tuple(_QUOTED.findall(found.group("spec"))) if found else None

    def range_for(self, accounts: int | None = None) -> Range | None:
        """The valid range with its ``accounts`` bound set to ``accounts`` (None: no limit)."""
        found = _RANGE_IN_HELP.search(self.help)
        return parse_range(found.group("spec"), self, accounts) if found else None


class KamYamlLoader(yaml.SafeLoader):
    """A safe YAML loader that reads plain values only.

    Dates as ``datetime.date`` would not survive JSON (papermill's parameter injection, the
    manifest): a date stays the text it was written as (``2026-06-30``), and an explicit
    ``!!timestamp`` becomes its ISO text. Every other tag that is not plain YAML (``!!binary``,
    ``!!set``, ``!!omap``, ``!!python/...``, custom ``!tags``) is loaded as a :class:`_Refused`
    marker, which :func:`load_yaml` reports with the file, the key and the line.
    """


@dataclass(frozen=True)
class _Refused:
    """Where a tag that is not plain YAML stood (hashable: it may be a mapping key)."""

    tag: str
    line: int


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> _Refused:
    return _Refused(node.tag, node.start_mark.line + 1)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return loader.construct_yaml_timestamp(node).isoformat()


KamYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
KamYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
for _tag in ("binary", "set", "omap", "pairs"):
    KamYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
KamYamlLoader.add_constructor(None, _refuse)  # every tag no constructor knows


def _tag_text(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _find_refused(value: Any, key: str,
                  seen: set[int] | None = None) -> tuple[str, _Refused] | None:
    """The first refused tag in ``value`` and the dotted key that holds it.

    A list or mapping reached twice (a YAML alias) is looked at once: an alias bomb stays a
    linear walk.
    """
    if isinstance(value, _Refused):
        return key, value
    seen = set() if seen is None else seen
    if not isinstance(value, (dict, list)) or id(value) in seen:
        return None
    seen.add(id(value))
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for k, v in items:
        if isinstance(k, _Refused):
            return (f"a key of '{key}'" if key else "a key"), k
        inner = f"{key}[{k}]" if isinstance(value, list) else (f"{key}.{k}" if key else f"{k}")
        found = _find_refused(v, inner, seen)
        if found:
            return found
    return None


def load_yaml(text: str, source: str = "", key: str = "") -> Any:
    """Parse YAML with :class:`KamYamlLoader`: plain values only, dates stay text.

    Parameters
    ----------
    text : str
        The YAML.
    source : str
        Where it comes from (a file, "the command line"), for the error message.
    key : str
        The key ``text`` is the value of (a ``-p`` parameter's name), for the error message.

    Raises
    ------
    ParameterError
        A tag that is not plain YAML (``!!binary``, ``!!set``, ``!!python/...``, ``!custom``),
        naming ``source``, the key and the line.
    yaml.YAMLError
        Text that is not YAML.
    """
    try:
        value = yaml.load(text, Loader=KamYamlLoader)
    except RecursionError:
        raise ParameterError(f"{source or 'YAML'}: the value of '{key or 'the document'}' is "
                             f"nested too deeply. Fix: write plain, shallow values.") from None
    found = _find_refused(value, key)
    if found:
        where, refused = found
        where = where if where.startswith("a key") else f"the value of '{where or 'the document'}'"
        raise ParameterError(
            f"{source or 'YAML'}: {where} (line {refused.line}) "
            f"is tagged {_tag_text(refused.tag)}, which kam-workbook never reads: parameters "
            "and settings are plain text, numbers, true/false, lists and mappings. Fix: remove "
            "the tag and write the value as plain YAML."
        )
    return value


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


# ----------------------------------------------------------------------------- ranges
_QUOTED = re.compile(r'"([^"]*)"')
_CHOICES_IN_HELP = re.compile(r';\s*one of\s+(?P<spec>"[^"]*"(?:\s*,\s*"[^"]*")*)\s*$')
_RANGE_IN_HELP = re.compile(r";\s*range\s+(?P<spec>[^;]+?)\s*$")
_NUMBER = r"(?:-?(?:\d+(?:\.\d*)?|inf)|accounts)"
_PART = re.compile(rf"(?P<point>{_NUMBER})|(?P<open>[\[(])\s*(?P<lo>{_NUMBER})\s*,\s*"
                   rf"(?P<hi>{_NUMBER})\s*(?P<close>[\])])")


@dataclass(frozen=True)
class Range:
    """A parameter's valid values: intervals and single values, e.g. ``0 or [2, inf)``.

    ``[a, b]`` includes both ends, ``(a, b)`` leaves them out, ``inf`` is no limit. For a list
    or mapping parameter the range holds for every number in it.
    """

    text: str
    parts: tuple[tuple[float, float, bool, bool], ...]  # (low, high, low included, high included)

    def __contains__(self, x: float) -> bool:
        return any((lo < x or (lo_in and lo == x)) and (x < hi or (hi_in and x == hi))
                   for lo, hi, lo_in, hi_in in self.parts)

    def describe(self) -> str:
        """The range in words: ``from 0 to 1``, ``0, or 2 or more``."""
        words = []
        for lo, hi, lo_in, hi_in in self.parts:
            a, b = _number_text(lo), _number_text(hi)
            if lo == hi:
                words.append(a)
            elif math.isinf(hi) and math.isinf(lo):
                words.append("any number")
            elif math.isinf(hi):
                words.append(f"{a} or more" if lo_in else f"more than {a}")
            elif math.isinf(lo):
                words.append(f"{b} or less" if hi_in else f"less than {b}")
            else:
                words.append(f"from {a}{'' if lo_in else ' (excluded)'} to {b}"
                             f"{'' if hi_in else ' (excluded)'}")
        return ", or ".join(words)


def _number_text(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


def parse_range(spec: str, decl: Declared | None = None, accounts: int | None = None) -> Range:
    """Read a range written as in a parameter's comment: ``[0, 1]``, ``(0, inf)``,
    ``0 or [2, inf)``, ``-1 or [0, inf)``, ``0 or [2, accounts]``.

    ``accounts`` stands for the number of accounts in the engagement's accounts table; the
    runner knows it before any notebook starts (``accounts``), a plain check does not (None:
    no limit).
    """

    def number(text: str) -> float:
        if text == "accounts":
            return math.inf if accounts is None else float(accounts)
        return float(text)

    parts = []
    for text in spec.split(" or "):
        m = _PART.fullmatch(text.strip())
        if m is None:
            where = f"{decl.notebook}: parameter '{decl.name}'" if decl else "A parameter"
            raise ParameterError(
                f"{where} has the range {spec!r}, which cannot be read. Fix: end its comment "
                "with '; range [low, high]' ('(' or ')' leave an end out, inf for no limit), "
                "or values and ranges joined by ' or '.")
        if m["point"] is not None:
            parts.append((number(m["point"]), number(m["point"]), True, True))
        else:
            parts.append((number(m["lo"]), number(m["hi"]), m["open"] == "[", m["close"] == "]"))
    return Range(spec.strip(), tuple(parts))


def numbers_in(value: Any):
    """Every number in a value (in lists and mapping values too); booleans are not numbers."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from numbers_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from numbers_in(v)


def check_range(decl: Declared, value: Any, source: str = "", accounts: int | None = None) -> None:
    """Raise a :class:`ParameterError` naming the parameter when a number in ``value`` lies
    outside ``decl``'s declared range (nothing to check without one); ``accounts`` sets the
    bound the range writes ``accounts`` (the engagement's number of accounts)."""
    valid = decl.range_for(accounts)
    if valid is None:
        return
    for x in numbers_in(value):
        if x not in valid:
            inside = "" if x is value else f" (in {_short(value)})"
            where = f" (from {source})" if source else ""
            counted = (f"; the accounts table holds {fmt_count(accounts, 'account')}"
                       if accounts is not None and decl.counts_accounts else "")
            raise ParameterError(
                f"Parameter '{decl.name}' of {decl.notebook}{where} is out of range: got "
                f"{x!r}{inside}, allowed {valid.describe()} ({valid.text}{counted}). Fix: "
                f"choose a value in that range; 'kam new DIR' lists every parameter with its "
                "range.")


# ----------------------------------------------------------------------------- plain values
PLAIN_SCALARS = (str, bool, int, float, type(None))
"""The only types a parameter value is made of, with lists and text-keyed mappings of them:
what JSON can say, and what papermill writes as a literal that cannot become code."""

MAX_DEPTH = 20
"""Lists and mappings nested deeper than this are refused (no parameter needs more than 3)."""

MAX_ITEMS = 100_000
"""Values with more numbers, texts, lists and mappings than this in all are refused."""


def plain_problem(value: Any) -> str | None:
    """What makes ``value`` not a plain JSON value, or None when it is one.

    Plain is: text, a whole number, a finite number, true/false, null, and lists and mappings
    with text keys of those. Exact types only (no subclasses): a ``bytes``, ``set``, ``tuple``,
    date or any object is refused whatever it would print as.
    """
    budget = [MAX_ITEMS]

    def walk(v: Any, path: str, depth: int) -> str | None:
        at = f" at {path}" if path else ""
        budget[0] -= 1
        if budget[0] < 0:
            return f"more than {fmt_count(MAX_ITEMS)} items in all"
        if depth > MAX_DEPTH:
            return f"lists or mappings nested more than {MAX_DEPTH} deep{at}"
        kind = type(v)
        if kind is float and not math.isfinite(v):
            return f"{v!r}{at} (only finite numbers)"
        if kind in PLAIN_SCALARS:
            return None
        if kind is list:
            return next((p for i, x in enumerate(v) if (p := walk(x, f"{path}[{i}]", depth + 1))),
                        None)
        if kind is dict:
            for k, x in v.items():
                if type(k) is not str:
                    return f"the key {_short(k)}{at} ({type(k).__name__}; keys must be text)"
                if p := walk(x, f"{path}[{k!r}]", depth + 1):
                    return p
            return None
        return f"{_short(v)}{at} ({kind.__name__})"

    return walk(value, "", 0)


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters (a hostile value may be very long)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "…" + text[-4:]



def check_value(decl: Declared, value: Any, source: str = "") -> Any:
    """Return ``value`` checked against ``decl``: plain, of its default's type, in its range.

    A value that is not plain JSON (:func:`plain_problem`) is refused whatever the declared
    type. Ints are accepted for float parameters (and converted); nothing else is converted: a
    string for a boolean or a number for a text parameter is an error naming the parameter,
    what was given and how to pass it. Numbers outside the range the parameter's comment
    declares (:func:`check_range`) are refused too.
    """
    where = f" (from {source})" if source else ""
    problem = plain_problem(value)
    if problem:
        raise ParameterError(
            f"Parameter '{decl.name}' of {decl.notebook}{where} is not a plain value: it holds "
            f"{problem}. Parameters are text, numbers, true/false, null, and lists and mappings "
            "(with text keys) of those. Fix: write the value as plain YAML or JSON.")
    expected = decl.type
    if expected is float and type(value) is int:
        value = float(value)
    if expected is not None and type(value) is not expected:
        raise _type_error(decl, value, where)
    _check_items(decl, value, where)
    check_range(decl, value, source)
    check_choice(decl, value, where)
    return value


def check_choice(decl: Declared, value: Any, where: str = "") -> None:
    """Raise a :class:`ParameterError` naming the parameter when a text parameter that lists
    its values (``; one of "a", "b"``) is given another."""
    choices = decl.choices
    if choices is None or value in choices:
        return
    listed = ", ".join(f'"{c}"' for c in choices)
    raise ParameterError(
        f"Parameter '{decl.name}' of {decl.notebook}{where} is {_short(value)!r}, which is not "
        f"one of its values: {listed}. Fix: choose one of them; 'kam new DIR' lists every "
        "parameter with its values.")


def item_type(decl: Declared) -> type | None:
    """The type every item of a list or mapping parameter must have (None: not a container, or
    one whose items are lists or mappings, which are checked as plain values only).

    It is the type of the default's items (``health_bands = [40.0, 70.0]``: numbers); an empty
    default's items are numbers when the parameter declares a range (``direct_weights``), else
    text (``criteria``, ``include``, ``managers``)."""
    if decl.type not in (list, dict):
        return None
    items = decl.default if decl.type is list else list(decl.default.values())
    kinds = {type(v) for v in items}
    if not kinds:
        return float if decl.range is not None else str
    if kinds == {int, float}:
        return float
    kind = kinds.pop() if len(kinds) == 1 else None
    return kind if kind in (str, int, float, bool) else None


def _check_items(decl: Declared, value: Any, where: str) -> None:
    """Every item of a list or mapping value has :func:`item_type` (an int is accepted for a
    number, as for the parameter itself)."""
    expected = item_type(decl)
    if expected is None:
        return
    items = enumerate(value) if isinstance(value, list) else value.items()
    for key, item in items:
        if type(item) is expected or (expected is float and type(item) is int):
            continue
        kind = f"{'a list' if isinstance(value, list) else 'a mapping'} of {_ITEM_NAMES[expected]}"
        which = f"item {key + 1}" if isinstance(value, list) else f"the value of {_short(key)}"
        fix = (f"write it as the notebook's default is written: {_short(decl.default)}"
               if decl.default else f"give {kind}")
        if expected is float and type(_float_or(item)) is float:
            fix = f"write {item} with a decimal point ({float(item)!r}): YAML reads it as text"
        raise ParameterError(
            f"Parameter '{decl.name}' of {decl.notebook}{where} must be {kind}, but {which} is "
            f"{_short(item)} ({_TYPE_NAMES.get(type(item), type(item).__name__)}). Fix: {fix}.")


def _type_error(decl: Declared, value: Any, where: str) -> ParameterError:
    expected = decl.type
    hint = ""
    if expected is bool and isinstance(value, str):
        hint = (" Papermill's -p passes words like 'false' as text: write True or False "
                f"(papermill -p {decl.name} False) or use kam run -p {decl.name}=false.")
    elif expected is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = (" A number arrived where text is expected: if it had leading zeros they were "
                f"lost. Pass text with papermill -r {decl.name} VALUE (raw), or quote it in "
                "engagement.yml.")
    return ParameterError(
        f"Parameter '{decl.name}' of {decl.notebook}{where} must be "
        f"{_TYPE_NAMES.get(expected, expected.__name__)}, but got {_short(value)} "
        f"({_TYPE_NAMES.get(type(value), type(value).__name__)}).{hint}"
    )


def parse_cli_value(decl: Declared, text: str) -> Any:
    """Turn ``-p name=value`` text into a value of the declared type.

    Text parameters keep the text exactly as typed (``00123`` keeps its zeros); every other
    type is read as YAML (``false``, ``3``, ``0.1``, ``[a, b]``) and then type-checked.
    """
    if decl.type is str:
        return check_value(decl, text, "the command line")
    if decl.type is float:
        try:  # YAML 1.1 reads '1e-3' as text; Python reads it as a number
            return check_value(decl, float(text), "the command line")
        except ValueError:
            pass
    try:
        value = load_yaml(text, "the command line", decl.name)
    except yaml.YAMLError as exc:
        raise ParameterError(
            f"Parameter '{decl.name}': cannot read {_short(text)} ({exc.problem}). Fix: write a "
            "value such as true, 3, 0.5, [a, b] or {key: value}."
        ) from exc
    if item_type(decl) is float and type(value) in (list, dict):  # as for a number: 1e-3
        items = value.items() if type(value) is dict else enumerate(value)
        for key, item in list(items):
            value[key] = _float_or(item)
    return check_value(decl, value, "the command line")


def _float_or(item: Any) -> Any:
    """``item`` as a number when it is text Python reads as one (``1e-3``), else itself."""
    try:
        return float(item) if type(item) is str and math.isfinite(float(item)) else item
    except ValueError:
        return item


def unknown_name_error(name: str, known: list[str], where: str) -> ParameterError:
    """A clear error for a parameter name that no notebook declares, with close matches."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ParameterError(
        f"Unknown parameter '{name}' ({where}).{hint} Run 'kam new DIR' to see every parameter "
        "with its default and meaning."
    )


def numbers_by_key(values: Mapping[str, Any], name: str, defaults: Mapping[str, float],
                   kind: str) -> dict[str, float]:
    """A parameter mapping fixed keys to numbers >= 0 (cost rates by activity, costs by
    serving model), with ``defaults`` for the keys it leaves out.

    Raises
    ------
    ParameterError
        A key that is not one of ``defaults`` (``kind`` names what the keys are), or a value
        that is not a finite number >= 0.
    """
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ParameterError(
            f"{name} has unknown {kind} {', '.join(map(repr, unknown))}; the {kind} are "
            f"{', '.join(map(repr, defaults))}.")
    out = {**defaults, **{k: float(v) for k, v in values.items()}}
    bad = [k for k, v in out.items() if not math.isfinite(v) or v < 0]
    if bad:
        raise ParameterError(f"{name} must hold numbers >= 0; check {', '.join(map(repr, bad))}.")
    return out


class Params(dict):
    """Validated parameter values with attribute access (``params.k``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(f"no parameter '{name}'") from exc
