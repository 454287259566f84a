"""Every file two quarters of a hostile client's runs write, checked whole.

The client of tests/runner/test_run_hostile.py (hostile ids, names, a manager, a category,
contact names) also sends the optional plan tables (opportunities, competitors, the account
strategy, the account team) with hostile free text in every text column, a hostile client name,
and rows that are set aside carrying formulas. Its first run is cut a quarter early (intake's
``as_of``); the plan workbook is then edited with hostile text (an owner, a hand-typed action,
a note) and the second run rolls the plan forward with the first as its baseline, with
hostile text in parameters the pages show (the 5P dimensions' names, an include reason).

Over every file both runs write: nothing outside the run folders; every page (plans,
key_accounts.html, the customer packs, history, summary, step pages) free of the client's
markup; every workbook free of formulas and links from client text; the deck's text plain
and its only links none; every calendar a list of known properties; every CSV free of a cell
a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import tests.runner.test_run_hostile as hostile
from kamlib.formatting import EXCEL_TEXT_AS_TEXT
from kamlib.report.plan_workbook import WORKBOOK_NAME
from kamlib.runner import run_engagement
from kamlib.sample import write_sample
from kamlib.sample.plan_edits import edit_plan_workbook
from kamlib.sample.writer import write_tables

PLAN_TEXTS = (
    hostile.SCRIPT, *hostile.FORMULAS, "\t=1+2 tab", "\r=3+4 cr", '=HYPERLINK("http://evil-plan","x")',
    '<a href="javascript:alert(1)">j</a>', "W" * 250 + " <evil>long</evil>",
)
CLIENT = '=HYPERLINK("http://evil-client") <evil>client</evil>'
ASIDE = ("=cmd|' /C calc'!A9", "@SUM(9) aside", "+9+9 aside", "-9+9 aside", "\t=9 aside")
EDIT_OWNER = "=HYPERLINK(\"http://evil-owner\")"
EDIT_ACTION = "+cmd|' /C calc'!A2 <evil>hand</evil>"
FIVE_P = "<script>alert(1)</script>5P <img src=x onerror=alert(1)>"
REASON = "=cmd|' /C calc'!A0 <evil>reason</evil>"
HOSTILE_PARAMETERS = {  # text parameters the pages and workbooks show, given on the command line
    "account_plans.five_p": json.dumps([FIVE_P, "Power", "Priorities", "Perception", "Proximity"]),
    "selection.include": json.dumps({"x y <evil>z</evil>": REASON}),
}
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?$")


def _cycle(n: int, offset: int = 0) -> list[str]:
    return [PLAN_TEXTS[(i + offset) % len(PLAN_TEXTS)] for i in range(n)]


def _plan_inputs(tables: dict[str, pd.DataFrame]) -> None:
    """Hostile text in every free-text column of the optional plan tables (in place); the
    keys stay unique (the hostile text leads, a number follows where texts repeat)."""
    opp = tables["opportunities"]
    opp["name"] = [f"{t} {i}" if i >= len(PLAN_TEXTS) else t for i, t in enumerate(_cycle(len(opp)))]
    opp["owner"] = _cycle(len(opp), 1)
    opp["category"] = _cycle(len(opp), 2)
    comp = tables["competitors"]
    comp["competitor"] = [f"{t} {i}" for i, t in enumerate(_cycle(len(comp), 3))]
    comp["position"] = _cycle(len(comp), 4)
    comp["scope"] = _cycle(len(comp), 5)
    strat = tables["account_strategy"]
    strat["text"] = [f"{t} {i}" for i, t in enumerate(_cycle(len(strat), 6))]
    strat["source"] = _cycle(len(strat), 7)
    team = tables["account_team"]
    team["person"] = [f"{t} {i}" for i, t in enumerate(_cycle(len(team), 8))]


def _set_aside_rows(tables: dict[str, pd.DataFrame]) -> None:
    """Invoice lines and a contact the checks set aside, carrying formula-led text."""
    lines = tables["transactions"]
    bad = lines.head(len(ASIDE)).copy()
    bad["account_id"] = list(ASIDE)  # no such account
    bad["category"] = list(ASIDE)
    bad["invoice_id"] = [f"{a} inv" for a in ASIDE]
    tables["transactions"] = pd.concat([lines, bad], ignore_index=True)
    contacts = tables["contacts"]
    extra = contacts.head(1).copy()
    extra["account_id"], extra["name"], extra["contact_id"] = ASIDE[0], ASIDE[1], ASIDE[2]
    tables["contacts"] = pd.concat([contacts, extra], ignore_index=True)


def _export_plan_inputs(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """The plan inputs as a client's spreadsheet exports them: every CSV text field quoted (the
    sample writer leaves a lone CR unquoted), the Excel file's text as text cells."""
    for name in ("opportunities", "competitors", "account_team"):
        path, df = folder / f"{name}.csv", tables[name].copy()
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = df[col].dt.strftime("%Y-%m-%d")
        df.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    # text cells that begin with "=" stay text (openpyxl, the sample's writer, makes formulas)
    with pd.ExcelWriter(folder / "account_strategy.xlsx", engine="xlsxwriter",
                        engine_kwargs={"options": EXCEL_TEXT_AS_TEXT}) as xl:
        tables["account_strategy"].to_excel(xl, sheet_name="account_strategy", index=False)


def _edit_plan(workbook: Path) -> None:
    """The account managers' quarter, then hostile text typed into the plan workbook as text
    cells (an owner, a note, an action of their own)."""
    from openpyxl import load_workbook

    edit_plan_workbook(workbook, seed=1)
    book = load_workbook(workbook)
    sheet = book["Actions"]
    header = [c.value for c in sheet[1]]
    hand = [c.value for c in sheet[2]]
    hand[header.index("action_id")] = None
    hand[header.index("action")] = EDIT_ACTION
    hand[header.index("status")] = "open"
    sheet.append(hand)
    for row, col, text in ((2, "owner", EDIT_OWNER), (3, "note", hostile.SCRIPT),
                           (sheet.max_row, "owner", EDIT_OWNER)):
        if col in header:
            cell = sheet.cell(row, header.index(col) + 1)
            cell.value, cell.data_type = text, "s"  # text as a manager types it, not a formula
    sheet.cell(sheet.max_row, header.index("action") + 1).data_type = "s"
    book.save(workbook)


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-q") / "area"
    base.mkdir()
    client, reports = base / "client", base / "reports"
    write_sample(client, n_accounts=60, seed=7, client=CLIENT)
    tables = hostile._hostile_tables()
    _plan_inputs(tables)
    _set_aside_rows(tables)
    write_tables(tables, client)
    _export_plan_inputs(tables, client)
    reports.mkdir()
    before, parent_before = hostile._listing(base), set(os.listdir(base.parent))
    quiet = dict(progress=False, echo=lambda _m: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_REPORTS_DIR", str(reports))
        first = run_engagement(client, overrides={"intake.as_of": "2026-03-31"}, label="q1", **quiet)
        assert first.exit_code == 0, first.message
        _edit_plan(first.run_dir / WORKBOOK_NAME)
        after_edit = hostile._listing(base)
        second = run_engagement(client, overrides=HOSTILE_PARAMETERS,
                                typed={"baseline": str(first.run_dir)}, label="q2", **quiet)
        assert second.exit_code == 0, second.message
    return {"base": base, "runs": [first.run_dir, second.run_dir], "before": before,
            "after_edit": after_edit, "parent_before": parent_before}


def _files(quarters, suffix: str) -> list[Path]:
    return sorted(p for run in quarters["runs"] for p in run.rglob(f"*{suffix}"))


def test_nothing_is_written_outside_the_two_run_folders(quarters):
    base = quarters["base"]
    rels = [r.relative_to(base) for r in quarters["runs"]]
    allowed = {str(p) for r in rels for p in (r, *r.parents)}
    new = hostile._listing(base) - quarters["before"]
    outside = sorted(p for p in new if p not in allowed
                     and not any(p.startswith(f"{r}{os.sep}") for r in rels))
    assert not outside, outside
    assert set(os.listdir(base.parent)) == quarters["parent_before"]


def test_the_runs_wrote_every_kind_of_output(quarters):
    """The checks below look at these files: a missing kind would pass them vacuously."""
    first, second = quarters["runs"]
    for run in (first, second):
        html = run / "html"
        assert (html / "key_accounts.html").exists()
        assert len(list((html / "customer").glob("*.html"))) >= 6
        assert len(list((html / "plans").glob("*.ics"))) >= 6
        assert (run / "deck.pptx").exists()
        assert {"results.xlsx", WORKBOOK_NAME} <= {p.name for p in run.glob("*.xlsx")}
        assert list(run.rglob("set_aside/*.csv"))
    assert (second / "html" / "history.html").exists()
    kinds = {p.suffix for run in (first, second) for p in run.rglob("*") if p.is_file()}
    assert kinds <= {".html", ".xlsx", ".pptx", ".ics", ".csv", ".parquet", ".png", ".json",
                     ".yml", ".ipynb", ".css", ".md", ".txt"}, kinds


def test_every_file_name_is_portable_and_packs_match_plans(quarters):
    for run in quarters["runs"]:
        for path in run.rglob("*"):
            for part in path.relative_to(run).parts:
                assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", part) and len(part) <= 80, path
        packs = {p.name for p in (run / "html" / "customer").glob("*.html")}
        plans = {p.name for p in (run / "html" / "plans").glob("*.html")}
        assert packs and packs <= plans  # one pack per planned account, by the same safe name


def test_no_page_of_either_quarter_carries_markup(quarters):
    pages = _files(quarters, ".html")
    bad = {}
    for page in pages:
        parsed = hostile._parse(page.read_text(encoding="utf-8"))
        found = [f"<{t} onerror>" for t, a in parsed.tags if "onerror" in a]
        found += [f"<{t}>" for t, a in parsed.tags if t == "evil"]
        found += ["script alert(1)" for s in parsed.scripts if "alert(1)" in s]
        found += [f"<{t} {v}>" for t, a in parsed.tags for v in a.values()
                  if v and v.strip().lower().startswith("javascript:")]
        found += [f"<a href={a['href']}>" for t, a in parsed.tags
                  if t == "a" and "//evil" in (a.get("href") or "")]
        if found:
            bad[str(page)] = sorted(set(found))
    assert not bad, bad


def test_plan_inputs_show_as_text_on_the_plan_pages_and_packs(quarters):
    run = quarters["runs"][1]
    texts = {folder: "".join("".join(hostile._parse(p.read_text(encoding="utf-8")).text)
                             for p in (run / "html" / folder).glob("*.html"))
             for folder in ("plans", "customer")}
    for needle in (hostile.SCRIPT, '=HYPERLINK("http://evil-plan","x")', "<evil>long</evil>"):
        assert needle in texts["plans"], needle
    key_accounts = "".join(hostile._parse(
        (run / "html" / "key_accounts.html").read_text(encoding="utf-8")).text)
    assert hostile.SCRIPT in key_accounts
    summary = "".join(hostile._parse((run / "html" / "summary.html").read_text("utf-8")).text)
    assert CLIENT in summary


def test_hostile_parameter_text_shows_as_text(quarters):
    run = quarters["runs"][1]
    plans = "".join("".join(hostile._parse(p.read_text(encoding="utf-8")).text)
                    for p in (run / "html" / "plans").glob("*.html"))
    assert FIVE_P in plans
    texts = {c.value for c in hostile._cells(run / "results.xlsx") if c.data_type == "s"}
    assert REASON in texts


def test_no_workbook_of_either_quarter_holds_a_formula_or_link(quarters):
    books = _files(quarters, ".xlsx")
    assert len(books) >= 4
    for book in books:
        formulas, links = [], []
        for cell in hostile._cells(book):
            if cell.data_type == "f":
                formulas.append(f"{cell.parent.title}!{cell.coordinate}: {cell.value}")
            if cell.hyperlink is not None and not hostile._contents_link(cell):
                links.append(f"{cell.parent.title}!{cell.coordinate}")
        assert not formulas, (str(book), len(formulas), formulas[:5])
        assert not links, (str(book), len(links), links[:5])


def test_the_edited_plans_hostile_text_rolls_forward_as_text(quarters):
    second = quarters["runs"][1]
    texts = {c.value for c in hostile._cells(second / WORKBOOK_NAME) if c.data_type == "s"}
    assert EDIT_OWNER in texts and EDIT_ACTION in texts
    assert any(str(t).startswith('=HYPERLINK("http://evil-plan"') for t in texts)


def _deck_runs(path: Path):
    from pptx import Presentation

    def shapes(container):
        for shape in container.shapes:
            yield shape
            if shape.shape_type == 6:  # a group
                yield from shapes(shape)

    for slide in Presentation(path).slides:
        for shape in shapes(slide):
            frames = [shape.text_frame] if shape.has_text_frame else []
            if getattr(shape, "has_table", False) and shape.has_table:
                frames += [c.text_frame for row in shape.table.rows for c in row.cells]
            for frame in frames:
                for para in frame.paragraphs:
                    yield from para.runs
            if shape.click_action.hyperlink.address:
                yield shape


def test_the_deck_holds_text_and_no_link(quarters):
    from zipfile import ZipFile

    for run in quarters["runs"]:
        deck = run / "deck.pptx"
        texts, links = [], []
        for item in _deck_runs(deck):
            link = item.hyperlink.address if hasattr(item, "hyperlink") else "shape link"
            if link:
                links.append(link)
            texts.append(getattr(item, "text", ""))
        assert not links, links
        with ZipFile(deck) as zf:  # no relationship of the deck points outside it
            rels = "".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".rels"))
        assert 'TargetMode="External"' not in rels
        assert any(CLIENT in t for t in texts)
        assert any(hostile.SCRIPT in t for t in texts)


_ICS_NAMES = {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME", "UID",
              "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "CATEGORIES", "TRANSP",
              "RRULE"}


def test_every_calendar_is_only_known_properties(quarters):
    calendars = _files(quarters, ".ics")
    assert len(calendars) >= 12
    for path in calendars:
        raw = path.read_bytes().decode("utf-8")
        assert "\x00" not in raw
        unfolded = raw.replace("\r\n ", "")
        lines = unfolded.split("\r\n")
        assert lines[-1] == "" and all("\r" not in x and "\n" not in x for x in lines[:-1])
        names = {re.split(r"[:;]", x, maxsplit=1)[0] for x in lines[:-1]}
        assert names <= _ICS_NAMES, (path.name, names - _ICS_NAMES)
        assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT")


def _formula_like(value: str) -> bool:
    return bool(FORMULA_START.match(value)) and not NUMBER.match(value.strip())


def test_no_csv_cell_reads_as_a_formula(quarters):
    """A CSV a consultant or the client opens in a spreadsheet: a cell that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a CR (and is not a number) would be run as a formula
    (CWE-1236); the set-aside rows keep the client's text behind a leading apostrophe."""
    files = _files(quarters, ".csv")
    assert files
    seen = set()
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                bad = [c for c in row if _formula_like(c)]
                assert not bad, (str(path), bad)
                seen |= set(row)
    assert {f"'{a}" for a in ASIDE} & seen  # the client's text, neutralised, not dropped


def test_kam_compare_of_the_two_quarters_escapes_and_stays_beside_them(quarters, capsys):
    """(Runs last: it writes the comparison page beside the second run, as it should.)"""
    from kamlib import cli

    first, second = quarters["runs"]
    listing = set(os.listdir(second.parent))
    assert cli.main(["compare", str(first), str(second)]) == 0
    page = second.parent / f"compare_{first.name}_vs_{second.name}.html"
    assert set(os.listdir(second.parent)) - listing == {page.name}
    parsed = hostile._parse(page.read_text(encoding="utf-8"))
    assert not [t for t, a in parsed.tags if t == "evil" or "onerror" in a]
    assert not [s for s in parsed.scripts if "alert(1)" in s]
    for tag, attrs in parsed.tags:
        href = attrs.get("href") if tag == "a" else None
        if href and not re.match(r"^[a-z]+:|#", href):
            assert (page.parent / href).resolve().is_relative_to(quarters["base"]), href


CONTROL_IDS = ("nul\x00id", "bidi\u202egnp.exe", "\x01ctl\x1b[31m")


def test_ids_with_nul_and_control_characters(tmp_path):
    """A NUL makes a CSV binary (intake says so), so such ids come in Parquet: the run plans
    them under portable names, and no calendar carries a control character."""
    from kamlib.sample import generate_sample
    from kamlib.sample.writer import write_parquet

    client = tmp_path / "client"
    write_sample(client, n_accounts=60, seed=7)
    tables = generate_sample(n_accounts=60, seed=7)
    revenue = tables["transactions"].groupby("account_id")["net_revenue"].sum()
    ids = dict(zip(revenue.sort_values(ascending=False).index, CONTROL_IDS))
    for df in tables.values():
        for col in ("account_id", "parent_id"):
            if col in df.columns:
                df[col] = df[col].map(lambda v: ids.get(v, v))
    for name in ("assessments", "account_strategy"):  # Excel cannot hold these characters
        tables[name] = tables[name][~tables[name]["account_id"].isin(CONTROL_IDS)]
    write_tables(tables, client)
    config = (client / "engagement.yml").read_text(encoding="utf-8")
    for csv_file in sorted(client.glob("*.csv")):
        write_parquet(tables[csv_file.stem], client / f"{csv_file.stem}.parquet", csv_file.stem)
        csv_file.unlink()
        config = config.replace(csv_file.name, f"{csv_file.stem}.parquet")
    (client / "engagement.yml").write_text(config, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_REPORTS_DIR", str(tmp_path / "reports"))
        run = run_engagement(client, progress=False, echo=lambda _m: None)
    assert run.exit_code == 0, run.message
    profile = pd.read_parquet(run.run_dir / "tables" / "plan_profile.parquet")
    assert set(CONTROL_IDS) <= set(profile["account_id"])
    assert set(os.listdir(tmp_path)) == {"client", "reports"}
    for path in run.run_dir.rglob("*"):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", path.name), path
    for calendar in (run.run_dir / "html" / "plans").glob("*.ics"):
        text = calendar.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), calendar.name
