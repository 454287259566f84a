"""Every page of a sample run, read as a client would: no trace of the notebook behind it.

The sample runs once for the module, into a temporary reports folder. Each page is scanned
(:mod:`page_scan`), printed to PDF and photographed in headless Chromium (screenshots are kept
in pytest's temporary folder, or in ``$KAM_TEST_ARTEFACTS`` when set, for a person to look at).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kamlib.report import browser
from kamlib.runner import run_engagement

from page_scan import scan_page

CLIENT_PAGES = ("summary.html", "index.html")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_REPORTS_DIR", str(tmp_path_factory.mktemp("pages-reports")))
        run = run_engagement("sample", progress=False, echo=lambda _m: None)
    assert run.exit_code == 0, run.message
    return run.run_dir


def _pages(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "html").rglob("*.html"))


def test_every_page_of_the_sample_reads_as_a_report(sample_run):
    pages = _pages(sample_run)
    assert len(pages) >= 25
    names = {p.name for p in pages}
    assert {"summary.html", "index.html", "00_intake.html", "50_portfolio_review.html"} <= names
    defects = []
    for page in pages:
        rel = page.relative_to(sample_run / "html").as_posix()
        defects += scan_page(page.read_text(encoding="utf-8"), rel, client=rel in CLIENT_PAGES)
    assert not defects, f"{len(defects)} defects:\n" + "\n".join(defects[:60])


def test_step_pages_share_the_summary_stylesheet(sample_run):
    summary = (sample_run / "html" / "summary.html").read_text(encoding="utf-8")
    marker = "--brand: #1f3a5f"
    assert marker in summary
    for page in sorted((sample_run / "html").glob("[0-9][0-9]_*.html")):
        text = page.read_text(encoding="utf-8")
        assert marker in text, page.name
        assert "jp-Notebook" not in text and "jupyter" not in text.lower(), page.name


def test_the_scan_finds_what_a_notebook_leaves(tmp_path):
    """The scan itself: each kind of defect on a page made to have it."""
    import pandas as pd

    bad = pd.DataFrame({"revenue_12m": [0.8152646732, float("nan")], "is_key": [True, False]})
    page = (f"<p>Step('00_intake', run_dir='/tmp/x') PosixPath('/home/a') kam run sample "
            f"--baseline x 4.60e-06 Bearings & Power Transm… ['a', 'b']</p>{bad.to_html()}"
            "<div class='printed'>[2 manager(s) have CR &gt; 0.10]</div>")
    found = "\n".join(scan_page(page))
    for what in ("repr", "machine path", "command line", "scientific", "cut", "reads 'NaN'",
                 "reads 'True'", "header cell is empty", "0, 1, 2", "raw float", "code name",
                 "Python list"):
        assert what in found, what


def _pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf.read_bytes()))


needs_chromium = pytest.mark.skipif(browser.find_chromium() is None, reason="no Chromium")


@needs_chromium
def test_the_summary_prints_on_at_most_two_a4_pages(sample_run, tmp_path):
    pdf = browser.print_pdf(sample_run / "html" / "summary.html", tmp_path / "summary.pdf")
    assert 1 <= _pdf_pages(pdf) <= 2


def _printed_height_px(page: Path, tmp_path: Path) -> int:
    """How tall the page's content is with its print stylesheet, at A4's printable width."""
    import numpy as np
    from matplotlib.image import imread

    screen = tmp_path / f"print-{page.name}"
    screen.write_text(page.read_text(encoding="utf-8").replace("@media print {", "@media all {"),
                      encoding="utf-8")
    png = browser.screenshot(screen, tmp_path / f"{page.stem}.png", width=710, height=12000)
    img = imread(str(png))[..., :3].mean(axis=2)
    return int(np.where((img < 0.97).any(axis=1))[0].max())


@needs_chromium
def test_a_plan_page_prints_without_half_empty_pages(sample_run, tmp_path):
    """Pages printed are about the content's height over A4's (1,032 px at 96 dpi inside the
    margins): a block that may not break and jumps to the next page costs at most one."""
    plan = sorted((sample_run / "html" / "plans").glob("*.html"))[0]
    pdf = browser.print_pdf(plan, tmp_path / "plan.pdf")
    needed = -(-_printed_height_px(plan, tmp_path) // 1032)
    assert 1 <= _pdf_pages(pdf) <= needed + 1


@needs_chromium
def test_screenshots_of_every_page(sample_run, tmp_path_factory):
    """Screenshots are artefacts for a person to look at: every page of the run (kept in
    ``$KAM_TEST_ARTEFACTS`` when set), none of them blank."""
    from concurrent.futures import ThreadPoolExecutor

    out = Path(os.environ.get("KAM_TEST_ARTEFACTS") or tmp_path_factory.mktemp("screenshots"))
    pages = _pages(sample_run)

    def shoot(page: Path) -> float:
        rel = page.relative_to(sample_run / "html").with_suffix(".png")
        png = browser.screenshot(page, out / "_".join(rel.parts), width=1100, height=1500)
        return browser.image_variance(png)

    with ThreadPoolExecutor(max_workers=2) as pool:
        variances = dict(zip(pages, pool.map(shoot, pages)))
    blank = [p.name for p, v in variances.items() if v <= 0.005]
    assert not blank, blank
    assert len(list(out.glob("*.png"))) >= len(pages)


# ------------------------------------------------------------------ one number, one source
STATED = re.compile(r"(\d[\d,]*) of (\d[\d,]*) (accounts of the purchase model|segmented accounts)")


def _stated(run_dir: Path) -> list[tuple[str, int, int, str]]:
    from bs4 import BeautifulSoup

    found = []
    for page in _pages(run_dir):
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        for m in STATED.finditer(" ".join(text.split())):
            found.append((m.group(3), int(m.group(1).replace(",", "")),
                          int(m.group(2).replace(",", "")), page.name))
    return found


def test_counts_stated_on_pages_match_the_run_tables(sample_run):
    """Every "N of M <whole>" a page states is counted from the run's tables, and a whole
    means the same number of accounts on every page."""
    import pandas as pd

    from kamlib.clv.value import probably_lost
    from kamlib.vocabulary import SEGMENTS

    tables = sample_run / "tables"
    clv = pd.read_parquet(tables / "clv.parquet")
    segments = pd.read_parquet(tables / "segments.parquet")
    segmented = segments[segments["segment"].isin(SEGMENTS)]
    wholes = {"accounts of the purchase model": probably_lost(clv)[1],
              "segmented accounts": len(segmented)}
    stated = _stated(sample_run)
    assert {s[0] for s in stated} == set(wholes), stated  # both are stated somewhere
    for population, n, total, page in stated:
        assert total == wholes[population], (page, population, total)
    lost = [n for population, n, _, _ in stated if population == "accounts of the purchase model"]
    assert set(lost) == {probably_lost(clv)[0]}
    by_segment = segmented["segment"].value_counts()
    shares = sorted(n for population, n, _, _ in stated if population == "segmented accounts")
    assert shares == sorted(int(by_segment.get(s, 0)) for s in SEGMENTS if by_segment.get(s, 0))


def test_the_clv_figure_states_the_same_count_as_the_page(sample_run):
    import pandas as pd

    from kamlib.clv.value import LOST_POPULATION, probably_lost
    from kamlib.figures.clv import p_alive_distribution
    from kamlib.formatting import part_of

    clv = pd.read_parquet(sample_run / "tables" / "clv.parquet")
    fig = p_alive_distribution(clv, [])
    titles = " ".join(ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center"))
    assert part_of(*probably_lost(clv), LOST_POPULATION) in titles
    page = (sample_run / "html" / "20_clv.html").read_text(encoding="utf-8")
    assert part_of(*probably_lost(clv), LOST_POPULATION) in page


# ------------------------------------------------------------------ results.xlsx and the deck
def test_every_data_sheet_of_the_results_workbook_is_formatted(sample_run):
    from openpyxl import load_workbook

    book = load_workbook(sample_run / "results.xlsx")
    data = [ws for ws in book.worksheets if ws.title != "contents"]
    assert len(data) >= 30
    for ws in data:
        header = list(ws[1])
        assert all(c.font.b for c in header), ws.title
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref, ws.title
        assert all(ws.column_dimensions[c.column_letter].width for c in header), ws.title
        if ws.max_row > 1:
            numbers = [c for c in ws[2] if isinstance(c.value, (int, float))
                       and not isinstance(c.value, bool)]
            assert all(c.number_format != "General" for c in numbers), ws.title
        titles = [str(c.value) for c in header]
        assert not [t for t in titles if "_" in t], (ws.title, titles)


def test_the_deck_has_a_slide_per_key_account_with_native_tables(sample_run):
    import pandas as pd
    from pptx import Presentation

    prs = Presentation(str(sample_run / "deck.pptx"))
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    profiles = pd.read_parquet(sample_run / "tables" / "plan_profile.parquet")
    assert set(profiles["name"]) <= set(titles)
    assert {"Key figures", "Key accounts"} <= set(titles)
    assert "Review of the last plan" not in titles  # no baseline in this run
    tables = [sh for s in prs.slides for sh in s.shapes if sh.has_table]
    pictures = [sh for s in prs.slides for sh in s.shapes if sh.shape_type == 13]
    assert len(tables) >= len(profiles) + 1 and pictures
    text = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    cells = " ".join(c.text for t in tables for row in t.table.rows for c in row.cells)
    assert not scan_page(f"<p>{text} {cells}</p>", "deck.pptx")


def test_summary_segmentation_page_and_deck_show_the_same_strategy_texts(sample_run):
    """One vocabulary: every segment's strategy reads the same, word for word, on the
    executive summary, the segmentation step's page and the deck."""
    import pandas as pd
    from pptx import Presentation

    from kamlib.vocabulary import SEGMENT_STRATEGIES

    shown = set(pd.read_parquet(sample_run / "tables" / "segments.parquet")["segment"])
    prs = Presentation(str(sample_run / "deck.pptx"))
    deck = " ".join(c.text for s in prs.slides for sh in s.shapes if sh.has_table
                    for row in sh.table.rows for c in row.cells)
    summary = (sample_run / "html" / "summary.html").read_text(encoding="utf-8")
    step30 = next((sample_run / "html").glob("30_segmentation*.html")).read_text(encoding="utf-8")
    slide = next(s for s in prs.slides if s.shapes.title is not None
                 and s.shapes.title.text == "Segments and their strategy")
    rows = [[c.text for c in row.cells] for sh in slide.shapes if sh.has_table
            for row in sh.table.rows][1:]
    assert {r[0]: r[-1] for r in rows if r[0] in SEGMENT_STRATEGIES} == {
        s: SEGMENT_STRATEGIES[s] for s in shown if s in SEGMENT_STRATEGIES}
    for segment, text in SEGMENT_STRATEGIES.items():
        if segment in shown:
            assert text in summary and text in step30 and text in deck, segment


@pytest.mark.skipif(__import__("shutil").which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_deck(sample_run, tmp_path):
    import subprocess

    proc = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                           "--convert-to", "pdf", "--outdir", str(tmp_path),
                           str(sample_run / "deck.pptx")], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    pdf = tmp_path / "deck.pdf"
    assert pdf.exists(), proc.stderr[-2000:]
    n_slides = len(__import__("pptx").Presentation(str(sample_run / "deck.pptx")).slides)
    assert _pdf_pages(pdf) == n_slides


def test_the_deck_reviews_the_last_plan_when_there_is_one(sample_run, tmp_path):
    import shutil

    import pandas as pd
    from pptx import Presentation

    from kamlib.report.deck import write_deck

    run = tmp_path / "run"
    shutil.copytree(sample_run / "tables", run / "tables")
    shutil.copytree(sample_run / "figures", run / "figures")
    pd.DataFrame({"account_id": ["C1", "C2", "C3"], "objective_id": ["a", "b", "c"],
                  "review": ["met", "missed", "met"]}).to_parquet(
        run / "tables" / "objective_review.parquet")
    prs = Presentation(str(write_deck(run, "Client & Co", "EUR")))
    slide = [s for s in prs.slides if s.shapes.title is not None
             and s.shapes.title.text == "Review of the last plan"]
    assert len(slide) == 1
    text = " ".join(sh.text_frame.text for sh in slide[0].shapes if sh.has_text_frame)
    assert "2 of 3 objectives of the last plan (67%): met" in text
