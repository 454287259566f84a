"""Column and value mapping (engagement.yml ``columns:`` and ``values:``): each rule with small
files of its own, in CSV, Excel and Parquet."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from kamlib.errors import InputError
from kamlib.intake import load
from kamlib.intake.engagement import engagement_mapping, load_engagement
from kamlib.intake.mapping import map_frame, read_mapping, value_key
from tests.intake.intake_data import ACCOUNTS, CONTACTS, LINES, write_engagement

INPUTS = ("inputs: {accounts: accounts.csv, transactions: transactions.csv, "
          "contacts: contacts.csv, assessments: assessments.csv, "
          "ahp_judgements: ahp_judgements.csv}\n")


def _engagement(folder, mapping: str, **tables):
    write_engagement(folder, **tables)
    (folder / "engagement.yml").write_text("client: T\n" + INPUTS + textwrap.dedent(mapping),
                                           encoding="utf-8")
    return load_engagement(folder)


def _csv_to(path, kind):
    """Rewrite a CSV as Excel or Parquet (every cell text); returns the new file name."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if kind == "xlsx":
        out = path.with_suffix(".xlsx")
        frame.to_excel(out, index=False)
    else:
        out = path.with_suffix(".parquet")
        frame.to_parquet(out, index=False)
    path.unlink()
    return out.name


def _as_kind(folder, table, kind, eng):
    """The engagement with ``table`` rewritten as ``kind`` (csv: as it is)."""
    if kind == "csv":
        return eng
    name = _csv_to(folder / f"{table}.csv", kind)
    yml = folder / "engagement.yml"
    yml.write_text(yml.read_text().replace(f"{table}.csv", name))
    return load_engagement(folder)


ERP_LINES = LINES.replace("account_id,invoice_id,line_no,date,",
                          "Customer No.,Billing Document,Item,Billing\u00a0Date,")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_mapped_invoice_line_headers_read_in_the_engine(tmp_path, kind):
    eng = _engagement(tmp_path, """
        columns:
          transactions:
            "customer no": account_id     # case and punctuation do not matter
            "BILLING DOCUMENT": invoice_id
            Item: line_no
            "Billing Date": date          # the file writes a no-break space
        """, transactions=ERP_LINES)
    checked = load(_as_kind(tmp_path, "transactions", kind, eng))
    assert checked.transactions.account.rows_used == 10
    assert checked.transactions.summary["accounts_buying"] == 2
    notes = "; ".join(checked.transactions.account.notes)
    assert "'customer no' as account_id" in notes


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_mapped_small_table_headers_and_values(tmp_path, kind):
    contacts = (CONTACTS.replace("dmu_roles", "Rolle im Buying Center")
                .replace("function", "Abteilung")
                .replace("buyer;decider", "Einkäufer; ENTSCHEIDER")
                .replace(",influencer,", ",Beeinflusser,"))
    eng = _engagement(tmp_path, """
        columns:
          contacts: {"Rolle im Buying Center": dmu_roles, abteilung: function}
        values:
          contacts:
            dmu_role: {Entscheider: decider, " einkäufer ": buyer, beeinflusser: influencer}
            function: {purchasing: Einkauf}
        """, contacts=contacts)
    checked = load(_as_kind(tmp_path, "contacts", kind, eng))
    frame = checked.frames["contacts"].set_index("contact_id")
    assert frame.loc["C1", "dmu_roles"] == "buyer;decider"
    assert frame.loc["C2", "dmu_roles"] == "influencer"
    assert frame.loc["C1", "function"] == "Einkauf"  # free text maps to any word
    notes = "; ".join(checked.accounts[2].notes)
    assert "dmu_roles: 3 value(s) read by the value mapping" in notes


def test_value_mapping_to_numbers_and_enumerations(tmp_path):
    contacts = ("contact_id,account_id,name,function,seniority,attitude\n"
                "C1,001,Ann,purchasing,Leiter,Befürworter\n"
                "C2,001,Bob,finance,SACHBEARBEITER,neutral\n"
                "C3,002,Cid,finance,Direktor,Gegner\n")
    eng = _engagement(tmp_path, """
        values:
          contacts:
            seniority: {Leiter: manager, Sachbearbeiter: staff, Direktor: director}
            attitude: {Befürworter: 5, neutral: 0, Gegner: -4}
        """, contacts=contacts)
    frame = load(eng).frames["contacts"].set_index("contact_id")
    assert list(frame["seniority"]) == ["manager", "staff", "director"]
    assert list(frame["attitude"]) == [5, 0, -4]


def test_mapping_wins_over_a_column_with_the_contract_name(tmp_path):
    """A file with its own 'date' column (say, the posting date, here text) and the invoice
    date under another header: the mapped header is the date, the other column is kept aside."""
    rows = LINES.strip().splitlines()
    rows = [rows[0].replace(",date,", ",Fakturadatum,") + ",date"] + [r + ",posted" for r in rows[1:]]
    eng = _engagement(tmp_path, "columns: {transactions: {Fakturadatum: date}}\n",
                      transactions="\n".join(rows) + "\n")
    checked = load(eng)
    assert checked.transactions.account.rows_used == 10
    assert "unmapped_date" in "; ".join(checked.transactions.account.notes)


def test_extra_unknown_columns_are_kept_and_never_an_error(tmp_path):
    accounts = ACCOUNTS.replace("account_manager", "account_manager,Kundengruppe,Steuernummer")
    accounts = "\n".join(line + ",A,DE123" if i else line for i, line in
                         enumerate(accounts.strip().splitlines())) + "\n"
    eng = _engagement(tmp_path, "columns: {accounts: {Kundengruppe: parent_id}}\n",
                      accounts=accounts)
    checked = load(eng)
    assert list(checked.frames["accounts"]["parent_id"]) == ["A", "A", "A"]
    assert "steuernummer" in "; ".join(checked.accounts[0].notes)


@pytest.mark.parametrize("mapping, words", [
    ("columns: {transactions: {Kunde: acount_id}}",
     ["'acount_id' is not a column of the transactions table", "did you mean 'account_id'"]),
    ("columns: {transactions: {Kunde: account_id, Debitor: account_id}}",
     ["'Kunde' and 'Debitor' are both mapped to 'account_id'"]),
    ("columns: {transaction: {Kunde: account_id}}", ["unknown table 'transaction'",
                                                      "did you mean 'transactions'"]),
    ("values: {contacts: {dmu_roles: {Entscheider: boss}}}",
     ["'Entscheider' -> 'boss': not a value of dmu_roles", "decider"]),
    ("values: {contacts: {seniority: {Chef: king}}}", ["not a value of seniority"]),
    ("values: {contacts: {attitude: {Gegner: -9}}}", ["attitude lies between -5 and 5"]),
    ("values: {contacts: {last_contact: {gestern: '2025-01-01'}}}", ["dates take no value mapping"]),
    ("values: {ahp_judgements: {criterion_a: {Umsatz: revenue}}}", ["not a value of criterion_a"]),
])
def test_mapping_mistakes_are_clear_errors_naming_engagement_yml(tmp_path, mapping, words):
    write_engagement(tmp_path)
    (tmp_path / "engagement.yml").write_text("client: T\n" + INPUTS + mapping + "\n")
    with pytest.raises(InputError) as err:
        engagement_mapping(load_engagement(tmp_path))
    msg = str(err.value)
    assert msg.startswith(str(tmp_path / "engagement.yml")) and "Fix:" in msg
    for w in words:
        assert w in msg


def test_every_mapping_problem_is_listed_at_once():
    config = {"columns": {"transactions": {"A": "nope", "B": "date", "C": "date"}},
              "values": {"contacts": {"seniority": {"x": "king"}}}}
    with pytest.raises(InputError) as err:
        read_mapping(config)
    msg = str(err.value)
    assert "'nope' is not a column" in msg and "both mapped to 'date'" in msg
    assert "not a value of seniority" in msg


@pytest.mark.parametrize("table", ["transactions", "contacts"])
def test_a_mapped_header_absent_from_the_file_names_file_header_and_fix(tmp_path, table):
    eng = _engagement(tmp_path, f"""
        columns:
          {table}: {{"Kundennummer": account_id}}
        """)
    with pytest.raises(InputError) as err:
        load(eng)
    msg = str(err.value)
    assert f"{table}.csv" in msg and "'Kundennummer'" in msg and "does not have" in msg
    assert "Headers found:" in msg and f"columns: {table}:" in msg


def test_headers_and_values_compare_after_unicode_space_and_case_normalisation():
    frame = pd.DataFrame({"kunden_nr": ["1"], "rolle": ["\u00a0Entscheider\u2009"]})
    mapping = read_mapping({"columns": {"contacts": {"KUNDEN\u00a0NR.": "account_id",
                                                     "Rolle": "dmu_roles"}},
                            "values": {"contacts": {"dmu_roles": {"ENTSCHEIDER": "decider"}}}})
    out, notes = map_frame(frame, "contacts", mapping, "contacts.csv")
    assert list(out.columns) == ["account_id", "dmu_roles"]
    assert out["dmu_roles"].tolist() == ["decider"]
    assert value_key(" Ein\u00a0 Käufer ") == "ein käufer"


def test_value_mapping_of_invoice_lines_in_the_engine(tmp_path):
    lines = LINES.replace("site_id\n", "site_id,currency\n")
    lines = "\n".join(line + (",Euro" if i % 2 else ", EURO ") if i else line
                      for i, line in enumerate(lines.strip().splitlines())) + "\n"
    eng = _engagement(tmp_path, "values: {transactions: {currency: {euro: EUR}}}\n",
                      transactions=lines)
    checked = load(eng)
    assert checked.transactions.summary["currency"] == "EUR"
    assert checked.transactions.account.rows_used == 10


def test_the_documented_mapping_examples_are_valid_mappings():
    import re

    from kamlib import paths
    from kamlib.params import load_yaml
    from kamlib.scaffold import readme_text

    doc = (paths.REPO_ROOT / "docs" / "data_contract.md").read_text(encoding="utf-8")
    for text in (doc, readme_text("ACME")):
        assert "kam map" in text and "columns:" in text and "values:" in text
        blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "columns:" in b]
        assert blocks
        for block in blocks:
            lines = [line[2:] if line.startswith("# ") else line for line in block.splitlines()
                     if not line.startswith(("# >>>", "# <<<"))]  # a kam map block, accepted
            config = load_yaml("\n".join(lines), "doc")
            if isinstance(config, dict) and config.get("columns"):
                assert read_mapping(config).columns


def test_the_mapping_example_of_a_new_engagement_yml_is_valid_once_uncommented():
    from kamlib.params import load_yaml
    from kamlib.scaffold import engagement_yaml

    example = [line[2:] for line in engagement_yaml("ACME").splitlines()
               if line.startswith(("# columns:", "# values:"))]
    mapping = read_mapping(load_yaml("\n".join(example), "engagement.yml"))
    assert mapping.columns["transactions"]["customer_no"] == "account_id"
    assert mapping.values["contacts"]["dmu_roles"]["entscheider"] == "decider"
