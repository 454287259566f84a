"""Which regional format each text column of the invoice lines is read in, decided on the
engine from the whole column (see :mod:`kamlib.intake.formats` for the rules).

:func:`detect_formats` decides before the casting step, from the first lines (one small
query) and, only for a column those leave undecided (every date's day 12 or less, every
amount's separator either way), from all its values. :func:`check_amount_columns` verifies
after the checking pass, only for a column some of whose values the column's format did not
read plainly: values of another format are refused with the fix, and a column whose first
lines held whole numbers only is cast again (:class:`~kamlib.intake.formats.Recast`). A clean
export in the contract's format pays one query over its first lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kamlib.intake.contract import TRANSACTIONS
from kamlib.intake.formats import (COMMA, COMMA_NUMBER, DOT_NUMBER, ISO_PREFIX, LAYOUT_SHAPE, PLAIN,
                                   ColumnFormats, Recast, TableFormat, amount_evidence,
                                   currency_tokens, date_evidence, decide_date, decide_number,
                                   number_refusal)
from kamlib.intake.reading_rules import amount_pieces, cell_groups, clean_cell, strip_blanks

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

HEAD_ROWS = 10_000
"""Lines the first decision looks at."""


def text_columns(raw: ir.Table, kind: str) -> list[str]:
    """The contract's amount (``kind="float"``) or date columns that ``raw`` holds as text."""
    return [c.name for c in TRANSACTIONS.columns if c.type == kind and c.name in raw.columns
            and raw[c.name].type().is_string()]


def detect_formats(raw: ir.Table, given: TableFormat | None, file: str,
                   currency: str | None = "EUR") -> ColumnFormats:
    """Decide the number format of each amount column and the layout of the date column.

    ``given`` is the table's ``format:`` block (its settings win, for every column);
    ``currency`` the engagement's, whose signs amount cells may carry.

    Raises
    ------
    InputError
        A column whose values mix formats, or that no value decides (naming ``format:``).
    """
    amounts, dates = text_columns(raw, "float"), text_columns(raw, "date")
    out = ColumnFormats({}, {}, set(), set(), currency_tokens(currency) if currency else [])
    number = given.number() if given else None
    if number is not None:
        out.numbers.update({c: number for c in amounts})
        out.given.update(amounts)
        amounts = []
    if given is not None and given.date:
        out.dates.update({c: given.date for c in dates})
        out.given.update(dates)
        dates = []
    if not amounts and not dates:
        return out
    head = raw.select(*amounts, *dates).limit(HEAD_ROWS).to_pandas()
    pending: list[str] = []
    evidence = {c: amount_evidence(strip_head(head[c])) for c in amounts}
    for c in amounts:
        decided = decide_number(evidence[c], c, file, final=False)
        if decided is not None and (evidence[c]["dot"] or evidence[c]["comma"]):
            out.numbers[c] = decided
    default = table_default(out)
    for c in amounts:
        if c in out.numbers:
            continue
        decided = decide_number(evidence[c], c, file, final=False, default=default)
        if decided is None:
            pending.append(c)
        else:
            out.numbers[c] = decided
            out.provisional.add(c)
    for c in dates:
        decided = decide_date(date_evidence(strip_head(head[c])), c, file, final=False)
        if decided is None:
            pending.append(c)
        else:
            out.dates[c] = decided
    if pending:
        _decide_on_all_values(raw, pending, out, file)
    return out


def strip_head(values: Any) -> Any:
    return values.dropna().astype("string").str.strip()


def _decide_on_all_values(raw: ir.Table, columns: list[str], out: ColumnFormats,
                          file: str) -> None:
    """Decide the columns the first lines left open from all their values (one query)."""
    amounts = [c for c in columns if TRANSACTIONS.column(c).type == "float"]
    evidence = amount_counts(raw, {c: raw[c] for c in amounts}, file, table_default(out))
    for c in amounts:
        out.numbers[c] = decide_number(evidence[c], c, file, default=table_default(out))
    for c in columns:
        if c in amounts:
            continue
        text = strip_blanks(raw[c])
        first = text.re_extract(LAYOUT_SHAPE, 1)
        sep = text.re_extract(LAYOUT_SHAPE, 2)
        second = text.re_extract(LAYOUT_SHAPE, 3)
        shaped = sep != ""
        row = raw.aggregate(
            shaped=raw.count(where=shaped),
            iso=raw.count(where=text.re_search(ISO_PREFIX)),
            day_first=raw.count(where=shaped & (first.try_cast("int32") > 12)),
            month_first=raw.count(where=shaped & (second.try_cast("int32") > 12)),
            **{f"sep_{i}": raw.count(where=sep == s) for i, s in enumerate("./-")},
        ).to_pandas().iloc[0]
        seps = [s for i, s in enumerate("./-") if int(row[f"sep_{i}"])]
        out.dates[c] = decide_date({"separators": seps, "shaped": int(row["shaped"]),
                                    "day_first": int(row["day_first"]), "iso": int(row["iso"]),
                                    "month_first": int(row["month_first"])}, c, file)


def table_default(formats: ColumnFormats) -> Any:
    """The number format the table's columns show by their own values: decimal comma when
    some column shows it and none the decimal point; else None (the contract's)."""
    shown = {f for c, f in formats.numbers.items() if c not in formats.provisional}
    return COMMA if shown == {COMMA} else None


def amount_counts(t: ir.Table, columns: dict[str, Any], file: str,
                  default: Any = None) -> dict[str, dict[str, int]]:
    """:func:`~kamlib.intake.formats.amount_evidence` of whole columns, on the engine (one
    query); with a few examples of each kind where a column would be refused."""
    if not columns:
        return {}
    exprs = {}
    kinds = {}
    for c, text in columns.items():
        core = amount_pieces(cell_groups(clean_cell(text)))[0]
        has = text.contains(".") | text.contains(",")
        dot, comma = core.re_search(DOT_NUMBER), core.re_search(COMMA_NUMBER)
        kinds[c] = {"dot": has & dot & ~comma, "comma": has & comma & ~dot,
                    "either": text.contains(",") & dot & comma}
        exprs.update({f"{k}__{c}": t.count(where=cond) for k, cond in kinds[c].items()})
    row = t.aggregate(**exprs).to_pandas().iloc[0]
    out = {c: {k: int(row[f"{k}__{c}"]) for k in ("dot", "comma", "either")} for c in columns}
    for c, ev in out.items():
        mixed = ev["dot"] and ev["comma"]
        if mixed or not (ev["dot"] or ev["comma"] or default or not ev["either"]):
            shown = ("dot", "comma") if mixed else ("either",)
            examples, rows = [], []
            for k in shown:
                sel = t.filter(kinds[c][k]).select(_v=columns[c], **(
                    {"_r": t["_row"]} if "_row" in t.columns else {})).limit(2).to_pandas()
                examples += [str(v) for v in sel["_v"]]
                rows += [int(r) for r in sel.get("_r", []) if r == r]
            raise number_refusal(file, c, "transactions", examples, mixed=bool(mixed),
                                 rows=sorted(rows)[:3] or None)
    return out


def check_amount_columns(t: ir.Table, columns: list[str], counts: dict[str, dict[str, int]],
                         file: str, formats: ColumnFormats | None = None) -> list[str]:
    """Verify, after the checking pass, the format of each amount column some of whose values
    its format did not read plainly; return the notes on what the amount rules read.

    ``counts`` gives per column how many values the amount rules read (``alt``), none read
    (``bad``).
    A column of another format than its first lines showed is cast again (raises
    :class:`~kamlib.intake.formats.Recast`); one that mixes formats, or that no value
    decides, is refused.

    Raises
    ------
    InputError
        The column cannot be read unambiguously, naming values, rows and the ``format:`` fix.
    """
    formats = formats or ColumnFormats({}, {}, set(), set(), [])
    amounts = [c for c in columns if f"_raw_{c}" in t.columns
               and TRANSACTIONS.column(c).type == "float"]
    look = [c for c in amounts if c not in formats.given
            and any(counts.get(c, {}).get(k) for k in ("alt", "bad"))]
    default = table_default(formats)
    evidence = amount_counts(t, {c: t[f"_raw_{c}"] for c in look}, file, default)
    recast = {}
    for c in look:
        decided = decide_number(evidence[c], c, file, default=default)
        if decided != formats.numbers.get(c, PLAIN):
            recast[c] = decided
    if recast:
        raise Recast(recast)
    return _rule_notes(t, [c for c in amounts if counts.get(c, {}).get("alt")], formats)


def _rule_notes(t: ir.Table, columns: list[str], formats: ColumnFormats) -> list[str]:
    """What the amount rules read in each column: separators, negatives, currency signs."""
    if not columns:
        return []
    exprs = {}
    for c in columns:
        raw, alt = strip_blanks(t[f"_raw_{c}"]), t[f"_alt_{c}"]
        sep = formats.numbers.get(c, PLAIN).thousands
        token = amount_pieces(cell_groups(clean_cell(raw)))[3]
        exprs.update({
            f"_thousands__{c}": t.count(where=alt & raw.re_search(f"[0-9][{sep} '][0-9]{{3}}")),
            f"_paren__{c}": t.count(where=alt & raw.startswith("(")),
            f"_minus__{c}": t.count(where=alt & raw.endswith("-")),
            f"_currency__{c}": t.count(where=alt & (token != "")),
        })
    row = t.aggregate(**exprs).to_pandas().iloc[0]
    notes = []
    for c in columns:
        sep = formats.numbers.get(c, PLAIN).thousands
        words = {"_thousands": f"with '{sep}' thousands separators",
                 "_paren": "accounting negatives '(x)'", "_minus": "with a trailing minus 'x-'",
                 "_currency": "with a currency sign or code"}
        parts = [f"{n:,} {w}" for k, w in words.items() if (n := int(row[f"{k}__{c}"]))]
        if parts:
            notes.append(f"{c}: values read by the amount rules: {', '.join(parts)}")
    return notes
