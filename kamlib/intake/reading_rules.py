"""The documented rules that read invoice-line values a plain cast cannot: amounts written with
thousands separators or as accounting negatives, ids that differ from the accounts table only
by surrounding blanks or case, and currency codes in any case.

Each rule is an Ibis expression evaluated in the engine's pass over the lines, and only on the
values that need it: a clean export pays nothing for them (an amount is first cast as it is;
the rules read only the values that cast fails on). What a rule reads is counted in the
data-quality report; what no rule reads unambiguously is set aside or refused with its reason
(see ``docs/data_contract.md``, "Reading rules").

* **Amounts** (:func:`amount_value`): ``(123.45)`` and ``123.45-`` are -123.45; ``1,234.50``
  is 1234.50 when ``,`` separates thousands (groups of three digits) and the column shows that
  ``.`` is its decimal point. A column that also holds decimal commas (``12,5``), or whose
  only comma values could be either (``1,000``), is refused (:func:`check_amount_columns`).
* **Account ids** (:func:`account_aliases`): an id that matches no account as written but
  exactly one account once blanks (Unicode spaces included) are trimmed and case is ignored is
  that account; ids matching several accounts that way are set aside with their own reason.
* **Currency codes** (:func:`currency_code`): trimmed and upper case, so ``EUR``, ``eur`` and
  `` EUR`` are one currency.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError
from kamlib.intake.readers import UNICODE_SPACES

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

_BLANKS = f"[\\s{UNICODE_SPACES}]"
LEADING_BLANKS = f"^{_BLANKS}+"
TRAILING_BLANKS = f"{_BLANKS}+$"

THOUSANDS = r"^[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?$"
"""An amount with ``,`` between groups of three digits and an optional ``.`` decimal part."""

NEGATIVE_MARKS = f"^\\({_BLANKS}*|{_BLANKS}*\\)$|{_BLANKS}*-$"
"""The parentheses of ``(123.45)`` and the minus of ``123.45-``, with blanks inside them."""

DOT_DECIMAL = r"[0-9]\.([0-9]{1,2}|[0-9]{4,})\)?-?$"
"""A value whose ``.`` can only be a decimal point (not followed by exactly three digits)."""

AMBIGUOUS_ID = "account_id: unknown account (matches several accounts when case is ignored)"
"""Reason of lines whose id differs from more than one known account only by case or blanks."""


def strip_blanks(text: ir.StringValue) -> ir.StringValue:
    """``text`` without surrounding blanks, no-break and other Unicode spaces included."""
    return text.re_replace(LEADING_BLANKS, "").re_replace(TRAILING_BLANKS, "")


def amount_value(text: ir.StringValue) -> ir.FloatingValue:
    """An amount the plain cast cannot read, by the amount rules (null if none reads it).

    ``(123.45)`` and ``123.45-`` (accounting and SAP negatives) are -123.45; ``1,234.50`` is
    1234.50 (``,`` between groups of three digits). Surrounding Unicode spaces are ignored.
    Whether a column may be read with ``,`` thousands at all is decided for the whole column
    afterwards (:func:`check_amount_columns`).
    """
    import ibis

    s = strip_blanks(text)
    negative = (s.startswith("(") & s.endswith(")")) | (s.endswith("-") & (s.length() > 1))
    core = negative.ifelse(s.re_replace(NEGATIVE_MARKS, ""), s)
    number = core.re_search(THOUSANDS).ifelse(core.replace(",", ""), core).try_cast("float64")
    signed = core.startswith("-") | core.startswith("+")
    return ibis.cases((negative & signed, ibis.null().cast("float64")), (negative, -number),
                      else_=number)


def check_amount_columns(t: ir.Table, columns: list[str], counts: dict[str, int],
                         file: str) -> list[str]:
    """Decide, for each amount column some of whose values a rule read, whether the column may
    be read that way; return the notes for the data-quality report.

    ``counts`` gives how many values of each column a rule read (the checking pass counts
    them; only columns with some are looked at, by one query over those lines). A column with
    ``,`` thousands must show that ``.`` is its decimal point (a value such as ``1,234.50`` or
    ``12.5``) and hold no decimal comma (``12,5``); otherwise ``1,000`` could be a thousand or
    one, and the column is refused.

    Raises
    ------
    InputError
        A column whose ``,`` can be read either way, naming the values, rows and the fix.
    """
    notes = []
    for c in [c for c in columns if counts.get(c)]:
        raw, alt = t[f"_raw_{c}"], t[f"_alt_{c}"]
        body = strip_blanks(raw)
        summary = t.aggregate(
            _thousands=t.count(where=alt & body.contains(",")),
            _with_dot=t.count(where=alt & body.contains(",") & body.contains(".")),
            _paren=t.count(where=alt & body.startswith("(")),
            _minus=t.count(where=alt & body.endswith("-")),
            _comma_bad=t.count(where=t[f"_bad_{c}"] & body.contains(",")),
        ).to_pandas().iloc[0]
        n_thousands = int(summary["_thousands"])
        if n_thousands:
            dot = int(summary["_with_dot"]) or int(t.aggregate(_n=t.count(
                where=~alt & body.re_search(DOT_DECIMAL))).to_pandas()["_n"].iloc[0])
            if int(summary["_comma_bad"]) or not dot:
                _refuse_commas(t, c, file, mixed=bool(int(summary["_comma_bad"])))
        parts = [f"{n:,} with ',' thousands separators" if k == "_thousands" else
                 f"{n:,} accounting negatives '(x)'" if k == "_paren" else
                 f"{n:,} with a trailing minus 'x-'"
                 for k in ("_thousands", "_paren", "_minus") if (n := int(summary[k]))]
        if parts:
            notes.append(f"{c}: values read by the amount rules: {', '.join(parts)}")
    return notes


def _refuse_commas(t: ir.Table, c: str, file: str, *, mixed: bool) -> None:
    """The InputError for a column whose ``,`` cannot be read as a thousands separator."""
    body = strip_blanks(t[f"_raw_{c}"])
    comma = t.filter(body.contains(",") & (t[f"_alt_{c}"] | t[f"_bad_{c}"]))
    rows = comma.order_by("_row").select("_row", _v=comma[f"_raw_{c}"]).limit(50).to_pandas()
    examples = list(dict.fromkeys(rows["_v"].astype(str)))[:3]
    eg = ", ".join(repr(v) for v in examples)
    why = ("some of its values use ',' as a thousands separator and others as a decimal comma"
           if mixed else "no value shows whether ',' separates thousands or decimals "
           "(1,000 could be a thousand or one)")
    raise InputError(
        file, f"the amounts cannot be read unambiguously: {why} (e.g. {eg}).",
        f"Export '{c}' with '.' as decimal point and without thousands separators (in Excel: "
        "Format Cells > Number, untick 'Use 1000 separator'), or as Parquet/xlsx numbers.",
        column=c, rows=[int(r) for r in rows["_row"].dropna()][:3])


def currency_code(currency: ir.StringValue) -> ir.StringValue:
    """The currency code as the report writes it: trimmed, upper case."""
    return strip_blanks(currency).upper()


def id_key(value: Any) -> str:
    """An id compared ignoring blanks around it (Unicode spaces included) and case."""
    return trim_text(str(value)).casefold()


def account_aliases(unknown: pd.DataFrame, known: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Ids of invoice lines that match an account only once blanks and case are ignored.

    Parameters
    ----------
    unknown : pandas.DataFrame
        ``account_id`` (as the lines write it) and ``n`` (its lines) of the ids that matched
        no account as written.
    known : pandas.DataFrame
        ``account_id`` and the integer account key of the known accounts.

    Returns
    -------
    aliases : pandas.DataFrame
        ``account_id`` as written, the key and ``_canon`` (the account's id) for each id that
        matches exactly one account (an id that matches once trimmed is taken before ignoring
        case).
    found : dict
        ``trimmed`` and ``case`` (lines matched each way), ``ambiguous`` (the ids matching
        several accounts, for their own reason) and ``examples`` (a few pairs for the report).
    """
    import pandas as pd

    key_col = [c for c in known.columns if c != "account_id"][0]
    ids = known["account_id"].astype(str)
    trimmed = ids.map(trim_text)
    folded = ids.map(id_key)
    by_trim = pd.Series(range(len(ids))).groupby(trimmed.to_numpy()).agg(list).to_dict()
    by_fold = pd.Series(range(len(ids))).groupby(folded.to_numpy()).agg(list).to_dict()
    rows, ambiguous, examples = [], [], []
    found = {"trimmed": 0, "case": 0}
    for raw, n in zip(unknown["account_id"].astype(str), unknown["n"].astype(int)):
        hit = by_trim.get(trim_text(raw), [])
        how = "trimmed"
        if len(hit) != 1:
            hit, how = by_fold.get(id_key(raw), []), "case"
        if len(hit) == 1:
            i = hit[0]
            rows.append((raw, known[key_col].iloc[i], ids.iloc[i]))
            found[how] += n
            if len(examples) < 3:
                examples.append(f"{raw!r} as {ids.iloc[i]!r}")
        elif len(hit) > 1:
            ambiguous.append(raw)
    aliases = pd.DataFrame(rows, columns=["account_id", key_col, "_canon"])
    aliases[key_col] = aliases[key_col].astype(known[key_col].dtype)
    return aliases, {**found, "ambiguous": ambiguous, "examples": examples}


def trim_text(value: str) -> str:
    """``value`` without surrounding blanks, Unicode spaces included (Python's side of
    :func:`strip_blanks`)."""
    return _EDGES.sub("", value)


_EDGES = re.compile(f"^{_BLANKS}+|{_BLANKS}+$")
