"""Tables for people (kamlib.report.tables): what every notebook table and step page shows."""

from __future__ import annotations

import pandas as pd

from kamlib.report import tables

from page_scan import scan_page


def test_a_notebook_table_reads_as_a_report():
    df = pd.DataFrame({"account_id": ["C1", "C2"], "revenue_12m": [28598737.29, float("nan")],
                       "share_of_sales_12m": [0.8152646732, 0.0001], "is_key": [True, False],
                       "n_orders": [3, 4], "last_purchase": pd.to_datetime(["2026-01-05", None]),
                       "note": ["<b>O'Brien & Sons</b>", None], "tags": [["a", "b"], []]})
    html = tables.table_html(df, currency="EUR", names={"C1": "Acme & Co"})
    assert not scan_page(html), scan_page(html)
    assert "<th>Account ID</th><th>Account</th>" in html  # the name beside the id
    assert "Acme &amp; Co" in html and "&lt;b&gt;O&#39;Brien" in html  # escaped
    for text in ("28.6 M EUR", "81.5%", "yes", "no", "5 Jan 2026", "–", "a; b"):
        assert f">{text}<" in html, text


def test_the_index_is_a_column_only_when_it_means_something():
    by_segment = pd.Series([3, 4], index=pd.Index(["Star", "Core"], name="segment"), name="n")
    html = tables.table_html(by_segment)
    assert "<th>Segment</th>" in html and ">Star<" in html
    described = pd.DataFrame({"mean": [1.5]}, index=["revenue_12m"])
    assert "<th>Item</th>" in tables.table_html(described)
    assert not scan_page(tables.table_html(pd.DataFrame({"cluster": [0, 1, 2],
                                                         "label": ["x", "y", "z"]})))


def test_a_long_table_shows_its_first_rows_and_says_so():
    html = tables.table_html(pd.DataFrame({"x": range(100)}), max_rows=10)
    assert html.count("<tr>") == 11 and "First 10 of 100 rows" in html


def test_a_column_of_code_names_reads_as_labels():
    df = pd.DataFrame({"metric": ["revenue_12m", "n_orders", None], "value": [1.0, 2.0, 3.0]})
    html = tables.table_html(df)
    assert ">Revenue (12 months)<" in html and ">Number of orders<" in html
    mixed = tables.table_html(pd.DataFrame({"note": ["see revenue_12m", "ok_then"]}))
    assert ">see revenue_12m<" in mixed  # prose stays as written
