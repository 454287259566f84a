"""The plan workbook: objectives and actions in Excel, for the consultant to edit.

The workbook is the plan's working copy. Account managers tick off actions (status drop-down:
open / done / dropped), move dates and add rows during the quarter; at the next rerun the edited
file is the baseline (``kam run --baseline RUN`` picks up ``RUN/plan_workbook.xlsx``) and
:func:`kamlib.planning.review.read_plan_workbook` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kamlib.planning.review import (
    ACTION_COLUMNS,
    ACTION_STATUSES,
    OBJECTIVE_COLUMNS,
    SHEET_ABOUT,
    SHEET_ACTIONS,
    SHEET_OBJECTIVES,
)

_HEADER_FILL = "1F3A5F"
_EDIT_FILL = "FFF7DB"  # columns meant to be edited are tinted
_EDITABLE = {"status", "owner", "due_date", "checkpoint_date", "target", "action",
             "notes"}
_DATE_COLUMNS = {"due_date", "checkpoint_date"}


def _ordered(df: pd.DataFrame, first: tuple[str, ...]) -> pd.DataFrame:
    cols = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    out = df[cols].copy()
    for c in out.columns:  # Excel has no timezone-aware or nanosecond types: plain datetimes
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_localize(None)
    return out


def _format_sheet(ws, df: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=_HEADER_FILL)
    edit_fill = PatternFill("solid", fgColor=_EDIT_FILL)
    n = len(df)
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j)
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        # Width from the longest value shown (capped: long action texts wrap instead).
        longest = max([len(str(col))] + [len(str(v)) for v in df[col].head(500)
                                         if v is not None and not pd.isna(v)])
        wide = col in ("action", "description", "rationale", "notes")
        width = min(max(10, longest + 2), 60 if wide else 28)
        ws.column_dimensions[letter].width = 12 if col in _DATE_COLUMNS else width
        for i in range(2, n + 2):
            c = ws.cell(row=i, column=j)
            if col in _DATE_COLUMNS:
                c.number_format = "yyyy-mm-dd"
            elif pd.api.types.is_float_dtype(df[col]):
                c.number_format = "#,##0"
            if col in _EDITABLE:
                c.fill = edit_fill
            if wide:
                c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    if n:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{n + 1}"
    if "status" in df.columns:
        letter = get_column_letter(list(df.columns).index("status") + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(ACTION_STATUSES) + '"',
                            allow_blank=True, showErrorMessage=True,
                            errorTitle="Status", error="Pick open, done or dropped.")
        # Extend beyond the rows written so that actions added by hand get the list too.
        dv.add(f"{letter}2:{letter}{n + 500}")
        ws.add_data_validation(dv)


def write_plan_workbook(path: str | Path, objectives: pd.DataFrame | None,
                        actions: pd.DataFrame | None,
                        about: Mapping[str, object] | None = None) -> Path:
    """Write the objectives and actions to an Excel workbook formatted for editing.

    Parameters
    ----------
    path : str or Path
        Where to write (``step.path("plan_workbook.xlsx")``).
    objectives, actions : DataFrame
        The plan's ``plan_objectives`` and ``plan_actions`` tables; known columns first,
        others (account name, notes ...) follow. None (the plans step did not run) writes the
        headers only and says so in the ``About`` sheet.
    about : mapping, optional
        Facts written to the ``About`` sheet and read back with the workbook; ``as_of`` (the
        data date, i.e. the plan date) is what the next review needs.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = []
    if objectives is None:
        objectives = pd.DataFrame(columns=list(OBJECTIVE_COLUMNS))
        missing.append("plan_objectives")
    if actions is None:
        actions = pd.DataFrame(columns=list(ACTION_COLUMNS))
        missing.append("plan_actions")
    if missing:
        about = {**(about or {}), "missing": f"{', '.join(missing)} not in this run: run step "
                 "40_account_plans to fill the sheets (the headers are ready for typing in a "
                 "plan by hand)."}
    obj = _ordered(objectives, OBJECTIVE_COLUMNS)
    act = _ordered(actions, ACTION_COLUMNS)
    info = {"what": "Key account plan: objectives and actions",
            "how to use": "Edit the tinted columns (status, owner, dates); add rows for new "
            "actions; keep the headers and sheet names. Feed the file back with "
            "kam run --baseline <this run folder or this file>.",
            **{str(k): "" if v is None else str(v) for k, v in (about or {}).items()}}
    about_df = pd.DataFrame({"key": list(info), "value": list(info.values())})
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        about_df.to_excel(xl, sheet_name=SHEET_ABOUT, index=False)
        obj.to_excel(xl, sheet_name=SHEET_OBJECTIVES, index=False)
        act.to_excel(xl, sheet_name=SHEET_ACTIONS, index=False)
        _format_sheet(xl.sheets[SHEET_OBJECTIVES], obj)
        _format_sheet(xl.sheets[SHEET_ACTIONS], act)
        ws = xl.sheets[SHEET_ABOUT]
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 100
        # Open on the actions: that is the sheet people update.
        xl.book.active = xl.book.sheetnames.index(SHEET_ACTIONS)
        for sheet in xl.book.worksheets:
            sheet.sheet_view.tabSelected = sheet.title == SHEET_ACTIONS
    return path
