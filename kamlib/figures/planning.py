"""Figures of the account plans.

Two kinds:

- small inline SVGs for the printable plan pages (:func:`relationship_map_svg`,
  :func:`category_trend_svg`): written directly as SVG text, because a page per key account
  would otherwise spend most of its time in matplotlib, and vector graphics print sharply;
- matplotlib figures for the notebook (:func:`relationship_map`, :func:`category_trend`,
  :func:`health_overview`, :func:`whitespace_by_category`).
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from kamlib.figures import PALETTE, money_axis
from kamlib.formatting import money
from kamlib.planning._common import records
from kamlib.planning.health import HEALTH_BANDS
from kamlib.vocabulary import AMBER, DMU_ROLE_ABBREVIATIONS, GREEN, RED, RED_FLAGS, UNKNOWN_BAND

ROLE_ABBR: dict[str, str] = DMU_ROLE_ABBREVIATIONS
"""Short role labels on the relationship map (the vocabulary's)."""


def attitude_colour(att: float) -> str:
    """Hex colour from red (-5, hostile) over grey (0) to green (+5, champion); grey if unknown."""
    if att is None or att != att:
        return "#9e9e9e"
    t = float(np.clip(att / 5.0, -1, 1))
    grey = np.array([176, 176, 176])
    end = np.array([198, 40, 40]) if t < 0 else np.array([46, 125, 50])
    c = grey + abs(t) * (end - grey)
    return "#" + "".join(f"{int(round(v)):02x}" for v in c)


_JITTER = ((0, 0), (14, 0), (-14, 0), (0, 12), (0, -12), (14, 12), (-14, -12), (14, -12), (-14, 12))


def _wrapped_svg_text(text: str, x: float, y: float, n: int, **attrs: str) -> str:
    """An SVG ``<text>`` of ``text`` wrapped at word ends into lines of about ``n``
    characters (never cut), centred vertically on ``y``; ``attrs`` are its attributes."""
    import textwrap

    lines = textwrap.wrap(text, n, break_long_words=True) or [""]
    first = y - 5 * (len(lines) - 1)
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    more = "".join(f'<tspan x="{x}" dy="10">{escape(line)}</tspan>' for line in lines[1:])
    return f'<text x="{x}" y="{first}"{extra}>{escape(lines[0])}{more}</text>'


def _short_name(name: str) -> str:
    """A label short enough for a map: the whole name up to 14 characters, else the first word
    (pseudonyms like "Contact BVE20" stay whole, so they stay distinct)."""
    return name if len(name) <= 14 else name.split(" ")[0]


def _roles_label(roles: str) -> str:
    return "/".join(ROLE_ABBR.get(r, r) for r in roles.split(";") if r)


def relationship_map_svg(contacts: pd.DataFrame, width: int = 440, height: int = 300) -> str:
    """Relationship map as an inline SVG: power (x) x attitude (y), one dot per contact.

    Dot size grows with relationship strength, colour runs from hostile (red) to champion
    (green), a dashed ring marks a stale contact, and the label gives name and DMU roles.
    Contacts without power or attitude are drawn at the middle of the axis, hollow.
    """
    ml, mr, mt, mb = 44, 12, 14, 34
    pw, ph = width - ml - mr, height - mt - mb

    def x(p):
        return ml + (p - 0.5) / 5.0 * pw

    def y(a):
        return mt + (5.5 - a) / 11.0 * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="Relationship map: power versus attitude" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="10">']
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{y(0) - mt:.1f}" fill="#eef6ee"/>')
    out.append(f'<rect x="{ml}" y="{y(0):.1f}" width="{pw}" height="{mt + ph - y(0):.1f}" fill="#fbeeee"/>')
    out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888" stroke-width="0.8"/>')
    out.append(f'<line x1="{x(3):.1f}" x2="{x(3):.1f}" y1="{mt}" y2="{mt + ph}" stroke="#ccc" stroke-dasharray="3,3"/>')
    for p in range(1, 6):
        out.append(f'<text x="{x(p):.1f}" y="{mt + ph + 13}" text-anchor="middle" fill="#555">{p}</text>')
    for a in (-5, 0, 5):
        out.append(f'<text x="{ml - 6}" y="{y(a) + 3:.1f}" text-anchor="end" fill="#555">{a:+d}</text>')
    out.append(f'<text x="{ml + pw / 2:.0f}" y="{height - 4}" text-anchor="middle" fill="#333">power in the decision</text>')
    out.append(f'<text transform="translate(11,{mt + ph / 2:.0f}) rotate(-90)" text-anchor="middle" fill="#333">attitude to us</text>')
    out.append(f'<text x="{ml + pw - 4}" y="{mt + 11}" text-anchor="end" fill="#2e7d32">allies</text>')
    out.append(f'<text x="{ml + pw - 4}" y="{mt + ph - 4}" text-anchor="end" fill="#c62828">risks</text>')
    if contacts is None or len(contacts) == 0:
        out.append(f'<text x="{ml + pw / 2:.0f}" y="{mt + ph / 2:.0f}" text-anchor="middle" fill="#555" '
                   f'font-size="12">No contacts recorded for this account</text>')
    else:
        # small deterministic jitter so contacts with the same power and attitude don't hide each other
        seen: dict[tuple, int] = {}
        placed: list[tuple[float, float, float, float]] = []  # label boxes already drawn

        def free(x0, y0, x1, y1):
            inside = x0 >= 2 and x1 <= width - 2 and y0 >= 0 and y1 <= mt + ph
            return inside and all(x1 < a0 or x0 > a1 or y1 < b0 or y0 > b1 for a0, b0, a1, b1 in placed)

        dots = []
        for r in records(contacts):
            p = r["power"] if r["power"] == r["power"] else 3.0
            a = r["attitude"] if r["attitude"] == r["attitude"] else 0.0
            n = seen.get((p, a), 0)
            seen[(p, a)] = n + 1
            dx, dy = _JITTER[n % len(_JITTER)]
            s = r["relationship_strength"] if r["relationship_strength"] == r["relationship_strength"] else 0
            dots.append((r, x(p) + dx, y(a) + dy, 4 + 1.6 * s))
        # labels must not cover any dot either
        placed.extend((cx - rad, cy - rad, cx + rad, cy + rad) for _, cx, cy, rad in dots)
        for r, cx, cy, rad in dots:
            known = r["power"] == r["power"] and r["attitude"] == r["attitude"]
            fill = attitude_colour(r["attitude"]) if known else "none"
            dash = ' stroke-dasharray="2,2"' if r["stale"] else ""
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{rad:.1f}" fill="{fill}" fill-opacity="0.85" '
                       f'stroke="#333" stroke-width="1"{dash}><title>{escape(str(r["contact_name"]))}</title></circle>')
            raw = _short_name(str(r["contact_name"]))
            roles = _roles_label(r["dmu_roles"])
            raw += f" ({roles})" if roles else ""
            w = 5.6 * len(raw)
            # try right, left, above, below, then further out; take the first free spot
            spots = [(cx + rad + 2, cy + 3, "start"), (cx - rad - 2, cy + 3, "end"),
                     (cx, cy - rad - 3, "middle"), (cx, cy + rad + 10, "middle"),
                     (cx + rad + 2, cy - 9, "start"), (cx + rad + 2, cy + 15, "start"),
                     (cx - rad - 2, cy - 9, "end"), (cx - rad - 2, cy + 15, "end")]
            for tx, ty, anchor in spots + [spots[0]]:
                x0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
                box = (x0, ty - 9, x0 + w, ty + 2)
                if free(*box):
                    break
            placed.append(box)
            out.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" fill="#222">{escape(raw)}</text>')
    out.append("</svg>")
    return "".join(out)


def category_trend_svg(trend: pd.DataFrame, width: int = 440, max_categories: int = 8) -> str:
    """Revenue by category in the three trailing 12-month windows, as an inline SVG.

    One row per category (largest last-12-month revenue first, the rest summed as "other"),
    three bars each: two and one years before (light) and the last 12 months (dark).
    """
    if trend is None or len(trend) == 0:
        return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 440 40" width="440" height="40" '
                'font-family="Helvetica, Arial, sans-serif" font-size="11"><text x="4" y="24" fill="#555">'
                'No purchases in the last three years</text></svg>')
    rows = sorted(records(trend[["category", "revenue_0", "revenue_1", "revenue_2"]]),
                  key=lambda r: -r["revenue_0"])
    if len(rows) > max_categories:
        rest = rows[max_categories - 1:]
        rows = rows[: max_categories - 1] + [dict(
            category=f"other ({len(rest)})",
            **{k: sum(r[k] for r in rest) for k in ("revenue_0", "revenue_1", "revenue_2")})]
    label_w, row_h, bar_h = 140, 30, 7
    height = 22 + row_h * len(rows) + 18
    vmax = max(max(r[k] for k in ("revenue_0", "revenue_1", "revenue_2")) for r in rows) or 1.0
    pw = width - label_w - 60
    colours = (("revenue_2", "#cfd8dc"), ("revenue_1", "#90a4ae"), ("revenue_0", "#1565c0"))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="Revenue by category and year" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="10">']
    lx = label_w
    for lab, (_, col) in zip(("2 years ago", "last year", "last 12 months"), colours):
        out.append(f'<rect x="{lx}" y="4" width="9" height="9" fill="{col}"/>'
                   f'<text x="{lx + 12}" y="12" fill="#333">{lab}</text>')
        lx += 95
    for i, r in enumerate(rows):
        y0 = 22 + i * row_h
        out.append(_wrapped_svg_text(str(r["category"]), label_w - 6, y0 + 12, 24,
                                     text_anchor="end", fill="#222"))
        for j, (col, colour) in enumerate(colours):
            v = max(float(r[col]), 0.0)
            out.append(f'<rect x="{label_w}" y="{y0 + j * (bar_h + 1)}" width="{pw * v / vmax:.1f}" '
                       f'height="{bar_h}" fill="{colour}"/>')
        v0 = float(r["revenue_0"])
        txt = escape(money(v0))
        out.append(f'<text x="{label_w + pw * max(v0, 0) / vmax + 4:.1f}" y="{y0 + 2 * (bar_h + 1) + 6}" '
                   f'fill="#1565c0">{txt}</text>')
    out.append("</svg>")
    return "".join(out)


def target_bridge_svg(bridge: pd.DataFrame, width: int = 440) -> str:
    """The bridge from this year's revenue to the target as an inline SVG waterfall: the
    baseline bar, one floating bar per step (only the steps that add something), the target.

    ``bridge`` is one account's rows of ``plan_target_bridge``; the target bar is the last
    running total, so the picture adds up exactly as the table does.
    """
    if bridge is None or len(bridge) == 0:
        return ""
    rows = [r for r in records(bridge) if r["step"] == "baseline" or abs(float(r["amount"])) > 0]
    bars = [(str(r["step"]), float(r["running_total"]) - float(r["amount"]), float(r["running_total"]),
             float(r["amount"])) for r in rows]
    total = float(bridge["running_total"].iloc[-1])
    bars.append(("target", 0.0, total, total))
    label_w, row_h = 120, 22
    height = 8 + row_h * len(bars) + 8
    vmax = max(max(b[1], b[2]) for b in bars) or 1.0
    vmin = min(0.0, *(min(b[1], b[2]) for b in bars))
    pw = width - label_w - 70

    def x(v: float) -> float:
        return label_w + pw * (v - vmin) / (vmax - vmin)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="Bridge from this year\'s revenue to the target" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="10">']
    for i, (step, lo, hi, amount) in enumerate(bars):
        y0 = 8 + i * row_h
        a, b = sorted((lo, hi))
        colour = "#90a4ae" if step == "baseline" else "#1565c0" if step == "target" else \
            "#2e7d32" if amount >= 0 else "#c62828"
        out.append(f'<text x="{label_w - 6}" y="{y0 + 12}" text-anchor="end" fill="#222">'
                   f'{escape(step)}</text>')
        out.append(f'<rect x="{x(a):.1f}" y="{y0 + 2}" width="{max(x(b) - x(a), 1.0):.1f}" '
                   f'height="{row_h - 8}" fill="{colour}"/>')
        sign = "+" if step not in ("baseline", "target") and amount >= 0 else ""
        out.append(f'<text x="{x(b) + 4:.1f}" y="{y0 + 12}" fill="#333">{sign}{escape(money(amount))}</text>')
    out.append("</svg>")
    return "".join(out)


# --- matplotlib figures for the notebook -----------------------------------------------------

def relationship_map(contacts: pd.DataFrame, title: str = "", ax=None):
    """Matplotlib relationship map of one account (power x attitude, size = strength).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 4.0), layout="constrained")
    else:
        fig = ax.figure
    ax.axhspan(0, 5.6, color="#eef6ee", zorder=0)
    ax.axhspan(-5.6, 0, color="#fbeeee", zorder=0)
    ax.axhline(0, color="#888", lw=0.8)
    if len(contacts):
        p = contacts["power"].fillna(3.0)
        a = contacts["attitude"].fillna(0.0)
        s = contacts["relationship_strength"].fillna(0.0)
        cols = [attitude_colour(v) for v in contacts["attitude"]]
        ax.scatter(p, a, s=40 + 45 * s, c=cols, edgecolors=["#333"] * len(p),
                   linestyles=["--" if st else "-" for st in contacts["stale"]], zorder=3)
        for pi, ai, nm, rl in zip(p, a, contacts["contact_name"], contacts["dmu_roles"]):
            lab = _short_name(str(nm)) + (f" ({_roles_label(rl)})" if rl else "")
            ax.annotate(lab, (pi, ai), xytext=(7, 3), textcoords="offset points", fontsize=8)
    else:
        ax.text(3, 0.5, RED_FLAGS["no_contacts"], ha="center", fontsize=10, color="#555")
    ax.set_xlim(0.5, 5.8)
    ax.set_ylim(-5.6, 5.6)
    ax.set_xlabel("power in the decision (1-5)")
    ax.set_ylabel("attitude to us (-5..+5)")
    ax.grid(False)
    ax.set_title(title or "Relationship map", loc="left")
    return fig


def category_trend(trend: pd.DataFrame, title: str = "", ax=None, max_categories: int = 8):
    """Matplotlib grouped bars: revenue by category in the three trailing 12-month windows."""
    import matplotlib.pyplot as plt

    t = trend.sort_values("revenue_0", ascending=False).head(max_categories)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 0.45 * max(len(t), 2) + 1.0), layout="constrained")
    else:
        fig = ax.figure
    yy = np.arange(len(t))
    for j, (col, colour, lab) in enumerate((("revenue_2", "#cfd8dc", "2 years ago"),
                                            ("revenue_1", "#90a4ae", "last year"),
                                            ("revenue_0", "#1565c0", "last 12 months"))):
        ax.barh(yy + (j - 1) * 0.27, t[col], height=0.26, color=colour, label=lab)
    ax.set_yticks(yy, t["category"].astype(str))
    ax.invert_yaxis()
    ax.set_xlabel("revenue")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title or "Revenue by category", loc="left")
    return fig


BAND_COLOURS: dict[str, str] = {RED: PALETTE["bad"], AMBER: "#f9a825", GREEN: PALETTE["good"],
                                UNKNOWN_BAND: PALETTE["neutral"]}


def health_overview(health: pd.DataFrame, profile: pd.DataFrame,
                    bands: tuple[float, float] = HEALTH_BANDS,
                    max_accounts: int = 40):
    """Horizontal bars of the key accounts' health scores, coloured by band, worst first."""
    import matplotlib.pyplot as plt

    h = health.merge(profile[["account_id", "name"]], on="account_id").sort_values("score").head(max_accounts)
    fig, ax = plt.subplots(figsize=(7.0, 0.22 * max(len(h), 4) + 1.2), layout="constrained")
    ax.barh(np.arange(len(h)), h["score"].fillna(0), color=[BAND_COLOURS[b] for b in h["band"]])
    # say what drags each score down: that is what the account team has to work on
    for i, (sc, wk) in enumerate(zip(h["score"].fillna(0), h["weakest"])):
        if wk:
            ax.text(sc + 1, i, f"weakest: {wk.replace('_', ' ')}", va="center", fontsize=6.5, color="#555")
    ax.set_yticks(np.arange(len(h)), [str(n)[:28] for n in h["name"]], fontsize=7)
    ax.invert_yaxis()
    for b in bands:
        ax.axvline(b, color="#555", lw=0.8, ls=":")
    ax.set_xlim(0, 100)
    ax.set_xlabel("health score (0-100)")
    shown = "" if len(health) <= max_accounts else f" (weakest {max_accounts} of {len(health)})"
    ax.set_title(f"Key-account health{shown}", loc="left")
    return fig


def plans_health(plans, max_accounts: int = 40):
    """:func:`health_overview` of the drafted plans (a :class:`kamlib.planning.PlanningResult`),
    with the health bands they were scored with."""
    return health_overview(plans.health, plans.profile, bands=plans.health_bands, max_accounts=max_accounts)


def whitespace_by_category(whitespace: pd.DataFrame, top: int = 12, currency: str = ""):
    """Bars of total whitespace potential by category across the key accounts."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.2), layout="constrained")
    if len(whitespace) == 0:
        ax.text(0.5, 0.5, "No whitespace found", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    g = whitespace.groupby("category").agg(potential=("potential", "sum"), accounts=("account_id", "nunique"))
    g = g.sort_values("potential", ascending=False).head(top)
    ax.bar(g.index.astype(str), g["potential"], color=PALETTE["primary"])
    money_axis(ax.yaxis, currency)
    for i, (v, n) in enumerate(zip(g["potential"], g["accounts"])):
        ax.annotate(f"{n} acc.", (i, v), ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel("estimated potential a year")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    for lab in ax.get_xticklabels():
        lab.set_horizontalalignment("right")
    ax.set_title("Whitespace potential by category (key accounts)", loc="left")
    return fig
