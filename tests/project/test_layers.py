"""The package's shape: imports point down the layers, no cycles, modules and functions stay small.

The layer list below is the one docs/DEVELOPING.md describes. Every ``import`` in kamlib counts —
at module level, inside a function, under ``TYPE_CHECKING`` — because an import hidden in a
function is still a dependency (and was how the old cycles hid).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from kamlib import paths

KAMLIB = paths.REPO_ROOT / "kamlib"

LAYERS: dict[str, int] = {
    # 1. foundation: anything may use it, it uses nothing above it
    "kamlib": 1,
    "kamlib.errors": 1,
    "kamlib.paths": 1,
    "kamlib.params": 1,
    "kamlib.vocabulary": 1,
    "kamlib.formatting": 1,
    "kamlib.key_accounts": 1,
    "kamlib.capacity": 1,
    "kamlib.step_inputs": 1,
    # 2. intake: the client's files in, checked tables out (and the sample company's generator)
    "kamlib.intake": 2,
    "kamlib.sample": 2,
    # 3. analysis: one package per concept; they never import each other
    "kamlib.selection": 3,
    "kamlib.clv": 3,
    "kamlib.segmentation": 3,
    "kamlib.planning": 3,
    "kamlib.review": 3,
    # 4. presentation: pure functions of the analysis results
    "kamlib.figures": 4,
    "kamlib.report": 4,
    # 5. runner and CLI: the only code that knows Step, kernels and run folders
    "kamlib.runner": 5,
    "kamlib.cli": 5,
    "kamlib.scaffold": 5,
}
"""Module (or package) -> layer; a module takes the layer of its longest listed prefix."""

PEERS_APART = 3
"""In this layer the packages are peers that meet only through the tables a step writes."""

MAX_MODULE_LINES = 600
MAX_LONG_FUNCTIONS = 3
LONG_FUNCTION = 100


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(root: Path) -> list[Import]:
    """Every import of a module inside ``root``'s package, wherever it stands in the file."""
    known = modules(root)
    found = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, path.name == "__init__.py")
                # `from pkg import sub` imports the submodule; `from pkg import obj` the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                           for a in node.names]
            for target in targets:
                while target and target not in known:  # `import a.b.c` -> the deepest module
                    target = target.rpartition(".")[0]
                # a module importing a name from its own package's __init__ depends on it too:
                # a cycle if that __init__ imports the module back
                if target and target != name:
                    found.append(Import(name, target, node.lineno))
    return found


def layer_of(module: str, layers: dict[str, int]) -> tuple[str, int]:
    """The listed prefix a module belongs to, and its layer."""
    prefix = module
    # the bare package name stands for its __init__ only, not for every module below it
    while prefix not in layers or (prefix != module and "." not in prefix):
        if "." not in prefix:
            raise KeyError(f"{module} is in no layer: add it to LAYERS and to docs/DEVELOPING.md")
        prefix = prefix.rpartition(".")[0]
    return prefix, layers[prefix]


def layer_violations(root: Path, layers: dict[str, int]) -> list[str]:
    """Imports that point up a layer, or across between peer packages of the analysis layer."""
    wrong = []
    for imp in imports(root):
        (src_pkg, src), (dst_pkg, dst) = layer_of(imp.source, layers), layer_of(imp.target, layers)
        if dst > src:
            wrong.append(f"{imp.source}:{imp.line} imports {imp.target} (layer {src} -> {dst})")
        elif src == dst == PEERS_APART and src_pkg != dst_pkg:
            wrong.append(f"{imp.source}:{imp.line} imports its peer {imp.target}")
    return wrong


def cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's SCC)."""
    graph: dict[str, set[str]] = {m: set() for m in modules(root)}
    for imp in imports(root):
        graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def long_functions(root: Path) -> list[tuple[str, int]]:
    """Functions over ``LONG_FUNCTION`` lines, not counting their docstrings."""
    found = []
    for name, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                doc = node.body[0]
                if (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
                        and isinstance(doc.value.value, str)):
                    length -= doc.end_lineno - doc.lineno + 1
                if length > LONG_FUNCTION:
                    found.append((f"{name}.{node.name}", length))
    return found


# --------------------------------------------------------------------------- kamlib itself

def test_every_module_has_a_layer():
    for name in modules(KAMLIB):
        layer_of(name, LAYERS)


def test_imports_point_down_the_layers():
    assert layer_violations(KAMLIB, LAYERS) == []


def test_no_import_cycles():
    assert cycles(KAMLIB) == []


def test_modules_stay_small():
    big = {name: n for name, path in modules(KAMLIB).items()
           if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert big == {}


def test_few_long_functions():
    found = long_functions(KAMLIB)
    assert len(found) <= MAX_LONG_FUNCTIONS, found


def test_only_the_runner_knows_step():
    """Analysis, intake and presentation code never receives or imports the notebook's Step."""
    for imp in imports(KAMLIB):
        if imp.target.startswith("kamlib.runner"):
            assert layer_of(imp.source, LAYERS)[1] == 5, imp


# --------------------------------------------------------------------------- the checker itself

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "kamlib"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {root, *(p.parent for p in root.rglob("*.py"))}:
        (folder / "__init__.py").touch()
    return root


GOOD = {
    "errors.py": "class KamError(Exception): ...\n",
    "intake/load.py": "from kamlib.errors import KamError\n",
    "selection/run.py": "from kamlib.intake import load\nfrom . import ahp\n",
    "selection/ahp.py": "from kamlib.errors import KamError\n",
    "report/page.py": "import kamlib.selection.run\n",
    "runner/step.py": "from kamlib.report.page import *\n",
}


def test_checker_passes_a_well_layered_package(tmp_path):
    root = _package(tmp_path, GOOD)
    assert layer_violations(root, LAYERS) == [] and cycles(root) == []


def test_checker_catches_an_upward_import_hidden_in_a_function(tmp_path):
    bad = {**GOOD, "selection/ahp.py": "def f():\n    from kamlib.runner.step import Step\n"}
    assert layer_violations(_package(tmp_path, bad), LAYERS) == [
        "kamlib.selection.ahp:2 imports kamlib.runner.step (layer 3 -> 5)"]


def test_checker_catches_an_import_under_type_checking(tmp_path):
    bad = {**GOOD, "intake/load.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                     "    from ..report import page\n"}
    assert layer_violations(_package(tmp_path, bad), LAYERS) == [
        "kamlib.intake.load:3 imports kamlib.report.page (layer 2 -> 4)"]


def test_checker_catches_peers_importing_each_other(tmp_path):
    bad = {**GOOD, "clv/build.py": "from kamlib.selection import run\n"}
    assert layer_violations(_package(tmp_path, bad), LAYERS) == [
        "kamlib.clv.build:1 imports its peer kamlib.selection.run"]


def test_checker_catches_a_cycle_inside_a_layer(tmp_path):
    bad = {**GOOD, "selection/ahp.py": "def f():\n    from kamlib.selection import run\n"}
    assert cycles(_package(tmp_path, bad)) == [["kamlib.selection.ahp", "kamlib.selection.run"]]


def test_checker_catches_a_module_importing_back_from_its_package(tmp_path):
    bad = {**GOOD, "selection/__init__.py": "from kamlib.selection.ahp import weights\n",
           "selection/ahp.py": "def f():\n    from kamlib.selection import NAMES\n"}
    assert cycles(_package(tmp_path, bad)) == [["kamlib.selection", "kamlib.selection.ahp"]]


def test_checker_finds_long_functions_without_counting_docstrings(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(LONG_FUNCTION - 1))
    doc = '    """' + "\n" * 30 + '    """\n'
    root = _package(tmp_path, {"a.py": f"def short():\n{doc}{body}",
                               "b.py": f"def long():\n{body}    y = 1\n    z = 2\n"})
    assert long_functions(root) == [("kamlib.b.long", LONG_FUNCTION + 2)]


def test_unlisted_module_is_an_error(tmp_path):
    with pytest.raises(KeyError, match="in no layer"):
        layer_of("other.thing", LAYERS)
    with pytest.raises(KeyError, match="kamlib.newthing is in no layer"):
        layer_of("kamlib.newthing", LAYERS)
    assert layer_of("kamlib", LAYERS) == ("kamlib", 1)
