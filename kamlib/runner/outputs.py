"""The run-level outputs: one Excel workbook of every result table, and the index page.

The index page comes from ``templates/index.html.j2`` (Jinja2, autoescaped): this module
only gathers what the page lists from the run folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib.formatting import EXCEL_TEXT_AS_TEXT
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


class ResultsWorkbook:
    """``results.xlsx``: a sheet per result table, in step order, plus a contents sheet.

    Sheets are added step by step (:meth:`add_step`) so the runner can write them while the
    next notebook runs; :meth:`close` writes the contents sheet and the file.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "results.xlsx"
        self._writer = None
        self._used: set[str] = {"contents"}
        self._contents: list[dict[str, Any]] = []

    def _open(self):
        import pandas as pd

        if self._writer is None:  # xlsxwriter: several times faster than openpyxl
            self._writer = pd.ExcelWriter(self.path, engine="xlsxwriter",
                                          engine_kwargs={"options": EXCEL_TEXT_AS_TEXT})
            pd.DataFrame().to_excel(self._writer, sheet_name="contents")  # first sheet
        return self._writer

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
                df.to_excel(self._open(), sheet_name=entry["sheet"], index=False,
                            freeze_panes=(1, 0))
            self._contents.append(entry)

    def close(self) -> Path | None:
        import pandas as pd

        if not self._contents:
            return None
        pd.DataFrame(self._contents).to_excel(self._open(), sheet_name="contents", index=False)
        self._writer.close()
        return self.path


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
        client=engagement.client, run_name=run_dir.name, date=dt.date.today().isoformat(),
        reports=page.reports, sections=sections, steps=page.steps, data=page.data,
        figures=page.figures)
    path = run_dir / "html" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    rendered = {link["href"].removesuffix(".html") for link in page.steps}
    (path.parent / PROCESS_MAP).write_text(
        process_map_page(engagement.client, run_dir.name, STEP_TITLES, rendered), encoding="utf-8")
    return path


def finish_run(run_dir: Path, engagement: Engagement, workbook: ResultsWorkbook) -> dict[str, str]:
    """Gather the step outputs: close the Excel workbook and write the index page."""
    written = workbook.close()
    index = write_index(run_dir, engagement, read_step_records(run_dir))
    return {"index_html": str(index), "results_xlsx": str(written) if written else ""}
