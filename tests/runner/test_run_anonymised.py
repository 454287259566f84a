"""End to end: an anonymised run of all six notebooks leaves no real name anywhere in its folder.

The intake tests check the tables; this checks everything the client could be sent -- the
HTML pages, calendars, both workbooks, every Parquet table, the executed notebooks and the
set-aside rows -- because later steps (plan pages, calendars, cadence) write names of their own.
"""

from __future__ import annotations

import html
import zipfile

import pandas as pd
import pytest

from kamlib.runner import run_engagement
from kamlib.sample import write_sample


def _text(path) -> str:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype("string").fillna("").to_csv(index=False)
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            raw = " ".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    else:
        raw = path.read_bytes().decode("utf-8", "ignore")
    # HTML and XML escape apostrophes and ampersands (O'Connor, Smith & Co)
    return html.unescape(raw)


@pytest.fixture(scope="module")
def anonymised_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client")
    write_sample(folder, n_accounts=60, seed=7)
    result = run_engagement(folder, typed={"anonymise": True}, progress=False, echo=lambda s: None,
                            anonymise_client=True)
    assert result.exit_code == 0, result.message
    return folder, result.run_dir


def test_no_real_name_survives_anywhere_in_an_anonymised_run(anonymised_run):
    folder, run = anonymised_run
    acc = pd.read_csv(folder / "accounts.csv", dtype=str)
    con = pd.read_csv(folder / "contacts.csv", dtype=str)
    real = set(acc["name"].dropna()) | set(acc["account_manager"].dropna())
    real |= set(con["name"].dropna()) | set(con["owner"].dropna())
    real = {n for n in real if len(n) >= 5}  # short fragments would match inside other words
    assert len(real) > 50
    files = [p for p in run.rglob("*") if p.is_file() and p.suffix != ".png"]
    kinds = {p.suffix for p in files}
    assert {".html", ".ics", ".xlsx", ".parquet", ".ipynb"} <= kinds
    leaks = {}
    for p in files:
        t = _text(p)
        found = sorted(n for n in real if n in t)
        if found:
            leaks[str(p.relative_to(run))] = found[:3]
    assert not leaks, leaks


def test_the_anonymised_plan_pages_show_pseudonyms(anonymised_run):
    folder, run = anonymised_run
    pages = sorted((run / "html" / "plans").glob("*.html"))
    assert pages
    text = html.unescape(pages[0].read_text(encoding="utf-8"))
    assert "Account " in text and "Contact " in text


def test_no_real_identifier_survives_in_files_or_file_names(anonymised_run):
    """Account and contact ids are data too: pages, calendars, tables, workbooks, the deck's
    text, file names and objective ids carry pseudonyms (``A-…``, ``P-…``) instead."""
    folder, run = anonymised_run
    acc = pd.read_csv(folder / "accounts.csv", dtype=str)
    con = pd.read_csv(folder / "contacts.csv", dtype=str)
    real = set(acc["account_id"].dropna()) | set(con["contact_id"].dropna())
    real = {i for i in real if len(i) >= 5}
    assert len(real) > 50
    files = [p for p in run.rglob("*") if p.is_file() and p.suffix not in (".png", ".pptx")]
    leaks = {}
    for p in files:
        t = _text(p) + " " + str(p.relative_to(run))
        found = sorted(i for i in real if i in t)
        if found:
            leaks[str(p.relative_to(run))] = found[:3]
    assert not leaks, leaks
    objectives = pd.read_parquet(run / "tables" / "plan_objectives.parquet")
    assert objectives["objective_id"].str.startswith("A-").all()


def test_the_client_name_and_every_page_say_anonymised(anonymised_run):
    import json

    from pptx import Presentation

    folder, run = anonymised_run
    client = __import__("yaml").safe_load((folder / "engagement.yml").read_text())["client"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["anonymised"] == {"names_and_ids": True, "client": True}
    assert manifest["engagement"]["client"].startswith("Client ")
    pages = sorted((run / "html").rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        text = html.unescape(page.read_text(encoding="utf-8"))
        assert "Anonymised run" in text, page.name
        assert client not in text, page.name
    deck = Presentation(str(run / "deck.pptx"))
    deck_text = " ".join(sh.text_frame.text for s in deck.slides for sh in s.shapes
                         if sh.has_text_frame)
    assert client not in deck_text and "anonymised" in deck_text
