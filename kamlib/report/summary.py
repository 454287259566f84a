"""The executive summary: the portfolio on one printable page for the client's management.

What the page states, and by which rule, is decided by :mod:`kamlib.review.summary` (and the
risk rules by :mod:`kamlib.review.risks`); this module lays it out: it formats each number with
:mod:`kamlib.formatting`, turns names into links to the account plan pages and segments into
badges, and renders ``templates/summary.html.j2``. A part whose tables are missing becomes a
short note saying which step produces it, never a crash or an empty page. The page is one
self-contained HTML file (CSS and figures inlined) so it can be mailed and printed as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from kamlib import formatting
from kamlib.formatting import DASH, money_interval
from kamlib.report.pages import Markup, escape, png_data_uri, render, stylesheet
from kamlib.review.audit import PlanReview
from kamlib.review.summary import BIG_ACCOUNTS, SummaryFacts
from kamlib.vocabulary import CORE, INVEST_SEGMENTS, LAGGARD, SEGMENT_LABELS, SEGMENT_STRATEGIES

FIGURES: tuple[str, ...] = ("segments", "workload", "effort", "review", "whale")
"""The figures the page can show, by section."""

money = formatting.money
pct = formatting.share


# --------------------------------------------------------------------------- cells
SUMMARY_PRINT_ROWS = 7
"""Rows a table of the summary prints (summary.css hides the rest on paper, with a note): the
summary prints on two A4 pages."""


def _missing(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def _badge(text: object, cls: str) -> Markup:
    return Markup('<span class="badge {}">{}</span>').format(cls, text)


def _seg_badge(seg: object) -> str:
    return DASH if _missing(seg) else _badge(seg, f"seg-{seg}")


def _names(df: pd.DataFrame, pages: Mapping[str, str]) -> list[str]:
    """Each account's name (its id when it has none), linked to its plan page when it has one."""
    names = df["name"] if "name" in df.columns else df["account_id"]
    out: list[str] = []
    for acc, name in zip(df["account_id"], names):
        label = str(acc if _missing(name) else name)
        link = pages.get(str(acc))
        # escaped either way: the Account column is raw HTML (see _table), names are not
        out.append(Markup('<a href="{}">{}</a>').format(link, label) if link else escape(label))
    return out


def _clv_text(df: pd.DataFrame, cur: str) -> list[str]:
    if "clv_low" in df.columns and "clv_high" in df.columns:
        return [f"{money(c, cur)} ({money_interval(lo, hi)})" if not pd.isna(c) else DASH
                for c, lo, hi in zip(df["clv"], df["clv_low"], df["clv_high"])]
    return [money(c, cur) for c in df["clv"]]


def _table(df: pd.DataFrame, num: Iterable[str] = (), raw: Iterable[str] = (),
           screen_only: Iterable[str] = (), nowrap: Iterable[str] = ()) -> dict[str, list]:
    """A table for the template's ``table`` macro: ``columns`` as (name, class) and ``rows`` of
    (text, class). Columns in ``raw`` hold HTML made here (:class:`Markup`, whose arguments
    were escaped; pandas may store it as plain text), the others are escaped by the template. A
    column with nothing to show (all dashes) is left out; ``screen_only`` columns are not printed
    (A4 is narrower than a screen); ``nowrap`` columns keep their text on one line."""
    num, raw, screen_only, nowrap = set(num), set(raw), set(screen_only), set(nowrap)
    keep = [c for c in df.columns
            if not (len(df) and df[c].map(lambda v: _missing(v) or v == DASH).all())]

    def cls(c: str) -> str:
        return " ".join(k for k, on in (("num", c in num), ("screen-only", c in screen_only),
                                         ("nowrap", c in nowrap)) if on)

    rows = [[(DASH if _missing(v) else Markup(v) if c in raw else str(v), cls(c))
             for c, v in zip(keep, row)] for row in df[keep].itertuples(index=False)]
    return {"columns": [(c, cls(c)) for c in keep], "rows": rows}


# --------------------------------------------------------------------------- sections
def _segment_table(seg: pd.DataFrame, cur: str) -> dict[str, list]:
    show = pd.DataFrame({
        "Segment": [_seg_badge(s) for s in seg["segment"]],
        "Accounts": seg["accounts"].map(formatting.count),
        "Key": seg["key_accounts"].astype(int),
    })
    if "revenue_12m" in seg.columns:
        show["Revenue, last 12 months"] = seg["revenue_12m"].map(lambda v: money(v, cur))
        show["Share"] = seg["revenue_share"].map(pct)
    if "clv" in seg.columns:
        show["CLV"] = seg["clv"].map(lambda v: money(v, cur))
    show["Strategy"] = seg["posture"]
    return _table(show, num={"Accounts", "Key", "Revenue, last 12 months", "Share", "CLV"}, raw={"Segment"})


def _key_account_table(t: pd.DataFrame, pages: Mapping[str, str], cur: str) -> dict[str, list]:
    show = pd.DataFrame({"#": t["rank"].astype("Int64") if "rank" in t.columns
                         else range(1, len(t) + 1)})
    show["Account"] = _names(t, pages)
    if "industry" in t.columns:
        show["Industry"] = t["industry"].to_numpy()
    show["Segment"] = [_seg_badge(s) for s in t["segment"]] if "segment" in t.columns else DASH
    if "score" in t.columns:
        show["Score"] = t["score"].map(lambda v: f"{v:.2f}" if not pd.isna(v) else DASH)
    if "revenue_12m" in t.columns:
        show["Revenue, last 12 months"] = t["revenue_12m"].map(lambda v: money(v, cur))
    if "revenue_change" in t.columns:
        show["Trend"] = t["revenue_change"].map(lambda v: pct(v, signed=True))
    if "clv" in t.columns:
        show["CLV (interval)"] = _clv_text(t, cur)
    if "health_band" in t.columns:
        show["Health"] = [
            _badge(f"{h:.0f}" if "health" in t.columns and not pd.isna(h) else b,
                   f"rag-{str(b).lower()}") if not pd.isna(b) else DASH
            for h, b in zip(t["health"] if "health" in t.columns else t["health_band"],
                            t["health_band"])]
    owner = "manager" if "manager" in t.columns else (
        "account_manager" if "account_manager" in t.columns else None)
    if owner:
        show["Owner"] = t[owner].to_numpy()
    return _table(show, num={"#", "Score", "Revenue, last 12 months", "Trend", "CLV (interval)"},
                  raw={"Account", "Segment", "Health"}, screen_only={"Industry"},
                  nowrap={"Owner"})


def _investment_table(inv: pd.DataFrame, pages: Mapping[str, str], cur: str) -> dict[str, list]:
    label = {"investment_ceiling": "Investment ceiling / year", "clv": "CLV",
             "revenue_12m": "Revenue, last 12 months"}[inv["basis"].iat[0]]
    show = pd.DataFrame({
        "Account": _names(inv, pages),
        "Segment": [_seg_badge(s) for s in inv.get("segment", [None] * len(inv))],
        label: inv["amount"].map(lambda v: money(v, cur)),
    })
    if "clv" in inv.columns and label != "CLV":
        show["CLV (interval)"] = _clv_text(inv, cur)
    if "revenue_change" in inv.columns:
        show["Revenue trend"] = inv["revenue_change"].map(lambda v: pct(v, signed=True))
    return _table(show, num={label, "CLV (interval)", "Revenue trend"},
                  raw={"Account", "Segment"})


def _risk_table(risks: pd.DataFrame, pages: Mapping[str, str], cur: str) -> dict[str, list]:
    show = pd.DataFrame({
        "Account": _names(risks, pages),
        "Segment": [_seg_badge(s) for s in risks.get("segment", [None] * len(risks))],
        "Revenue at stake": risks["at_stake"].map(lambda v: money(v, cur)),
        "Warning signs": risks["signs"],
    })
    return _table(show, num={"Revenue at stake"}, raw={"Account", "Segment"})


def _moves_table(moves: pd.DataFrame, pages: Mapping[str, str]) -> dict[str, list]:
    show = pd.DataFrame({"Account": _names(moves, pages),
                         "From": moves["previous_manager"].to_numpy(),
                         "To": moves["manager"].to_numpy(), "Why": moves["why"].to_numpy()})
    return _table(show, raw={"Account"})


def _overrides_table(o: pd.DataFrame, pages: Mapping[str, str]) -> dict[str, list]:
    kind = {"include": "included", "exclude": "excluded", "made room": "made room"}
    show = pd.DataFrame({"Account": _names(o, pages),
                         "Decision": o["override"].map(kind).fillna(o["override"]).to_numpy(),
                         "Reason": o["reason"].to_numpy(),
                         "The criteria alone": o["criteria_alone"].to_numpy(),
                         "Key now": ["yes" if k else "no" for k in o["is_key"]]})
    return _table(show, raw={"Account"}, nowrap={"Decision", "Key now"})


def _big_not_key_table(b: pd.DataFrame, pages: Mapping[str, str], cur: str
                       ) -> dict[str, list]:
    show = pd.DataFrame({"Account": _names(b, pages), "Largest by": b["by"].to_numpy(),
                         "Rank": b["rank"].astype("Int64").to_numpy()})
    if "revenue_12m" in b.columns:
        show["Revenue 12 m"] = b["revenue_12m"].map(lambda v: money(v, cur)).to_numpy()
    if "clv" in b.columns:
        show["CLV"] = b["clv"].map(lambda v: money(v, cur)).to_numpy()
    show["Why not key"] = b["why"].to_numpy()
    return _table(show, num={"Rank", "Revenue 12 m", "CLV"}, raw={"Account"},
                  nowrap={"Largest by"})


def _review_context(rv: PlanReview, overdue: pd.DataFrame | None,
                    too_early: bool) -> dict[str, Any]:
    late = None
    if overdue is not None and len(overdue):
        late = _table(overdue.set_axis(["Account", "Action", "Owner", "Days overdue"], axis=1),
                      num={"Days overdue"})
    return {"plan_date": formatting.date(rv.plan_date) if rv.plan_date is not None
            else "unknown date", "source": rv.source, "too_early": too_early,
            "findings": [(int(r.count), int(r.of), r.what) for r in rv.summary.itertuples()
                         if r.count],
            "overdue": late}


# --------------------------------------------------------------------------- page
def _economics_context(econ: Mapping[str, Any] | None, cur: str) -> dict | None:
    """The account-economics section: its sentences and the serving-model table."""
    if econ is None:
        return None
    lines = [
        f"Net profit this year (margin minus cost to serve): {money(econ['net_profit'], cur)}; "
        f"cost to serve estimated by the activity rule for {econ['estimated']} accounts.",
        f"Sorted by net profit, the cumulative profit peaks at {money(econ['peak'], cur)} after "
        f"{econ['peak_accounts']} accounts; {econ['loss_accounts']} accounts cost more than they "
        f"bring and take {money(-econ['loss'], cur)} back.",
    ]
    if not formatting.missing(econ["net_clv"]):
        lines.append(f"Net CLV of the portfolio (discounted margin minus discounted cost to "
                     f"serve): {money(econ['net_clv'], cur)}.")
    if econ["key_short"]:
        lines.append(f"{len(econ['key_short'])} key accounts have an investment ceiling below "
                     "a dedicated manager's cost a year.")
    serving = None
    sm = econ.get("serving")
    if sm is not None:
        gain = float((sm["net_profit_after_moves"] - sm["net_profit"]).sum())
        moved = int((sm["accounts_after_moves"] - sm["accounts"]).abs().sum() // 2)
        if gain > 0:
            lines.append(f"Serving about {moved} accounts with another serving model, as the "
                         f"portfolio segmentation proposes, would add "
                         f"{money(gain, cur)} of net profit a year; the resource plan below "
                         "covers the key and key-development accounts as they are now.")
        show = pd.DataFrame({
            "Serving model": sm["serving_model"],
            "Accounts": sm["accounts"].map(formatting.count),
            "Margin, last 12 months": sm["margin_12m"].map(lambda v: money(v, cur)),
            "Cost to serve": sm["cost_to_serve"].map(lambda v: money(v, cur)),
            "Serving cost": sm["serving_cost"].map(lambda v: money(v, cur)),
            "Net profit": sm["net_profit"].map(lambda v: money(v, cur)),
            "Staff now": sm["staff_needed"].map(formatting.count),
            "After moves": sm["staff_after_moves"].map(formatting.count),
        })
        serving = _table(show, num=set(show.columns) - {"Serving model"})
    return {"lines": lines, "serving": serving}


def summary_page(facts: SummaryFacts, *, client: str = "", run: str = "",
                 plan_pages: Mapping[str, str] | None = None,
                 figures: Mapping[str, Any] | None = None, baseline_hint: str = "") -> str:
    """The executive summary page as one self-contained HTML string.

    Parameters
    ----------
    facts : SummaryFacts
        What the page states (:func:`kamlib.review.summary.summary_facts`, or
        :meth:`kamlib.review.entry.PortfolioReview.summary`).
    client, run : str
        Client name and run folder name, for the header.
    plan_pages : mapping of account_id to str
        Link (relative to the summary page) of each account's plan page.
    figures : mapping of str to Figure, PNG bytes or PNG file path
        Figures to embed, by section: ``"segments"``, ``"workload"``, ``"effort"``,
        ``"review"``, ``"whale"`` (see :data:`FIGURES`).
    baseline_hint : str
        What to tell the reader about getting a baseline when there is no review.
    """
    cur = facts.currency
    table = facts.key_accounts
    pages = {str(a): link for a, link in (plan_pages or {}).items()
             if a in set(table.get("account_id", []))}
    inv = facts.investments
    invest_by_segment = "segment" in inv.columns and inv["segment"].notna().any()
    first, then = (SEGMENT_LABELS[s] for s in INVEST_SEGMENTS)
    return render(
        "summary.html.j2", css=stylesheet("summary.css"), client=client, run=run,
        print_rows=SUMMARY_PRINT_ROWS,
        as_of=formatting.date(facts.as_of) if not formatting.missing(facts.as_of) else "unknown",
        today=formatting.date(dt.date.today()), lead=facts.lead, kpis=facts.kpis,
        figures={k: png_data_uri(v) for k, v in (figures or {}).items()
                 if k in FIGURES and v is not None},
        segments=None if facts.segments.empty else _segment_table(facts.segments, cur),
        segment_note=facts.segment_note,
        key_accounts=None if table.empty else _key_account_table(table, pages, cur),
        overrides=(_overrides_table(facts.overrides, pages) if len(facts.overrides)
                   else None),
        big_not_key=(_big_not_key_table(facts.big_not_key, pages, cur)
                     if len(facts.big_not_key) else None),
        big_n=BIG_ACCOUNTS, decisions_known=facts.decisions_known,
        linked=bool(plan_pages),
        investments=None if inv.empty else _investment_table(inv, pages, cur),
        invest_by_segment=invest_by_segment, invest_first=first, invest_then=then,
        core_label=SEGMENT_LABELS[CORE], core_strategy=SEGMENT_STRATEGIES[CORE],
        laggard_label=SEGMENT_LABELS[LAGGARD],
        laggard_strategy=SEGMENT_STRATEGIES[LAGGARD],
        risks=None if facts.risks.empty else _risk_table(facts.risks, pages, cur),
        unchecked=facts.unchecked, resources=facts.resources,
        moves=(_moves_table(facts.moves, pages)
               if facts.moves is not None and len(facts.moves) else None),
        economics=_economics_context(facts.economics, cur),
        review=(None if facts.review is None
                else _review_context(facts.review, facts.overdue, facts.review_too_early)),
        baseline_hint=baseline_hint or (
            "This is the first plan: there is no earlier run to review against. At the next "
            "quarterly rerun, pass this run as the baseline."))
