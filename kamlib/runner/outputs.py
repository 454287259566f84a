"""The run-level outputs: one Excel workbook of every result table, and the index page.

The index page comes from ``templates/index.html.j2`` (Jinja2, autoescaped): this module
only gathers what the page lists from the run folder.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib.formatting import EXCEL_TEXT_AS_TEXT
from kamlib.formatting import date as fmt_date
from kamlib.intake.engagement import Engagement
from kamlib.report import pages
from kamlib.report.process_map import process_map_page
from kamlib.runner.folder import read_step_records, table_path

EXCEL_MAX_ROWS = 20_000
"""Tables longer than this stay Parquet-only: Excel is for people, and slow to write."""

STEP_TITLES = {
    "00_intake": "Intake and data quality",
    "10_selection": "Selecting the key accounts",
    "20_clv": "Customer lifetime value",
    "30_segmentation": "Portfolio segmentation",
    "40_account_plans": "Key account plans",
    "50_portfolio_review": "Portfolio review",
}

SECTION_TITLES = {"plans": "Key account plans"}

PROCESS_MAP = "process_map.html"
"""The KAM process map page, in ``html/`` of every run (linked from the index)."""


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        suffix = f"~{n}"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def _excel_ready(df):
    """Excel has no time zones and no nullable-extension quirks: give it plain columns."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_localize(None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, (list, dict, tuple))).any():
            out[col] = s.map(lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


CONTACT_SHEETS = frozenset({"plan_relationship", "plan_cadence"})
"""The sheets that need contacts' names (who to meet): personal data stays out of the others."""

PERSONAL_COLUMNS = {"contacts": ("name", "title", "reports_to"),
                    "plan_profile": ("champions", "deciders")}
"""Columns of contacts' personal data, by table, left out of results.xlsx (they stay in the
Parquet tables; ``contact_id`` links a row to the contact)."""

EXCEL_FORMATS = {"money": "#,##0", "share": "0.0%", "count": "#,##0", "number": "#,##0.00",
                 "date": "yyyy-mm-dd", "text": "@"}
"""Excel number format of a column by its kind (:func:`kamlib.formatting.column_kind`)."""


def _kind(s) -> str:
    import pandas as pd

    from kamlib.formatting import column_kind

    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "date"
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        return "text"
    kind = column_kind(s.name, s.head(2000))
    return "count" if kind == "number" and pd.api.types.is_integer_dtype(s.dtype) else kind


def _title(column) -> str:
    """A column's title in the workbook: a code name (``revenue_12m``) becomes a label."""
    from kamlib.formatting import LABELS, label

    text = str(column)
    code_name = "_" in text or text in LABELS or (len(text) > 1 and text.islower())
    return label(text) if code_name else text


def _width(s, title: str) -> float:
    """A column's width from its title and its longest values (a sample), 8 to 50."""
    from kamlib.formatting import missing

    lengths = [len(str(v)) for v in s.head(500) if not missing(v)]
    longest = max(lengths, default=0)
    return float(min(50, max(8, len(title) + 2, longest + 2)))


def _excel_value(value):
    """One cell as ``DataFrame.to_excel`` writes it: missing is an empty cell (None), +-inf the
    text ``inf``/``-inf``, numbers and booleans plain, dates and datetimes with the date format,
    a duration in days (format ``0``), anything else its text; the cell's format key or None."""
    import datetime

    from pandas.api.types import is_bool, is_float, is_integer, is_scalar

    if value is None or (is_scalar(value) and _isna(value)):
        return None, None
    if is_integer(value):
        return int(value), None
    if is_float(value):
        value = float(value)
        return (value, None) if abs(value) != float("inf") else ("inf" if value > 0 else "-inf", None)
    if is_bool(value):
        return bool(value), None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value, "date"
    if isinstance(value, datetime.timedelta):
        return value.total_seconds() / 86400, "days"
    return str(value) or None, None


def _isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


_INFINITIES = (float("inf"), -float("inf"))


def _column_cells(s) -> tuple[list, list | None]:
    """A column's cells in row order (:func:`_excel_value`'s values) and, when any cell needs
    its own format (dates, durations), that format's key per row (else None). Plain numeric,
    boolean and text columns are converted whole, the rest cell by cell."""
    import numpy as np
    import pandas as pd

    dtype = s.dtype
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        values = s.to_numpy()
        if np.isfinite(values).all():
            return values.tolist(), None
        return [_excel_value(v)[0] if v != v or v in _INFINITIES else v
                for v in values.tolist()], None
    if (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) and \
            isinstance(dtype, np.dtype):
        return s.tolist(), None
    if isinstance(dtype, pd.StringDtype):
        return [v if isinstance(v, str) and v else None for v in s.tolist()], None
    if pd.api.types.is_datetime64_dtype(dtype):
        return [None if v is pd.NaT else v for v in s], ["date"] * len(s)
    pairs = [_excel_value(v) for v in s]
    values = [v for v, _ in pairs]
    formats = [f for _, f in pairs]
    return values, (formats if any(formats) else None)


def _write_sheet(ws, df, formats: dict[str, Any]) -> None:
    """Write ``df`` into ``ws`` row by row (the workbook streams each row to disk as soon as
    the next one starts): a bold frozen header with readable titles, a filter, widths and
    number formats by column; cells as ``DataFrame.to_excel`` writes them."""
    ws.set_row(0, 30)
    for j, col in enumerate(df.columns):
        title = _title(col)
        kind = _kind(df[col])
        width = 12.0 if kind in ("money", "share", "count", "number", "date") else _width(df[col], title)
        ws.set_column(j, j, max(width, min(30.0, len(title) + 2)), formats[kind])
        ws.write_string(0, j, title, formats["header"])
    cells = [_column_cells(df.iloc[:, j]) for j in range(len(df.columns))]
    plain = [values if fmt is None else [None] * len(values) for values, fmt in cells]
    own = [(j, values, fmt) for j, (values, fmt) in enumerate(cells) if fmt is not None]
    for i, row in enumerate(zip(*plain), start=1):
        ws.write_row(i, 0, row)  # None is an empty cell
        for j, values, fmt in own:
            if values[i - 1] is not None:
                ws.write(i, j, values[i - 1], formats[fmt[i - 1]] if fmt[i - 1] else None)
    ws.freeze_panes(1, 0)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)


class ResultsWorkbook:
    """``results.xlsx``: a sheet per result table, in step order, plus a contents sheet.

    Sheets are added step by step (:meth:`add_step`) so the runner can write them while the
    next notebook runs; each sheet's rows go to disk as they are written (xlsxwriter's
    ``constant_memory``, into ``temp``: the runner gives it the run's temporary folder, removed
    however the run ends), so :meth:`close` only writes the contents sheet and zips the file.
    Each sheet is for people: bold frozen header with readable titles, filters, widths from
    the content, number, percent, money and date formats by column; contacts' names only in
    the sheets that need them (:data:`CONTACT_SHEETS`).
    """

    def __init__(self, run_dir: Path, temp: Path | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "results.xlsx"
        self.temp = temp  # where the sheets' rows wait for close (default: the system's)
        self._book = None
        self._formats: dict[str, Any] = {}
        self._used: set[str] = {"contents"}
        self._contents: list[dict[str, Any]] = []

    def _open(self):
        if self._book is None:  # xlsxwriter: several times faster than openpyxl
            import xlsxwriter

            options = {**EXCEL_TEXT_AS_TEXT, "constant_memory": True}
            self._book = xlsxwriter.Workbook(self.path, {
                **options, **({"tmpdir": str(self.temp)} if self.temp else {})})
            self._book.add_worksheet("contents")  # the first sheet, written at close
            self._formats = {k: self._book.add_format({"num_format": f})
                             for k, f in EXCEL_FORMATS.items()}
            self._formats["days"] = self._book.add_format({"num_format": "0"})
            self._formats["header"] = self._book.add_format(
                {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#1F3A5F",
                 "font_color": "#FFFFFF", "border": 0})
        return self._book

    def add_step(self, record: dict[str, Any]) -> None:
        """Add the sheets of one step's tables (as its step record lists them)."""
        import pandas as pd

        for name, meta in record.get("tables", {}).items():
            rows = int(meta.get("rows", 0))
            entry = {"step": record["notebook"], "table": name, "sheet": "", "rows": rows,
                     "note": "", "description": meta.get("description", "")}
            if not meta.get("excel", True) or rows > EXCEL_MAX_ROWS:
                entry["note"] = f"Parquet only: tables/{name}.parquet"
            else:
                entry["sheet"] = _sheet_name(name, self._used)
                df = _excel_ready(pd.read_parquet(table_path(self.run_dir, name)))
                personal = [c for c in PERSONAL_COLUMNS.get(name, ()) if c in df.columns]
                if personal and name not in CONTACT_SHEETS:
                    df = df.drop(columns=personal)
                    entry["note"] = ("Contacts' names left out (personal data): see "
                                     "plan_relationship, or tables/" + name + ".parquet")
                _write_sheet(self._open().add_worksheet(entry["sheet"]), df, self._formats)
            self._contents.append(entry)

    def close(self) -> Path | None:
        if not self._contents:
            return None
        self._write_contents(self._open().get_worksheet_by_name("contents"))
        self._book.close()
        return self.path

    def _write_contents(self, ws) -> None:
        """The contents sheet: a link to each sheet and its one-line description."""
        bold = self._book.add_format({"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF"})
        link = self._book.add_format({"font_color": "#1F5FAF", "underline": 1})
        columns = list(self._contents[0])
        widths = {"step": 20, "table": 26, "sheet": 26, "rows": 8, "note": 40, "description": 90}
        for j, col in enumerate(columns):
            ws.set_column(j, j, widths.get(col, 16))
            ws.write_string(0, j, col, bold)
        for i, entry in enumerate(self._contents, start=1):
            ws.write_row(i, 0, [None if entry[c] == "" else entry[c] for c in columns])
            if entry["sheet"]:
                ws.write_url(i, columns.index("sheet"), f"internal:'{entry['sheet']}'!A1", link,
                             string=entry["sheet"])
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(self._contents), len(columns) - 1)


@dataclass
class IndexPage:
    """What the index page lists, as links (``href`` relative to ``html/``) and titles."""

    reports: list[dict[str, str]] = field(default_factory=list)
    sections: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)
    data: list[dict[str, str]] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)


def _step_title(notebook: str) -> str:
    return STEP_TITLES.get(notebook, notebook.split("_", 1)[-1].replace("_", " ").capitalize())


def index_page(run_dir: Path, records: list[dict[str, Any]]) -> IndexPage:
    """Gather every page, table file and figure a run folder holds, for its index page."""
    run_dir = Path(run_dir)
    page = IndexPage()
    for record in records:
        nb = record["notebook"]
        if (run_dir / "html" / f"{nb}.html").exists():
            page.steps.append({"href": f"{nb}.html", "title": _step_title(nb)})
        for extra in record.get("pages", []):
            link = {"href": extra["path"], "title": extra["title"]}
            folder = extra["path"].rpartition("/")[0]
            if folder:  # a family of pages (one per account): listed under its own heading
                page.sections.setdefault(folder, []).append(link)
            else:  # a single page such as the executive summary: listed first
                page.reports.append(link)
        titles = record.get("figure_titles", {})
        for fig in record.get("figures", []):
            page.figures.append({"href": f"../figures/{fig}.png",
                                 "caption": titles.get(fig) or fig.replace("_", " ")})
    page.reports.append({"href": PROCESS_MAP, "title": "The KAM process map: what each step delivers"})
    page.data.append({"href": "../results.xlsx", "title": "All result tables (Excel)"})
    if (run_dir / "deck.pptx").exists():
        page.data.append({"href": "../deck.pptx", "title": "Slide deck (PowerPoint)"})
    page.data += [{"href": f"../{p.name}", "title": f"{p.stem.replace('_', ' ').capitalize()} (Excel)"}
                  for p in sorted(run_dir.glob("*.xlsx")) if p.name != "results.xlsx"]
    page.data += [{"href": f"../set_aside/{p.name}", "title": f"Input rows set aside: {p.stem}"}
                  for p in sorted((run_dir / "set_aside").glob("*.csv"))]
    page.data.append({"href": "../manifest.json",
                      "title": "Run manifest (parameters, input hashes, versions)"})
    return page


def write_index(run_dir: Path, engagement: Engagement, records: list[dict[str, Any]]) -> Path:
    """Write ``html/index.html``: the entry page of a run, linking every page it produced."""
    run_dir = Path(run_dir)
    page = index_page(run_dir, records)
    sections = [{"heading": SECTION_TITLES.get(folder, folder.replace("_", " ").capitalize()),
                 "links": links} for folder, links in page.sections.items()]
    text = pages.render(
        "index.html.j2",
        client=engagement.client, run_name=run_dir.name, date=fmt_date(dt.date.today()),
        reports=page.reports, sections=sections, steps=page.steps, data=page.data,
        figures=page.figures)
    path = run_dir / "html" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    rendered = {link["href"].removesuffix(".html") for link in page.steps}
    (path.parent / PROCESS_MAP).write_text(
        process_map_page(engagement.client, run_dir.name, STEP_TITLES, rendered), encoding="utf-8")
    return path


ANONYMISED_MARK = ("<p class='anonymised-mark' style='margin:0 0 .6rem;padding:.3rem .6rem;"
                   "background:#fff5e6;border-left:4px solid #b7791f;font-size:.85rem'>"
                   "Anonymised run: names and identifiers are pseudonyms.</p>")
"""What every page of an anonymised run starts with (fixed text, no data)."""

_BODY = re.compile(r"(<body[^>]*>)", re.IGNORECASE)


def mark_anonymised(run_dir: Path) -> int:
    """Put :data:`ANONYMISED_MARK` at the top of every HTML page of the run; the number of
    pages marked."""
    marked = 0
    for page in sorted((Path(run_dir) / "html").rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if ANONYMISED_MARK in text:
            continue
        new, n = _BODY.subn(lambda m: m.group(1) + ANONYMISED_MARK, text, count=1)
        if n:
            page.write_text(new, encoding="utf-8")
            marked += 1
    return marked


def finish_run(run_dir: Path, engagement: Engagement, workbook: ResultsWorkbook,
               anonymised: bool = False) -> dict[str, str]:
    """Gather the step outputs: close the Excel workbook, write the slide deck
    (:func:`kamlib.report.deck.write_deck`) and the index page."""
    from concurrent.futures import ThreadPoolExecutor

    from kamlib.report.deck import write_deck

    with ThreadPoolExecutor(max_workers=1) as pool:  # the deck while the workbook is zipped
        deck_job = pool.submit(write_deck, run_dir, engagement.client, engagement.currency,
                               anonymised=anonymised)
        written = workbook.close()
        deck = deck_job.result()
    index = write_index(run_dir, engagement, read_step_records(run_dir))
    if anonymised:
        mark_anonymised(run_dir)
    return {"index_html": str(index), "results_xlsx": str(written) if written else "",
            "deck_pptx": str(deck) if deck else ""}
