"""End to end: the sample company exported by a German ERP and CRM (SAP-like headers, German
words for seniority, DMU roles and functions, ';'-separated Windows-1252 CSV), mapped by
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


def _german_export(folder):
    """The sample's inputs with a German ERP's and CRM's headers and words."""
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
    return folder


def _hash(df: pd.DataFrame) -> str:
    """A table's content hash, as the run manifest takes it."""
    digest = hashlib.sha256()
    digest.update(",".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    folder = _german_export(tmp_path_factory.mktemp("erp") / "acme")
    before = (folder / "engagement.yml").read_bytes()
    assert cli.main(["map", str(folder)]) == 0
    suggested = (folder / "engagement.yml").read_bytes()
    assert cli.main(["map", str(folder), "--accept"]) == 0
    return folder, before, suggested


def test_kam_map_writes_a_commented_block_and_keeps_the_rest_byte_identical(mapped):
    folder, before, suggested = mapped
    assert suggested.startswith(before)
    block = suggested[len(before):].decode()
    assert block.startswith("# >>> kam map") and block.rstrip().endswith("# <<< kam map")
    assert all(line.startswith("#") for line in block.splitlines())
    assert "could not place" not in block  # every required column was placed


def test_the_accepted_mapping_places_every_column_and_word(mapped):
    folder, _, _ = mapped
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
    folder, _, _ = mapped
    clean = intake.run(load_engagement("sample")).tables()
    export = intake.run(load_engagement(str(folder))).tables()
    assert set(clean) == set(export)
    for name in clean:
        a, b = clean[name], export[name]
        if name == "data_quality":  # the notes say what the mapping read; the file names differ
            a, b = a.drop(columns=["notes", "file"]), b.drop(columns=["notes", "file"])
        assert _hash(a) == _hash(b), name
