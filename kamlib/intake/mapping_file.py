"""Writing ``kam map``'s suggestion into engagement.yml, and accepting it.

The suggestion (:func:`kamlib.intake.suggest.suggest`) goes at the end of engagement.yml as a
commented block between two marker lines, every YAML line behind ``# `` and every explanation
behind ``## ``, so the consultant can read it, correct it and accept it (``kam map --accept``,
or by removing the leading ``# `` of its lines in an editor). The rest of the file is kept byte
for byte; an earlier suggestion block (not yet accepted) is replaced and the message says so;
a mapping already in the file is never changed: the block proposes only what it lacks.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from kamlib.errors import KamError

BEGIN = "# >>> kam map: suggested mapping"
END = "# <<< kam map"


YAML_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
"""Characters YAML reads as a line break that JSON leaves as they are: a client's header holding
one would end the comment line and start a line of engagement.yml of its own."""


def _q(text: str) -> str:
    """A YAML scalar for any text (a JSON string is a YAML double-quoted scalar), on one line."""
    quoted = json.dumps(str(text), ensure_ascii=False)
    for char, escaped in YAML_LINE_BREAKS.items():
        quoted = quoted.replace(char, escaped)
    return quoted


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def block_text(suggestions: list[Any], config: dict[str, Any], today: dt.date | None = None) -> str:
    """The commented block for ``suggestions``, or ``""`` when there is nothing to propose."""
    columns = [s for s in suggestions if s.columns]
    values = [s for s in suggestions if s.values]
    notes = _notes(suggestions)
    if not columns and not values and not notes:
        return ""
    day = (today or dt.date.today()).isoformat()
    lines = [f"{BEGIN} ({day}). Check every line, then accept it with",
             "# >>> 'kam map --accept' or by removing the leading '# ' of the lines below."]
    lines += [f"## {_comment(n)}" for n in notes]
    active = [k for k in ("columns", "values") if config.get(k)]
    if active:
        lines.append(f"## engagement.yml already has {' and '.join(active)}: add the lines below "
                     "under it by hand (kam map changes no mapping of yours).")
    if columns:
        lines.append("# columns:")
        for s in columns:
            lines.append(f"#   {s.table}:   # {_comment(s.file)}")
            for p in s.columns:
                lines.append(f"#     {_q(p.header)}: {p.column}   # {_comment(p.why)}")
    if values:
        lines.append("# values:")
        for s in values:
            lines.append(f"#   {s.table}:")
            for col, words in s.values.items():
                lines.append(f"#     {col}:")
                lines += [f"#       {_q(w)}: {_q(t)}" for w, t in words.items()]
    lines.append(END)
    return "\n".join(lines) + "\n"


def _notes(suggestions: list[Any]) -> list[str]:
    out = []
    for s in suggestions:
        if s.problem:
            out.append(f"{s.table}: not read ({s.problem})")
        if s.unplaced:
            out.append(f"{s.table} ({s.file}): could not place the required column(s) "
                       f"{', '.join(s.unplaced)}; map them by hand (headers not used: "
                       f"{', '.join(s.unused_headers) or 'none'})")
        for col, words in s.unknown_values.items():
            shown = ", ".join(repr(w) for w in words[:10]) + (" ..." if len(words) > 10 else "")
            out.append(f"{s.table}.{col}: no contract value found for {shown}; add them under "
                       f"values: {s.table}: {col}:")
    return out


def split_block(text: str) -> tuple[str, str, str]:
    """``text`` as (before, the suggestion block, after); the block is ``""`` when none."""
    start = text.find(BEGIN)
    if start < 0 or (start and text[start - 1] != "\n"):
        return text, "", ""
    end = text.find(f"\n{END}", start)  # at a line's start: a client's header may hold it
    if end < 0:
        return text, "", ""
    stop = text.find("\n", end + 1)
    stop = len(text) if stop < 0 else stop + 1
    return text[:start], text[start:stop], text[stop:]


def write_block(config_path: Path, block: str) -> str:
    """Put ``block`` into engagement.yml; returns what was done, for the user.

    The file's other bytes are kept; an earlier suggestion block is replaced in place.
    """
    text = config_path.read_text(encoding="utf-8")
    before, old, after = split_block(text)
    if old:
        new = before + block + after
        done = "replaced the earlier suggestion (it had not been accepted)"
    else:
        new = text + ("" if not text or text.endswith("\n") else "\n") + block
        done = "added the suggestion at its end"
    if not block and not old:
        return "nothing to add"
    config_path.write_text(new, encoding="utf-8")
    return done if block else "removed the earlier suggestion"


def accept_block(config_path: Path) -> str:
    """Make the suggestion block of engagement.yml active: its YAML lines lose their ``# ``.

    Raises
    ------
    KamError
        No suggestion block, or engagement.yml already has a mapping (the lines are added under
        it by hand, so no mapping of the consultant's is changed), or the result is not a valid
        mapping.
    """
    from kamlib.intake.mapping import read_mapping
    from kamlib.params import load_yaml

    text = config_path.read_text(encoding="utf-8")
    before, block, after = split_block(text)
    if not block:
        raise KamError(f"{config_path} has no suggestion of 'kam map' to accept. Fix: run "
                       f"'kam map {config_path.parent}' first.")
    config = load_yaml(text, str(config_path)) or {}
    active = [k for k in ("columns", "values") if config.get(k)]
    if active:
        raise KamError(f"{config_path} already has {' and '.join(active)}:. Fix: copy the "
                       "suggested lines under it by hand (kam map never changes a mapping you "
                       "wrote), then delete the suggestion block.")
    body = []
    for line in block.splitlines():
        if line.startswith(("# >>>", END)):
            continue
        body.append(line[2:] if line.startswith("# ") else line)
    head = "# Mapping suggested by 'kam map' and accepted with 'kam map --accept'.\n"
    new = before + head + "\n".join(body) + "\n" + after
    read_mapping(load_yaml(new, str(config_path)) or {}, str(config_path))
    config_path.write_text(new, encoding="utf-8")
    return "accepted the suggested mapping"
