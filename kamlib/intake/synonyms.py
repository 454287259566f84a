"""The words clients' systems use for the contract's columns and values, in several languages.

``kam map`` (:mod:`kamlib.intake.suggest`) proposes a column mapping from these: headers of CRM,
ERP (SAP field names included) and spreadsheet exports in English, German, French, Spanish and
Dutch, and the client's words for the enumerated values (seniority, DMU roles, functions). A
word is compared by :func:`word_key` (case, accents, umlauts spelled out or not, blanks and
punctuation do not matter), so each is written here once, in any of its spellings.

Nothing here is applied silently: a suggestion is written into engagement.yml as a commented
block that the consultant confirms.
"""

from __future__ import annotations

import re
import unicodedata

from kamlib.vocabulary import BUYER, DECIDER, GATEKEEPER, INFLUENCER, INITIATOR, USER


def word_key(text: str) -> str:
    """A header or value as the synonyms compare it: lower case, ``ä`` as ``ae`` (and ``ae``
    as itself), other accents dropped, ``ß`` as ``ss``, and only letters and digits kept
    (``"Kunden-Nr."``, ``"KundenNr"`` and ``"kunden nr"`` are one key)."""
    text = str(text).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", text)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


_ACCOUNT_ID = _words(
    "account id, account, account no, account number, acct id, customer, customer id, customer no, "
    "customer number, cust no, cust id, client id, client no, client number, sold to, sold-to party, "
    "business partner, bp, bp number, "
    "kunde, kunden id, kunden nr, kundennummer, debitor, debitorennummer, debitor nr, kunnr, "
    "auftraggeber, geschäftspartner, gp nummer, "
    "numéro client, n° client, no client, code client, id client, compte client, "
    "cliente, id cliente, número de cliente, código de cliente, n cliente, cuenta, "
    "klant, klantnummer, klant nr, klant id, debiteur, debiteurnummer, relatienummer")
_NAME = _words(
    "name, account name, customer name, company, company name, name 1, name1, legal name, "
    "kundenname, firma, firmenname, name des kunden, "
    "nom, nom client, raison sociale, société, "
    "nombre, nombre cliente, nombre del cliente, razón social, empresa, "
    "naam, klantnaam, bedrijfsnaam, bedrijf")

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "account_id": _ACCOUNT_ID,
        "name": _NAME,
        "industry": _words(
            "industry, sector, vertical, industry code, branche, industrie, industriezweig, "
            "wirtschaftszweig, branchenschlüssel, secteur, secteur d'activité, "
            "industria, sector industrial, bedrijfstak"),
        "region": _words(
            "region, sales region, territory, area, sales area, vertriebsregion, gebiet, "
            "verkaufsgebiet, vertriebsgebiet, bezirk, verkaufsbüro, région, zone, secteur commercial, "
            "región, zona, territorio, regio, verkoopregio, gebied"),
        "country": _words(
            "country, country code, country key, land, länderschlüssel, land1, staat, pays, "
            "code pays, país, código de país, landcode"),
        "n_sites": _words(
            "sites, number of sites, no of sites, num sites, locations, anzahl standorte, standorte, "
            "anzahl werke, nombre de sites, nb sites, número de sitios, sitios, aantal vestigingen, "
            "vestigingen"),
        "parent_id": _words(
            "parent, parent id, parent account, group, group id, corporate group, konzern, "
            "konzernnummer, muttergesellschaft, obergesellschaft, übergeordneter kunde, "
            "groupe, société mère, maison mère, grupo, matriz, empresa matriz, "
            "moedermaatschappij, concern, hoofdkantoor"),
        "employees": _words(
            "employees, employee count, headcount, staff, mitarbeiter, anzahl mitarbeiter, "
            "beschäftigte, effectif, effectifs, salariés, empleados, número de empleados, plantilla, "
            "medewerkers, werknemers, aantal medewerkers"),
        "wallet": _words(
            "wallet, wallet size, category spend, potential, spend, annual spend, einkaufsvolumen, "
            "potenzial, potential eur, marktpotenzial, bedarf, potentiel, budget achats, "
            "potencial, gasto anual, potentieel, inkoopvolume"),
        "relationship_start": _words(
            "relationship start, customer since, client since, first order, first order date, "
            "kunde seit, beziehungsbeginn, erstauftrag, erstanlage, client depuis, "
            "date début relation, cliente desde, fecha alta, klant sinds, begin relatie"),
        "account_manager": _words(
            "account manager, owner, account owner, sales rep, salesperson, key account manager, "
            "kam, betreuer, kundenbetreuer, vertriebsmitarbeiter, außendienst, verkäufer, vertreter, "
            "responsable de compte, commercial, chargé d'affaires, gestor, gestor de cuenta, "
            "comercial, vendedor, accountmanager, verkoper, relatiebeheerder"),
        "cost_to_serve": _words(
            "cost to serve, service cost, servicekosten, betreuungskosten, coût de service, "
            "coste de servicio, kosten dienstverlening"),
        "contract_start": _words(
            "contract start, contract start date, contract begin, vertragsbeginn, vertragsstart, "
            "début contrat, date début contrat, inicio contrato, fecha inicio contrato, "
            "ingangsdatum contract, start contract"),
        "contract_end": _words(
            "contract end, contract end date, churn date, vertragsende, vertragsablauf, "
            "kündigungsdatum, fin contrat, date fin contrat, fin contrato, fecha fin contrato, "
            "einddatum contract, einde contract"),
    },
    "transactions": {
        "account_id": _ACCOUNT_ID + _words("payer, regulierer, zahler, payeur, pagador, betaler"),
        "invoice_id": _words(
            "invoice, invoice id, invoice no, invoice number, inv no, billing document, billing doc, "
            "document no, document number, doc no, credit note, rechnung, rechnungsnummer, "
            "rechnungsnr, faktura, fakturanummer, fakturabeleg, beleg, belegnummer, beleg nr, vbeln, "
            "bill no, bill number, "
            "facture, numéro facture, n° facture, no facture, pièce, factura, número de factura, "
            "n factura, num factura, factuur, factuurnummer, factuurnr"),
        "line_no": _words(
            "line, line no, line number, item, item no, position, pos, posnr, positionsnummer, "
            "rechnungsposition, ligne, numéro ligne, n° ligne, línea, número de línea, posición, "
            "regel, regelnummer, factuurregel"),
        "date": _words(
            "date, invoice date, billing date, document date, transaction date, posting date, "
            "datum, rechnungsdatum, fakturadatum, fakturierungsdatum, belegdatum, buchungsdatum, "
            "fkdat, date facture, date de facturation, fecha, fecha factura, fecha de factura, "
            "factuurdatum, datum factuur, boekingsdatum"),
        "product_id": _words(
            "product, product id, product no, product code, product number, sku, item code, "
            "material, material no, material number, matnr, artikel, artikelnummer, artikelnr, "
            "art nr, produkt, produktnummer, materialnummer, produit, code produit, référence, "
            "article, code article, producto, código de producto, artículo, referencia, "
            "artikelcode, productcode, product nr"),
        "category": _words(
            "category, product category, product group, product family, material group, "
            "warengruppe, produktgruppe, materialgruppe, matkl, kategorie, artikelgruppe, "
            "produktkategorie, catégorie, famille, famille produit, gamme, categoría, familia, "
            "grupo de producto, productgroep, categorie, artikelgroep"),
        "quantity": _words(
            "quantity, qty, quantity sold, billed quantity, units, menge, fakturierte menge, "
            "anzahl, stück, fkimg, quantité, qté, cantidad, unidades, aantal, hoeveelheid"),
        "net_revenue": _words(
            "net revenue, revenue, net sales, net value, net amount, sales, amount, turnover, "
            "netwr, nettowert, umsatz, nettoumsatz, umsatz netto, erlös, nettoerlös, nettobetrag, "
            "betrag, chiffre d'affaires, ca, ca net, montant, montant ht, montant net, ventas, "
            "ventas netas, importe, importe neto, facturación, omzet, netto omzet, bedrag, "
            "nettobedrag"),
        "cost": _words(
            "cost, cogs, cost of goods, cost of sales, cost price, standard cost, kosten, "
            "wareneinsatz, herstellkosten, selbstkosten, einstandswert, wavwr, coût, coût d'achat, "
            "prix de revient, coste, costo, coste de ventas, kostprijs, inkoopwaarde"),
        "margin": _words(
            "margin, gross margin, margin amount, gross profit, profit, deckungsbeitrag, db, db1, "
            "rohertrag, bruttomarge, marge, marge brute, margen, margen bruto, beneficio bruto, "
            "brutomarge"),
        "site_id": _words(
            "site, site id, ship to, ship-to party, delivery address, warenempfänger, lieferadresse, "
            "standort, lieferort, kunwe, werk, lieu de livraison, site de livraison, adresse de livraison, "
            "destinatario, punto de entrega, sitio, afleveradres, vestiging, locatie"),
        "currency": _words(
            "currency, curr, currency code, waers, währung, devise, monnaie, moneda, divisa, "
            "valuta, munt"),
    },
    "contacts": {
        "contact_id": _words(
            "contact id, contact, contact no, contact number, person id, ansprechpartner id, "
            "ansprechpartner nr, kontakt id, kontaktnummer, partnernummer, id contact, "
            "numéro contact, id contacto, contacto id, contact nummer, contactpersoon id"),
        "account_id": _ACCOUNT_ID,
        "name": _words(
            "name, contact name, full name, person, ansprechpartner, kontakt, name des kontakts, "
            "nom, nom contact, nom complet, nombre, nombre contacto, contacto, naam, "
            "contactpersoon, volledige naam"),
        "title": _words(
            "title, job title, titel, stellenbezeichnung, berufsbezeichnung, jobtitel, titre, "
            "intitulé de poste, poste, cargo, puesto, título, functietitel"),
        "function": _words(
            "function, department, abteilung, bereich, funktion, fachbereich, service, "
            "département, fonction, departamento, función, área, afdeling, functie"),
        "seniority": _words(
            "seniority, level, hierarchy, hierarchy level, management level, hierarchieebene, "
            "ebene, hierarchiestufe, führungsebene, niveau, niveau hiérarchique, nivel, "
            "nivel jerárquico, senioriteit"),
        "dmu_roles": _words(
            "dmu roles, dmu role, role, roles, buying role, buying center role, rolle, rollen, "
            "rolle im buying center, einkaufsrolle, rôle, rôles, rôle achat, rol, roles de compra, "
            "rol de compra, inkooprol"),
        "power": _words("power, influence, einfluss, macht, pouvoir, poder, influencia, invloed"),
        "attitude": _words(
            "attitude, sentiment, stance, disposition, einstellung, haltung, actitud, houding"),
        "relationship_strength": _words(
            "relationship strength, relationship, relationship level, beziehung, beziehungsstärke, "
            "beziehungsqualität, force de la relation, relation, relación, fuerza de la relación, "
            "relatie, relatiesterkte"),
        "owner": _words(
            "owner, contact owner, relationship owner, verantwortlich, betreuer, zuständig, "
            "responsable, propietario, eigenaar, contacteigenaar"),
        "last_contact": _words(
            "last contact, last meeting, last activity, last call, last visit, letzter kontakt, "
            "letzter besuch, letzte aktivität, dernier contact, dernière visite, último contacto, "
            "fecha último contacto, laatste contact, laatste bezoek"),
        "reports_to": _words(
            "reports to, supervisor, manager id, vorgesetzter, berichtet an, supérieur, "
            "rend compte à, jefe, superior, reporta a, leidinggevende, rapporteert aan"),
    },
    "assessments": {
        "manager": _words("manager, assessor, rater, evaluator, beurteiler, bewerter, "
                          "évaluateur, evaluador, beoordelaar"),
        "account_id": _ACCOUNT_ID,
        "top_rank": _words("top rank, rank, ranking, top 10, rang, platz, classement, rango, "
                           "rangorde"),
        "future_potential": _words("future potential, zukunftspotenzial, potentiel futur, "
                                   "potencial futuro, toekomstpotentieel"),
        "strategic_fit": _words("strategic fit, strategische passung, adéquation stratégique, "
                                "encaje estratégico, strategische fit"),
    },
    "ahp_judgements": {
        "manager": _words("manager, assessor, beurteiler, évaluateur, evaluador, beoordelaar"),
        "value": _words("value, judgement, wert, urteil, valeur, valor, waarde"),
    },
}
"""Per table and contract column: the headers that mean it (the column's own name included)."""

VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "seniority": {
        **dict.fromkeys(_words(
            "employee, specialist, clerk, associate, sachbearbeiter, mitarbeiter, fachkraft, "
            "referent, angestellter, employé, collaborateur, chargé, empleado, técnico, "
            "administrativo, medewerker, specialist"), "staff"),
        **dict.fromkeys(_words(
            "manager, head, team lead, leiter, leiterin, abteilungsleiter, teamleiter, "
            "gruppenleiter, responsable, chef de service, gerente, jefe, responsable de área, "
            "jefe de departamento, afdelingshoofd, teamleider, hoofd"), "manager"),
        **dict.fromkeys(_words(
            "director, vp, vice president, bereichsleiter, direktor, direktorin, prokurist, "
            "directeur, directrice, director de área, directeur afdeling"), "director"),
        **dict.fromkeys(_words(
            "executive, c-level, ceo, cfo, coo, cto, cpo, managing director, owner, board, "
            "geschäftsführer, geschäftsführerin, vorstand, inhaber, président, pdg, dg, "
            "directeur général, director general, consejero delegado, presidente, "
            "algemeen directeur, directie, bestuurder, eigenaar"), "executive"),
    },
    "dmu_roles": {
        **dict.fromkeys(_words(
            "initiator, initiatior, initiierer, initiateur, iniciador, initiatiefnemer"), INITIATOR),
        **dict.fromkeys(_words(
            "user, end user, anwender, nutzer, benutzer, endanwender, utilisateur, "
            "utilisateur final, usuario, usuario final, gebruiker, eindgebruiker"), USER),
        **dict.fromkeys(_words(
            "influencer, specifier, recommender, technical buyer, beeinflusser, einflussnehmer, "
            "berater, influenceur, prescripteur, prescriptor, influenciador, beïnvloeder"),
            INFLUENCER),
        **dict.fromkeys(_words(
            "decider, decision maker, economic buyer, approver, entscheider, entscheidungsträger, "
            "décideur, decideur, decisor, tomador de decisiones, beslisser, beslissingnemer"),
            DECIDER),
        **dict.fromkeys(_words(
            "buyer, purchaser, procurement, einkäufer, einkauf, käufer, beschaffer, acheteur, "
            "comprador, compras, inkoper, koper"), BUYER),
        **dict.fromkeys(_words(
            "gatekeeper, torwächter, pförtner, türöffner, assistenz, filtre, portier, "
            "guardián, filtro, poortwachter"), GATEKEEPER),
    },
    "function": {
        **dict.fromkeys(_words(
            "purchasing, procurement, einkauf, beschaffung, achats, approvisionnement, compras, "
            "aprovisionamiento, inkoop"), "purchasing"),
        **dict.fromkeys(_words(
            "operations, production, betrieb, produktion, fertigung, opérations, production, "
            "operaciones, producción, productie, bedrijfsvoering"), "operations"),
        **dict.fromkeys(_words(
            "management, general management, geschäftsführung, unternehmensleitung, direction, "
            "direction générale, dirección, gerencia, directie, management"), "management"),
        **dict.fromkeys(_words(
            "engineering, technik, entwicklung, konstruktion, ingénierie, bureau d'études, "
            "ingeniería, techniek, engineering"), "engineering"),
        **dict.fromkeys(_words(
            "maintenance, instandhaltung, wartung, entretien, mantenimiento, onderhoud"),
            "maintenance"),
        **dict.fromkeys(_words(
            "logistics, logistik, lager, versand, logistique, logística, logistiek"), "logistics"),
        **dict.fromkeys(_words(
            "finance, finanzen, buchhaltung, controlling, rechnungswesen, comptabilité, "
            "contrôle de gestion, finanzas, contabilidad, financiën, boekhouding"), "finance"),
        **dict.fromkeys(_words(
            "quality, qualität, qualitätssicherung, qualitätsmanagement, qualité, calidad, "
            "kwaliteit"), "quality"),
        **dict.fromkeys(_words(
            "health & safety, hse, ehs, arbeitssicherheit, arbeitsschutz, sécurité, hygiène et "
            "sécurité, seguridad, seguridad y salud, veiligheid, arbo"), "health & safety"),
    },
}
"""Per contract column: the client's word (by :func:`word_key`) -> the contract's value."""
