"""No word of the vocabulary is spelled as a string literal anywhere else in kamlib.

A small AST scan (like tests/project/test_layers.py): every string constant of every kamlib
module but kamlib/vocabulary.py (and the sample generator, which invents its data) is compared
with the vocabulary's words; docstrings are prose and do not count. A label, a strategy text or
a serving model spelled again would drift from the one the other pages show.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kamlib import vocabulary as v

ROOT = Path(__file__).resolve().parents[2]

WORDS: dict[str, tuple] = {
    "segments": (*v.SEGMENTS, *v.SEGMENT_LABELS.values(), v.NOT_SEGMENTED),
    "segment strategies": (*v.SEGMENT_STRATEGIES.values(), v.KEY_LAGGARD_STRATEGY,
                           v.NO_PURCHASES_STRATEGY, v.NOT_SEGMENTED_STRATEGY,
                           *v.SEGMENT_ACTIONS.values(), v.NO_PURCHASES_ACTIONS,
                           *v.SEGMENT_POSITIONS.values()),
    "serving models": (*v.SEGMENT_SERVING_MODELS.values(), v.KEY_SERVING_MODEL,
                       v.NO_SERVING_MODEL, *v.SERVING_MODELS, *v.TIER_SERVING_MODELS.values()),
    "DPM boxes": (*v.DPM_BOXES, *v.DPM_STRATEGIES.values()),
    "tiers": (v.KEY_DEVELOPMENT, v.MANAGED, v.LONG_TAIL),
    "DMU roles": v.DMU_ROLES,
    "relationship stages and shapes": (*v.RELATIONSHIP_STAGES, *v.RELATIONSHIP_SHAPES,
                                       v.ROLE_COVERED, v.ROLE_THIN),
    "red flag headings": tuple(v.RED_FLAGS.values()),
    "milestones": tuple(label for label, _ in v.MILESTONES),
    "team roles": (v.EXECUTIVE_SPONSOR, v.KEY_ACCOUNT_MANAGER),
    "governance": tuple(v.GOVERNANCE_MEETINGS),
    "target bridge": tuple(s for s in v.BRIDGE_STEPS if s not in ("baseline", "whitespace")),
    "health bands": (v.RED, v.AMBER, v.GREEN),
}
"""The words scanned for, by kind. ``key`` (also a Python and YAML word), the plan's column
lists, ``baseline`` and ``whitespace`` (also column names) and the statuses and topics typed into
the workbook (``open``, ``done``, ``strength``: column values read back from people) are left
out, and so are the red flags' codes (identifiers the plans' rules key on, like the selection's
criterion keys): the scan looks for names and texts a page shows."""

NOT_YET = {"kamlib/intake/parsing.py"}
"""Modules another change in flight owns (intake's synonym tables map client words to DMU roles
and team roles): they are to import the words too, and leave this set when they do."""


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _offenders(words: dict[str, str]) -> list[str]:
    out = []
    for path in sorted((ROOT / "kamlib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "kamlib/vocabulary.py" or rel.startswith("kamlib/sample/") or rel in NOT_YET:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in skip and node.value in words):
                out.append(f"{rel}:{node.lineno}: {node.value!r} ({words[node.value]})")
    return out


def test_vocabulary_words_are_spelled_only_in_the_vocabulary():
    words = {w: kind for kind, ws in WORDS.items() for w in ws}
    offenders = _offenders(words)
    assert not offenders, "import the word from kamlib.vocabulary:\n" + "\n".join(offenders)


def test_the_scan_finds_a_word_spelled_again(tmp_path, monkeypatch):
    """The scan can fail: a module quoting a segment's strategy is caught."""
    bad = ROOT / "kamlib" / "_vocabulary_scan_probe.py"
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: [bad])
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: (
        '"""Doc: Manage for cash."""\nSTRATEGY = "Manage for cash"\n'))
    found = _offenders({v.SEGMENT_STRATEGIES[v.LAGGARD]: "segment strategies"})
    assert found == ["kamlib/_vocabulary_scan_probe.py:2: 'Manage for cash' (segment strategies)"]
