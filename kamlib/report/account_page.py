"""One printable HTML page per key account plan.

:func:`account_page` turns an :class:`~kamlib.planning.account_plan.AccountPlan` into a
self-contained HTML document (CSS and figures inline, no scripts, no code) that prints on A4;
:func:`plan_pages` and :func:`plan_calendars` give every plan's page and calendar as plain
values (path and text) for the notebook to write into the run folder.
Formatting of numbers happens here; the Jinja2 template (``kamlib/report/templates/account_plan.html.j2``)
only lays out what it is given. Jinja2 earns its place by escaping every value: account and
contact names come from client files.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from kamlib import formatting
from kamlib.figures.planning import category_trend_svg, relationship_map_svg
from kamlib.formatting import DASH
from kamlib.paths import safe_name
from kamlib.planning._common import change_text, records
from kamlib.planning.health import HEALTH_WEIGHTS
from kamlib.report import pages, plan_sections
from kamlib.vocabulary import (DMU_ROLE_ABBREVIATIONS, DMU_ROLES, RED_FLAGS, ROLE_COVERED, ROLE_THIN,
                               ROLE_UNKNOWN)

SECTION_HELP = {
    "relationship": "Who we know, in which buying roles, how well. A diamond (many function-to-function "
                    "links) survives a departure; a bow-tie hangs on one thread.",
    "whitespace": "Categories this account does not buy, or buys little of, that look-alike accounts "
                  "(same industry and size) do buy. Potential = what it would spend at their rate, minus "
                  "what it spends now.",
    "objectives": "Targets for the year, with stage goals to check progress at each review. "
                  "Money goals are cumulative from the plan start.",
    "health": "Each component scores 0-100 (higher is healthier): revenue trend (flat = 50), margin "
              "(how the margin rate ranks among its peers, by default the other key accounts), coverage (share of the six "
              "DMU roles covered), freshness (share of contacts, weighted by power, touched recently), "
              "plan progress (share of the actions due so far that are done; not measured until an "
              "action falls due). The score is their weighted average.",
    "actions": "The next 90 days, drawn from the gaps above. Each action is checked at the next 30-day "
               "checkpoint; the day-90 business review re-plans the following 90 days.",
    "strategy": "What the customer wants to achieve and how they buy, in their terms, and why they "
                "should choose us: the plan serves their aims, not only our targets.",
    "pipeline": "The revenue target is built from evidence: this year's revenue, the weighted pipeline, "
                "look-alike whitespace, unserved sites and the headroom in the wallet; the bars add up "
                "to the target.",
    "team": "A key account is run by a team: an executive sponsor meets their top, the key account "
            "manager leads, and our specialists mirror their functions. The meetings are in the "
            "calendar file.",
}


def stylesheet() -> str:
    """The plan pages' CSS (screen and print)."""
    return pages.stylesheet("account_plan.css")


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NaT and str(v) != ""


fmt_money = formatting.money
fmt_date = formatting.date


def fmt_pct(v, digits: int = 0, signed: bool = False) -> str:
    """A share as a percentage (:func:`kamlib.formatting.share`)."""
    return formatting.share(v, signed=signed, digits=digits)


def _unit(unit: str, value) -> str:
    """'categories' -> 'category' for a target of 1 ('1 categories' reads as a typo); '' for money."""
    if unit == "money" or not unit:
        return ""
    if _ok(value) and float(value) == 1:
        return unit[:-3] + "y" if unit.endswith("ies") else unit[:-1] if unit.endswith("s") else unit
    return unit


def _group(p: dict):
    """The account's parent, linked to its group's plan page when the group head has one."""
    parent, head = p.get("parent_id"), p.get("group_plan")
    if not _ok(head) or not str(head):
        return parent
    label = parent if _ok(parent) else p.get("group_name") or head
    return pages.Markup('<a href="{}">{}</a>').format(plan_file(head, ".html"), label)


def _facts(p: dict) -> list[tuple[str, str]]:
    facts = [
        ("Industry", p.get("industry")), ("Region / country", f"{p.get('region') or DASH} / {p.get('country') or DASH}"),
        ("Sites", None if not _ok(p.get("n_sites")) else f"{float(p['n_sites']):.0f}"),
        ("Employees", None if not _ok(p.get("employees")) else formatting.count(p["employees"])),
        ("Group / parent", _group(p)), ("Account manager", p.get("account_manager")),
    ]
    return [(k, v if _ok(v) else DASH) for k, v in facts]


def _kpis(p: dict, currency: str) -> list[tuple[str, str, str]]:
    trend_txt = change_text(p.get("revenue_12m"), p.get("revenue_prev_12m"))
    return [
        ("Revenue, last 12 months", fmt_money(p.get("revenue_12m"), currency),
         "new this year" if trend_txt == "new" else f"{trend_txt} vs the 12 before" if trend_txt != "n/a" else ""),
        ("Margin, last 12 months", fmt_money(p.get("margin_12m"), currency), fmt_pct(p.get("margin_pct_12m"), 1) + " of revenue"),
        ("Share of our sales", fmt_pct(p.get("share_of_sales_12m"), 1), ""),
        ("Share of wallet", fmt_pct(p.get("wallet_share"), 0) if _ok(p.get("wallet_share")) else "unknown",
         "wallet " + fmt_money(p.get("wallet"), currency) if _ok(p.get("wallet")) else "no wallet estimate"),
        ("Customer lifetime value", fmt_money(p.get("clv"), currency),
         formatting.money_interval(p.get("clv_low"), p.get("clv_high")) if _ok(p.get("clv_low")) else "not estimated"),
        ("Investment ceiling", fmt_money(p.get("investment_ceiling"), currency),
         "most we should spend to win/keep it" if _ok(p.get("investment_ceiling")) else "needs CLV"),
    ]


def _selection(p: dict) -> str:
    sel = []
    if _ok(p.get("rank")):
        sel.append(f"rank {float(p['rank']):.0f}")
    if _ok(p.get("score")):
        sel.append(f"score {float(p['score']):.1f}")
    if _ok(p.get("p_key")):
        sel.append(f"p(key) {float(p['p_key']):.2f}")
    return ", ".join(sel)


def _trend_rows(plan) -> list[dict]:
    return [dict(category=t["category"], r2=fmt_money(t["revenue_2"]), r1=fmt_money(t["revenue_1"]),
                 r0=fmt_money(t["revenue_0"]), change=fmt_pct(t["change_pct"], 0, True),
                 down=bool(_ok(t["change_pct"]) and t["change_pct"] < 0), margin=fmt_money(t["margin_0"]))
            for t in records(plan.trend.head(12))]


def _relationship(plan) -> dict:
    """The DMU roles (who holds each, how well covered) and the contacts' 5P rows."""
    r = plan.relationship
    covered = set(filter(None, str(r.get("roles_covered", "")).split(";")))
    thin = set(filter(None, str(r.get("roles_thin", "")).split(";")))
    crec = records(plan.contacts)
    roles = []
    for role in DMU_ROLES:
        who = [c["contact_name"] for c in crec if role in c["dmu_roles"].split(";")]
        status = ROLE_COVERED if role in covered else ROLE_THIN if role in thin else ROLE_UNKNOWN
        roles.append(dict(role=role, status=status, who=", ".join(who) or "nobody known"))
    contacts = [dict(name=c["contact_name"], p1=c["fivep_position"], p2=c["fivep_power"], p3=c["fivep_priorities"],
                     p4=c["fivep_perception"], p5=c["fivep_proximity"], owner=c["owner"] or DASH,
                     perception=c["perception_label"], stale=bool(c["stale"]))
                for c in crec]
    return dict(stage=r.get("stage"), stage_reason=r.get("stage_reason"), shape=r.get("shape"),
                shape_reason=r.get("shape_reason"), coverage=fmt_pct(r.get("coverage")),
                cover_strength=plan.cover_strength,
                role_legend=", ".join(f"{DMU_ROLE_ABBREVIATIONS[r]} {r}" for r in DMU_ROLES),
                map_svg=relationship_map_svg(plan.contacts), roles=roles, contacts=contacts,
                five_p=list(plan.five_p),
                flags=[dict(title=RED_FLAGS.get(f["flag"], f["flag"]), severity=f["severity"], message=f["message"])
                       for f in records(plan.red_flags)])


def _whitespace(plan) -> dict:
    ws = [dict(category=w["category"], status=w["status"], current=fmt_money(w["current_revenue"]),
               adoption=fmt_pct(w["peer_adoption"]), expected=fmt_money(w["expected_revenue"]),
               potential=fmt_money(w["potential"]), peers=f"{w['n_peers']} ({w['peer_group']})")
          for w in records(plan.whitespace)]
    capped = len(plan.whitespace) and bool(plan.whitespace["wallet_capped"].any())
    return dict(whitespace=ws, ws_note="Potentials scaled down to fit the headroom left in the "
                                       "account's wallet." if capped else "")


def _objectives(plan) -> list[dict]:
    objs = []
    for oid, g in plan.objectives.groupby("objective_id", sort=False):
        unit = g["unit"].iloc[0]
        f = (lambda v: fmt_money(v)) if unit == "money" else (lambda v: f"{float(v):.0f}")
        objs.append(dict(id=oid, kind=g["objective"].iloc[0], description=g["description"].iloc[0],
                         unit="" if unit == "money" else unit,
                         steps=[dict(label=m, date=fmt_date(d), target=f(t), unit=_unit(unit, t))
                                for m, d, t in zip(g["milestone"], g["due_date"], g["target"])]))
    return objs


def _actions(plan) -> list[dict]:
    """The actions by checkpoint; in a plan rolled forward, the new ones and those typed in by
    hand are marked (a first plan is all new: nothing is marked)."""
    origin = plan.actions["origin"] if "origin" in plan.actions.columns else None
    rolled = origin is not None and bool((origin != "new").any())
    return [dict(checkpoint=cp, date=fmt_date(g["checkpoint_date"].iloc[0]), items=[
        dict(id=a["action_id"].rsplit("-", 1)[-1], action=a["action"], owner=a["owner"], due=fmt_date(a["due_date"]),
             objective=str(a["objective_id"] or DASH).rsplit("-", 1)[-1], priority=a["priority"],
             origin=a.get("origin") if rolled and a.get("origin") in ("new", "by hand") else "")
        for a in records(g)]) for cp, g in plan.actions.groupby("checkpoint", sort=True)]


def _cadence(plan) -> list[dict]:
    return [dict(name=c["contact_name"], roles=c["dmu_roles"].replace(";", ", ") or DASH,
                 every=f"every {int(c['interval_days'])} days", first=fmt_date(c["first_meeting"]),
                 n=int(c["meetings_in_horizon"]), owner=c["owner"])
            for c in records(plan.cadence)]


def _health(h: dict) -> dict:
    comps = [dict(name=k.replace("_", " "), value="not measured" if not _ok(h.get(f"h_{k}")) else f"{float(h[f'h_{k}']):.0f}",
                  width=0 if not _ok(h.get(f"h_{k}")) else float(h[f"h_{k}"]))
             for k in HEALTH_WEIGHTS]
    return dict(health_score=DASH if not _ok(h.get("score")) else f"{float(h['score']):.0f}",
                health_band=h.get("band", "unknown"),
                health_weakest=str(h.get("weakest") or "").replace("_", " "), components=comps)


def _context(plan, currency: str, run_label: str, ics_href: str | None, index_href: str | None) -> dict:
    """Everything the template shows, formatted."""
    p = plan.profile
    objectives = _objectives(plan)
    return dict(
        css=stylesheet(), name=plan.name, account_id=plan.account_id, run_label=run_label,
        start=fmt_date(plan.start), review=fmt_date(plan.start + pd.Timedelta(days=30)),
        segment=p.get("segment") if _ok(p.get("segment")) else None,
        strategy=p.get("strategy") if _ok(p.get("strategy")) else None,
        tier=p.get("tier") if _ok(p.get("tier")) else "key",
        selection=_selection(p), drivers=p.get("drivers") if _ok(p.get("drivers")) else "",
        key_source=p.get("key_source") or "", **_health(plan.health),
        facts=_facts(p), kpis=_kpis(p, currency), top_categories=str(p.get("top_categories") or "").replace(";", ", "),
        trend_svg=category_trend_svg(plan.trend), trend_rows=_trend_rows(plan), **_relationship(plan),
        **_whitespace(plan), objectives=objectives, milestones=objectives[0]["steps"] if objectives else [],
        actions=_actions(plan), cadence=_cadence(plan), missing=plan.missing, ics_href=ics_href,
        changes=plan.changes_list(),
        index_href=index_href, help=SECTION_HELP, **plan_sections.sections(plan, p, currency),
    )


def account_page(
    plan,
    currency: str = "",
    run_label: str = "",
    ics_href: str | None = None,
    index_href: str | None = None,
) -> str:
    """The printable HTML page of one account plan.

    Parameters
    ----------
    plan : AccountPlan
        From :meth:`kamlib.planning.PlanningResult.account`.
    currency : str
        Currency code shown after money amounts ("" = none).
    run_label : str
        Shown in the header and footer (e.g. engagement and run name).
    ics_href : str, optional
        Relative link to the account's calendar file.
    index_href : str, optional
        Relative link back to the run's index page.

    Returns
    -------
    str
        A complete HTML document.
    """
    return pages.render("account_plan.html.j2", **_context(plan, currency, run_label, ics_href, index_href))


PLANS_FOLDER = "plans"
"""Where the plan pages and calendars go, inside the run's ``html/`` folder."""


def plan_file(account_id: object, suffix: str) -> str:
    """An account's plan file inside ``plans/``: ``<slug>-<hash>.html`` or ``.ics``.

    The name is made from the id by :func:`kamlib.paths.safe_name` -- never the id itself,
    which comes from the client's files (``../../x``, ``DE/4711``) -- so it stays in
    ``plans/``, is the same in every run, and differs for every id.
    """
    return f"{safe_name(account_id)}{suffix}"


def plan_pages(plans, currency: str = "", run_label: str = "") -> list[tuple[str, str, str, str]]:
    """The printable page of every key account's plan, as ``(title, relpath, html,
    account_id)``.

    ``relpath`` is inside the run's ``html/`` folder (``plans/<slug>-<hash>.html``,
    :func:`plan_file`); each page links its calendar, which :func:`plan_calendars` puts beside
    it, and the run's index page one folder up. The account id is the page's key
    (:meth:`kamlib.runner.Step.page_links` finds the page by it).

    Parameters
    ----------
    plans : PlanningResult
        From :func:`kamlib.planning.run`.
    currency, run_label : str
        As for :func:`account_page`.
    """
    return [(f"Account plan - {name}", f"{PLANS_FOLDER}/{plan_file(aid, '.html')}",
             account_page(plans.account(aid), currency=currency, run_label=run_label,
                          ics_href=plan_file(aid, ".ics"), index_href="../index.html"), str(aid))
            for aid, name in zip(plans.profile["account_id"], plans.profile["name"].astype(str))]


def plan_calendars(plans) -> list[tuple[str, str]]:
    """The calendar files, as ``(relpath, iCalendar text)`` inside the run's ``html/`` folder:
    one per account beside its page (so the page's link works wherever the folder is copied)
    and ``plans/contact_cadence.ics`` with every contact meeting of the portfolio."""
    return ([(f"{PLANS_FOLDER}/{plan_file(aid, '.ics')}", plans.ics(aid))
             for aid in plans.profile["account_id"]]
            + [(f"{PLANS_FOLDER}/contact_cadence.ics", plans.ics(cadence_only=True))])


def page_index(plans) -> pd.DataFrame:
    """One row per plan page: ``account_id``, ``name``, ``health``, ``band``, and its ``page``
    and ``calendar`` relative to the run folder."""
    h = plans.health.set_index("account_id")
    ids = plans.profile["account_id"]
    return pd.DataFrame({
        "account_id": ids.to_numpy(), "name": plans.profile["name"].astype(str).to_numpy(),
        "health": h["score"].reindex(ids).to_numpy(), "band": h["band"].reindex(ids).to_numpy(),
        "page": [f"html/{PLANS_FOLDER}/{plan_file(aid, '.html')}" for aid in ids],
        "calendar": [f"html/{PLANS_FOLDER}/{plan_file(aid, '.ics')}" for aid in ids],
    })


def preview(plans, account_ids: list[str], currency: str = "", run_label: str = "", height: int = 700):
    """Show plan pages inside a notebook, each in its own frame (so their CSS stays inside).

    Parameters
    ----------
    plans : PlanningResult
        From :func:`kamlib.planning.run`.
    account_ids : list of str
        The accounts to show.
    currency, run_label : str
        As for :func:`account_page`.
    height : int
        Frame height in pixels.

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    frames = [{"account_id": a, "page": account_page(plans.account(a), currency=currency,
                                                      run_label=run_label)}
              for a in account_ids]
    # the template escapes each page into its srcdoc attribute
    return HTML(pages.render("plan_preview.html.j2", frames=frames, height=int(height)))
