"""``kam new``: scaffold an engagement folder for a new client."""

from __future__ import annotations

import json
from pathlib import Path

from kamlib.intake.contract import TABLES, Table
from kamlib.errors import KamError
from kamlib.params import ALWAYS, SHARED

_TYPE_HINT = {"str": "text", "int": "whole number", "float": "number", "date": "date YYYY-MM-DD",
              "bool": "true/false", "list": "values separated by ;"}


def engagement_yaml(client: str) -> str:
    """The text of a new ``engagement.yml``: inputs and every parameter with its meaning."""
    from kamlib.runner import all_declared

    lines = [
        "# kam-workbook engagement. Paths are relative to this folder; each input may be .csv,",
        "# .xlsx or .parquet (transactions also a folder or a glob of Parquet files).",
        f"client: {json.dumps(client)}",
        "currency: EUR",
        "inputs:",
    ]
    for table in TABLES.values():
        optional = "" if table.required else "   # optional"
        lines.append(f"  {table.name}: {table.name}.csv{optional}")
    lines += ["# Client headers and words -> the contract's (see README.md; 'kam map .' proposes them):",
              '# columns: {transactions: {"Customer No.": account_id, "Billing Date": date}}',
              "# values: {contacts: {seniority: {Leiter: manager}, dmu_roles: {Entscheider: decider}}}",
              "parameters:",
              "  # Every parameter of every step with its default. Delete what you do not change.",
              "  # A parameter can also be set for every step that declares it at top level."]
    every = all_declared()
    shared = {n: d for declared in every.values() for n, d in declared.items() if n in SHARED}
    if shared:
        lines.append("  # One value for the whole run (every step that uses it):")
    for d in shared.values():
        comment = f"   # {d.help}" if d.help else ""
        lines.append(f"  {d.name}: {json.dumps(d.default, ensure_ascii=False)}{comment}")
    for notebook, declared in every.items():
        params = [d for d in declared.values() if d.name not in ALWAYS + SHARED]
        if not params:
            continue
        lines.append(f"  {notebook.split('_', 1)[-1]}:   # notebooks/{notebook}.ipynb")
        for d in params:
            comment = f"   # {d.help}" if d.help else ""
            lines.append(f"    {d.name}: {json.dumps(d.default, ensure_ascii=False)}{comment}")
    return "\n".join(lines) + "\n"


def _table_readme(table: Table) -> str:
    rows = [f"### {table.name}{'' if table.required else ' (optional)'}", "",
            table.what_to_export or table.description, "",
            "| column | type | required | meaning |", "| --- | --- | --- | --- |"]
    for c in table.columns:
        allowed = f" One of: {', '.join(c.allowed)}." if c.allowed else ""
        rows.append(f"| `{c.name}` | {_TYPE_HINT.get(c.type, c.type)} | "
                    f"{'yes' if c.required else 'no'} | {c.description}{allowed} |")
    return "\n".join(rows)


def readme_text(client: str) -> str:
    parts = [
        f"# {client}: what to export",
        "",
        "Put one file per table in this folder (CSV in UTF-8, Excel .xlsx or Parquet) and name",
        "it in `engagement.yml` under `inputs`. The `*.csv` files here are empty templates with",
        "the expected headers. Identifiers are read as text, so leading zeros are kept. Dates are",
        "YYYY-MM-DD. Extra columns are kept but not used. Then run `kam validate .` to check the",
        "files and `kam run .` to run the workbook.",
        "",
        "Amounts use `.` as the decimal point; invoice lines may also write `1,234.50` (`,`",
        "thousands), `(123.45)` or `123.45-` (negatives). Regional formats are read per column",
        "when its values decide them: decimal commas (`1.234,50`), `;`-separated CSV, currency",
        "signs of the engagement's currency (`€ 12`), `DD.MM.YYYY`, `MM/DD/YYYY` and Excel serial",
        "dates; when a column cannot be decided, say it in `engagement.yml`, e.g.",
        "`format: {transactions: {decimal: \",\", thousands: \".\", date: \"DD/MM/YYYY\"}}`, and",
        "pick a workbook's sheet with `sheet: {transactions: \"Lines\"}`. Blanks around ids and no-break spaces",
        "are trimmed, ids that differ from the accounts table only by case are matched, currency",
        "codes may be in any case. The report accounts for every row and for the money: revenue",
        "read = used + set aside, and intake stops when more than `max_set_aside_share` of a",
        "table's rows or `max_set_aside_revenue_share` of the revenue would be set aside. The",
        "reading rules are in docs/data_contract.md of kam-workbook.",
        "",
        "Ask the client's CRM team for accounts and contacts, the ERP/finance team for invoice",
        "lines (at least three years, including credit notes), and each senior manager for an",
        "assessments sheet and, optionally, their pairwise criteria comparisons (AHP).",
        "",
        "The account teams of the key accounts fill in, as far as they know, the optional plan",
        "inputs: `opportunities` (the CRM pipeline), `competitors` at each account, the",
        "`account_strategy` (the customer's aims and way of buying, our value proposition, the",
        "SWOT of our position) and the `account_team` (executive sponsor, key account manager,",
        "service, technical, finance ...). Leave a template empty when nothing is known: each",
        "plan page then lists the questions to ask. After the first run they keep these tables up",
        "to date in the plan workbook's sheets, which the next run reads back.",
        "",
    ]
    parts += [_table_readme(t) + "\n" for t in TABLES.values()]
    parts += MAPPING_README
    return "\n".join(parts)


MAPPING_README = [
    "## The client's own headers and words",
    "",
    "Exports may keep the client's own headers and words: `engagement.yml` maps them to the",
    "contract, per table, under `columns:` (client header -> contract column) and `values:`",
    "(client word -> contract value, for seniority, DMU roles, functions, attitudes ...).",
    "Headers and words are compared ignoring case and blanks. `kam map .` proposes the mapping",
    "from the headers (English, German, French, Spanish, Dutch, SAP names) and the contents",
    "(dates, amounts, ids of the accounts table, known words), writes it at the end of",
    "`engagement.yml` as a commented block with its reasons and the columns it could not place;",
    "check it and accept it with `kam map . --accept`. `kam validate .` then lists every problem",
    "of every file at once. Worked example, an SAP invoice-line export:",
    "",
    "```text",
    "Kundennummer;Fakturabeleg;Position;Fakturadatum;Material;Warengruppe;Fakturierte Menge;Nettowert;Kosten",
    "C10404;90001234;10;2026-03-02;MAT-4711;Hydraulics;12;1480.00;910.20",
    "```",
    "",
    "```yaml",
    "columns:",
    "  transactions:",
    "    Kundennummer: account_id",
    "    Fakturabeleg: invoice_id",
    "    Position: line_no",
    "    Fakturadatum: date",
    "    Material: product_id",
    "    Warengruppe: category",
    "    Fakturierte Menge: quantity",
    "    Nettowert: net_revenue",
    "    Kosten: cost",
    "values:",
    "  contacts:",
    "    seniority: {Sachbearbeiter: staff, Leiter: manager, Geschäftsführer: executive}",
    "    dmu_roles: {Entscheider: decider, Einkäufer: buyer}",
    "```",
    "",
    "The mapping, the reading rules (number and date formats, encodings, amounts) and the",
    "money accounting are described in docs/data_contract.md of kam-workbook (\"Mapping a",
    "client's export\", \"Files\", \"Regional formats\", \"Reading rules for invoice lines\").",
    "",
]
"""The README's section on mapping a client's export (docs/data_contract.md has the details)."""


def new_engagement(folder: Path, client: str = "") -> Path:
    """Create ``folder`` with ``engagement.yml``, empty input templates and a README.

    Raises
    ------
    KamError
        When ``folder`` exists and is not empty (nothing is overwritten).
    """
    folder = Path(folder).expanduser()
    if folder.exists() and any(folder.iterdir()):
        raise KamError(f"'{folder}' is not empty. Fix: choose a new folder name; kam new never "
                       "overwrites files.")
    folder.mkdir(parents=True, exist_ok=True)
    client = client or folder.resolve().name.replace("_", " ").replace("-", " ").title()
    (folder / "engagement.yml").write_text(engagement_yaml(client), encoding="utf-8")
    (folder / "README.md").write_text(readme_text(client), encoding="utf-8")
    for table in TABLES.values():
        (folder / f"{table.name}.csv").write_text(",".join(table.column_names) + "\n",
                                                  encoding="utf-8")
    return folder
