"""The run-level outputs: the index page (a Jinja2 template, autoescaped) and the results workbook."""

from __future__ import annotations

import pandas as pd

from kamlib.intake.engagement import Engagement
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
