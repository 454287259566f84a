"""End to end: a client's files with hostile ids, names and free text, run through all six
notebooks. Nothing is written outside the run folder, no page carries the client's markup as
markup, no workbook carries the client's text as a formula or a hyperlink -- and the hostile
names still show, as text, where they belong.

One run (module-scoped, into a temporary folder) is shared by every test of this module; the
whole-output checks of tests/runner/test_run_hostile_outputs.py add the optional plan tables
with hostile free text and a second quarter rolled forward from an edited plan workbook.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from kamlib.report.plan_workbook import read_plan_workbook
from kamlib.runner import run_engagement
from kamlib.sample import generate_sample, write_sample
from kamlib.sample.writer import write_tables

SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(1)>"
FORMULAS = ('=HYPERLINK("http://evil")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3")
LONG_ID = "L" * 240 + "-é"
HOSTILE_IDS = ("../../../x", "DE/4711", "a\\b", LONG_ID, "=cmd|' /C calc'!A1",
               "x y <evil>z</evil>")
HOSTILE_NAMES = (SCRIPT, *FORMULAS)
MANAGER = '=HYPERLINK("http://evil-manager")'
CATEGORY = "@SUM(1) <evil>cat</evil> $\\frac{1}{$"  # markup, a formula, broken mathtext
TAG = " <evil>&amp;</evil>"  # appended to every other account's name
TITLE = "-2+3 title"
CLIENT_TEXT = {*HOSTILE_IDS, *HOSTILE_NAMES, MANAGER, CATEGORY, TITLE}


def _hostile_tables() -> dict[str, pd.DataFrame]:
    """The sample company (60 accounts) with its largest accounts' ids and names, a manager,
    a category, contact names and titles replaced by hostile text, consistently in every file;
    every other account's name ends in a made-up tag."""
    tables = generate_sample(n_accounts=60, seed=7)
    revenue = tables["transactions"].groupby("account_id")["net_revenue"].sum()
    top = list(revenue.sort_values(ascending=False).index)
    ids = dict(zip(top, HOSTILE_IDS))
    names = dict(zip(tables["accounts"].set_index("account_id").loc[top[:len(HOSTILE_NAMES)], "name"],
                     HOSTILE_NAMES))
    manager = tables["accounts"]["account_manager"].value_counts().index[0]
    category = tables["transactions"]["category"].value_counts().index[0]
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for col in ("account_id", "parent_id"):
            if col in df.columns:
                df[col] = df[col].map(lambda v: ids.get(v, v))
        for col in ("account_manager", "manager", "owner"):
            if col in df.columns:
                df[col] = df[col].replace({manager: MANAGER})
        if name == "accounts":
            df["name"] = df["name"].map(lambda n: names.get(n, f"{n}{TAG}"))
        if name == "transactions":
            df["category"] = df["category"].replace({category: CATEGORY})
        if name == "contacts":
            first = df.drop_duplicates("account_id").index  # one contact of every account
            df.loc[first, "name"] = [HOSTILE_NAMES[i % len(HOSTILE_NAMES)] for i in range(len(first))]
            df.loc[first, "title"] = TITLE
        out[name] = df
    return out


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile") / "area"  # its parent holds nothing else
    base.mkdir()
    client, reports = base / "client", base / "reports"
    write_sample(client, n_accounts=60, seed=7)
    write_tables(_hostile_tables(), client)
    reports.mkdir()
    before, parent_before = _listing(base), set(os.listdir(base.parent))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_REPORTS_DIR", str(reports))
        result = run_engagement(client, progress=False, echo=lambda _m: None)
    assert result.exit_code == 0, result.message
    return {"base": base, "run": result.run_dir, "before": before,
            "parent_before": parent_before}


def test_nothing_is_written_outside_the_run_folder(hostile_run):
    base, run = hostile_run["base"], hostile_run["run"]
    run_rel = run.relative_to(base)
    allowed = {str(run_rel), *map(str, run_rel.parents)}  # the run folder and its parents
    new = _listing(base) - hostile_run["before"]
    outside = sorted(p for p in new if p not in allowed and not p.startswith(f"{run_rel}{os.sep}"))
    assert not outside, outside
    assert set(os.listdir(base.parent)) == hostile_run["parent_before"]


def test_data_derived_file_names_are_distinct_portable_and_flat(hostile_run):
    plans = hostile_run["run"] / "html" / "plans"
    assert not [p for p in plans.rglob("*") if p.is_dir()]  # DE/4711 makes no sub-folder
    pages = sorted(p.name for p in plans.glob("*.html"))
    calendars = sorted(p.name for p in plans.glob("*.ics"))
    assert len(pages) >= 6
    for name in pages + calendars:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name), name
        assert len(name) <= 80, name
    index = pd.read_parquet(hostile_run["run"] / "tables" / "page_index.parquet") \
        if (hostile_run["run"] / "tables" / "page_index.parquet").exists() else None
    profile = pd.read_parquet(hostile_run["run"] / "tables" / "plan_profile.parquet")
    assert set(HOSTILE_IDS) <= set(profile["account_id"])  # the hostile accounts are planned
    assert len(pages) == len(profile)  # one page each: no two ids share a file
    assert index is None or len(index) == len(profile)


class _Tags(HTMLParser):
    """Every tag, attribute and text of a page; ``srcdoc`` frames are parsed too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if attrs.get("srcdoc"):
            inner = _parse(attrs["srcdoc"])
            self.tags += inner.tags
            self.text += inner.text
            self.scripts += inner.scripts

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def _parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def test_no_page_carries_the_clients_markup(hostile_run):
    pages = sorted(hostile_run["run"].rglob("*.html"))
    assert len(pages) >= 10
    bad = {}
    for page in pages:
        parsed = _parse(page.read_text(encoding="utf-8"))
        found = [f"<{t} onerror>" for t, a in parsed.tags if "onerror" in a]
        found += [f"<{t}>" for t, a in parsed.tags if t == "evil"]  # names, an id, a category
        found += ["script alert(1)" for s in parsed.scripts if "alert(1)" in s]
        if found:
            bad[str(page.relative_to(hostile_run["run"]))] = sorted(set(found))
    assert not bad, bad


@pytest.mark.parametrize("page", ["30_segmentation.html", "summary.html", "40_account_plans.html"])
def test_hostile_names_show_as_text(hostile_run, page):
    parsed = _parse((hostile_run["run"] / "html" / page).read_text(encoding="utf-8"))
    assert SCRIPT in "".join(parsed.text)


def test_the_plan_pages_show_the_hostile_names_and_ids_as_text(hostile_run):
    plans = hostile_run["run"] / "html" / "plans"
    texts = ["".join(_parse(p.read_text(encoding="utf-8")).text) for p in plans.glob("*.html")]
    for needle in (SCRIPT, *FORMULAS, *HOSTILE_IDS, MANAGER):
        assert any(needle in t for t in texts), needle


def test_every_link_between_pages_leads_to_a_file(hostile_run):
    html = hostile_run["run"] / "html"
    for page in (html / "index.html", html / "summary.html", *sorted((html / "plans").glob("*.html"))):
        for tag, attrs in _parse(page.read_text(encoding="utf-8")).tags:
            href = attrs.get("href") if tag == "a" else None
            if href and not re.match(r"^[a-z]+:|#", href):
                target = (page.parent / href.split("#")[0]).resolve()
                assert target.exists(), (page.name, href)
                assert target.is_relative_to(hostile_run["run"]), (page.name, href)
    summary = (html / "summary.html").read_text(encoding="utf-8")
    assert len(re.findall(r'href="plans/[^"]+\.html"', summary)) >= 6  # the key accounts link


def _cells(path: Path):
    from openpyxl import load_workbook

    book = load_workbook(path)  # not data_only: a formula reads as its text with type 'f'
    for ws in book.worksheets:
        for row in ws.iter_rows():
            yield from row


def _contents_link(cell) -> bool:
    """The one kind of link a workbook may hold: the contents sheet's link to one of the
    workbook's own sheets (written by the project, never from client text)."""
    link = cell.hyperlink
    return (cell.parent.title == "contents" and not link.target and link.location is not None
            and link.location == f"'{cell.value}'!A1" and cell.value in cell.parent.parent.sheetnames)


def test_no_workbook_holds_a_formula_or_hyperlink(hostile_run):
    books = sorted(hostile_run["run"].glob("*.xlsx"))
    assert {p.name for p in books} >= {"results.xlsx", "plan_workbook.xlsx"}
    for book in books:
        formulas, links, texts, kinds = [], [], set(), set()
        for cell in _cells(book):
            kinds.add(cell.data_type)
            if cell.data_type == "f":
                formulas.append(f"{cell.parent.title}!{cell.coordinate}: {cell.value}")
            if cell.hyperlink is not None and not _contents_link(cell):
                links.append(f"{cell.parent.title}!{cell.coordinate}")
            if cell.data_type == "s":
                texts.add(cell.value)
        assert not formulas, (book.name, len(formulas), formulas[:5])
        assert not links, (book.name, len(links), links[:5])
        assert "n" in kinds and "s" in kinds  # numbers stay numbers
        if book.name == "results.xlsx":
            assert CLIENT_TEXT - {TITLE} <= texts, CLIENT_TEXT - texts  # as text, unchanged
            assert "d" in kinds  # dates stay dates


def test_the_plan_workbook_reads_back_the_hostile_text(hostile_run):
    run = hostile_run["run"]
    objectives, actions, about = read_plan_workbook(run / "plan_workbook.xlsx")
    saved = pd.read_parquet(run / "tables" / "plan_actions.parquet")
    assert set(HOSTILE_IDS) <= set(actions["account_id"])
    assert sorted(actions["account_id"]) == sorted(saved["account_id"])
    assert sorted(actions["owner"].astype(str)) == sorted(saved["owner"].astype(str))
    assert MANAGER in set(actions["owner"])
    assert set(HOSTILE_IDS) <= set(objectives["account_id"])
