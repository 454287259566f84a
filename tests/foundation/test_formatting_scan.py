"""Only kamlib/formatting.py formats money, shares, counts and dates for people.

A small AST scan of every kamlib module: an f-string format spec with a percent sign (a share,
``{x:.0%}``, or a date, ``{d:%Y-%m-%d}``) or a thousands separator (``{n:,}``, ``{x:,.0f}``),
``format(x, spec)`` or ``"...".format`` with one, ``"%d" % x``, and dividing by a power of a
thousand (``x / 1e6``: money scaled by hand) belong in :mod:`kamlib.formatting` (``share``,
``count``, ``money``, ``date``, ``month``), so every page, figure, workbook and sentence says
a number the same way. Plain decimals of a statistic (``{cr:.3f}``) are not money, shares or
counts and are left alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_YET = {"kamlib/intake/"}
"""Folders another change in flight owns (intake's messages and its quality figure texts):
they are to call kamlib.formatting too, and leave this set when they do."""

_SCALES = {1e3, 1e6, 1e9}


def _spec_text(spec: ast.AST) -> str:
    if isinstance(spec, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in spec.values)
    return ast.unparse(spec)


def _number_spec(spec: str) -> bool:
    return "%" in spec or "," in spec


def _findings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = _spec_text(node.format_spec)
            if _number_spec(spec):
                out.append((node.lineno, f"f-string spec {spec!r}"))
        elif isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "format" and len(node.args) == 2
                    and isinstance(node.args[1], ast.Constant)
                    and _number_spec(str(node.args[1].value))):
                out.append((node.lineno, f"format(..., {node.args[1].value!r})"))
            if (isinstance(f, ast.Attribute) and f.attr == "format"
                    and isinstance(f.value, ast.Constant) and isinstance(f.value.value, str)
                    and any(_number_spec(part.split("}")[0].partition(":")[2])
                            for part in f.value.value.split("{")[1:])):
                out.append((node.lineno, f"{f.value.value!r}.format"))
        elif isinstance(node, ast.BinOp):
            if (isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
                    and isinstance(node.left.value, str)
                    and any(t in node.left.value for t in ("%d", "%f", "%.", "%s%%", "%,"))):
                out.append((node.lineno, f"{node.left.value!r} % ..."))
            if (isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
                    and node.right.value in _SCALES):
                out.append((node.lineno, f"/ {node.right.value:g}"))
    return out


def _offenders() -> list[str]:
    out = []
    for path in sorted((ROOT / "kamlib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "kamlib/formatting.py" or rel.startswith(("kamlib/sample/", *NOT_YET)):
            continue  # the sample generator writes data, not text for people
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out += [f"{rel}:{line}: {what}" for line, what in _findings(tree)]
    return out


def test_money_shares_counts_and_dates_are_formatted_only_by_the_formatter():
    offenders = _offenders()
    assert not offenders, "use kamlib.formatting:\n" + "\n".join(offenders)


def test_the_scan_can_fail():
    bad = ('x = f"{share:.0%} of {n:,} accounts, {amount / 1e6:.1f} M on {day:%Y-%m-%d}"\n'
           'y = format(v, ",.0f")\nz = "{:.1%}".format(v)\nw = "%d rows" % n\n'
           'ok = f"CR {cr:.3f}"\n')
    found = sorted(what for _, what in _findings(ast.parse(bad)))
    assert found == sorted(["f-string spec '.0%'", "f-string spec ','", "/ 1e+06",
                     "f-string spec '%Y-%m-%d'", "format(..., ',.0f')", "'{:.1%}'.format",
                     "'%d rows' % ..."])
