"""End to end: the sample company exported by a German ERP and CRM (SAP-like headers, German
words for seniority, DMU roles and functions, ';'-separated Windows-1252 CSV, decimal commas
with '.' thousands, DD.MM.YYYY dates, Excel serial dates), mapped by
``kam map`` and accepted with ``kam map --accept``, gives the same intake tables as the clean
sample: every table's content hash equal (the data-quality report differs only in its notes,
which say what the mapping read)."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

from kamlib import cli, intake
from kamlib.intake.engagement import engagement_mapping, load_engagement

ACCOUNTS = {"account_id": "Debitor", "name": "Name 1", "industry": "Branche",
            "region": "Verkaufsgebiet", "country": "Land", "n_sites": "Anzahl Standorte",
            "parent_id": "Konzern", "employees": "Mitarbeiter", "wallet": "Potenzial",
            "relationship_start": "Kunde seit", "account_manager": "Kundenbetreuer",
            "cost_to_serve": "Servicekosten", "contract_start": "Vertragsbeginn",
            "contract_end": "Vertragsende"}
LINES = {"account_id": "Kundennummer", "invoice_id": "Fakturabeleg", "line_no": "Position",
         "date": "Fakturadatum", "product_id": "Material", "category": "Warengruppe",
         "quantity": "Fakturierte Menge", "net_revenue": "Nettowert", "cost": "Kosten",
         "margin": "Deckungsbeitrag", "site_id": "Warenempfänger", "currency": "Währung"}
CONTACTS = {"contact_id": "Ansprechpartner-Nr.", "account_id": "Kunde", "name": "Name",
            "title": "Titel", "function": "Abteilung", "seniority": "Hierarchieebene",
            "dmu_roles": "Rolle im Buying Center", "power": "Einfluss", "attitude": "Einstellung",
            "relationship_strength": "Beziehungsstärke", "owner": "Verantwortlich",
            "last_contact": "Letzter Kontakt", "reports_to": "Vorgesetzter"}
ASSESSMENTS = {"manager": "Beurteiler", "account_id": "Kunde"}
SENIORITY = {"staff": "Sachbearbeiter", "manager": "Leiter", "director": "Direktor",
             "executive": "Geschäftsführer"}
ROLES = {"initiator": "Initiator", "user": "Anwender", "influencer": "Beeinflusser",
         "decider": "Entscheider", "buyer": "Einkäufer", "gatekeeper": "Gatekeeper"}
FUNCTIONS = {"purchasing": "Einkauf", "operations": "Produktion", "management": "Geschäftsführung",
             "engineering": "Technik", "maintenance": "Instandhaltung", "logistics": "Logistik",
             "finance": "Finanzen", "quality": "Qualitätssicherung",
             "health & safety": "Arbeitssicherheit"}


def _german_number(value) -> str:
    """``1234.5`` as ``1.234,5`` (every digit kept: the amounts must stay exact)."""
    if value is None or pd.isna(value) or value == "":
        return ""
    text = repr(float(value))
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, frac = text.split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{frac}"


def _german_date(value) -> str:
    return "" if value is None or pd.isna(value) or value == "" else \
        pd.Timestamp(value).strftime("%d.%m.%Y")


def _excel_serial(value) -> str:
    """A date as Excel stores it: days since 1899-12-30."""
    if value is None or pd.isna(value) or value == "":
        return ""
    return str((pd.Timestamp(value) - pd.Timestamp("1899-12-30")).days)


def _german_formats(folder):
    """The German export's numbers with a decimal comma and '.' thousands, its dates as
    DD.MM.YYYY, and the accounts' relationship start as Excel serial numbers."""
    accounts = pd.read_csv(folder / "accounts.csv", sep=";", dtype=str, keep_default_na=False,
                           encoding="cp1252")
    for col in ("Potenzial", "Servicekosten"):
        accounts[col] = accounts[col].map(_german_number)
    accounts["Kunde seit"] = accounts["Kunde seit"].map(_excel_serial)
    for col in ("Vertragsbeginn", "Vertragsende"):
        accounts[col] = accounts[col].map(_german_date)
    accounts.to_csv(folder / "accounts.csv", sep=";", index=False, encoding="cp1252",
                    errors="replace")
    lines = pd.read_csv(folder / "transactions.csv", sep=";", dtype=str, keep_default_na=False)
    for col in ("Fakturierte Menge", "Nettowert", "Kosten", "Deckungsbeitrag"):
        lines[col] = lines[col].map(_german_number)
    lines["Fakturadatum"] = lines["Fakturadatum"].map(_german_date)
    lines.to_csv(folder / "transactions.csv", sep=";", index=False)
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    contacts["Letzter Kontakt"] = contacts["Letzter Kontakt"].map(_german_date)
    contacts.to_csv(folder / "contacts.csv", sep=";", index=False)


def _german_export(folder, formats: bool = True):
    """The sample's inputs with a German ERP's and CRM's headers and words (and, with
    ``formats``, German number and date formats and Excel serial dates)."""
    sample = load_engagement("sample")
    shutil.copytree(sample.folder, folder)
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.rename(columns=ACCOUNTS).to_csv(folder / "accounts.csv", sep=";", index=False,
                                             encoding="cp1252", errors="replace")
    lines = pd.read_parquet(folder / "transactions.parquet")
    lines.rename(columns=LINES).to_csv(folder / "transactions.csv", sep=";", index=False)
    (folder / "transactions.parquet").unlink()
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    contacts["seniority"] = contacts["seniority"].map(lambda v: SENIORITY.get(v, v))
    contacts["function"] = contacts["function"].map(lambda v: FUNCTIONS.get(v, v))
    contacts["dmu_roles"] = contacts["dmu_roles"].map(
        lambda v: "; ".join(ROLES[r] for r in v.split(";")) if v else v)
    contacts.rename(columns=CONTACTS).to_csv(folder / "contacts.csv", index=False)
    assessments = pd.read_excel(folder / "assessments.xlsx", dtype=object)
    assessments.rename(columns=ASSESSMENTS).to_excel(folder / "assessments.xlsx", index=False)
    yml = folder / "engagement.yml"
    yml.write_text(yml.read_text().replace("transactions.parquet", "transactions.csv"))
    if formats:
        _german_formats(folder)
    return folder


def _hash(df: pd.DataFrame) -> str:
    """A table's content hash, as the run manifest takes it."""
    digest = hashlib.sha256()
    digest.update(",".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module", params=[False, True], ids=["words", "words+formats"])
def mapped(request, tmp_path_factory):
    folder = _german_export(tmp_path_factory.mktemp("erp") / "acme", formats=request.param)
    before = (folder / "engagement.yml").read_bytes()
    assert cli.main(["map", str(folder)]) == 0
    suggested = (folder / "engagement.yml").read_bytes()
    assert cli.main(["map", str(folder), "--accept"]) == 0
    return folder, before, suggested, request.param


def test_kam_map_writes_a_commented_block_and_keeps_the_rest_byte_identical(mapped):
    folder, before, suggested, _ = mapped
    assert suggested.startswith(before)
    block = suggested[len(before):].decode()
    assert block.startswith("# >>> kam map") and block.rstrip().endswith("# <<< kam map")
    assert all(line.startswith("#") for line in block.splitlines())
    assert "could not place" not in block  # every required column was placed


def test_the_accepted_mapping_places_every_column_and_word(mapped):
    folder, _, _, _ = mapped
    mapping = engagement_mapping(load_engagement(folder))
    for table, names in (("accounts", ACCOUNTS), ("transactions", LINES),
                         ("contacts", CONTACTS), ("assessments", ASSESSMENTS)):
        got = {col: header for header, col in mapping.columns[table].items()}
        for col, header in names.items():
            if cli_key(header) != col:  # 'Name' is the contract's name: nothing to map
                assert got[col] == cli_key(header), (table, col)
    values = mapping.values["contacts"]
    assert values["seniority"] == {w.casefold(): v for v, w in SENIORITY.items()}
    assert values["function"] == {w.casefold(): v for v, w in FUNCTIONS.items()}
    assert values["dmu_roles"] == {w.casefold(): v for v, w in ROLES.items()
                                   if w.casefold() != v}


def cli_key(header: str) -> str:
    from kamlib.intake.readers import normalise_name

    return normalise_name(header)


def test_the_mapped_export_gives_the_sample_tables(mapped):
    folder, _, _, formats = mapped
    clean = intake.run(load_engagement("sample")).tables()
    export = intake.run(load_engagement(str(folder))).tables()
    assert set(clean) == set(export)
    for name in clean:
        a, b = clean[name], export[name]
        if name == "data_quality":  # the notes say what the mapping read; the file names differ
            a, b = a.drop(columns=["notes", "file"]), b.drop(columns=["notes", "file"])
        if name == "set_aside" and formats:  # the same rows for the same reasons, shown as
            a, b = a.drop(columns=["values"]), b.drop(columns=["values"])  # exported
        assert _hash(a) == _hash(b), name
