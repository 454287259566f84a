"""Step 7 pages and the plan page's new sections: what each shows, and that the customer's
review pack holds none of the plan's internal figures."""

from __future__ import annotations

import html as html_lib
import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

from kamlib import formatting, planning
from kamlib.report import communicate
from kamlib.report.account_page import account_page


def _world():
    """The planning tests' constructed customer base (tests/planning/conftest.py)."""
    spec = importlib.util.spec_from_file_location(
        "planning_world", Path(__file__).resolve().parents[1] / "planning" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._world()


SECRET = "INTERNAL-NOTE-7f3a"


@pytest.fixture(scope="module")
def plans():
    features, cy, contacts, keys, segments = _world()
    features = features.assign(wallet=features["wallet"].fillna(987_654.0))
    clv = pd.DataFrame({"account_id": ["F01", "F02", "F03", "F04", "M01"],
                        "clv": [4_321_987.0, 3_219_876.0, 2_198_765.0, 1_987_654.0, 876_543.0],
                        "clv_low": [4e6, 3e6, 2e6, 1.5e6, 8e5], "clv_high": [5e6, 4e6, 3e6, 2.5e6, 9e5],
                        "p_alive": [0.95] * 5, "investment_ceiling": [765_432.0, 654_321.0, 543_219.0,
                                                                     432_198.0, 321_987.0]})
    strategy = pd.DataFrame({
        "account_id": ["F01"] * 6,
        "topic": ["aim", "culture", "value_proposition", "weakness", "threat", "strength"],
        "text": ["Open two plants in Spain", f"Committee buying {SECRET}", "One supplier for all plants",
                 f"Our price is high {SECRET}", f"Rival offers vending {SECRET}", f"Fast delivery {SECRET}"]})
    competitors = pd.DataFrame({"account_id": ["F01", "F01"], "competitor": [f"Rival {SECRET}", "Other"],
                                "scope": [None, "A"], "share_of_wallet": [0.3, 0.1], "strength": [8.0, 4.0],
                                "position": ["incumbent", "niche"]})
    team = pd.DataFrame({"account_id": ["F01", "F01", "F01"], "person": ["Helga", "Ann", "Raf"],
                         "role": ["executive sponsor", "key account manager", "service"],
                         "counterpart": ["c1", None, None]})
    opps = pd.DataFrame({"account_id": ["F01", "F02"], "name": ["Spain roll-out", "Trial C"],
                         "stage": ["proposal", "qualification"], "amount": [123_457.0, 10_000.0],
                         "probability": [0.37, 0.2], "expected_close": pd.to_datetime(["2026-12-01", None]),
                         "category": ["A", "C"], "owner": ["Ann", "Ann"]})
    return planning.run(features, cy, contacts, key_accounts=keys, segments=segments, clv=clv,
                        opportunities=opps, competitors=competitors, account_strategy=strategy,
                        account_team=team)


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _internal_figures(plans, aid: str) -> list[str]:
    """Every internal figure of an account's plan, formatted as the plan page shows it."""
    p = plans.profile.set_index("account_id").loc[aid]
    h = plans.health.set_index("account_id").loc[aid]
    figures = [formatting.money(p[c]) for c in ("clv", "investment_ceiling", "margin_12m",
                                               "revenue_target", "margin_target", "wallet")
               if p[c] == p[c]]
    figures += [formatting.share(p["wallet_share"]) for _ in [0] if p["wallet_share"] == p["wallet_share"]]
    figures += [formatting.money(w) for w in plans.pipeline.loc[plans.pipeline["account_id"] == aid, "weighted"]]
    figures += [formatting.share(v) for v in plans.pipeline.loc[plans.pipeline["account_id"] == aid, "probability"]]
    figures += [formatting.money(v) for v in plans.whitespace.loc[plans.whitespace["account_id"] == aid, "potential"]]
    figures.append(f"{float(h['score']):.0f}/100")
    # a figure that happens to equal one of the customer's own purchase amounts (shown on
    # purpose) proves nothing either way
    shown = {formatting.money(v) for c in ("revenue_0", "revenue_1")
             for v in plans.trend.loc[plans.trend["account_id"] == aid, c]}
    return [f for f in figures if f not in shown and f not in (formatting.DASH, "0", "0%")]


@pytest.mark.parametrize("aid", ["F01", "F02", "F03", "F04", "M01"])
def test_the_customer_pack_holds_none_of_the_internal_figures(plans, aid):
    html = communicate.customer_pack(plans.account(aid), supplier="Nordhaven", currency="EUR")
    text = _text(html).lower()
    for word in ("lifetime value", "clv", "health", "ceiling", "margin", "wallet", "target",
                 "swot", "weakness", "threat", "competitor", "red flag", "hostile", "champion",
                 "probability", "weighted", "potential", SECRET.lower()):
        assert word not in text, word
    for figure in _internal_figures(plans, aid):
        assert figure.lower() not in text, figure
    assert "what we did together" in text and "what we ask of you" in text


def test_the_customer_pack_shows_what_the_customer_may_see(plans):
    text = _text(communicate.customer_pack(plans.account("F01"), supplier="Nordhaven", currency="EUR"))
    assert "Food 1 and Nordhaven" in text
    assert "Open two plants in Spain" in text and "One supplier for all plants" in text
    assert "Spain roll-out" in text and "Quarterly business review".lower() in text.lower()
    assert "Your contact at Nordhaven: Ann" in text


def test_packs_and_the_company_page_are_listed_pages(plans):
    packs = communicate.customer_packs(plans, supplier="N")
    assert len(packs) == len(plans.profile) and all(len(p) == 3 for p in packs)
    assert all(p[1].startswith("customer/") and "/" not in p[1][len("customer/"):] for p in packs)
    page = _text(communicate.key_accounts_page(plans, run_label="N"))
    assert "Our key accounts and why" in page and "Internal: do not send to customers" in page
    assert "Helga" in page and "Ann (key account manager); escalate to Helga" in page
    assert page.count("to assign") >= len(plans.profile) - 1  # only F01 has a sponsor


def test_the_plan_page_shows_strategy_swot_competitors_pipeline_and_team(plans):
    text = _text(account_page(plans.account("F01"), currency="EUR"))
    for heading in ("The customer's strategy and our position", "SWOT of our position",
                    "Competitors at this account", "Pipeline and the revenue target",
                    "Account team and governance", "Governance cadence"):
        assert heading in text, heading
    assert f"Rival {SECRET}" in text and "8/10" in text
    assert "Spain roll-out" in text and "top-to-top meeting" in text and "Helga (executive sponsor)" in text


def test_a_plan_without_recorded_content_says_what_to_gather(plans):
    text = _text(account_page(plans.account("F03"), currency="EUR"))
    assert text.count("To gather") >= 3
    assert "What are the customer's strategic aims" in text
    assert "Who else supplies them in our categories" in text
    assert "average rival scoring 5" in text
    assert "Who is our executive sponsor for this account" in text
