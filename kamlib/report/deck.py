"""``deck.pptx``: the run as slides a consultant presents and edits (python-pptx).

Slides: a title; the executive summary's key figures with the portfolio chart; the segments
with their strategy (the text of the segmentation step and the summary); the key-account
list; one slide per key account (profile figures, relationship status, top objectives, the next
90 days); the review of the last plan when the run had a baseline. Figures are the run's own
PNGs, tables are native PowerPoint tables (editable), every number goes through
:mod:`kamlib.formatting`, and the key figures are the executive summary's
(:func:`kamlib.review.summary.summary_facts`): the deck and the summary cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kamlib import formatting as fmt

DECK_NAME = "deck.pptx"

WIDE = (13.333, 7.5)
"""Slide size in inches (16:9)."""

BRAND = (0x1F, 0x3A, 0x5F)
MAX_LIST_ROWS = 25
"""Rows of the key-account list slide (the rest are in results.xlsx)."""


def _t(value: Any) -> str:
    """A text cell: the value, or the dash when it is missing (None, NaN, pandas NA)."""
    return fmt.DASH if fmt.missing(value) else str(value)


def _read(run_dir: Path, name: str):
    import pandas as pd

    path = run_dir / "tables" / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


class _Deck:
    """A python-pptx presentation with the project's few slide shapes."""

    def __init__(self) -> None:
        from pptx import Presentation
        from pptx.util import Inches

        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(WIDE[0]), Inches(WIDE[1])
        self.inches = Inches

    def _colour(self, run, rgb) -> None:
        from pptx.dml.color import RGBColor

        run.font.color.rgb = RGBColor(*rgb)

    def slide(self, title: str):
        from pptx.util import Pt

        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # title only
        shape = slide.shapes.title
        shape.left, shape.top = self.inches(0.5), self.inches(0.3)
        shape.width, shape.height = self.inches(WIDE[0] - 1), self.inches(0.9)
        shape.text = title
        para = shape.text_frame.paragraphs[0]
        para.alignment = 1  # left
        for run in para.runs:
            run.font.size, run.font.bold = Pt(28), True
            self._colour(run, BRAND)
        return slide

    def text(self, slide, lines: list[str], left: float, top: float, width: float,
             height: float, size: int = 14, bold_first: bool = False) -> None:
        from pptx.util import Pt

        box = slide.shapes.add_textbox(self.inches(left), self.inches(top), self.inches(width),
                                       self.inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run = para.add_run()
            run.text = line
            run.font.size = Pt(size)
            run.font.bold = bold_first and i == 0

    def table(self, slide, header: list[str], rows: list[list[str]], left: float, top: float,
              width: float, size: int = 11, numeric: set[int] | None = None) -> None:
        from pptx.util import Pt

        numeric = numeric or set()
        height = 0.32 * (len(rows) + 1)
        shape = slide.shapes.add_table(len(rows) + 1, len(header), self.inches(left),
                                       self.inches(top), self.inches(width), self.inches(height))
        table = shape.table
        for r, values in enumerate([header, *rows]):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.text = str(value)
                for para in cell.text_frame.paragraphs:
                    para.alignment = 3 if c in numeric else 1  # right / left
                    for run in para.runs:
                        run.font.size = Pt(size)
                        run.font.bold = r == 0
                cell.margin_top = cell.margin_bottom = self.inches(0.03)

    def picture(self, slide, png: Path, left: float, top: float, width: float | None = None,
                height: float | None = None) -> None:
        if png.exists():
            slide.shapes.add_picture(str(png), self.inches(left), self.inches(top),
                                     width=self.inches(width) if width else None,
                                     height=self.inches(height) if height else None)


def _title_slide(deck: _Deck, client: str, as_of: str, run: str, anonymised: bool) -> None:
    slide = deck.prs.slides.add_slide(deck.prs.slide_layouts[0])
    slide.shapes.title.text = f"Key account management: {client}" if client else "Key account management"
    note = " · anonymised" if anonymised else ""
    slide.placeholders[1].text = (f"Data as of {as_of} · run {run} · prepared "
                                  f"{fmt.date(dt.date.today())}{note}")


def _key_figures(deck: _Deck, facts: Any, figures: Path) -> None:
    slide = deck.slide("Key figures")
    if facts.lead:
        deck.text(slide, [facts.lead], 0.5, 1.2, 12.3, 0.9, size=15)
    for i, (label, value) in enumerate(facts.kpis):
        row, col = divmod(i, 2)
        deck.text(slide, [value, label], 0.5 + col * 2.6, 2.2 + row * 1.15, 2.5, 1.1, size=13,
                  bold_first=True)
    deck.picture(slide, figures / "portfolio_split.png", 5.9, 2.2, width=7.0)


def _segment_slide(deck: _Deck, segments, currency: str) -> None:
    """Accounts, revenue and strategy per segment: the summary's table
    (:func:`kamlib.review.summary.segment_overview`), the strategy in the vocabulary's words."""
    if segments is None or not len(segments):
        return
    slide = deck.slide("Segments and their strategy")
    rows = [[_t(r.get("segment")), fmt.count(r.get("accounts")), fmt.count(r.get("key_accounts")),
             fmt.money(r.get("revenue_12m"), currency), _t(r.get("posture"))]
            for _, r in segments.iterrows()]
    deck.table(slide, ["Segment", "Accounts", "Key", "Revenue, last 12 months", "Strategy"],
               rows, 0.5, 1.3, 12.3, size=12, numeric={1, 2, 3})


def _key_account_list(deck: _Deck, table, currency: str) -> None:
    slide = deck.slide("Key accounts")
    rows = []
    for _, r in table.head(MAX_LIST_ROWS).iterrows():
        rows.append([fmt.count(r.get("rank")), _t(r.get("name")), _t(r.get("segment")),
                     fmt.money(r.get("revenue_12m"), currency),
                     fmt.share(r.get("growth_12m"), signed=True),
                     fmt.money(r.get("clv"), currency), fmt.count(r.get("health")),
                     _t(r.get("account_manager"))])
    header = ["#", "Account", "Segment", "Revenue, last 12 months", "Trend", "CLV", "Health",
              "Owner"]
    size = 10 if len(rows) <= 15 else 8
    deck.table(slide, header, rows, 0.5, 1.2, 12.3, size=size, numeric={0, 3, 4, 5, 6})
    if len(table) > MAX_LIST_ROWS:
        deck.text(slide, [f"First {MAX_LIST_ROWS} of {len(table)}; every key account is in "
                          "results.xlsx."], 0.5, 7.0, 12, 0.4, size=10)


def _account_slide(deck: _Deck, profile, objectives, actions, currency: str) -> None:
    p = profile
    slide = deck.slide(_t(p.get("name")))
    facts = [
        ("Segment · tier", f"{_t(p.get('segment'))} · {_t(p.get('tier'))}"),
        ("Revenue, last 12 months", fmt.money(p.get("revenue_12m"), currency)),
        ("Growth on the year before", fmt.share(p.get("growth_12m"), signed=True)),
        ("Margin rate", fmt.share(p.get("margin_pct_12m"), digits=1)),
        ("Share of wallet", fmt.share(p.get("wallet_share"))),
        ("CLV (interval)", f"{fmt.money(p.get('clv'), currency)} "
                           f"({fmt.money_interval(p.get('clv_low'), p.get('clv_high'), currency)})"),
        ("Health", f"{fmt.count(p.get('health'))} ({_t(p.get('health_band'))})"),
        ("Relationship", f"{_t(p.get('stage'))}; {_t(p.get('shape'))}"),
        ("Contacts · roles covered", f"{fmt.count(p.get('n_contacts'))} · "
                                     f"{_t(p.get('roles_covered'))}"),
        ("Owner", _t(p.get("account_manager"))),
    ]
    deck.table(slide, ["Profile", ""], [list(f) for f in facts], 0.5, 1.2, 5.4, size=11)
    year = objectives[objectives["milestone"].astype(str).str.contains("year")] if len(objectives) else objectives
    lines = [f"• {d}" for d in (year if len(year) else objectives)["description"].head(3)]
    deck.text(slide, ["Top objectives", *(lines or ["• none set"])], 6.3, 1.2, 6.5, 2.4, size=12,
              bold_first=True)
    if len(actions):
        rows = [[fmt.date(a.get("due_date")), _t(a.get("action")), _t(a.get("priority"))]
                for _, a in actions.sort_values("due_date").head(5).iterrows()]
        deck.table(slide, ["Due", "Next 90 days", "Priority"], rows, 6.3, 3.8, 6.5, size=10)


def _review_slide(deck: _Deck, review, figures: Path) -> None:
    slide = deck.slide("Review of the last plan")
    counts = review["review"].astype(str).value_counts()
    total = int(counts.sum())
    lines = [fmt.part_of(n, total, "objectives of the last plan") + f": {status}"
             for status, n in counts.items()]
    deck.text(slide, lines, 0.5, 1.3, 5.0, 4.0, size=14)
    deck.picture(slide, figures / "plan_review.png", 5.8, 1.3, width=7.0)


def write_deck(run_dir: Path, client: str = "", currency: str = "",
               anonymised: bool = False) -> Path | None:
    """Write ``deck.pptx`` in ``run_dir`` from its tables and figures; None when the run has
    no key accounts to present (the selection did not run)."""
    from kamlib.review.summary import summary_facts

    run_dir = Path(run_dir)
    key_accounts = _read(run_dir, "key_accounts")
    if key_accounts is None:
        return None
    features = _read(run_dir, "account_features")
    facts = summary_facts(features, _read(run_dir, "selection_scores"), key_accounts,
                          _read(run_dir, "segments"), _read(run_dir, "clv"),
                          _read(run_dir, "plan_health"), _read(run_dir, "plan_red_flags"),
                          currency=currency)
    deck = _Deck()
    figures = run_dir / "figures"
    _title_slide(deck, client, fmt.date(facts.as_of), run_dir.name, anonymised)
    _key_figures(deck, facts, figures)
    _segment_slide(deck, facts.segments, currency)
    _key_account_list(deck, facts.key_accounts, currency)
    profiles = _read(run_dir, "plan_profile")
    objectives, actions = _read(run_dir, "plan_objectives"), _read(run_dir, "plan_actions")
    if profiles is not None:
        for _, profile in profiles.iterrows():
            aid = profile["account_id"]
            objs = objectives[objectives["account_id"] == aid] if objectives is not None else None
            acts = actions[actions["account_id"] == aid] if actions is not None else None
            _account_slide(deck, profile, objs if objs is not None else profiles.iloc[0:0],
                           acts if acts is not None else profiles.iloc[0:0], currency)
    review = _read(run_dir, "objective_review")
    if review is not None and len(review):
        _review_slide(deck, review, figures)
    path = run_dir / DECK_NAME
    deck.prs.save(str(path))
    return path
