"""The run-level outputs: the index page (a Jinja2 template, autoescaped) and the results workbook."""

from __future__ import annotations

import pandas as pd

from kamlib.intake.engagement import Engagement
from kamlib.report import pages
from kamlib.runner.outputs import ResultsWorkbook, write_index


def test_the_index_lists_pages_sections_steps_data_and_figures_escaped(tmp_path):
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "40_account_plans.html").write_text("")
    (tmp_path / "set_aside").mkdir()
    (tmp_path / "set_aside" / "transactions.csv").write_text("")
    records = [{"notebook": "40_account_plans", "tables": {}, "figures": ["health_<map>"],
                "figure_titles": {"health_<map>": "Health & risk"},
                "pages": [{"title": "Executive summary", "path": "summary.html"},
                          {"title": "Plan: O'Brien & <Sons>", "path": "plans/A1.html"}]},
               {"notebook": "50_portfolio_review", "tables": {}, "figures": [], "pages": []}]
    client = Engagement("acme", tmp_path, "Smith & <Co>")
    text = write_index(tmp_path, client, records).read_text()
    assert "<h1>Smith &amp; &lt;Co&gt;</h1>" in text and "<Co>" not in text
    assert text.index("Executive summary") < text.index("Key account plans (1)")
    assert "Plan: O&#39;Brien &amp; &lt;Sons&gt;" in text
    assert '<a href="40_account_plans.html">Key account plans</a>' in text
    assert "50_portfolio_review.html" not in text  # no page rendered for it
    assert "Input rows set aside: transactions" in text and "../manifest.json" in text
    assert 'src="../figures/health_&lt;map&gt;.png" alt="Health &amp; risk"' in text
    assert "font-family" in text  # the stylesheet is included


def test_the_results_workbook_has_a_contents_sheet_and_a_sheet_per_table(tmp_path):
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "tables" / "small.parquet")
    book = ResultsWorkbook(tmp_path)
    book.add_step({"notebook": "00_first", "tables": {
        "small": {"rows": 2, "excel": True, "description": "two rows"},
        "big": {"rows": 10**6, "excel": True}}})
    path = book.close()
    contents = pd.read_excel(path, sheet_name="contents")
    assert contents["table"].tolist() == ["small", "big"]
    assert contents["note"].fillna("").tolist() == ["", "Parquet only: tables/big.parquet"]
    assert pd.read_excel(path, sheet_name="small")["a"].tolist() == [1, 2]


def test_the_results_workbook_writes_client_text_as_text(tmp_path):
    from openpyxl import load_workbook

    (tmp_path / "tables").mkdir()
    texts = ['=HYPERLINK("http://evil")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3",
             "http://evil.example", "0042"]
    pd.DataFrame({"name": texts, "revenue": range(len(texts)),
                  "day": pd.date_range("2026-01-01", periods=len(texts))}).to_parquet(
        tmp_path / "tables" / "t.parquet")
    book = ResultsWorkbook(tmp_path)
    book.add_step({"notebook": "00_first", "tables": {"t": {"rows": len(texts)}}})
    ws = load_workbook(book.close())["t"]
    rows = list(ws.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == texts and {r[0].data_type for r in rows} == {"s"}
    assert not [r[0].coordinate for r in rows if r[0].hyperlink is not None]
    assert {r[1].data_type for r in rows} == {"n"} and {r[2].data_type for r in rows} == {"d"}


def test_the_index_links_the_kam_process_map_page(tmp_path):
    """Every run's index links html/process_map.html: the seven KAM steps and the account
    manager's skills, each with the steps that deliver it (linked when the run rendered them)."""
    from kamlib.report.process_map import PROCESS, SKILLS

    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "10_selection.html").write_text("")
    records = [{"notebook": "10_selection", "tables": {}, "figures": [], "pages": []}]
    index = write_index(tmp_path, Engagement("acme", tmp_path, "Smith & <Co>"), records)
    assert '<a href="process_map.html">The KAM process map' in index.read_text()
    text = (tmp_path / "html" / "process_map.html").read_text()
    assert [s.number for s in PROCESS] == list(range(1, 8))
    for step in PROCESS:
        assert f"{step.number}. {step.name}" in text
        assert pages.escape(step.company) in text  # what stays the company's work
    for skill in SKILLS:
        assert skill.name in text
    assert '<a href="10_selection.html">10 Selecting the key accounts</a>' in text
    assert 'href="40_account_plans.html"' not in text  # not rendered in this run: no dead link
    assert "40 Key account plans" in text
    assert "Smith &amp; &lt;Co&gt;" in text and "<Co>" not in text
