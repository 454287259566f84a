"""One printable HTML page per key account plan.

:func:`account_page` turns an :class:`~kamlib.planning.blueprint.AccountPlan` into a
self-contained HTML document (CSS and figures inline, no scripts, no code) that prints on A4.
Formatting of numbers happens here; the Jinja2 template (``kamlib/report/templates/account_plan.html.j2``)
only lays out what it is given. Jinja2 earns its place by escaping every value: account and
contact names come from client files.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from kamlib.figures.planning import category_trend_svg, relationship_map_svg
from kamlib.planning._common import change_text, records

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
}


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    src = resources.files("kamlib.report").joinpath("templates/account_plan.html.j2").read_text(encoding="utf-8")
    return env.from_string(src)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The plan pages' CSS (screen and print)."""
    return resources.files("kamlib.report").joinpath("templates/account_plan.css").read_text(encoding="utf-8")


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NaT and str(v) != ""


def fmt_money(v, currency: str = "") -> str:
    """1234567.8 -> '1,234,568' (with a currency suffix if given); '—' when unknown."""
    if not _ok(v):
        return "—"
    return f"{float(v):,.0f}" + (f" {currency}" if currency else "")


def fmt_pct(v, digits: int = 0, signed: bool = False) -> str:
    if not _ok(v):
        return "—"
    return f"{float(v):+.{digits}%}" if signed else f"{float(v):.{digits}%}"


def fmt_date(v) -> str:
    if not _ok(v):
        return "—"
    return pd.Timestamp(v).strftime("%d %b %Y")


def _unit(unit: str, value) -> str:
    """'categories' -> 'category' for a target of 1 ('1 categories' reads as a typo); '' for money."""
    if unit == "money" or not unit:
        return ""
    if _ok(value) and float(value) == 1:
        return unit[:-3] + "y" if unit.endswith("ies") else unit[:-1] if unit.endswith("s") else unit
    return unit


def _context(plan, currency: str, run_label: str, ics_href: str | None, index_href: str | None) -> dict:
    p = plan.profile
    r = plan.relationship
    h = plan.health
    trend_txt = change_text(p.get("revenue_12m"), p.get("revenue_prev_12m"))
    facts = [
        ("Industry", p.get("industry")), ("Region / country", f"{p.get('region') or '—'} / {p.get('country') or '—'}"),
        ("Sites", None if not _ok(p.get("n_sites")) else f"{float(p['n_sites']):.0f}"),
        ("Employees", None if not _ok(p.get("employees")) else f"{float(p['employees']):,.0f}"),
        ("Group / parent", p.get("parent_id")), ("Account manager", p.get("account_manager")),
    ]
    facts = [(k, v if _ok(v) else "—") for k, v in facts]
    kpis = [
        ("Revenue, last 12 months", fmt_money(p.get("revenue_12m"), currency),
         "new this year" if trend_txt == "new" else f"{trend_txt} vs the 12 before" if trend_txt != "n/a" else ""),
        ("Margin, last 12 months", fmt_money(p.get("margin_12m"), currency), fmt_pct(p.get("margin_pct_12m"), 1) + " of revenue"),
        ("Share of our sales", fmt_pct(p.get("share_of_sales_12m"), 1), ""),
        ("Share of wallet", fmt_pct(p.get("wallet_share"), 0) if _ok(p.get("wallet_share")) else "unknown",
         "wallet " + fmt_money(p.get("wallet"), currency) if _ok(p.get("wallet")) else "no wallet estimate"),
        ("Customer lifetime value", fmt_money(p.get("clv"), currency),
         f"{fmt_money(p.get('clv_low'))} – {fmt_money(p.get('clv_high'))}" if _ok(p.get("clv_low")) else "not estimated"),
        ("Investment ceiling", fmt_money(p.get("investment_ceiling"), currency),
         "most we should spend to win/keep it" if _ok(p.get("investment_ceiling")) else "needs CLV"),
    ]
    sel = []
    if _ok(p.get("rank")):
        sel.append(f"rank {float(p['rank']):.0f}")
    if _ok(p.get("score")):
        sel.append(f"score {float(p['score']):.1f}")
    if _ok(p.get("p_key")):
        sel.append(f"p(key) {float(p['p_key']):.2f}")
    trend_rows = [dict(category=t["category"], r2=fmt_money(t["revenue_2"]), r1=fmt_money(t["revenue_1"]),
                       r0=fmt_money(t["revenue_0"]), change=fmt_pct(t["change_pct"], 0, True),
                       down=bool(_ok(t["change_pct"]) and t["change_pct"] < 0), margin=fmt_money(t["margin_0"]))
                  for t in records(plan.trend.head(12))]
    roles = []
    covered = set(filter(None, str(r.get("roles_covered", "")).split(";")))
    thin = set(filter(None, str(r.get("roles_thin", "")).split(";")))
    from kamlib.intake.contract import DMU_ROLES

    crec = records(plan.contacts)
    for role in DMU_ROLES:
        who = [c["contact_name"] for c in crec if role in c["dmu_roles"].split(";")]
        status = "covered" if role in covered else "thin" if role in thin else "unknown"
        roles.append(dict(role=role, status=status, who=", ".join(who) or "nobody known"))
    contacts = [dict(name=c["contact_name"], p1=c["fivep_position"], p2=c["fivep_power"], p3=c["fivep_priorities"],
                     p4=c["fivep_perception"], p5=c["fivep_proximity"], owner=c["owner"] or "—",
                     perception=c["perception_label"], stale=bool(c["stale"]))
                for c in crec]
    from kamlib.planning.relationship import FLAGS

    flags = [dict(title=FLAGS.get(f["flag"], f["flag"]), severity=f["severity"], message=f["message"])
             for f in records(plan.red_flags)]
    ws = [dict(category=w["category"], status=w["status"], current=fmt_money(w["current_revenue"]),
               adoption=fmt_pct(w["peer_adoption"]), expected=fmt_money(w["expected_revenue"]),
               potential=fmt_money(w["potential"]), peers=f"{w['n_peers']} ({w['peer_group']})")
          for w in records(plan.whitespace)]
    ws_note = ""
    if len(plan.whitespace) and bool(plan.whitespace["wallet_capped"].any()):
        ws_note = "Potentials scaled down to fit the headroom left in the account's wallet."
    objs = []
    for oid, g in plan.objectives.groupby("objective_id", sort=False):
        unit = g["unit"].iloc[0]
        f = (lambda v: fmt_money(v)) if unit == "money" else (lambda v: f"{float(v):.0f}")
        objs.append(dict(id=oid, kind=g["objective"].iloc[0], description=g["description"].iloc[0],
                         unit="" if unit == "money" else unit,
                         steps=[dict(label=m, date=fmt_date(d), target=f(t), unit=_unit(unit, t))
                                for m, d, t in zip(g["milestone"], g["due_date"], g["target"])]))
    milestones = objs[0]["steps"] if objs else []
    acts = []
    for cp, g in plan.actions.groupby("checkpoint", sort=True):
        acts.append(dict(checkpoint=cp, date=fmt_date(g["checkpoint_date"].iloc[0]), items=[
            dict(id=a["action_id"].rsplit("-", 1)[-1], action=a["action"], owner=a["owner"], due=fmt_date(a["due_date"]),
                 objective=a["objective_id"].rsplit("-", 1)[-1], priority=a["priority"])
            for a in records(g)]))
    cad = [dict(name=c["contact_name"], roles=c["dmu_roles"].replace(";", ", ") or "—",
                every=f"every {int(c['interval_days'])} days", first=fmt_date(c["first_meeting"]),
                n=int(c["meetings_in_horizon"]), owner=c["owner"])
           for c in records(plan.cadence)]
    from kamlib.planning.health import HEALTH_WEIGHTS

    comps = [dict(name=k.replace("_", " "), value="not measured" if not _ok(h.get(f"h_{k}")) else f"{float(h[f'h_{k}']):.0f}",
                  width=0 if not _ok(h.get(f"h_{k}")) else float(h[f"h_{k}"]))
             for k in HEALTH_WEIGHTS]
    return dict(
        css=stylesheet(), name=plan.name, account_id=plan.account_id, run_label=run_label,
        start=fmt_date(plan.start), review=fmt_date(plan.start + pd.Timedelta(days=30)),
        segment=p.get("segment") if _ok(p.get("segment")) else None,
        strategy=p.get("strategy") if _ok(p.get("strategy")) else None,
        tier=p.get("tier") if _ok(p.get("tier")) else "key",
        selection=", ".join(sel), drivers=p.get("drivers") if _ok(p.get("drivers")) else "",
        key_source=p.get("key_source") or "",
        health_score="—" if not _ok(h.get("score")) else f"{float(h['score']):.0f}", health_band=h.get("band", "unknown"),
        health_weakest=str(h.get("weakest") or "").replace("_", " "), components=comps,
        facts=facts, kpis=kpis, top_categories=str(p.get("top_categories") or "").replace(";", ", "),
        trend_svg=category_trend_svg(plan.trend), trend_rows=trend_rows,
        stage=r.get("stage"), stage_reason=r.get("stage_reason"), shape=r.get("shape"),
        shape_reason=r.get("shape_reason"), coverage=fmt_pct(r.get("coverage")), cover_strength=getattr(plan, "cover_strength", 2),
        map_svg=relationship_map_svg(plan.contacts), roles=roles, contacts=contacts, five_p=list(plan.five_p),
        flags=flags, whitespace=ws, ws_note=ws_note, objectives=objs, milestones=milestones,
        actions=acts, cadence=cad, missing=plan.missing, ics_href=ics_href, index_href=index_href,
        help=SECTION_HELP,
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
        From :meth:`kamlib.planning.blueprint.Blueprint.account`.
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
    return _template().render(**_context(plan, currency, run_label, ics_href, index_href))


def publish(bp, step, currency: str = "", run_label: str = "") -> pd.DataFrame:
    """Write a fitted :class:`~kamlib.planning.blueprint.Blueprint` into the run folder.

    Saves every plan table (``step.save``), one printable page per key account
    (``html/plans/<account_id>.html`` via ``step.page``), one calendar per account next to its
    page (``html/plans/<account_id>.ics``, so the page's link works wherever the html folder is
    copied) and the combined contact cadence ``html/plans/contact_cadence.ics``.

    Returns
    -------
    DataFrame
        One row per page: ``account_id``, ``name``, ``health``, ``band``, ``page``, ``calendar``.
    """
    descriptions = {
        "plan_profile": "One row per key account: profile, relationship stage, health, targets",
        "plan_relationship": "One row per contact of a key account: the 5P view",
        "plan_red_flags": "Relationship and revenue red flags per key account",
        "plan_whitespace": "Categories look-alikes buy that the account does not (potential per year)",
        "plan_objectives": "Objectives with stage goals (day 30/60/90, quarters): edit and feed back",
        "plan_actions": "The 90-day action plan: edit status and feed back as the next baseline",
        "plan_cadence": "How often to meet each contact, by tier and DMU role",
        "plan_health": "Health score 0-100 with components and band",
    }
    for name, df in bp.tables().items():
        step.save(name, df, description=descriptions.get(name, ""))
    rows = []
    for aid, name in zip(bp.profile_["account_id"], bp.profile_["name"].astype(str)):
        ics = step.path(f"html/plans/{aid}.ics")
        ics.write_text(bp.ics(aid), encoding="utf-8", newline="")
        html = account_page(bp.account(aid), currency=currency, run_label=run_label,
                            ics_href=f"{aid}.ics", index_href="../index.html")
        page = step.page(f"Account plan - {name}", f"plans/{aid}.html", html)
        h = bp._rows["health"][aid]
        rows.append(dict(account_id=aid, name=name, health=h["score"], band=h["band"],
                         page=str(page.relative_to(step.run_dir)), calendar=str(ics.relative_to(step.run_dir))))
    step.path("html/plans/contact_cadence.ics").write_text(bp.ics(cadence_only=True), encoding="utf-8", newline="")
    return pd.DataFrame(rows)


def preview(bp, account_ids: list[str], currency: str = "", run_label: str = "", height: int = 700):
    """Show plan pages inside a notebook, each in its own frame (so their CSS stays inside).

    Parameters
    ----------
    bp : Blueprint
        A fitted blueprint.
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
    from html import escape

    from IPython.display import HTML

    frames = "".join(
        f'<iframe srcdoc="{escape(account_page(bp.account(a), currency=currency, run_label=run_label), quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px solid #ccc;margin-bottom:12px" '
        f'title="Account plan {escape(str(a))}"></iframe>' for a in account_ids)
    return HTML(f"<div>{frames}</div>")
