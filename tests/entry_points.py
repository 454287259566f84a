"""Checks every analysis package's entry point and its notebook share: the entry point's
keyword-only arguments are the notebook's parameters with the same defaults, and the notebook
names no parameter again after its parameters cell (they reach ``run`` through
``**step.params``, in one call)."""

from __future__ import annotations

import inspect
import io
import json
import tokenize
from collections.abc import Callable

from kamlib import paths
from kamlib.params import ALWAYS, declared_parameters


def _same(default, declared) -> bool:
    """A tuple default stands for the notebook's list (papermill gives lists)."""
    if isinstance(default, tuple):
        default = list(default)
    return type(default) is type(declared) and default == declared


def assert_run_takes_the_notebook_parameters(run: Callable, notebook: str, tables: list[str]) -> None:
    """``run(<tables>, *, <the notebook's parameters, same names, order and defaults>)``."""
    declared = {name: d.default for name, d in declared_parameters(paths.notebook_for(notebook)).items()
                if name not in ALWAYS}
    params = inspect.signature(run).parameters
    keyword_only = {n: p.default for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert list(keyword_only) == list(declared)
    for name, value in declared.items():
        assert _same(keyword_only[name], value), name
    assert [n for n, p in params.items() if p.kind is not inspect.Parameter.KEYWORD_ONLY] == tables


def assert_notebook_passes_its_parameters_once(notebook: str, call: str) -> None:
    """Past the parameters cell no parameter is named again (``engagement`` and ``run_dir``
    are the Step's), and ``call`` (e.g. ``"planning.run("``) is made once, with ``**step.params``."""
    path = paths.notebook_for(notebook)
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"
             and "parameters" not in c.get("metadata", {}).get("tags", [])]
    code = "\n".join("".join(c["source"]) for c in cells)
    names = {t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.NAME}
    assert names & (set(declared_parameters(path)) - set(ALWAYS)) == set()
    assert code.count(call) == 1 and code.count("**step.params") == 1
