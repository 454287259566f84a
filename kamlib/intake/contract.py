"""The data contract: which tables a client's exports must provide, and their columns.

This module only *describes* the tables. Reading them is :mod:`kamlib.intake.readers`, checking
them :mod:`kamlib.intake.tables` and :mod:`kamlib.intake.checking_pass`. Everything else in
kamlib relies on the column names defined here, so a client's export is renamed to these names
once, at intake, and nowhere else.

Types are logical, not pandas dtypes:

``str``      free text or an identifier (identifiers are *always* text: ``00123`` keeps its zeros)
``int``      whole number
``float``    real number
``date``     calendar date (ISO ``YYYY-MM-DD`` in CSV)
``bool``     true/false
``list``     several values in one cell, separated by ``;`` (e.g. DMU roles)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kamlib.vocabulary import DMU_ROLES, STRATEGY_TOPICS, TEAM_ROLES  # spelled in the vocabulary

JUDGED_CRITERIA: tuple[str, ...] = (
    "future_potential",
    "industry_weight",
    "market_influence",
    "potential_profitability",
    "strategic_fit",
    "reciprocity",
    "specialised_service",
)
"""Selection criteria that managers score (0-10) in the assessments table."""

SELECTION_CRITERIA: tuple[str, ...] = (
    "size",
    "purchase_volume",
    "billing",
    "share_of_sales",
    "growth",
    "profitability",
    "buying_group_breadth",
    "dispersed_units",
    "cost_to_serve",
    "loss_impact",
    *JUDGED_CRITERIA,
)
"""Keys of every criterion in the selection catalogue (see :mod:`kamlib.selection`): the first
ten are computed from the data, the rest are judged by managers."""

DEFAULT_CRITERIA: tuple[str, ...] = (
    "billing",
    "growth",
    "profitability",
    "future_potential",
    "potential_profitability",
    "industry_weight",
    "market_influence",
    "strategic_fit",
    "buying_group_breadth",
    "cost_to_serve",
    "loss_impact",
    "reciprocity",
    "specialised_service",
    "dispersed_units",
)
"""Criteria switched on by default; the sample managers' AHP comparisons cover exactly these.
Loss impact ("could we afford to lose it?") and the three judgement criteria of the KAM
literature that the data carries (reciprocity, need for specialised service, dispersed buying
units) are on by default since issue 19."""


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str
    required: bool
    description: str
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Table:
    """One table of the contract: its columns and which of them identify a row."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    what_to_export: str = ""

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _c(name: str, type_: str, required: bool, description: str, **kw) -> Column:
    return Column(name, type_, required, description, **kw)


ACCOUNTS = Table(
    name="accounts",
    description="One row per customer account (the legal entity or ship-to group we sell to).",
    key=("account_id",),
    what_to_export="CRM account master: id, name, industry, region, country, number of sites, "
    "group/parent, estimated category spend (wallet) and the date the relationship began.",
    columns=(
        _c("account_id", "str", True, "Our identifier for the account (kept as text)."),
        _c("name", "str", True, "Account name as the client knows it."),
        _c("industry", "str", True, "Industry / vertical of the account."),
        _c("region", "str", True, "Sales region."),
        _c("country", "str", True, "Country (ISO code or name)."),
        _c("n_sites", "int", False, "Number of sites / buying units the account has (blank: unknown).", minimum=1),
        _c("parent_id", "str", False, "Group or parent account id, if the account belongs to a group."),
        _c("employees", "int", False, "Head count of the account (a size criterion).", minimum=0),
        _c("wallet", "float", False, "Estimated total annual spend of the account in our category.", minimum=0),
        _c("relationship_start", "date", False, "Date the account became a customer."),
        _c("account_manager", "str", False, "Our account manager currently responsible for it."),
        _c("cost_to_serve", "float", False, "Known annual cost to serve the account (logistics, service, sales time).", minimum=0),
        _c("contract_start", "date", False, "Start of the current annual contract, if the account is on one."),
        _c("contract_end", "date", False, "End (or churn date) of the account's contract, blank while active."),
    ),
)

TRANSACTIONS = Table(
    name="transactions",
    description="Invoice lines. Credit notes and returns are negative lines, not errors.",
    key=("invoice_id", "line_no"),
    what_to_export="ERP invoice lines for at least three years: one row per invoice line with "
    "account, invoice number, line number, invoice date, product, category, quantity, net revenue "
    "and cost of goods (or margin).",
    columns=(
        _c("account_id", "str", True, "Account the invoice was billed to."),
        _c("invoice_id", "str", True, "Invoice (or credit note) number."),
        _c("line_no", "int", False, "Line number within the invoice (used with invoice_id to spot duplicates)."),
        _c("date", "date", True, "Invoice date."),
        _c("product_id", "str", True, "Product / SKU."),
        _c("category", "str", True, "Product category."),
        _c("quantity", "float", True, "Quantity (negative for returns)."),
        _c("net_revenue", "float", True, "Net revenue of the line after discounts (negative for credit notes)."),
        _c("cost", "float", False, "Cost of goods of the line; give either cost or margin.", ),
        _c("margin", "float", False, "Gross margin of the line (net_revenue - cost) if cost is not exported."),
        _c("site_id", "str", False, "Ship-to site / buying unit of the account."),
        _c("currency", "str", False, "Currency code; one currency per engagement."),
    ),
)

CONTACTS = Table(
    name="contacts",
    description="People at the account that we know, with their role in the buying decision.",
    key=("contact_id",),
    what_to_export="CRM contacts of each account with title, function, seniority, their role(s) "
    "in buying decisions, influence, attitude toward us, relationship strength, our owner and the "
    "date of the last meeting or call.",
    columns=(
        _c("contact_id", "str", True, "Contact identifier."),
        _c("account_id", "str", True, "Account the contact works for."),
        _c("name", "str", True, "Contact's name."),
        _c("title", "str", False, "Job title."),
        _c("function", "str", True, "Function (purchasing, operations, finance, engineering, ...)."),
        _c("seniority", "str", False, "Seniority level.", allowed=("staff", "manager", "director", "executive")),
        _c("dmu_roles", "list", False, "DMU roles, ';'-separated.", allowed=DMU_ROLES),
        _c("power", "int", False, "Influence on the buying decision, 1 (low) to 5 (high).", minimum=1, maximum=5),
        _c("attitude", "int", False, "Attitude toward us, -5 (hostile) to +5 (champion).", minimum=-5, maximum=5),
        _c("relationship_strength", "int", False, "How well we know them, 0 (not at all) to 5 (in depth).", minimum=0, maximum=5),
        _c("owner", "str", False, "Our person who owns the relationship."),
        _c("last_contact", "date", False, "Date of the last meeting or call."),
        _c("reports_to", "str", False, "contact_id of the person this contact reports to."),
        _c("priorities", "str", False, "What this person cares about, as recorded in the CRM "
           "(replaces the plan's guess from their function)."),
    ),
)

ASSESSMENTS = Table(
    name="assessments",
    description="Each manager's judgement of the accounts they know: criterion scores 0-10 and "
    "their own ranking of 'our 10 most important customers'.",
    key=("manager", "account_id"),
    what_to_export="A sheet each senior manager fills in: one row per account they can judge, a "
    "0-10 score for each judged criterion and, for their personal top 10, its rank.",
    columns=(
        _c("manager", "str", True, "Manager giving the assessment."),
        _c("account_id", "str", True, "Account assessed."),
        *(
            _c(c, "float", False, f"Score 0-10 for the criterion '{c}'.", minimum=0, maximum=10)
            for c in JUDGED_CRITERIA
        ),
        _c("top_rank", "int", False, "Rank 1-10 if the manager lists the account among the 10 most important, else blank.", minimum=1),
    ),
)

AHP_JUDGEMENTS = Table(
    name="ahp_judgements",
    description="Each manager's pairwise comparisons of selection criteria on Saaty's 1-9 scale.",
    key=("manager", "criterion_a", "criterion_b"),
    required=False,
    what_to_export="For each manager and each pair of criteria: how much more important "
    "criterion_a is than criterion_b (1 = equal, 9 = extremely more; 1/3 or 0.333 when b matters more).",
    columns=(
        _c("manager", "str", True, "Manager giving the judgement."),
        _c("criterion_a", "str", True, "First criterion (key from the criteria catalogue)."),
        _c("criterion_b", "str", True, "Second criterion."),
        _c("value", "float", True, "Importance of a over b, 1/9 to 9.", minimum=1 / 9, maximum=9),
    ),
)

OPPORTUNITIES = Table(
    name="opportunities",
    description="Open (and recently closed) sales opportunities per account: the pipeline the "
    "revenue targets are built on.",
    key=("account_id", "name"),
    required=False,
    what_to_export="CRM opportunities of each account: name, stage, amount per year, win "
    "probability, expected close date, product category and owner. Closed ones may stay in: "
    "stages 'won' and 'lost' (also 'closed won', 'closed lost') are recognised.",
    columns=(
        _c("account_id", "str", True, "Account the opportunity is with."),
        _c("name", "str", True, "Name of the opportunity (unique per account)."),
        _c("stage", "str", False, "Sales stage as the CRM names it (prospecting, proposal, "
           "negotiation, won, lost ...)."),
        _c("amount", "float", True, "Expected revenue per year if won.", minimum=0),
        _c("probability", "float", False, "Win probability, 0 to 1 (a column of 0-100 is read "
           "as percent). Blank: 0.5 is assumed and the plan says so.", minimum=0, maximum=100),
        _c("expected_close", "date", False, "Date the opportunity is expected to close."),
        _c("category", "str", False, "Product category the opportunity is in."),
        _c("owner", "str", False, "Our person who owns the opportunity."),
    ),
)

COMPETITORS = Table(
    name="competitors",
    description="Competitors present at each account: where they are, how much of the "
    "account's spend they hold, how strong the customer thinks they are.",
    key=("account_id", "competitor", "scope"),
    required=False,
    what_to_export="Per key account, the competitors the account team knows of: name, the "
    "categories or sites they supply ('all' for the whole account), their estimated share of the "
    "account's spend in our category, and their strength as the customer sees it (0-10, on the "
    "scale the directional policy matrix scores us).",
    columns=(
        _c("account_id", "str", True, "Account the competitor supplies."),
        _c("competitor", "str", True, "Competitor's name."),
        _c("scope", "str", False, "Category or sites they supply; blank means the whole account."),
        _c("share_of_wallet", "float", False, "Their estimated share of the account's spend in "
           "our category, 0 to 1.", minimum=0, maximum=1),
        _c("strength", "float", False, "Their strength as the customer sees it, 0 (weak) to 10 "
           "(strong); 5 is an average rival.", minimum=0, maximum=10),
        _c("position", "str", False, "Their position in a few words (incumbent, challenger, "
           "niche, price fighter ...)."),
    ),
)

ACCOUNT_STRATEGY = Table(
    name="account_strategy",
    description="What the account team knows of the customer's strategy and of our position: "
    "one row per statement.",
    key=("account_id", "topic", "text"),
    required=False,
    what_to_export="Per key account, one row per statement: the customer's strategic aims "
    "(topic 'aim'), their culture and way of buying ('culture'), our value proposition "
    "('value_proposition'), and the SWOT of our position ('strength', 'weakness', 'opportunity', "
    "'threat').",
    columns=(
        _c("account_id", "str", True, "Account the statement is about."),
        _c("topic", "str", True, "What the statement records.", allowed=STRATEGY_TOPICS),
        _c("text", "str", True, "The statement, in a sentence."),
        _c("source", "str", False, "Where it comes from (annual report, meeting of 2026-03-02, "
           "the account manager ...)."),
    ),
)

ACCOUNT_TEAM = Table(
    name="account_team",
    description="Our people on each key account's team and their roles.",
    key=("account_id", "person", "role"),
    required=False,
    what_to_export="Per key account, our people who work on it: name and role (executive "
    "sponsor, key account manager, sales, service, technical, finance, logistics, marketing, "
    "quality, other), and the customer's person they mirror where there is one.",
    columns=(
        _c("account_id", "str", True, "Account the person works on."),
        _c("person", "str", True, "Our person's name."),
        _c("role", "str", True, "Their role in the account team.", allowed=TEAM_ROLES),
        _c("counterpart", "str", False, "contact_id of the customer's person they mirror "
           "(function to function)."),
    ),
)

PLAN_INPUTS: tuple[str, ...] = ("opportunities", "competitors", "account_strategy", "account_team")
"""The optional tables the account team keeps between runs (the plan workbook has a sheet
each, read back at the next run)."""

TABLES: dict[str, Table] = {
    t.name: t for t in (ACCOUNTS, TRANSACTIONS, CONTACTS, ASSESSMENTS, AHP_JUDGEMENTS,
                        OPPORTUNITIES, COMPETITORS, ACCOUNT_STRATEGY, ACCOUNT_TEAM)
}
"""All contract tables by name, in the order intake reads them."""
