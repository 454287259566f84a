"""The sample's account managers at work: a plan workbook edited as they would during a quarter.

:func:`edit_plan_workbook` opens a run's ``plan_workbook.xlsx`` and, with a seeded random
generator, does what account managers do between two reviews: ticks off about a third of the
open actions (done) and drops about one in ten, hands some to a colleague, writes a note here
and there, and types in one action of their own on a few accounts (no id: the next run gives
it one). Only cells change: the sheets, headers and formats stay as the run wrote them, so
the file is read back like any edited workbook (``kam run NEXT --baseline RUN``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kamlib.errors import InputError

HAND_ACTION = "Invite the plant manager to our open day (added by the account manager)"
"""The text of the actions the sample's account managers type in by hand."""

COLLEAGUE = "Inside Sales"
"""Who re-owned actions are handed to."""


def _columns(ws) -> dict[str, int]:
    return {str(c.value): i + 1 for i, c in enumerate(ws[1]) if c.value is not None}


def edit_plan_workbook(path: str | Path, seed: int = 2026, done_share: float = 0.35,
                       dropped_share: float = 0.10, reowned_share: float = 0.10,
                       hand_accounts: int = 3) -> dict[str, int]:
    """Edit a plan workbook in place as account managers would (see the module doc).

    Returns
    -------
    dict
        How many actions were marked ``done``, ``dropped``, ``re-owned``, and how many were
        ``added`` by hand.
    """
    from openpyxl import load_workbook

    path = Path(path)
    try:
        book = load_workbook(path)
    except Exception as exc:  # not a workbook: say which file
        raise InputError(str(path), f"cannot be opened as an Excel workbook ({exc}).",
                         "give the plan_workbook.xlsx of a run (kam run writes it).") from None
    if "Actions" not in book.sheetnames:
        raise InputError(str(path), "has no sheet 'Actions'.", "give the plan_workbook.xlsx of a run.")
    ws = book["Actions"]
    col = _columns(ws)
    for need in ("account_id", "action_id", "status", "owner", "action", "due_date"):
        if need not in col:
            raise InputError(str(path), f"the Actions sheet has no column '{need}'.",
                             "give the plan_workbook.xlsx of a run, headers unchanged.", column=need)
    rng = np.random.default_rng(seed)
    rows = [r for r in range(2, ws.max_row + 1)
            if str(ws.cell(r, col["status"]).value or "open").strip().lower() == "open"]
    draw = rng.random(len(rows))
    counts = {"done": 0, "dropped": 0, "re-owned": 0, "added": 0}
    for r, u in zip(rows, draw):
        if u < done_share:
            ws.cell(r, col["status"]).value = "done"
            counts["done"] += 1
        elif u < done_share + dropped_share:
            ws.cell(r, col["status"]).value = "dropped"
            counts["dropped"] += 1
            if "notes" in col:
                ws.cell(r, col["notes"]).value = "Not worth it after a call with the customer"
        elif u < done_share + dropped_share + reowned_share:
            ws.cell(r, col["owner"]).value = COLLEAGUE
            counts["re-owned"] += 1
            if "notes" in col:
                ws.cell(r, col["notes"]).value = f"Handed to {COLLEAGUE}"
    accounts = list(dict.fromkeys(ws.cell(r, col["account_id"]).value for r in rows))
    for aid in accounts[:hand_accounts]:
        last = ws.max_row + 1
        template = next(r for r in rows if ws.cell(r, col["account_id"]).value == aid)
        for name in ("account_id", "objective_id", "owner", "due_date", "checkpoint",
                     "checkpoint_date", "priority"):
            if name in col:
                src = ws.cell(template, col[name])
                ws.cell(last, col[name]).value = src.value
                ws.cell(last, col[name]).number_format = src.number_format
        ws.cell(last, col["action"]).value = HAND_ACTION
        ws.cell(last, col["status"]).value = "open"
        counts["added"] += 1
    book.save(path)
    return counts
