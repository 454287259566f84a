"""The executive summary: the portfolio on one printable page for the client's management.

What goes on it, and by which rule:

* **Portfolio at a glance** — accounts, key accounts and their share of revenue and margin;
  the split into Stars, Developing, Core and Laggards (accounts against money).
* **Key accounts** — selection rank and score, segment, revenue and its trend, CLV with its
  interval, health, owner; linked to each account's plan page when it exists.
* **Where to invest** — key accounts in segments with an *invest* posture (Stars, then
  Developing), ranked by their investment ceiling from the CLV step (or CLV, or revenue when
  CLV is missing): the most the account is worth spending on a year.
* **Biggest risks** — per key account, the warning signs found by earlier steps: a red health
  score, relationship red flags, falling revenue, a low probability of still being active, a
  missed objective. Each sign scores points (red health 3, falling revenue 2, low p_alive 2,
  missed objective 1, each red flag 1, at most 3 from flags); accounts are ranked by points
  times revenue at stake, so a big account with one serious sign outranks a small one with many.
* **Resource plan** and **plan review**, when those were made.

Every input is optional: a missing table turns its section into a short note saying which step
produces it, never a crash or an empty page. The page is one self-contained HTML file (CSS and
figures inlined) so it can be mailed and printed as is.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEGMENT_ORDER = ("Star", "Developing", "Core", "Laggard")
POSTURE = {
    "Star": "Invest for growth",
    "Developing": "Invest selectively to build share",
    "Core": "Maintain and protect margin, serve efficiently",
    "Laggard": "Streamline: reduce cost to serve",
}
INVEST_SEGMENTS = ("Star", "Developing")

_HEALTH_SCORE = ("health", "health_score", "score")
_HEALTH_BAND = ("band", "health_band", "rag")
_FLAG_TEXT = ("flag", "red_flag", "label", "detail", "description")


def stylesheet() -> str:
    """The print-friendly CSS shared by the report pages (inlined into each page)."""
    return (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")


@dataclass
class SummaryData:
    """Everything the executive summary may show; every table is optional.

    Attributes
    ----------
    client, run : str
        Client name and run folder name, for the header.
    as_of : date-like, optional
        The data date (defaults to ``features.as_of``).
    currency : str
        Shown after money amounts ("" = none).
    features, scores, key_accounts, segments, clv : DataFrame, optional
        Tables ``account_features``, ``selection_scores``, ``key_accounts``, ``segments``,
        ``clv``.
    health, red_flags : DataFrame, optional
        The account plans' health scores (account_id, health, band) and red flags
        (account_id, flag).
    assignment, workload : DataFrame, optional
        The resource plan (:class:`kamlib.planning.resources.ResourcePlanner` results).
    review : PlanReview, optional
        The plan review, when a baseline was given.
    plan_pages : mapping of account_id to str
        Link (relative to the summary page) of each account's plan page.
    figures : mapping of str to Figure, PNG bytes or PNG file path
        Figures to embed; the keys ``"segments"``, ``"workload"``, ``"effort"``,
        ``"review"`` put them in their sections.
    baseline_hint : str
        What to tell the reader about getting a baseline when there is no review.
    """

    client: str = ""
    run: str = ""
    as_of: Any = None
    currency: str = ""
    features: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    key_accounts: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    clv: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    red_flags: pd.DataFrame | None = None
    assignment: pd.DataFrame | None = None
    workload: pd.DataFrame | None = None
    review: Any = None
    plan_pages: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, Any] = field(default_factory=dict)
    baseline_hint: str = ""


# --------------------------------------------------------------------------- formatting
def money(x: float, currency: str = "") -> str:
    """Compact money: 1.2 M, 350 k, 900."""
    if x is None or pd.isna(x):
        return "–"
    a = abs(float(x))
    s = (f"{x / 1e9:.1f} bn" if a >= 1e9 else f"{x / 1e6:.1f} M" if a >= 1e6
         else f"{x / 1e3:.0f} k" if a >= 1e4 else f"{x / 1e3:.1f} k" if a >= 1e3 else f"{x:.0f}")
    return f"{s} {currency}".strip()


def pct(x: float, signed: bool = False) -> str:
    if x is None or pd.isna(x):
        return "–"
    if signed and x > 3:  # from almost nothing: a percentage would mislead
        return ">+300%"
    return f"{x:+.0%}" if signed else f"{x:.0%}"


def _col(df: pd.DataFrame | None, names: tuple[str, ...]) -> str | None:
    if df is None:
        return None
    return next((c for c in names if c in df.columns), None)


def _badge(text: str, cls: str) -> str:
    return f'<span class="badge {cls}">{html.escape(str(text))}</span>'


def _seg_badge(seg) -> str:
    return "–" if seg is None or pd.isna(seg) else _badge(seg, f"seg-{seg}")


def _img(fig) -> str:
    if isinstance(fig, (bytes, bytearray)):
        data = bytes(fig)
    elif isinstance(fig, (str, Path)):
        data = Path(fig).read_bytes()
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _figure_html(data: SummaryData, key: str, caption: str) -> str:
    fig = data.figures.get(key)
    if fig is None:
        return ""
    return (f'<figure><img src="{_img(fig)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _missing(what: str, step: str) -> str:
    return (f'<p class="callout missing">{html.escape(what)} is not available in this run: '
            f"it comes from step <b>{html.escape(step)}</b>.</p>")


def _table(df: pd.DataFrame, num: set[str] = frozenset(), raw: set[str] = frozenset(),
           screen_only: set[str] = frozenset(), nowrap: set[str] = frozenset()) -> str:
    """An HTML table; columns in ``raw`` hold ready HTML, the others are escaped. A column
    with nothing to show (all "–") is left out; ``screen_only`` columns are not printed
    (A4 is narrower than a screen); ``nowrap`` columns keep their text on one line."""
    empty = [c for c in df.columns if len(df) and df[c].map(
        lambda v: v is None or (not isinstance(v, str) and pd.isna(v)) or v == "–").all()]
    df = df.drop(columns=empty)
    def cls(c):
        return " ".join(k for k, on in (("num", c in num), ("screen-only", c in screen_only),
                                         ("nowrap", c in nowrap)) if on)

    head = "".join(f'<th class="{cls(c)}">{html.escape(str(c))}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            text = "–" if v is None or (not isinstance(v, str) and pd.isna(v)) else (
                str(v) if c in raw else html.escape(str(v)))
            cells.append(f'<td class="{cls(c)}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- content
def key_account_table(data: SummaryData) -> pd.DataFrame:
    """One row per key account with what the summary shows about it (best rank first).

    Returns an empty frame when neither ``key_accounts`` nor ``selection_scores`` is given.
    """
    if data.key_accounts is not None and len(data.key_accounts):
        ka = data.key_accounts.copy()
    elif data.scores is not None and "is_key" in data.scores.columns:
        ka = data.scores[data.scores["is_key"].astype(bool)].copy()
    elif data.scores is not None and "tier" in data.scores.columns:
        ka = data.scores[data.scores["tier"] == "key"].copy()
    else:
        return pd.DataFrame()
    ka = ka.drop(columns=[c for c in ka.columns if c not in (
        "account_id", "rank", "score", "p_key", "main_drivers")])
    ka["account_id"] = ka["account_id"].astype("str")
    if data.features is not None:
        fcols = [c for c in ("account_id", "name", "industry", "account_manager", "revenue_12m",
                             "revenue_prev_12m", "margin_12m", "growth_12m")
                 if c in data.features.columns]
        ka = ka.merge(data.features[fcols], on="account_id", how="left")
    if data.segments is not None and "segment" in data.segments.columns:
        ka = ka.merge(data.segments[["account_id", "segment"]], on="account_id", how="left")
    if data.clv is not None:
        ccols = [c for c in ("account_id", "clv", "clv_low", "clv_high", "investment_ceiling",
                             "p_alive") if c in data.clv.columns]
        ka = ka.merge(data.clv[ccols], on="account_id", how="left")
    hs, hb = _col(data.health, _HEALTH_SCORE), _col(data.health, _HEALTH_BAND)
    if hs or hb:
        h = data.health[["account_id", *[c for c in (hs, hb) if c]]].rename(
            columns={hs: "health", hb: "health_band"} if hs else {hb: "health_band"})
        ka = ka.merge(h.drop_duplicates("account_id"), on="account_id", how="left")
    if data.assignment is not None and "manager" in data.assignment.columns:
        ka = ka.merge(data.assignment[["account_id", "manager"]], on="account_id", how="left")
    if "revenue_12m" in ka.columns and "revenue_prev_12m" in ka.columns:
        prev = ka["revenue_prev_12m"].where(ka["revenue_prev_12m"] > 0)
        ka["revenue_change"] = ka["revenue_12m"] / prev - 1
    sort = "rank" if "rank" in ka.columns else ("score" if "score" in ka.columns else None)
    if sort:
        ka = ka.sort_values(sort, ascending=sort == "rank", kind="stable")
    return ka.reset_index(drop=True)


def investment_priorities(table: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """Key accounts to invest in: invest-posture segments, by investment ceiling.

    Returns
    -------
    DataFrame
        Up to ``n`` rows: account_id, name, segment, the measure used (``basis``) and its
        ``amount``; Stars before Developing at equal amount.
    """
    if table.empty:
        return pd.DataFrame()
    basis = next((c for c in ("investment_ceiling", "clv", "revenue_12m") if c in table.columns
                  and table[c].notna().any()), None)
    if basis is None:
        return pd.DataFrame()
    t = table
    if "segment" in t.columns:
        t = t[t["segment"].isin(INVEST_SEGMENTS)]
    t = t.assign(basis=basis, amount=t[basis]).dropna(subset=["amount"])
    t = t.sort_values("amount", ascending=False, kind="stable").head(n)
    return t.reset_index(drop=True)


def flag_heading(code: object) -> str:
    """A red-flag code (``no_decider``) as the heading the account plans use."""
    text = str(code)
    try:  # the account plans' own headings, when that module is present
        from kamlib.planning.relationship import FLAGS
    except ImportError:
        FLAGS = {}
    if text in FLAGS:
        return FLAGS[text]
    return text.replace("_", " ").capitalize() if "_" in text else text


def top_risks(table: pd.DataFrame, red_flags: pd.DataFrame | None = None,
              review: Any = None, n: int = 8, p_alive_below: float = 0.6,
              revenue_drop: float = -0.10) -> pd.DataFrame:
    """The key accounts most at risk and why (see the module docstring for the points).

    Returns
    -------
    DataFrame
        account_id, name, points, at_stake (revenue_12m), signs (a readable list), sorted by
        points × revenue at stake; accounts without any sign are left out.
    """
    if table.empty:
        return pd.DataFrame(columns=["account_id", "name", "points", "at_stake", "signs"])
    signs: dict[str, list[str]] = {a: [] for a in table["account_id"]}
    points = dict.fromkeys(signs, 0)

    def add(acc, text, pts):
        if acc in signs:
            signs[acc].append(text)
            points[acc] += pts

    for r in table.itertuples(index=False):
        d = r._asdict()
        band = str(d.get("health_band", "")).lower()
        if band == "red":
            score = d.get("health")
            add(r.account_id, f"health {score:.0f}/100 (red)" if score is not None
                and not pd.isna(score) else "health red", 3)
        ch = d.get("revenue_change")
        if ch is not None and not pd.isna(ch) and ch <= revenue_drop:
            add(r.account_id, f"revenue {ch:+.0%} on the year before", 2)
        pa = d.get("p_alive")
        if pa is not None and not pd.isna(pa) and pa < p_alive_below:
            add(r.account_id, f"only {pa:.0%} likely still active", 2)
    ftext = _col(red_flags, _FLAG_TEXT)
    if ftext:
        # Falling revenue is judged above from the numbers; the plans' flag would repeat it.
        rf = red_flags[red_flags[ftext].astype(str) != "revenue_declining"]
        for acc, flags in rf.groupby("account_id")[ftext]:
            flags = [flag_heading(f) for f in flags.dropna()]
            if flags:
                add(str(acc), "; ".join(flags[:3]) + (f" (+{len(flags) - 3})" if len(flags) > 3
                                                       else ""), min(len(flags), 3))
    if review is not None and len(getattr(review, "objectives", [])):
        missed = review.objectives[review.objectives["review"] == "missed"]
        for acc, g in missed.groupby("account_id"):
            add(str(acc), f"missed {', '.join(map(str, g['objective']))} target", 1)
    out = table[["account_id"] + [c for c in ("name", "segment", "revenue_12m")
                                  if c in table.columns]].copy()
    out["points"] = out["account_id"].map(points)
    out["signs"] = out["account_id"].map(lambda a: "; ".join(signs[a]))
    out["at_stake"] = out["revenue_12m"].clip(lower=0) if "revenue_12m" in out.columns else 1.0
    out = out[out["points"] > 0]
    out = out.assign(_rank=out["points"] * (out["at_stake"].fillna(0) + 1)).sort_values(
        ["_rank", "account_id"], ascending=[False, True], kind="stable")
    return out.drop(columns="_rank").head(n).reset_index(drop=True)


def segment_overview(data: SummaryData, key_ids: set[str]) -> pd.DataFrame:
    """Accounts, key accounts and money per segment, with the segment's posture."""
    if data.segments is None or "segment" not in data.segments.columns:
        return pd.DataFrame()
    df = data.segments[["account_id", "segment"]].copy()
    if data.features is not None:
        df = df.merge(data.features[[c for c in ("account_id", "revenue_12m", "margin_12m")
                                     if c in data.features.columns]], on="account_id",
                      how="left")
    if data.clv is not None and "clv" in data.clv.columns:
        df = df.merge(data.clv[["account_id", "clv"]], on="account_id", how="left")
    df["is_key"] = df["account_id"].isin(key_ids)
    g = df.groupby("segment")
    out = pd.DataFrame({"accounts": g.size(), "key_accounts": g["is_key"].sum()})
    for c in ("revenue_12m", "margin_12m", "clv"):
        if c in df.columns:
            out[c] = g[c].sum()
    if "revenue_12m" in out.columns:
        out["revenue_share"] = out["revenue_12m"] / out["revenue_12m"].clip(lower=0).sum()
    out = out.reindex([s for s in SEGMENT_ORDER if s in out.index] +
                      [s for s in out.index if s not in SEGMENT_ORDER])
    out["posture"] = [POSTURE.get(s, "") for s in out.index]
    return out.rename_axis("segment").reset_index()


def tier_split(assignment: pd.DataFrame) -> str:
    """' (25 key, 28 key-development)': the tiers behind the resource plan's account count."""
    if "tier" not in assignment.columns or assignment.empty:
        return ""
    n = assignment["tier"].value_counts()
    order = [t for t in ("key", "key-development", "managed", "long-tail") if t in n.index]
    order += [t for t in n.index if t not in order]
    return " (" + ", ".join(f"{int(n[t])} {t}" for t in order) + ")"


def segment_count_note(data: SummaryData) -> str:
    """Why the segment counts do not add up to the active accounts (lapsed and old accounts).

    The headline counts accounts that bought in the last twelve months; segmentation also
    places accounts that bought only before that, and leaves out those with no history to judge.
    Without this sentence the two numbers on one page look inconsistent.
    """
    sg, f = data.segments, data.features
    if sg is None or f is None or "segment" not in sg.columns or "revenue_12m" not in f.columns:
        return ""
    df = sg[["account_id", "segment"]].merge(f[["account_id", "revenue_12m"]], on="account_id", how="left")
    placed = df["segment"].notna()
    active = df["revenue_12m"].fillna(0) > 0
    lapsed = int((placed & ~active).sum())
    left_out = int((~placed).sum())
    if not lapsed and not left_out:
        return ""
    parts = [f"The segments hold {int(placed.sum()):,} accounts: the {int((placed & active).sum()):,} "
             "that bought in the last twelve months"]
    if lapsed:
        by = df[placed & ~active]["segment"].value_counts()
        where = ", ".join(f"{n} among {seg}s" if seg in ("Star", "Laggard") else f"{n} among {seg}"
                          for seg, n in by.items())
        parts[-1] += f" and {lapsed:,} that bought only before then ({where})"
    text = parts[0] + "."
    if left_out:
        text += (f" {left_out:,} account{'s' if left_out != 1 else ''} without purchases in the "
                 "period the segmentation looks at " + ("is" if left_out == 1 else "are") +
                 " not segmented.")
    return text


def portfolio_kpis(data: SummaryData, table: pd.DataFrame) -> list[tuple[str, str]]:
    """Headline numbers as (label, value) pairs."""
    cur = data.currency
    k: list[tuple[str, str]] = []
    f = data.features
    if f is not None:
        active = int((f["revenue_12m"] > 0).sum()) if "revenue_12m" in f.columns else len(f)
        k.append(("active accounts (12 m)", f"{active:,}"))
    if not table.empty:
        k.append(("key accounts", f"{len(table):,}"))
    if f is not None and "revenue_12m" in f.columns:
        total = f["revenue_12m"].clip(lower=0).sum()
        k.append(("revenue, last 12 months", money(total, cur)))
        if not table.empty and total > 0:
            share = table["revenue_12m"].clip(lower=0).sum() / total
            k.append(("key accounts' share of revenue", pct(share)))
        if "margin_12m" in f.columns and not table.empty and f["margin_12m"].sum() > 0:
            k.append(("key accounts' share of margin",
                      pct(table["margin_12m"].sum() / f["margin_12m"].clip(lower=0).sum())))
    if "clv" in table.columns and table["clv"].notna().any():
        k.append(("CLV of the key accounts", money(table["clv"].sum(), cur)))
    if "health_band" in table.columns:
        k.append(("key accounts in the red",
                  f"{int((table['health_band'].astype(str).str.lower() == 'red').sum())}"))
    return k


def _lead_text(data: SummaryData, table: pd.DataFrame, seg: pd.DataFrame) -> str:
    parts = []
    f = data.features
    if not table.empty and f is not None and "revenue_12m" in f.columns:
        total = f["revenue_12m"].clip(lower=0).sum()
        share = table["revenue_12m"].clip(lower=0).sum() / total if total else np.nan
        active = int((f["revenue_12m"] > 0).sum())
        parts.append(f"Of {active:,} accounts that bought in the last twelve months, "
                     f"{len(table)} are key accounts; together they bring {pct(share)} of revenue.")
    if not seg.empty and "revenue_share" in seg.columns:
        s = seg.set_index("segment")
        if "Star" in s.index:
            parts.append(f"The {int(s.at['Star', 'accounts'])} Stars hold "
                         f"{pct(s.at['Star', 'revenue_share'])} of revenue")
            if "Laggard" in s.index:
                parts[-1] += (f"; the {int(s.at['Laggard', 'accounts'])} Laggards, "
                              f"{pct(s.at['Laggard', 'revenue_share'])}.")
            else:
                parts[-1] += "."
    return " ".join(parts)


# --------------------------------------------------------------------------- page
def render_summary(data: SummaryData) -> str:
    """The executive summary page as one self-contained HTML string."""
    esc = html.escape
    cur = data.currency
    as_of = data.as_of
    if as_of is None and data.features is not None and "as_of" in data.features.columns:
        as_of = pd.to_datetime(data.features["as_of"]).max()
    as_of_txt = pd.Timestamp(as_of).date().isoformat() if as_of is not None and not pd.isna(
        as_of) else "unknown"
    table = key_account_table(data)
    key_ids = set(table["account_id"]) if not table.empty else set()
    seg = segment_overview(data, key_ids)
    out: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Executive summary – {esc(data.client)}</title>",
        f"<style>{stylesheet()}</style></head><body>",
        "<header class='report'><p class='kicker'>Key account management · executive summary</p>",
        f"<h1>{esc(data.client or 'Portfolio review')}</h1>",
        f"<p class='meta'>Data as of {esc(as_of_txt)} · run {esc(data.run)} · prepared "
        f"{dt.date.today().isoformat()}</p></header>",
    ]
    lead = _lead_text(data, table, seg)
    if lead:
        out.append(f"<p class='lead'>{esc(lead)}</p>")
    kpis = portfolio_kpis(data, table)
    if kpis:
        out.append("<div class='kpis'>" + "".join(
            f"<div class='kpi'><div class='value'>{esc(v)}</div><div class='label'>{esc(k)}"
            "</div></div>" for k, v in kpis) + "</div>")

    # -- portfolio at a glance
    out.append("<section><h2>Portfolio at a glance</h2>")
    if seg.empty:
        out.append(_missing("The portfolio segmentation", "30_segmentation"))
    else:
        out.append(_figure_html(data, "segments", "Share of accounts, revenue and margin by "
                                "segment (last 12 months)."))
        show = pd.DataFrame({
            "Segment": [_seg_badge(s) for s in seg["segment"]],
            "Accounts": seg["accounts"].map("{:,}".format),
            "Key": seg["key_accounts"].astype(int),
        })
        if "revenue_12m" in seg.columns:
            show["Revenue 12 m"] = seg["revenue_12m"].map(lambda v: money(v, cur))
            show["Share"] = seg["revenue_share"].map(pct)
        if "clv" in seg.columns:
            show["CLV"] = seg["clv"].map(lambda v: money(v, cur))
        show["Posture"] = seg["posture"]
        out.append(_table(show, num={"Accounts", "Key", "Revenue 12 m", "Share", "CLV"},
                          raw={"Segment"}))
        note = segment_count_note(data)
        if note:
            out.append(f"<p class='note'>{esc(note)}</p>")
    out.append("</section>")

    # -- key accounts
    out.append("<section class='new-page'><h2>Key accounts</h2>")
    if table.empty:
        out.append(_missing("The key account selection", "10_selection"))
    else:
        out.append(_key_account_html(data, table))
    out.append("</section>")

    # -- where to invest
    out.append("<section class='new-page'><h2>Where to invest</h2>")
    inv = investment_priorities(table)
    if inv.empty:
        out.append(_missing("The investment view (segments and CLV)",
                            "30_segmentation and 20_clv"))
    else:
        label = {"investment_ceiling": "Investment ceiling / year", "clv": "CLV",
                 "revenue_12m": "Revenue 12 m"}[inv["basis"].iat[0]]
        if "segment" in inv.columns and inv["segment"].notna().any():
            out.append("<p>Stars first, then Developing accounts, ranked by the most each is "
                       "worth spending on a year (the investment ceiling from the CLV step). "
                       "Core accounts are maintained efficiently; Laggards are "
                       "streamlined.</p>")
        else:
            out.append("<p>Key accounts ranked by the most each is worth spending on a year. "
                       "Without the portfolio segments (step 30_segmentation) the list cannot "
                       "tell accounts to grow from accounts to maintain: read it with care."
                       "</p>")
        show = pd.DataFrame({
            "Account": _names(inv, data.plan_pages),
            "Segment": [_seg_badge(s) for s in inv.get("segment", [None] * len(inv))],
            label: inv["amount"].map(lambda v: money(v, cur)),
        })
        if "clv" in inv.columns and label != "CLV":
            show["CLV (interval)"] = _clv_text(inv, cur)
        if "revenue_change" in inv.columns:
            show["Revenue trend"] = inv["revenue_change"].map(lambda v: pct(v, signed=True))
        out.append(_table(show, num={label, "CLV (interval)", "Revenue trend"},
                          raw={"Account", "Segment"}))
    out.append("</section>")

    # -- risks
    out.append("<section><h2>Biggest risks</h2>")
    risks = top_risks(table, data.red_flags, data.review)
    sources = []
    if data.health is None:
        sources.append("health scores (40_account_plans)")
    if data.red_flags is None:
        sources.append("relationship red flags (40_account_plans)")
    if data.clv is None:
        sources.append("CLV (20_clv)")
    if table.empty:
        out.append(_missing("The key account selection", "10_selection"))
    elif risks.empty:
        out.append("<p>No warning sign on any key account.</p>")
    else:
        out.append("<p>Key accounts with warning signs, ranked by the weight of the signs "
                   "times the revenue at stake (a red health score weighs most, then falling "
                   "revenue, then each relationship red flag).</p>")
        show = pd.DataFrame({
            "Account": _names(risks, data.plan_pages),
            "Segment": [_seg_badge(s) for s in risks.get("segment", [None] * len(risks))],
            "Revenue at stake": risks["at_stake"].map(lambda v: money(v, cur)),
            "Warning signs": risks["signs"],
        })
        out.append(_table(show, num={"Revenue at stake"}, raw={"Account", "Segment"}))
    if sources:
        out.append(f"<p class='note'>Not checked (missing): {esc(', '.join(sources))}.</p>")
    out.append("</section>")

    # -- resource plan
    out.append("<section class='new-page'><h2>Resource plan</h2>")
    if data.workload is None or data.assignment is None:
        out.append(_missing("The resource plan", "50_portfolio_review"))
    else:
        w, a = data.workload, data.assignment
        changes = int(a["changed"].sum())
        out.append(
            f"<p>{len(a)} accounts{tier_split(a)} shared among {len(w)} account managers, "
            f"{w['hours'].sum():,.0f} hours a year in all (utilisation "
            f"{w['utilisation'].min():.0%}–{w['utilisation'].max():.0%} of capacity). "
            f"{changes} change{'s' if changes != 1 else ''} of owner"
            f"{' proposed' if changes else ': every current relationship is kept'}.</p>")
        out.append(_figure_html(data, "workload", "Hours per account manager by tier, against "
                                "capacity (red) and fair share (black)."))
        out.append(_figure_html(data, "effort", "Share of account-manager hours against share of "
                                "value: does time follow value?"))
        moved = a[a["changed"]]
        if len(moved):
            show = pd.DataFrame({
                "Account": _names(moved.reset_index(drop=True), data.plan_pages),
                "From": moved["previous_manager"].to_numpy(),
                "To": moved["manager"].to_numpy(),
                "Why": moved["reason"].str.replace("moved: ", "", regex=False).to_numpy(),
            })
            out.append("<h3>Proposed changes of owner</h3>")
            out.append(_table(show, raw={"Account"}))
    out.append("</section>")

    # -- review
    out.append("<section><h2>Review of the last plan</h2>")
    rv = data.review
    if rv is None:
        hint = data.baseline_hint or ("This is the first plan: there is no earlier run to "
                                      "review against. At the next quarterly rerun, pass this "
                                      "run as the baseline.")
        out.append(f"<p class='callout'>{esc(hint)}</p>")
    else:
        plan_date = (pd.Timestamp(rv.plan_date).date().isoformat()
                     if rv.plan_date is not None else "unknown date")
        out.append(f"<p>Plan of {esc(plan_date)} reviewed against the data of {esc(as_of_txt)} "
                   f"(from {esc(rv.source)}).</p>")
        if rv.plan_date is not None and rv.as_of is not None and rv.as_of <= rv.plan_date:
            out.append("<p class='callout'>The new data ends where the plan began: nothing "
                       "can have happened yet, so every goal is still open. Rerun on data "
                       "that covers the weeks since the plan.</p>")
        out.append(_figure_html(data, "review", "Objectives and actions of the last plan, by "
                                "outcome."))
        items = "".join(f"<li><b>{int(r.count)}</b> of {int(r.of)} {esc(r.what)}</li>"
                        for r in rv.summary.itertuples() if r.count)
        out.append(f"<ul class='tight'>{items}</ul>")
        late = rv.actions[rv.actions["review"] == "overdue"].sort_values(
            "days_overdue", ascending=False).head(8)
        if len(late):
            names = (dict(zip(data.features["account_id"], data.features["name"]))
                     if data.features is not None and "name" in data.features.columns else {})
            show = pd.DataFrame({"Account": late["account_id"].map(
                                     lambda a: names.get(a, a)).to_numpy(),
                                 "Action": late["action"].to_numpy(),
                                 "Owner": late["owner"].to_numpy(),
                                 "Days overdue": late["days_overdue"].to_numpy()})
            out.append("<h3>Overdue actions</h3>" + _table(show, num={"Days overdue"}))
    out.append("</section>")

    out.append(
        "<footer class='report'>Key accounts are chosen by weighted selection criteria agreed "
        "with management; segments place accounts by value and growth; CLV is the discounted "
        "margin an account is expected to bring. Figures are for the last twelve months to the "
        "data date unless stated. Detailed tables: results.xlsx; the editable plan: "
        "plan_workbook.xlsx.</footer></body></html>")
    return "\n".join(s for s in out if s)


def _names(df: pd.DataFrame, pages: Mapping[str, str]) -> list[str]:
    names = df["name"] if "name" in df.columns else df["account_id"]
    out = []
    for acc, name in zip(df["account_id"], names):
        label = html.escape(str(name if name is not None and not pd.isna(name) else acc))
        link = pages.get(str(acc))
        out.append(f'<a href="{html.escape(link)}">{label}</a>' if link else label)
    return out


def _clv_text(df: pd.DataFrame, cur: str) -> list[str]:
    if "clv_low" in df.columns and "clv_high" in df.columns:
        return [f"{money(c, cur)} ({money(lo)}–{money(hi)})" if not pd.isna(c) else "–"
                for c, lo, hi in zip(df["clv"], df["clv_low"], df["clv_high"])]
    return [money(c, cur) for c in df["clv"]]


def _key_account_html(data: SummaryData, t: pd.DataFrame) -> str:
    cur = data.currency
    show = pd.DataFrame({"#": t["rank"].astype("Int64") if "rank" in t.columns
                         else range(1, len(t) + 1)})
    show["Account"] = _names(t, data.plan_pages)
    if "industry" in t.columns:
        show["Industry"] = t["industry"].to_numpy()
    show["Segment"] = [_seg_badge(s) for s in t["segment"]] if "segment" in t.columns else "–"
    if "score" in t.columns:
        show["Score"] = t["score"].map(lambda v: f"{v:.2f}" if not pd.isna(v) else "–")
    if "revenue_12m" in t.columns:
        show["Revenue 12 m"] = t["revenue_12m"].map(lambda v: money(v, cur))
    if "revenue_change" in t.columns:
        show["Trend"] = t["revenue_change"].map(lambda v: pct(v, signed=True))
    if "clv" in t.columns:
        show["CLV (interval)"] = _clv_text(t, cur)
    if "health_band" in t.columns:
        show["Health"] = [
            _badge(f"{h:.0f}" if "health" in t.columns and not pd.isna(h) else b,
                   f"rag-{str(b).lower()}") if not pd.isna(b) else "–"
            for h, b in zip(t["health"] if "health" in t.columns else t["health_band"],
                            t["health_band"])]
    owner = "manager" if "manager" in t.columns else (
        "account_manager" if "account_manager" in t.columns else None)
    if owner:
        show["Owner"] = t[owner].to_numpy()
    note = ""
    if data.plan_pages:
        note = "<p class='note'>Each name links to the account's plan.</p>"
    return _table(show, num={"#", "Score", "Revenue 12 m", "Trend", "CLV (interval)"},
                  raw={"Account", "Segment", "Health"}, screen_only={"Industry"},
                  nowrap={"Owner"}) + note


# --------------------------------------------------------------------------- notebook glue
TABLE_SOURCES: dict[str, str] = {
    "account_features": "00_intake", "purchase_occasions": "00_intake",
    "account_category_year": "00_intake", "contacts": "00_intake",
    "selection_scores": "10_selection", "key_accounts": "10_selection", "clv": "20_clv",
    "segments": "30_segmentation", "plan_objectives": "40_account_plans",
    "plan_actions": "40_account_plans", "plan_health": "40_account_plans",
    "plan_red_flags": "40_account_plans",
}
"""The tables the portfolio review reads, and the step that writes each."""


def load_tables(step, names=tuple(TABLE_SOURCES)) -> tuple[dict[str, pd.DataFrame | None],
                                                            pd.DataFrame]:
    """Load the tables the portfolio review uses; a missing one is None, not an error.

    Parameters
    ----------
    step : kamlib.step.Step
        The notebook's step (``step.load`` runs earlier notebooks when a table is missing).
    names : sequence of str
        Tables to load.

    Returns
    -------
    tables : dict
        Name to DataFrame, or None when no step produced it.
    status : DataFrame
        One row per table: ``table``, ``rows``, ``from_step`` and ``note`` (what is missing
        and what it costs the review).
    """
    from kamlib.errors import KamError

    tables: dict[str, pd.DataFrame | None] = {}
    rows = []
    for name in names:
        try:
            tables[name] = step.load(name)
            rows.append((name, len(tables[name]), TABLE_SOURCES.get(name, ""), "ok"))
        except KamError:
            tables[name] = None
            rows.append((name, 0, TABLE_SOURCES.get(name, ""),
                         f"missing: run step {TABLE_SOURCES.get(name, '?')}; the sections "
                         "that need it say so"))
    return tables, pd.DataFrame(rows, columns=["table", "rows", "from_step", "note"])


def plan_page_links(run_dir, account_ids, from_summary: str = "summary.html") -> dict[str, str]:
    """Links from the summary page to the account plan pages registered in this run.

    An account's page is the page of step ``40_account_plans`` whose file name is the
    account id (``plans/<account_id>.html``).
    """
    import os
    from pathlib import PurePosixPath

    from kamlib.runner.folder import read_step_records

    ids = {str(a) for a in account_ids}
    here = PurePosixPath(from_summary).parent
    links: dict[str, str] = {}
    for record in read_step_records(Path(run_dir)):
        for page in record.get("pages", []):
            p = PurePosixPath(page["path"])
            if p.stem in ids:
                links[p.stem] = os.path.relpath(str(p), str(here)).replace(os.sep, "/")
    return links


FIGURE_FILES: dict[str, str] = {"segments": "portfolio_split", "workload": "resource_workload",
                                "effort": "effort_vs_value", "review": "plan_review"}
"""Summary section -> the name its figure is saved under (``figures/<name>.png``)."""


def summary_data(tables: Mapping[str, pd.DataFrame | None], *, planner=None, review=None,
                 run_dir=None, figures: Mapping[str, Any] | None = None,
                 **fields: Any) -> SummaryData:
    """:class:`SummaryData` from a run's tables (missing tables stay None).

    Parameters
    ----------
    tables : mapping
        From :func:`load_tables`.
    planner : ResourcePlanner, optional
        The fitted resource plan.
    review : PlanReview, optional
        The plan review.
    run_dir : path, optional
        The run folder: links to the account plan pages registered there are added.
    figures : mapping, optional
        Figures by section (``segments``, ``workload``, ``effort``, ``review``). Without
        one, the PNG the notebook saved as ``figures/<FIGURE_FILES[section]>.png`` in
        ``run_dir`` is embedded (no second drawing); the segment split is drawn here when
        neither exists and segments do.
    **fields
        Other :class:`SummaryData` fields (client, run, currency, baseline_hint ...).
    """
    figs = {k: v for k, v in (figures or {}).items() if v is not None}
    if run_dir is not None:
        for key, name in FIGURE_FILES.items():
            png = Path(run_dir) / "figures" / f"{name}.png"
            if key not in figs and png.exists():
                figs[key] = png
    feats, segs = tables.get("account_features"), tables.get("segments")
    if feats is not None and segs is not None and "segment" in segs.columns:
        from kamlib.figures.portfolio import segment_split_figure

        figs.setdefault("segments", segment_split_figure(feats, segs))
    data = SummaryData(
        features=feats, scores=tables.get("selection_scores"),
        key_accounts=tables.get("key_accounts"), segments=segs, clv=tables.get("clv"),
        health=tables.get("plan_health"), red_flags=tables.get("plan_red_flags"),
        assignment=None if planner is None else planner.assignment_,
        workload=None if planner is None else planner.workload_, review=review,
        figures=figs, **fields)
    if run_dir is not None:
        ids = key_account_table(data)
        data.plan_pages = plan_page_links(run_dir, ids["account_id"] if len(ids) else [])
    return data
