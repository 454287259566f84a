"""The run-level outputs: one Excel workbook of every result table, and the index page."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from kamlib.intake.engagement import Engagement
from kamlib.step import table_path

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

        if self._writer is None:
            try:
                import xlsxwriter  # noqa: F401  (several times faster; openpyxl is the fallback)
                engine = "xlsxwriter"
            except ImportError:
                engine = "openpyxl"
            self._writer = pd.ExcelWriter(self.path, engine=engine)
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


def write_results_workbook(run_dir: Path, records: list[dict[str, Any]]) -> Path | None:
    """Write ``results.xlsx`` for a finished run folder in one go."""
    book = ResultsWorkbook(run_dir)
    for record in records:
        book.add_step(record)
    return book.close()


_CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:2.5rem auto;
max-width:60rem;color:#1f2933;line-height:1.5;padding:0 1rem}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid
#d9e2ec;padding-bottom:.3rem}.meta{color:#627d98}ol,ul{padding-left:1.3rem}a{color:#1d4e89}
li{margin:.25rem 0}.columns{columns:2;column-gap:2rem}.columns li{break-inside:avoid}.columns li:first-child{margin-top:0}.failed{color:#b42318}.gallery{display:grid;grid-template-columns:repeat(auto-fill,
minmax(13rem,1fr));gap:1rem}.gallery figure{margin:0}.gallery img{width:100%;border:1px solid #d9e2ec}
.gallery figcaption{font-size:.8rem;color:#627d98}@media print{.gallery{display:none}}
"""


def write_index(run_dir: Path, engagement: Engagement, records: list[dict[str, Any]]) -> Path:
    """Write ``html/index.html``: the entry page of a run, linking every page it produced."""
    run_dir = Path(run_dir)
    esc = html.escape
    steps, reports, sections, figures = [], [], {}, []
    for record in records:
        nb = record["notebook"]
        if (run_dir / "html" / f"{nb}.html").exists():
            title = STEP_TITLES.get(nb, nb.split("_", 1)[-1].replace("_", " ").capitalize())
            steps.append(f'<li><a href="{esc(nb)}.html">{esc(title)}</a></li>')
        for page in record.get("pages", []):
            link = f'<li><a href="{esc(page["path"])}">{esc(page["title"])}</a></li>'
            folder = page["path"].rpartition("/")[0]
            if folder:  # a family of pages (one per account): listed under its own heading
                sections.setdefault(folder, []).append(link)
            else:  # a single page such as the executive summary: listed first
                reports.append(link)
        titles = record.get("figure_titles", {})
        for fig in record.get("figures", []):
            caption = titles.get(fig) or fig.replace("_", " ")
            figures.append(f'<figure><a href="../figures/{esc(fig)}.png"><img loading="lazy" '
                           f'src="../figures/{esc(fig)}.png" alt="{esc(caption)}"></a>'
                           f"<figcaption>{esc(caption)}</figcaption></figure>")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(engagement.client)} - key account workbook</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(engagement.client)}</h1>",
        f"<p class='meta'>Key account management workbook &middot; run {esc(run_dir.name)} &middot; "
        f"{dt.date.today().isoformat()}</p>",
    ]
    if reports:
        parts += ["<h2>Reports</h2><ul>", *reports, "</ul>"]
    for folder, links in sections.items():
        heading = SECTION_TITLES.get(folder, folder.replace("_", " ").capitalize())
        parts += [f"<h2>{esc(heading)} ({len(links)})</h2><ul class='columns'>", *links, "</ul>"]
    data = ["<li><a href='../results.xlsx'>All result tables (Excel)</a></li>"]
    data += [f"<li><a href='../{esc(p.name)}'>{esc(p.stem.replace('_', ' ').capitalize())} (Excel)</a></li>"
             for p in sorted(run_dir.glob("*.xlsx")) if p.name != "results.xlsx"]
    data += [f"<li><a href='../set_aside/{esc(p.name)}'>Input rows set aside: {esc(p.stem)}</a></li>"
             for p in sorted((run_dir / "set_aside").glob("*.csv"))]
    data.append("<li><a href='../manifest.json'>Run manifest (parameters, input hashes, "
                "versions)</a></li>")
    parts += ["<h2>Steps</h2><ol>", *steps, "</ol>", "<h2>Data</h2><ul>", *data, "</ul>"]
    if figures:
        parts += ["<h2>Figures</h2><div class='gallery'>", *figures, "</div>"]
    parts.append("</body></html>")
    path = run_dir / "html" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
