"""The fixed world of the sample company: its markets, product range, people and name pools.

Everything here is fictional. The generator draws from these lists with a seeded random
generator, so changing a list changes the sample (and the committed files must be regenerated).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Nordhaven Industrial Supply"
"""The fictional supplier whose customers the sample describes."""

CURRENCY = "EUR"
DATA_START = "2023-07-01"
"""First invoice date of the sample (inclusive)."""
DATA_END = "2026-06-30"
"""Last invoice date of the sample (inclusive): the export was cut here."""

# --- markets -------------------------------------------------------------------------------

REGIONS: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    # region: (countries, country weights, share of accounts)
    "DACH": (("DE", "AT", "CH"), (0.72, 0.15, 0.13), 0.28),
    "Benelux": (("NL", "BE", "LU"), (0.55, 0.40, 0.05), 0.12),
    "France": (("FR",), (1.0,), 0.13),
    "Iberia": (("ES", "PT"), (0.75, 0.25), 0.09),
    "Italy": (("IT",), (1.0,), 0.10),
    "Nordics": (("SE", "DK", "FI", "NO"), (0.38, 0.24, 0.2, 0.18), 0.10),
    "UK & Ireland": (("GB", "IE"), (0.8, 0.2), 0.10),
    "Central Europe": (("PL", "CZ", "HU"), (0.5, 0.3, 0.2), 0.08),
}

LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "AT": ("GmbH", "AG"),
    "CH": ("AG", "SA"),
    "NL": ("B.V.", "N.V."),
    "BE": ("NV", "BV", "SA"),
    "LU": ("S.A.", "S.à r.l."),
    "FR": ("SAS", "SA", "SARL"),
    "ES": ("S.A.", "S.L."),
    "PT": ("Lda.", "S.A."),
    "IT": ("S.p.A.", "S.r.l."),
    "SE": ("AB",),
    "DK": ("A/S", "ApS"),
    "FI": ("Oy", "Oyj"),
    "NO": ("AS", "ASA"),
    "GB": ("Ltd", "plc"),
    "IE": ("Ltd", "DAC"),
    "PL": ("Sp. z o.o.", "S.A."),
    "CZ": ("s.r.o.", "a.s."),
    "HU": ("Kft.", "Zrt."),
}

COUNTRY_LANGUAGE: dict[str, str] = {
    "DE": "de", "AT": "de", "CH": "de", "NL": "nl", "BE": "nl", "LU": "fr", "FR": "fr",
    "ES": "es", "PT": "pt", "IT": "it", "SE": "nordic", "DK": "nordic", "FI": "nordic",
    "NO": "nordic", "GB": "en", "IE": "en", "PL": "pl", "CZ": "cz", "HU": "hu",
}

# industry: (share of accounts, descriptors used in company names)
INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Automotive": (0.11, ("Automotive", "Components", "Drivetrain", "Stamping", "Motor Parts", "Vehicle Systems")),
    "Food & Beverage": (0.11, ("Foods", "Dairy", "Brewery", "Bakeries", "Beverages", "Fine Foods")),
    "Chemicals": (0.07, ("Chemie", "Chemicals", "Polymers", "Coatings", "Specialty Chemicals")),
    "Machinery & Equipment": (0.12, ("Maschinenbau", "Machinery", "Equipment", "Engineering", "Systems", "Automation")),
    "Construction": (0.10, ("Bau", "Construction", "Contractors", "Infrastructure", "Building Group")),
    "Energy & Utilities": (0.06, ("Energy", "Power", "Utilities", "Wind", "Grid Services")),
    "Pharmaceuticals": (0.05, ("Pharma", "Life Sciences", "Biologics", "Laboratories")),
    "Logistics & Warehousing": (0.08, ("Logistics", "Distribution", "Freight", "Warehousing", "Transport")),
    "Metal Fabrication": (0.11, ("Metallbau", "Steelworks", "Metalworks", "Forge", "Precision Parts", "Castings")),
    "Packaging": (0.06, ("Packaging", "Verpackung", "Containers", "Cartons", "Labels")),
    "Electronics": (0.07, ("Electronics", "Elektrotechnik", "Circuits", "Controls", "Sensors")),
    "Public Sector & Healthcare": (0.06, ("Hospital Trust", "Municipal Services", "Water Board", "Clinics", "Transit Authority")),
}

NO_LEGAL_FORM = ("Public Sector & Healthcare",)
"""Industries whose names carry no company form (a hospital trust is not a GmbH)."""

TARGET_INDUSTRIES = ("Pharmaceuticals", "Food & Beverage", "Energy & Utilities")
"""Industries the sample company's strategy names as growth segments (drives strategic fit)."""

COMPANY_STEMS: tuple[str, ...] = (
    "Alder", "Ambrose", "Ardent", "Arvika", "Aspern", "Auberon", "Balder", "Bellhaven", "Brenner",
    "Brightmoor", "Calder", "Castell", "Cedarline", "Corvin", "Dahlstrand", "Delvento", "Dovrefjell",
    "Dunmore", "Eckhart", "Elmstead", "Estrela", "Falkenrath", "Fenmoor", "Fjordvik", "Gallarate",
    "Garnet", "Granitholm", "Greystoke", "Hallberg", "Harrowgate", "Hesperia", "Holmgren",
    "Ibarra", "Ironbridge", "Isenhart", "Junivale", "Kaltenbach", "Kestrel", "Kingsmere",
    "Kronvik", "Lamberti", "Larchfield", "Lindqvist", "Lorraine", "Marlow", "Meridian",
    "Mittelfeld", "Montebello", "Nordby", "Northvale", "Novacek", "Oakridge", "Oberland",
    "Orsolini", "Ostervall", "Pellegrini", "Pinecrest", "Portavel", "Quaystone", "Radcliffe",
    "Ravensholt", "Redwater", "Rheinfels", "Rosenvik", "Saltmarsh", "Santerre", "Silverdale",
    "Skarvik", "Sorrento", "Stahlberg", "Stonehaven", "Tamarind", "Tordera", "Tervalen",
    "Ulmbach", "Umberto", "Valmire", "Vanterpool", "Verdanne", "Vesterby", "Westerholt",
    "Whitcombe", "Wildenau", "Wrexford", "Ysselmonde", "Zandhoven", "Zeltmeyer", "Zorita",
)

# --- product range -------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A product category: its code, size of the range, typical unit price and gross margin."""

    name: str
    code: str
    n_products: int
    median_price: float
    margin: float
    return_rate: float  # share of lines that come back as a credit note


CATEGORIES: tuple[Category, ...] = (
    Category("Fasteners", "FAS", 26, 9.0, 0.45, 0.006),
    Category("Bearings & Power Transmission", "BRG", 18, 65.0, 0.32, 0.015),
    Category("Hand Tools", "HTL", 20, 32.0, 0.38, 0.012),
    Category("Power Tools", "PTL", 14, 240.0, 0.22, 0.035),
    Category("Abrasives", "ABR", 14, 14.0, 0.40, 0.006),
    Category("Safety & PPE", "PPE", 22, 12.0, 0.36, 0.010),
    Category("Adhesives & Sealants", "ADH", 12, 18.0, 0.42, 0.008),
    Category("Lubricants & Chemicals", "LUB", 14, 34.0, 0.30, 0.008),
    Category("Hydraulics & Pneumatics", "HYD", 16, 120.0, 0.28, 0.020),
    Category("Electrical & Lighting", "ELE", 18, 38.0, 0.30, 0.015),
    Category("Packaging & Shipping", "PKG", 12, 22.0, 0.25, 0.006),
    Category("Cutting Tools", "CUT", 14, 48.0, 0.40, 0.012),
)

# How strongly each industry buys each category (1 = average). Missing pairs are 1.
INDUSTRY_CATEGORY_AFFINITY: dict[str, dict[str, float]] = {
    "Automotive": {"FAS": 3, "CUT": 2.5, "ABR": 2, "HYD": 1.5, "PKG": 0.5},
    "Food & Beverage": {"PPE": 3, "LUB": 2.5, "PKG": 2.5, "CUT": 0.3, "ABR": 0.4},
    "Chemicals": {"PPE": 3, "HYD": 2, "LUB": 1.5, "ADH": 1.5, "CUT": 0.4},
    "Machinery & Equipment": {"BRG": 3, "FAS": 2, "HYD": 2.5, "CUT": 2, "ELE": 1.5},
    "Construction": {"PTL": 3, "FAS": 2.5, "PPE": 2.5, "HTL": 2, "ADH": 1.5, "BRG": 0.4},
    "Energy & Utilities": {"ELE": 3, "PPE": 2.5, "HYD": 1.5, "HTL": 1.5, "PKG": 0.4},
    "Pharmaceuticals": {"PPE": 3, "PKG": 2, "LUB": 1.5, "CUT": 0.3, "ABR": 0.3},
    "Logistics & Warehousing": {"PKG": 4, "PPE": 2, "ELE": 1.5, "CUT": 0.3, "HYD": 0.7},
    "Metal Fabrication": {"ABR": 3.5, "CUT": 3, "PPE": 2, "FAS": 1.5, "PKG": 0.5},
    "Packaging": {"PKG": 3, "ADH": 3, "BRG": 1.5, "CUT": 0.6},
    "Electronics": {"ELE": 3.5, "ADH": 2, "HTL": 1.5, "ABR": 0.4, "HYD": 0.4},
    "Public Sector & Healthcare": {"PPE": 3, "ELE": 2, "HTL": 1.5, "CUT": 0.3, "HYD": 0.5},
}

MONTH_SEASONALITY: tuple[float, ...] = (0.88, 1.0, 1.12, 1.05, 1.0, 1.06, 0.96, 0.68, 1.1, 1.12, 1.06, 0.8)
"""Relative demand per calendar month: spring and autumn peaks, summer shutdown in August,
a quiet Christmas."""

HOLIDAYS_MD: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (12, 24), (12, 25), (12, 26), (12, 31))
"""Month-day pairs with no invoicing."""

# --- our people ----------------------------------------------------------------------------

ACCOUNT_MANAGERS: dict[str, tuple[str, ...]] = {
    # account manager: regions they cover (the first region's big accounts go to the first AM)
    "Anna Keller": ("DACH",),
    "Lukas Hofmann": ("DACH",),
    "Eva Janssen": ("Benelux",),
    "Mathieu Laurent": ("France",),
    "Tomás Ribeiro": ("Iberia",),
    "Giulia Romano": ("Italy",),
    "Oskar Lindberg": ("Nordics",),
    "Sarah O'Connor": ("UK & Ireland",),
    "Piotr Nowak": ("Central Europe",),
    "Daniel Brooks": ("DACH", "Benelux", "France", "Iberia", "Italy", "Nordics", "UK & Ireland", "Central Europe"),
}
"""Daniel Brooks is the global key account manager: he holds most of the largest accounts."""

INSIDE_SALES = "Inside Sales"
"""Owner of relationships at small accounts that have no account manager."""

SPECIALISTS: dict[str, str] = {
    # a contact's function -> our colleague who talks to that function at well-covered accounts
    "engineering": "Nina Vogel",
    "quality": "Nina Vogel",
    "maintenance": "Rafael Costa",
    "logistics": "Pieter de Vries",
    "finance": "Ingrid Larsen",
    "management": "Helga Brandt",
    "health & safety": "Rafael Costa",
}


@dataclass(frozen=True)
class SeniorManager:
    """A senior manager who assesses accounts. Their biases make them disagree.

    ``taste`` weights standardised account facts when they pick their top 10; ``priorities``
    is their (unnormalised) view of the importance of each default selection criterion, from
    which their AHP pairwise judgements are derived; ``offset`` shifts all their scores
    (a generous or a harsh marker); ``consistent`` says whether their pairwise judgements are
    roughly coherent.
    """

    name: str
    role: str
    home_regions: tuple[str, ...]
    shortlist: int
    taste: dict[str, float]
    priorities: dict[str, float]
    offset: float = 0.0
    consistent: bool = True
    score_noise: float = 1.0


SENIOR_MANAGERS: tuple[SeniorManager, ...] = (
    SeniorManager(
        "Helga Brandt", "Chief Executive Officer", (), 140,
        taste={"billing": 1.6, "industry_weight": 0.6, "market_influence": 0.5, "tenure": 0.3},
        priorities={"billing": 7, "growth": 3, "profitability": 3, "future_potential": 3,
                    "potential_profitability": 2, "industry_weight": 5, "market_influence": 5,
                    "strategic_fit": 3, "buying_group_breadth": 1, "cost_to_serve": 1,
                    "loss_impact": 6, "reciprocity": 2, "specialised_service": 1,
                    "dispersed_units": 2},
        offset=0.3,
    ),
    SeniorManager(
        "Marco Bellini", "Sales Director", (), 125,
        taste={"growth": 1.5, "future_potential": 0.9, "billing": 0.5},
        priorities={"billing": 3, "growth": 8, "profitability": 1, "future_potential": 7,
                    "potential_profitability": 2, "industry_weight": 2, "market_influence": 3,
                    "strategic_fit": 2, "buying_group_breadth": 2, "cost_to_serve": 1,
                    "loss_impact": 3, "reciprocity": 3, "specialised_service": 2,
                    "dispersed_units": 1},
        offset=0.8, consistent=False, score_noise=1.3,
    ),
    SeniorManager(
        "Ingrid Larsen", "Chief Financial Officer", (), 110,
        taste={"margin": 1.4, "billing": 0.8, "cost_to_serve": -0.8},
        priorities={"billing": 4, "growth": 2, "profitability": 8, "future_potential": 2,
                    "potential_profitability": 5, "industry_weight": 1, "market_influence": 1,
                    "strategic_fit": 2, "buying_group_breadth": 1, "cost_to_serve": 6,
                    "loss_impact": 7, "reciprocity": 1, "specialised_service": 1,
                    "dispersed_units": 1},
        offset=-0.7,
    ),
    SeniorManager(
        "Jürgen Weber", "Regional Director DACH", ("DACH",), 95,
        taste={"home": 2.0, "billing": 1.0, "tenure": 0.6},
        priorities={"billing": 6, "growth": 3, "profitability": 4, "future_potential": 2,
                    "potential_profitability": 2, "industry_weight": 3, "market_influence": 2,
                    "strategic_fit": 1, "buying_group_breadth": 3, "cost_to_serve": 2,
                    "loss_impact": 5, "reciprocity": 4, "specialised_service": 2,
                    "dispersed_units": 2},
    ),
    SeniorManager(
        "Sofia Marín", "Regional Director Southern Europe", ("Iberia", "Italy", "France"), 100,
        taste={"home": 2.0, "growth": 0.7, "billing": 0.8},
        priorities={"billing": 4, "growth": 6, "profitability": 2, "future_potential": 5,
                    "potential_profitability": 3, "industry_weight": 2, "market_influence": 4,
                    "strategic_fit": 3, "buying_group_breadth": 2, "cost_to_serve": 1,
                    "loss_impact": 3, "reciprocity": 3, "specialised_service": 1,
                    "dispersed_units": 2},
        offset=0.4, consistent=False, score_noise=1.2,
    ),
    SeniorManager(
        "Pieter de Vries", "Director Operations & Supply Chain", (), 85,
        taste={"sites": 1.4, "specialised_service": 0.9, "billing": 0.6},
        priorities={"billing": 3, "growth": 2, "profitability": 3, "future_potential": 2,
                    "potential_profitability": 2, "industry_weight": 1, "market_influence": 1,
                    "strategic_fit": 3, "buying_group_breadth": 6, "cost_to_serve": 7,
                    "loss_impact": 3, "reciprocity": 2, "specialised_service": 7,
                    "dispersed_units": 6},
        offset=-0.3,
    ),
    SeniorManager(
        "Claire Dubois", "Director Strategy & Marketing", (), 120,
        taste={"strategic_fit": 1.6, "market_influence": 0.9, "future_potential": 0.6, "billing": 0.4},
        priorities={"billing": 2, "growth": 4, "profitability": 2, "future_potential": 6,
                    "potential_profitability": 3, "industry_weight": 5, "market_influence": 6,
                    "strategic_fit": 8, "buying_group_breadth": 2, "cost_to_serve": 1,
                    "loss_impact": 3, "reciprocity": 4, "specialised_service": 2,
                    "dispersed_units": 1},
        offset=0.1,
    ),
)

# --- contacts ------------------------------------------------------------------------------

FUNCTIONS: tuple[str, ...] = (
    "purchasing", "operations", "maintenance", "engineering", "finance", "logistics",
    "quality", "health & safety", "management",
)
FUNCTION_WEIGHTS: tuple[float, ...] = (0.30, 0.14, 0.13, 0.11, 0.07, 0.08, 0.06, 0.05, 0.06)

SENIORITIES: tuple[str, ...] = ("staff", "manager", "director", "executive")

TITLES: dict[str, tuple[str, str, str, str]] = {
    # function: titles for staff, manager, director, executive
    "purchasing": ("Buyer", "Purchasing Manager", "Head of Procurement", "Chief Procurement Officer"),
    "operations": ("Production Planner", "Plant Manager", "Director of Operations", "Chief Operating Officer"),
    "maintenance": ("Maintenance Technician", "Maintenance Manager", "Head of Maintenance", "VP Asset Management"),
    "engineering": ("Process Engineer", "Engineering Manager", "Director of Engineering", "Chief Technology Officer"),
    "finance": ("Accounts Payable Clerk", "Controller", "Finance Director", "Chief Financial Officer"),
    "logistics": ("Warehouse Coordinator", "Logistics Manager", "Head of Supply Chain", "Chief Supply Chain Officer"),
    "quality": ("Quality Inspector", "Quality Manager", "Director of Quality", "VP Quality"),
    "health & safety": ("Safety Officer", "EHS Manager", "Head of EHS", "VP Health, Safety & Environment"),
    "management": ("Executive Assistant", "Business Unit Manager", "Managing Director", "Chief Executive Officer"),
}

# Most likely DMU roles per function (first = primary).
FUNCTION_ROLES: dict[str, tuple[str, ...]] = {
    "purchasing": ("buyer", "gatekeeper", "influencer"),
    "operations": ("user", "initiator", "decider"),
    "maintenance": ("user", "initiator", "influencer"),
    "engineering": ("influencer", "user", "initiator"),
    "finance": ("influencer", "decider", "gatekeeper"),
    "logistics": ("user", "influencer", "gatekeeper"),
    "quality": ("influencer", "user", "gatekeeper"),
    "health & safety": ("influencer", "initiator", "user"),
    "management": ("decider", "influencer", "initiator"),
}

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "de": ("Anja", "Lukas", "Katrin", "Stefan", "Julia", "Thomas", "Sabine", "Markus", "Claudia",
           "Andreas", "Miriam", "Florian", "Petra", "Jens", "Heike", "Tobias", "Nadine", "Ralf"),
    "nl": ("Jeroen", "Sanne", "Pieter", "Lotte", "Bram", "Eline", "Joost", "Femke", "Ruud",
           "Marieke", "Koen", "Anouk", "Wouter", "Ilse", "Thijs", "Griet"),
    "fr": ("Julien", "Camille", "Nicolas", "Claire", "Hugo", "Émilie", "Antoine", "Sophie",
           "Mathilde", "Céline", "Guillaume", "Aurélie", "Sébastien", "Nathalie", "Olivier"),
    "es": ("Javier", "Lucía", "Carlos", "Marta", "Alejandro", "Elena", "Pablo", "Laura",
           "Miguel", "Carmen", "Sergio", "Nuria", "Raúl", "Irene"),
    "pt": ("João", "Inês", "Tiago", "Ana", "Rui", "Beatriz", "Nuno", "Catarina", "Pedro", "Marta"),
    "it": ("Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo", "Valentina",
           "Andrea", "Sara", "Davide", "Elisa", "Stefano", "Federica", "Paolo"),
    "nordic": ("Erik", "Ingrid", "Lars", "Karin", "Mikael", "Sofia", "Anders", "Elin", "Johan",
               "Maja", "Henrik", "Sanna", "Mikko", "Liisa", "Jonas", "Astrid"),
    "en": ("James", "Emma", "Oliver", "Sophie", "Daniel", "Charlotte", "Michael", "Hannah",
           "Tom", "Rachel", "Patrick", "Siobhan", "David", "Laura", "Conor", "Fiona"),
    "pl": ("Piotr", "Anna", "Tomasz", "Katarzyna", "Michał", "Agnieszka", "Paweł", "Magdalena",
           "Krzysztof", "Joanna"),
    "cz": ("Jan", "Petra", "Martin", "Zuzana", "Lukáš", "Tereza", "Jakub", "Lenka", "Ondřej", "Eva"),
    "hu": ("Gábor", "Eszter", "Péter", "Katalin", "Zoltán", "Réka", "László", "Anna", "Balázs", "Judit"),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Hoffmann", "Schulz", "Koch", "Richter", "Wolf", "Neumann", "Schwarz", "Zimmermann",
           "Krüger", "Hartmann", "Lange", "Werner", "Brandl", "Huber", "Gruber", "Steiner"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer",
           "de Boer", "Mulder", "Peeters", "Maes", "Claes", "Willems", "Dekker", "Janssens"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Fontaine", "Rousseau"),
    "es": ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz",
           "Díaz", "Moreno", "Navarro", "Romero", "Torres", "Vidal"),
    "pt": ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
           "Sousa", "Fernandes"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini"),
    "nordic": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsen", "Hansen",
               "Nielsen", "Jensen", "Virtanen", "Korhonen", "Berg", "Lindqvist", "Dahl", "Holm"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Walsh", "Murphy",
           "Kelly", "Hughes", "Clarke", "Wright", "O'Brien", "Robinson", "Byrne"),
    "pl": ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński",
           "Szymański", "Dąbrowski", "Kozłowski"),
    "cz": ("Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák",
           "Němec", "Pokorný"),
    "hu": ("Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga", "Kiss", "Molnár", "Németh", "Farkas"),
}


FILES: dict[str, str] = {
    "accounts": "accounts.csv",
    "transactions": "transactions.parquet",
    "contacts": "contacts.csv",
    "assessments": "assessments.xlsx",
    "ahp_judgements": "ahp_judgements.csv",
    "opportunities": "opportunities.csv",
    "competitors": "competitors.csv",
    "account_strategy": "account_strategy.xlsx",
    "account_team": "account_team.csv",
}
"""File name of each table in a written sample folder (the ``inputs`` of its engagement.yml)."""
