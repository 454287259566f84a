"""Executive summary: content rules on constructed data, graceful gaps, a real browser."""

import re

import numpy as np
import pandas as pd
import pytest

from kamlib.figures.portfolio import segment_split_figure, workload_figure
from kamlib.planning.resources import ResourcePlanner, accounts_to_assign
from kamlib.report import browser
from kamlib.report.summary import (
    SummaryData,
    investment_priorities,
    key_account_table,
    render_summary,
    top_risks,
)


def _portfolio():
    ids = list("ABCDEFGH")
    feats = pd.DataFrame({
        "account_id": ids, "name": [f"Firm {c}" for c in ids],
        "industry": ["Food"] * 8,
        "account_manager": ["Ann", "Ann", "Bob", "Bob", "Ann", "Bob", "Ann", "Bob"],
        "revenue_12m": [900.0, 500.0, 400.0, 300.0, 50.0, 40.0, 30.0, 0.0],
        "revenue_prev_12m": [800.0, 700.0, 380.0, 250.0, 60.0, 40.0, 30.0, 10.0],
        "margin_12m": [200.0, 90.0, 80.0, 60.0, 10.0, 8.0, 5.0, 0.0],
        "as_of": pd.Timestamp("2026-09-30"),
    })
    scores = pd.DataFrame({"account_id": ids, "score": np.linspace(0.9, 0.2, 8),
                           "rank": range(1, 9),
                           "tier": ["key"] * 4 + ["key-development"] + ["managed"] * 3})
    scores["is_key"] = scores["tier"] == "key"
    segments = pd.DataFrame({"account_id": ids, "segment": ["Star", "Core", "Star", "Developing",
                                                            "Developing", "Laggard", "Laggard",
                                                            "Laggard"]})
    clv = pd.DataFrame({"account_id": ids, "clv": [3000.0, 1500, 1200, 2000, 100, 80, 50, 0],
                        "clv_low": [2000.0, 1000, 800, 1500, 50, 40, 20, 0],
                        "clv_high": [4000.0, 2000, 1500, 2500, 150, 120, 80, 0],
                        "investment_ceiling": [300.0, 150, 100, 250, 10, 8, 5, 0],
                        "p_alive": [0.99, 0.95, 0.4, 0.9, 0.9, 0.9, 0.9, 0.2]})
    health = pd.DataFrame({"account_id": list("ABCD"), "score": [80.0, 30.0, 60.0, 75.0],
                           "band": ["green", "red", "amber", "green"]})
    flags = pd.DataFrame({"account_id": ["D", "D", "A"],
                          "flag": ["no_decider", "single_point_of_contact", "no_champion"],
                          "message": ["No decider covered.", "One contact only.",
                                      "Nobody champions us."]})
    return feats, scores, segments, clv, health, flags


def _data(**over):
    feats, scores, segments, clv, health, flags = _portfolio()
    acc = accounts_to_assign(feats, scores, segments=segments, clv=clv)
    plan = ResourcePlanner(max_accounts=4, max_hours=1000).fit(acc)
    d = dict(client="Test & Co <Ltd>", run="r1", currency="EUR", features=feats, scores=scores,
             key_accounts=scores[scores["is_key"]], segments=segments, clv=clv, health=health,
             red_flags=flags, assignment=plan.assignment_, workload=plan.workload_,
             plan_pages={"A": "plans/A.html"},
             figures={"segments": segment_split_figure(feats, segments),
                      "workload": workload_figure(plan.workload_, plan.assignment_)})
    d.update(over)
    return SummaryData(**d)


def test_key_account_table_joins_every_source():
    t = key_account_table(_data()).set_index("account_id")
    assert list(t.index) == ["A", "B", "C", "D"]  # rank order, key tier only
    assert t.at["B", "health_band"] == "red" and t.at["B", "health"] == 30
    assert t.at["A", "segment"] == "Star" and t.at["D", "clv"] == 2000
    assert t.at["B", "revenue_change"] == pytest.approx(500 / 700 - 1)


def test_investment_priorities_only_invest_segments_by_ceiling():
    inv = investment_priorities(key_account_table(_data()))
    # B is Core (maintain, not invest); D (Developing, ceiling 250) ranks between A and C.
    assert inv["account_id"].tolist() == ["A", "D", "C"]
    assert (inv["basis"] == "investment_ceiling").all()


def test_top_risks_points_times_revenue():
    d = _data()
    r = top_risks(key_account_table(d), d.red_flags).set_index("account_id")
    # B: red health (3) + revenue -29 % (2) = 5 points x 500; C: p_alive 0.4 (2) x 400;
    # D: two flags (2) x 300; A: one flag (1) x 900.
    assert r.index.tolist() == ["B", "A", "C", "D"]
    assert r.at["B", "points"] == 5 and "red" in r.at["B", "signs"]
    assert "No decider" in r.at["D", "signs"] and "no_decider" not in r.at["D", "signs"]


def test_page_content_and_escaping():
    page = render_summary(_data())
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
    page = render_summary(SummaryData(client="X", features=feats))
    assert "comes from step <b>10_selection</b>" in page
    assert "comes from step <b>30_segmentation</b>" in page
    assert "first plan" in page  # no baseline: how the review will come
    assert "<h2>Key accounts</h2>" in page


def _chromium_or_skip():
    if browser.find_chromium() is None:
        pytest.skip("no Chromium/Chrome binary found (apt-get install chromium, or set "
                    "KAM_CHROMIUM): the browser check of the report pages cannot run")


def test_summary_renders_in_headless_chromium(tmp_path):
    _chromium_or_skip()
    page = tmp_path / "summary.html"
    page.write_text(render_summary(_data()), encoding="utf-8")
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
