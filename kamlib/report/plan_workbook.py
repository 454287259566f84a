"""The plan workbook: objectives and actions in Excel, for the consultant to edit.

The workbook is the plan's working copy. Account managers tick off actions (status drop-down:
open / done / dropped), move dates and add rows during the quarter; at the next rerun the edited
file is the baseline (``kam run --baseline RUN`` picks up ``RUN/plan_workbook.xlsx``) and
:func:`read_plan_workbook` reads it back (the review checks what it read:
:func:`kamlib.review.plan.clean_objectives`, :func:`~kamlib.review.plan.clean_actions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kamlib.errors import InputError
from kamlib.formatting import EXCEL_DATE_FORMAT, EXCEL_MONEY_FORMAT, EXCEL_TEXT_AS_TEXT
from kamlib.review.plan import clean_actions, clean_objectives
from kamlib.vocabulary import ACTION_COLUMNS, ACTION_STATUSES, OBJECTIVE_COLUMNS

WORKBOOK_NAME = "plan_workbook.xlsx"
"""The plan workbook's file name in a run folder (``kam run --baseline RUN`` looks for it)."""
SHEET_OBJECTIVES = "Objectives"
SHEET_ACTIONS = "Actions"
SHEET_ABOUT = "About"
PLAN_INPUT_SHEETS: dict[str, str] = {"opportunities": "Opportunities", "competitors": "Competitors",
                                     "account_strategy": "Strategy", "account_team": "Team"}
"""The sheet of each plan input (:data:`kamlib.intake.contract.PLAN_INPUTS`): the account team
keeps them up to date between runs, and the next run reads them back instead of the files."""

EXTRA_SHEETS: dict[str, str] = {
    "plan_closed_actions": "Closed actions",
    "plan_changes": "What changed",
}
"""Sheet names of the plan tables written beside the objectives and actions (table name ->
sheet). A table not listed gets a sheet named after the table; every such sheet is read back
by :func:`read_plan_sheets` under its table name, so a step that adds a sheet gets it back
with the edited workbook at the next run without code here."""

_HEADER_FILL = "1F3A5F"
_EDIT_FILL = "FFF7DB"  # columns meant to be edited are tinted
_EDITABLE = {"status", "owner", "due_date", "checkpoint_date", "target", "action",
             "notes"}
_DATE_COLUMNS = {"due_date", "checkpoint_date", "expected_close"}


def _ordered(df: pd.DataFrame, first: tuple[str, ...]) -> pd.DataFrame:
    cols = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    out = df[cols].copy()
    for c in out.columns:  # Excel has no timezone-aware or nanosecond types: plain datetimes
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_localize(None)
    return out


def _format_sheet(book, ws, df: pd.DataFrame) -> None:
    """Header style, widths, formats and the status drop-down (xlsxwriter: column-wide
    formats, so formatting costs the same for ten rows or ten thousand)."""
    header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": _HEADER_FILL,
                              "valign": "vcenter", "text_wrap": True, "border": 0})
    n = len(df)
    for j, col in enumerate(df.columns):
        ws.write(0, j, str(col), header)
        shown = [len(str(v)) for v in df[col].head(500) if v is not None and not pd.isna(v)]
        longest = max([len(str(col)), *shown])
        wide = col in ("action", "description", "rationale", "notes", "text")
        width = 12 if col in _DATE_COLUMNS else min(max(10, longest + 2), 60 if wide else 28)
        props: dict[str, object] = {"valign": "top"}
        if col in _DATE_COLUMNS:
            props["num_format"] = EXCEL_DATE_FORMAT
        elif pd.api.types.is_float_dtype(df[col]):
            props["num_format"] = EXCEL_MONEY_FORMAT
        if col in _EDITABLE:
            props["bg_color"] = _EDIT_FILL
        if wide:
            props["text_wrap"] = True
        ws.set_column(j, j, width, book.add_format(props))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    if n:
        ws.autofilter(0, 0, n, len(df.columns) - 1)
    if "status" in df.columns:
        j = list(df.columns).index("status")
        # Extend beyond the rows written so that actions added by hand get the list too.
        ws.data_validation(1, j, n + 500, j, {
            "validate": "list", "source": list(ACTION_STATUSES), "error_title": "Action status",
            "error_message": "Pick open, done or dropped."})


def _plan_input_sheet(name: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """A plan input for its sheet: the contract's columns in contract order (headers only when
    the run has none of it), so what the team types is read back by the same contract."""
    from kamlib.intake.contract import TABLES

    cols = TABLES[name].column_names
    if df is None:
        return pd.DataFrame(columns=cols)
    return _ordered(df.reindex(columns=cols), tuple(cols))


def write_plan_workbook(path: str | Path, objectives: pd.DataFrame | None,
                        actions: pd.DataFrame | None,
                        about: Mapping[str, object] | None = None,
                        plan_inputs: Mapping[str, pd.DataFrame | None] | None = None,
                        sheets: Mapping[str, pd.DataFrame | None] | None = None) -> Path:
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
    sheets : mapping of str to DataFrame, optional
        More plan tables by table name (the closed actions, what changed ...), one sheet each
        (:data:`EXTRA_SHEETS` names them); None or a missing table is left out.
    plan_inputs : mapping, optional
        The run's opportunities, competitors, account_strategy and account_team (None or
        missing: headers only), one sheet each (:data:`PLAN_INPUT_SHEETS`), every cell editable;
        the next run's intake reads them back (:func:`read_plan_input_sheets`).

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
            "actions; keep the headers and sheet names. Keep the sheets Opportunities, "
            "Competitors, Strategy and Team up to date (add, edit or delete rows): the next run "
            "reads them instead of the files they came from. Feed the file back with "
            "kam run --baseline <this run folder or this file>.",
            **{str(k): "" if v is None else str(v) for k, v in (about or {}).items()}}
    about_df = pd.DataFrame({"key": list(info), "value": list(info.values())})
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": EXCEL_TEXT_AS_TEXT},
                        datetime_format=EXCEL_DATE_FORMAT, date_format=EXCEL_DATE_FORMAT) as xl:
        about_df.to_excel(xl, sheet_name=SHEET_ABOUT, index=False)
        obj.to_excel(xl, sheet_name=SHEET_OBJECTIVES, index=False)
        act.to_excel(xl, sheet_name=SHEET_ACTIONS, index=False)
        book = xl.book
        _format_sheet(book, xl.sheets[SHEET_OBJECTIVES], obj)
        _format_sheet(book, xl.sheets[SHEET_ACTIONS], act)
        for name, sheet in PLAN_INPUT_SHEETS.items():
            df = _plan_input_sheet(name, (plan_inputs or {}).get(name))
            df.to_excel(xl, sheet_name=sheet, index=False)
            _format_sheet(book, xl.sheets[sheet], df)
        for name, df in (sheets or {}).items():
            if df is None:
                continue
            title = sheet_name(name)
            df = _ordered(df, ())
            df.to_excel(xl, sheet_name=title, index=False)
            _format_sheet(book, xl.sheets[title], df)
        about = xl.sheets[SHEET_ABOUT]
        about.set_column(0, 0, 16)
        about.set_column(1, 1, 100, book.add_format({"text_wrap": True, "valign": "top"}))
        # Open on the actions: that is the sheet people update.
        xl.sheets[SHEET_ACTIONS].activate()
    return path


def sheet_name(table: str) -> str:
    """The sheet a plan table is written to (Excel allows 31 characters)."""
    return EXTRA_SHEETS.get(table, table)[:31]


def _read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook, as text and numbers the way Excel holds them."""
    try:
        return pd.read_excel(path, sheet_name=None, dtype=object)
    except Exception as exc:  # a corrupt or non-Excel file: say which file
        raise InputError(str(path), f"cannot be read as an Excel workbook ({exc}).",
                         "give the plan_workbook.xlsx a previous run wrote (save it as .xlsx).")


def read_plan_sheets(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a plan workbook besides About, Objectives and Actions, by table name
    (:data:`EXTRA_SHEETS` and :data:`PLAN_INPUT_SHEETS` read backwards; any other sheet under
    its own name), as the
    account managers left it: rows entirely blank dropped, nothing else changed."""
    path = Path(path)
    sheets = _read_sheets(path)
    tables = {v: k for k, v in {**PLAN_INPUT_SHEETS, **EXTRA_SHEETS}.items()}
    return {tables.get(title, title): df.dropna(how="all").reset_index(drop=True)
            for title, df in sheets.items()
            if title not in (SHEET_ABOUT, SHEET_OBJECTIVES, SHEET_ACTIONS)}


def read_plan_workbook(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Read a plan workbook written by :func:`write_plan_workbook`, as the account managers
    left it.

    Returns
    -------
    objectives, actions : DataFrame
        Checked and normalised (:func:`kamlib.review.plan.clean_objectives`,
        :func:`~kamlib.review.plan.clean_actions`).
    about : dict
        The key/value pairs of the ``About`` sheet (``as_of``, ``engagement``, ``run``), empty
        when the sheet was removed.
    """
    path = Path(path)
    sheets = _read_sheets(path)
    for sheet in (SHEET_OBJECTIVES, SHEET_ACTIONS):
        if sheet not in sheets:
            raise InputError(str(path), f"has no sheet '{sheet}' (sheets: {list(sheets)}).",
                             f"keep the sheet names the workbook was written with.")
    objectives = clean_objectives(sheets[SHEET_OBJECTIVES], f"{path.name}, sheet {SHEET_OBJECTIVES}")
    actions = clean_actions(sheets[SHEET_ACTIONS], f"{path.name}, sheet {SHEET_ACTIONS}")
    about: dict[str, str] = {}
    if SHEET_ABOUT in sheets and sheets[SHEET_ABOUT].shape[1] >= 2:
        a = sheets[SHEET_ABOUT]
        about = {str(k): str(v) for k, v in zip(a.iloc[:, 0], a.iloc[:, 1]) if pd.notna(k)}
    return objectives, actions, about



def read_plan_input_sheets(path: str | Path) -> dict[str, pd.DataFrame]:
    """The plan-input sheets of an edited plan workbook, raw, by contract table name.

    Only the sheets present with at least one row are returned (a workbook written before they
    existed has none; an empty sheet leaves the engagement's file in use);
    each frame's ``attrs["source"]`` names the file and sheet for the intake's checks, which
    read them like a client's file (:func:`kamlib.intake.loading.load_inputs`, ``edited``).
    """
    path = Path(path)
    try:
        present = _present_sheets(path)
        sheets = pd.read_excel(path, sheet_name=present, dtype=object) if present else {}
    except Exception as exc:  # a corrupt or non-Excel file: say which file
        raise InputError(str(path), f"cannot be read as an Excel workbook ({exc}).",
                         "give the plan_workbook.xlsx a previous run wrote (save it as .xlsx).")
    out = {}
    for name, sheet in PLAN_INPUT_SHEETS.items():
        df = sheets.get(sheet)
        if df is not None and len(df.dropna(how="all")):  # an empty sheet leaves the file in use
            df.attrs["source"] = f"{path.name}, sheet {sheet}"
            out[name] = df
    return out


def _present_sheets(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return [s for s in PLAN_INPUT_SHEETS.values() if s in book.sheetnames]
    finally:
        book.close()
