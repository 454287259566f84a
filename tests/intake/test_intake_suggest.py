"""kam map's proposal: from headers in several languages and from the contents of the columns."""

from __future__ import annotations

import pandas as pd
import pytest

from kamlib.intake.contract import TABLES
from kamlib.intake.mapping import read_mapping
from kamlib.intake.suggest import suggest_table
from kamlib.intake.synonyms import SYNONYMS, VALUE_SYNONYMS, word_key

IDS = {"c001", "c002", "c003"}


def _lines(headers: list[str]) -> pd.DataFrame:
    """Three invoice lines under the given headers, in contract order."""
    rows = [["C001", "INV1", "1", "2025-06-10", "P1", "CatA", "10", "1000.00", "600", "S1", "EUR"],
            ["C002", "INV2", "1", "2025-06-11", "P2", "CatB", "5", "500.50", "200", "S2", "EUR"],
            ["C003", "INV3", "2", "2025-07-01", "P1", "CatA", "-1", "-100.00", "-60", "S1", "EUR"]]
    return pd.DataFrame(rows, columns=headers)


@pytest.mark.parametrize("headers", [
    ["Customer No.", "Billing Document", "Item", "Billing Date", "Material", "Material Group",
     "Billed Quantity", "Net Value", "Cost", "Ship-to Party", "Curr."],
    ["Kundennummer", "Rechnungsnummer", "Position", "Rechnungsdatum", "Artikelnummer",
     "Warengruppe", "Menge", "Umsatz", "Wareneinsatz", "Lieferadresse", "Währung"],
    ["N° client", "N° facture", "Ligne", "Date facture", "Code article", "Famille",
     "Quantité", "Montant HT", "Prix de revient", "Lieu de livraison", "Devise"],
    ["Código de cliente", "Número de factura", "Línea", "Fecha factura", "Artículo",
     "Categoría", "Cantidad", "Importe neto", "Coste", "Punto de entrega", "Moneda"],
    ["Klantnummer", "Factuurnummer", "Regel", "Factuurdatum", "Artikelnummer", "Productgroep",
     "Aantal", "Omzet", "Kostprijs", "Afleveradres", "Valuta"],
    ["KUNNR", "VBELN", "POSNR", "FKDAT", "MATNR", "MATKL", "FKIMG", "NETWR", "WAVWR", "KUNWE",
     "WAERS"],
])
def test_invoice_line_headers_in_five_languages_and_sap_names(headers):
    frame = _lines(headers)
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", None, IDS)
    placed = {p.column: p.header for p in got.columns}
    expected = ["account_id", "invoice_id", "line_no", "date", "product_id", "category",
                "quantity", "net_revenue", "cost", "site_id", "currency"]
    from kamlib.intake.readers import normalise_name

    assert placed == {c: h for c, h in zip(expected, headers) if normalise_name(h) != c}
    assert got.unplaced == []


def test_contents_place_columns_whose_headers_mean_nothing():
    frame = _lines(["Feld1", "Beleg", "Pos", "Feld4", "Produkt", "Kategorie", "Stk", "Netto",
                    "Kosten", "Ort", "Feld11"])
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", None, IDS)
    placed = {p.column: p for p in got.columns}
    assert placed["account_id"].header == "Feld1"
    assert "ids of the accounts table" in placed["account_id"].why
    assert placed["date"].header == "Feld4" and "only column of dates" in placed["date"].why
    assert placed["currency"].header == "Feld11"


def test_a_header_is_not_placed_against_its_contents():
    # "Datum" holds no dates here: the date column stays unplaced, and says so
    frame = _lines(["account_id", "invoice_id", "line_no", "Datum", "product_id", "category",
                    "quantity", "net_revenue", "cost", "site_id", "currency"])
    frame["Datum"] = ["soon", "later", "never"]
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", None, IDS)
    assert "date" in got.unplaced and "Datum" in got.unused_headers


def test_an_existing_mapping_is_respected_and_only_the_rest_proposed():
    frame = _lines(["Kunde", "Beleg", "Pos", "Datum", "Produkt", "Kategorie", "Menge",
                    "Nettowert", "Kosten", "Ort", "Währung"])
    mapping = read_mapping({"columns": {"transactions": {"Kunde": "account_id",
                                                         "Produkt": "product_id"}}})
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", mapping, IDS)
    placed = {p.column for p in got.columns}
    assert "account_id" not in placed and "product_id" not in placed
    assert {"date", "quantity", "net_revenue", "currency"} <= placed


def test_value_words_are_proposed_and_unknown_ones_named():
    frame = pd.DataFrame({"contact_id": ["1", "2", "3", "4"], "account_id": ["C001"] * 4,
                          "name": list("abcd"), "Fonction": ["Achats", "Finance", "Qualité", "x"],
                          "Niveau": ["Responsable", "Directeur", "PDG", "Stagiaire"],
                          "Rôle": ["Décideur; Acheteur", "Prescripteur", "utilisateur", "Zauberer"]})
    got = suggest_table(TABLES["contacts"], frame, "contacts.csv", None, IDS)
    placed = {p.column: p.header for p in got.columns}
    assert placed == {"function": "Fonction", "seniority": "Niveau", "dmu_roles": "Rôle"}
    assert got.values["seniority"] == {"Responsable": "manager", "Directeur": "director",
                                       "PDG": "executive"}
    assert got.values["dmu_roles"] == {"Décideur": "decider", "Acheteur": "buyer",
                                       "Prescripteur": "influencer", "utilisateur": "user"}
    assert got.values["function"]["Achats"] == "purchasing"
    assert got.unknown_values["seniority"] == ["Stagiaire"]
    assert got.unknown_values["dmu_roles"] == ["Zauberer"]


def test_required_columns_it_cannot_place_are_listed():
    frame = pd.DataFrame({"Debitor": ["C001"], "Bezeichnung X": ["Alpha"]})
    got = suggest_table(TABLES["accounts"], frame, "accounts.csv", None, set())
    assert got.unplaced == ["name", "industry", "region", "country"]
    assert got.unused_headers == ["Bezeichnung X"]


def test_every_synonym_targets_a_contract_column_and_value():
    for table, columns in SYNONYMS.items():
        for col, words in columns.items():
            assert col in TABLES[table].column_names
            keys = [word_key(w) for w in words]
            assert all(keys), (table, col)
    roles = TABLES["contacts"].column("dmu_roles").allowed
    assert set(VALUE_SYNONYMS["dmu_roles"].values()) == set(roles)
    assert set(VALUE_SYNONYMS["seniority"].values()) == set(TABLES["contacts"].column("seniority").allowed)
    # one word, one meaning: no header means two columns of one table
    for table, columns in SYNONYMS.items():
        seen: dict[str, str] = {}
        for col, words in columns.items():
            for w in words:
                assert seen.setdefault(word_key(w), col) == col, (table, w, seen[word_key(w)], col)


def test_numeric_ids_are_not_dates_and_german_dates_are_not_numbers():
    frame = _lines(["Kunde", "Beleg", "Pos", "Datum", "Produkt", "Kategorie", "Menge",
                    "Nettowert", "Kosten", "Ort", "Währung"])
    frame["Beleg"] = ["90001234", "90001235", "90001236"]  # eight digits, but no date
    frame["Datum"] = ["10.06.2025", "11.06.2025", "20250701"]
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", None, IDS)
    placed = {p.column: p.header for p in got.columns}
    assert placed["invoice_id"] == "Beleg" and placed["date"] == "Datum"
    frame = frame.rename(columns={"Menge": "Feld"})
    frame["Feld"] = frame["Datum"]  # a second date column is no quantity
    got = suggest_table(TABLES["transactions"], frame, "lines.csv", None, IDS)
    assert "quantity" in got.unplaced


@pytest.mark.parametrize("header", ["Kunde\u2028inputs: {transactions: ../../x.csv}",
                                    "Kunde\u0085currency: USD", "Kunde\u2029x", 'Kd"\nNr.'])
def test_a_client_header_stays_on_its_comment_line_of_engagement_yml(header):
    # YAML reads U+2028, U+2029 and U+0085 as line breaks where JSON does not escape them: a
    # header holding one would end the suggested block's comment line and add a key of its own
    import yaml

    from kamlib.intake.mapping_file import _q

    doc = yaml.safe_load(f"# columns:\n#   accounts:\n#     {_q(header)}: account_id\nclient: Acme\n")
    assert doc == {"client": "Acme"}
    assert yaml.safe_load(f"columns: {{accounts: {{{_q(header)}: account_id}}}}") == {
        "columns": {"accounts": {header: "account_id"}}}
