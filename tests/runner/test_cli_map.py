"""kam map, kam validate's report of every problem, and the engagement of the current folder."""

from __future__ import annotations

import textwrap

import pytest

from kamlib import cli
from kamlib.intake.engagement import engagement_mapping, load_engagement
from tests.intake.intake_data import ACCOUNTS, CONTACTS, LINES, write_engagement

YML = textwrap.dedent("""\
    # ACME, exports of 2026-06   (the consultant's comments stay as they are)
    client: ACME
    inputs:
      accounts: accounts.csv
      transactions: transactions.csv
      contacts: contacts.csv
      assessments: assessments.csv
      ahp_judgements: ahp_judgements.csv
    parameters: {}""")  # no newline at the end: kam map must not change the last line


def _erp(folder, yml: str = YML):
    lines = LINES.replace("account_id,invoice_id,line_no,date,",
                          "Kundennummer,Rechnungsnummer,Position,Rechnungsdatum,")
    contacts = CONTACTS.replace("dmu_roles", "Rolle").replace("buyer;decider", "Einkäufer;Entscheider")
    write_engagement(folder, transactions=lines, contacts=contacts)
    (folder / "engagement.yml").write_text(yml, encoding="utf-8")
    return folder


def test_kam_map_proposes_writes_a_commented_block_and_accepts_it(tmp_path, capsys):
    folder = _erp(tmp_path / "acme")
    assert cli.main(["map", str(folder)]) == 0
    text = (folder / "engagement.yml").read_text(encoding="utf-8")
    assert text.startswith(YML + "\n")  # the rest of the file byte for byte
    block = text[len(YML) + 1:]
    assert all(line.startswith("#") for line in block.splitlines())
    assert '"Rechnungsdatum": date' in block and '"Entscheider": "decider"' in block
    assert "--accept" in capsys.readouterr().out
    assert engagement_mapping(load_engagement(folder)).columns == {}  # nothing active yet
    # run again: the earlier (unaccepted) block is replaced, not doubled
    assert cli.main(["map", str(folder)]) == 0
    again = (folder / "engagement.yml").read_text(encoding="utf-8")
    assert again.count("# >>> kam map") == 1 and "replaced the earlier" in capsys.readouterr().out
    assert cli.main(["map", str(folder), "--accept"]) == 0
    mapping = engagement_mapping(load_engagement(folder))
    assert mapping.columns["transactions"]["rechnungsdatum"] == "date"
    assert mapping.values["contacts"]["dmu_roles"]["entscheider"] == "decider"
    assert (folder / "engagement.yml").read_text().startswith(YML + "\n")
    capsys.readouterr()
    assert cli.main(["validate", str(folder)]) == 0
    assert "Every row is accounted for." in capsys.readouterr().out


def test_kam_map_never_changes_a_mapping_the_consultant_wrote(tmp_path, capsys):
    yml = YML + "\ncolumns:\n  transactions: {Kundennummer: account_id}   # checked by hand\n"
    folder = _erp(tmp_path / "acme", yml)
    assert cli.main(["map", str(folder)]) == 0
    text = (folder / "engagement.yml").read_text()
    assert text.startswith(yml)
    block = text[len(yml):]
    assert "Kundennummer" not in block and "Rechnungsdatum" in block
    assert "already has columns" in block
    assert cli.main(["map", str(folder), "--accept"]) == 2
    assert "by hand" in capsys.readouterr().err
    assert (folder / "engagement.yml").read_text() == text


def test_kam_map_names_the_required_columns_it_could_not_place(tmp_path, capsys):
    folder = _erp(tmp_path / "acme")
    (folder / "accounts.csv").write_text(ACCOUNTS.replace("industry", "Feld 7"))
    assert cli.main(["map", str(folder), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "could not place the required column(s) industry" in out and "Feld 7" in out
    assert "# >>>" not in (folder / "engagement.yml").read_text()  # a dry run writes nothing


def test_kam_validate_lists_every_problem_of_every_table(tmp_path, capsys):
    write_engagement(tmp_path / "e",
                     accounts=ACCOUNTS.replace("industry", "branche"),
                     contacts=CONTACTS.replace("2025-10-01", "soon").replace("2025-09-01", "x")
                     .replace("2025-01-01", "y").replace(",4,", ",many,").replace(",3,", ",some,")
                     .replace(",2,", ",few,"),
                     transactions=LINES.replace("net_revenue", "umsatz"))
    folder = tmp_path / "e"
    (folder / "engagement.yml").write_text(
        YML + "\ncolumns: {contacts: {Telefon: phone}}\n", encoding="utf-8")
    assert cli.main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("5 problems in 4 files:")
    for words in ("engagement.yml", "'Telefon': 'phone' is not a column of the contacts table",
                  "accounts.csv\n  - column 'industry': the required column 'industry' is missing",
                  "contacts.csv\n", "column 'last_contact', rows 1, 2, 4",
                  "column 'power', rows 1, 2, 3, 4", "transactions.csv\n",
                  "column 'net_revenue': the required column 'net_revenue' is missing"):
        assert words in err
    assert err.count("Fix:") == 5 and "Traceback" not in err


def test_validate_and_run_use_the_engagement_in_the_current_folder(tmp_path, capsys, monkeypatch):
    import kamlib.runner

    folder = _erp(tmp_path / "acme")
    monkeypatch.chdir(folder)
    assert cli.main(["map"]) == 0
    assert cli.main(["map", "--accept"]) == 0
    capsys.readouterr()
    assert cli.main(["validate"]) == 0
    out = capsys.readouterr().out
    assert f"Using the engagement in the current folder ({folder.resolve()})" in out
    assert "Every row is accounted for." in out
    seen = {}

    def fake_run(ref, *a, **k):
        seen["ref"] = ref
        raise cli.KamError("stop here")

    monkeypatch.setattr(kamlib.runner, "run_engagement", fake_run)
    assert cli.main(["run"]) == 2
    assert load_engagement(seen["ref"]).folder == folder.resolve()
    monkeypatch.chdir(tmp_path)  # no engagement.yml here: the bundled sample
    assert cli.main(["run"]) == 2 and seen["ref"] == "sample"
    assert "Using the bundled sample engagement" in capsys.readouterr().out
    assert cli.main(["map"]) == 2
    assert "has no engagement.yml" in capsys.readouterr().err


def test_kam_validate_suggest_writes_the_proposal_first(tmp_path, capsys):
    folder = _erp(tmp_path / "acme")
    assert cli.main(["validate", str(folder), "--suggest"]) == 2  # not accepted yet
    captured = capsys.readouterr()
    assert "# >>> kam map" in (folder / "engagement.yml").read_text()
    assert "transactions.csv" in captured.err and "is missing" in captured.err
    assert "'kam map' proposes a mapping" in captured.err


@pytest.mark.parametrize("argv", [["map", "--help"], ["validate", "--help"]])
def test_help_of_the_new_options(argv, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    out = capsys.readouterr().out
    assert ("--accept" in out) if argv[0] == "map" else ("--suggest" in out)


def test_every_invoice_line_column_problem_at_once(tmp_path, capsys):
    def broken(text):  # no value of date (column 4) or net_revenue (column 8) reads
        rows = text.strip().splitlines()
        return "\n".join([rows[0]] + [",".join(v if j not in (3, 7) else "n/a"
                                               for j, v in enumerate(r.split(",")))
                                      for r in rows[1:]]) + "\n"

    folder = tmp_path / "e"
    write_engagement(folder, transactions=broken(LINES))
    (folder / "engagement.yml").write_text(YML, encoding="utf-8")
    assert cli.main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "2 problems in 1 file" in err
    assert "column 'date', rows 1, 2, 3" in err and "column 'net_revenue', rows 1, 2, 3" in err
    write_engagement(folder, transactions=LINES.replace("category,quantity,net_revenue,cost",
                                                        "kategorie,quantity,net_revenue,kosten"))
    assert cli.main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "2 problems in 1 file" in err
    assert "'category' is missing" in err and "neither a 'cost' nor a 'margin'" in err


HOSTILE_HEADERS = ("Kundennummer\n# <<< kam map\nclient: EVIL1", "Rechnungsnummer\u2028client: EVIL2",
                   'Position: !!python/object/apply:os.system ["touch MARKER"]',
                   "Rechnungsdatum # <<< kam map")


def test_kam_map_keeps_hostile_headers_and_words_data(tmp_path, capsys):
    """Headers and value words holding YAML, line breaks, tags and the block's own end marker:
    the block still ends where kam map ended it, accepting it adds columns: and values: only,
    and the mapping read back holds the client's headers exactly."""
    import csv
    import io

    import pandas as pd

    from kamlib.params import load_yaml

    folder = tmp_path / "acme"
    rows = list(csv.reader(io.StringIO(LINES)))
    rows[0][:4] = HOSTILE_HEADERS
    lines = io.StringIO()
    csv.writer(lines, lineterminator="\n").writerows(rows)
    write_engagement(folder, transactions=lines.getvalue())
    contacts = pd.read_csv(io.StringIO(CONTACTS.replace("dmu_roles", "Rolle")
                                       .replace("buyer;decider", "Einkäufer;Entscheider")), dtype=str)
    contacts.loc[1, "Rolle"] = "Entscheider\n# <<< kam map\nclient: EVIL3 !!binary"
    contacts.to_csv(folder / "contacts.csv", index=False)
    (folder / "engagement.yml").write_text(YML, encoding="utf-8")
    assert cli.main(["map", str(folder)]) == 0
    assert cli.main(["map", str(folder), "--accept"]) == 0
    capsys.readouterr()
    text = (folder / "engagement.yml").read_text(encoding="utf-8")
    assert text.startswith(YML + "\n") and "# <<< kam map\n" not in text.split("# Mapping", 1)[1]
    doc = load_yaml(text, "engagement.yml")
    assert set(doc) == {"client", "inputs", "parameters", "columns", "values"}
    assert doc["client"] == "ACME" and doc["parameters"] == {}
    assert doc["columns"]["transactions"] == dict(zip(HOSTILE_HEADERS, ["account_id", "invoice_id",
                                                                        "line_no", "date"]))
    assert doc["values"] == {"contacts": {"dmu_roles": {"Einkäufer": "buyer", "Entscheider": "decider"}}}
    assert not list(tmp_path.rglob("MARKER")) and not list(folder.parent.glob("MARKER"))
    assert engagement_mapping(load_engagement(folder)).columns["transactions"]
