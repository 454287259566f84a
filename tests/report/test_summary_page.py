"""The executive summary page: content and escaping, graceful gaps, a real browser."""

import re

import numpy as np
import pandas as pd
import pytest

from kamlib.figures.portfolio import segment_split_figure, workload_figure
from kamlib.report import browser
from kamlib.report.summary import summary_page
from kamlib.review.summary import summary_facts
from kamlib.review.audit import review_plan
from kamlib.review.evidence import Evidence
from kamlib.review.plan import Baseline
from tests.review.plan_data import AS_OF, PLAN_DATE, _actions, _objectives
from tests.review.portfolio_data import _inputs, _portfolio


def _page(**over):
    d = _inputs(**over)
    return summary_page(
        summary_facts(**d, currency="EUR"), client="Test & Co <Ltd>", run="r1",
        plan_pages={"A": "plans/A.html"},
        figures={"segments": segment_split_figure(d["features"], d["segments"]),
                 "workload": workload_figure(d["workload"], d["assignment"])})


def test_page_content_and_escaping():
    page = _page()
    assert page.startswith("<!doctype html>")
    for section in ("Portfolio at a glance", "Key accounts", "Where to invest",
                    "Biggest risks", "Resource plan", "Review of the last plan"):
        assert f"<h2>{section}</h2>" in page
    assert "Test &amp; Co &lt;Ltd&gt;" in page and "<Ltd>" not in page
    assert '<a href="plans/A.html">Firm A</a>' in page
    assert page.count("data:image/png;base64,") == 2
    assert "@media print" in page  # the print stylesheet is inlined
    # No code and no leftover template syntax reach the client.
    assert not re.search(r"<code|<pre|Traceback|\{\{|In \[", page)


def test_missing_inputs_say_which_step_provides_them():
    feats = _portfolio()[0]
    page = summary_page(summary_facts(features=feats), client="X")
    assert "comes from step <b>10_selection</b>" in page
    assert "comes from step <b>30_segmentation</b>" in page
    assert "first plan" in page  # no baseline: how the review will come
    assert "<h2>Key accounts</h2>" in page


def test_the_review_section_counts_findings_and_lists_overdue_actions():
    last = Baseline(_objectives(), _actions(), None, PLAN_DATE, "the plan tables of run q1")
    rv = review_plan(last, Evidence(as_of=AS_OF), None)
    page = summary_page(summary_facts(**_inputs(), review=rv), client="X")
    assert "Plan of 30 Jun 2026 reviewed against the data of 30 Sep 2026 (from the plan " \
           "tables of run q1)." in page
    assert "<li><b>1</b> of 5 actions overdue</li>" in page
    assert "nothing can have happened yet" not in page
    overdue = page[page.index("<h3>Overdue actions</h3>"):]
    assert '<td class="">Firm A</td><td class="">map the DMU</td>' in overdue
    assert '<td class="num">1</td>' in overdue


def _chromium_or_skip():
    if browser.find_chromium() is None:
        pytest.skip("no Chromium/Chrome binary found (apt-get install chromium, or set "
                    "KAM_CHROMIUM): the browser check of the report pages cannot run")


def test_summary_renders_in_headless_chromium(tmp_path):
    _chromium_or_skip()
    page = tmp_path / "summary.html"
    page.write_text(_page(), encoding="utf-8")
    png = browser.screenshot(page, tmp_path / "summary.png", width=1280, height=2000)
    assert png.stat().st_size > 10_000
    assert browser.image_variance(png) > 0.005  # not a blank page
    # The top of the page (header and key figures) is drawn, not just the figures below.
    from matplotlib.image import imread

    top = np.asarray(imread(str(png)))[:400, :, :3].mean(axis=2)
    assert top.var() > 0.002

    pdf = browser.print_pdf(page, tmp_path / "summary.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 2  # print CSS starts the key account list on its own page
    assert re.search(rb"/MediaBox\s*\[0 0 59[45]\.?\d* 84[12]", data)  # A4 from @page


def test_blank_page_has_no_variance(tmp_path):
    _chromium_or_skip()
    page = tmp_path / "blank.html"
    page.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    png = browser.screenshot(page, tmp_path / "blank.png", width=400, height=300)
    assert browser.image_variance(png) == pytest.approx(0.0, abs=1e-9)


def test_account_plan_page_renders_in_headless_chromium(tmp_path):
    """One key account's plan page (from the account plans step) in a real browser."""
    _chromium_or_skip()
    planning = pytest.importorskip("kamlib.planning")
    account_page = pytest.importorskip("kamlib.report.account_page").account_page
    feats, scores, segments, clv, _, _ = _portfolio()
    cy = pd.DataFrame([(a, y, c, 100.0, 20.0, 1.0) for a in feats["account_id"]
                       for y in (0, 1, 2) for c in ("A", "B")],
                      columns=["account_id", "year", "category", "revenue", "margin", "quantity"])
    contacts = pd.DataFrame({
        "contact_id": ["c1"], "account_id": ["A"], "name": ["Eva Buyer"],
        "function": ["purchasing"], "dmu_roles": ["buyer;decider"], "power": [4],
        "attitude": [3], "relationship_strength": [3],
        "last_contact": [pd.Timestamp("2026-09-01")], "owner": ["Ann"],
        "seniority": ["manager"], "title": ["Head of purchasing"]})
    plans = planning.run(feats, cy, contacts, key_accounts=scores[scores["is_key"]],
                         selection_scores=scores, segments=segments, clv=clv)
    page = tmp_path / "A.html"
    page.write_text(account_page(plans.account("A"), currency="EUR"), encoding="utf-8")
    png = browser.screenshot(page, tmp_path / "A.png", width=1280, height=2000)
    assert browser.image_variance(png) > 0.005
    assert browser.print_pdf(page, tmp_path / "A.pdf").read_bytes().startswith(b"%PDF")


def test_a_name_without_a_plan_page_is_escaped_too():
    """Only accounts with a plan page are links; the others' names are plain text, escaped."""
    d = _inputs()
    hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    d["features"]["name"] = d["features"]["name"].where(d["features"]["account_id"] == "A", hostile)
    page = summary_page(summary_facts(**d, currency="EUR"), client="X",
                        plan_pages={"A": "plans/A.html"})
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="plans/A.html">Firm A</a>' in page
