"""The checks of an invoice line, as Ibis conditions the engine evaluates on every line.

A line is set aside for the first check that holds, in the order of
:func:`transaction_checks`: first those on its own values (:func:`line_checks`: missing or
unparsable cells, dates in the future, absurd amounts), then those that look beyond it
(:func:`context_checks`: its account is known, it is not a duplicate, it is not later than an
explicit ``as_of``). :func:`reason_text`, :func:`reason_code` and :func:`passes` turn the list
into the reason of each line, its code, or whether it is used. The checking pass
(:mod:`kamlib.intake.checking_pass`) evaluates them in its one read of the lines.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kamlib.errors import ParameterError
from kamlib.intake.accounting import (ACCOUNT_SET_ASIDE, AFTER_AS_OF, REPEATED_HEADER,
                                      UNKNOWN_ACCOUNT)
from kamlib.intake.aggregates import ACCOUNT_KEY, EXACT_LIMIT, within_limit
from kamlib.intake.reading_rules import AMBIGUOUS_ID

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

OTHER_CURRENCY = "amount in another currency than the engagement's"
"""Reason (after the column name) of a line whose amount cell names another currency."""


def parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    """``""`` or None -> None (use the data); ``"YYYY-MM-DD"`` -> a date; else ParameterError."""
    if as_of in (None, ""):
        return None
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ParameterError(
            f"as_of must be a date written YYYY-MM-DD, or \"\" for the last valid invoice date; "
            f"got {as_of!r}."
        ) from None


def with_account_key(t: ir.Table, known_accounts: ir.Table) -> ir.Table:
    """Add :data:`ACCOUNT_KEY` to every line by one join with the known accounts.

    The unknown-account check needs that lookup anyway (it used to be an ``IN`` test); as a
    left join it also hands every line an integer key, which the feature build groups by
    instead of the text id. ``known_accounts`` has ``account_id`` (unique) and the key; when it
    also lists ids as the lines write them (``c10404`` for ``C10404``, see
    :func:`kamlib.intake.reading_rules.account_aliases`), its ``_canon`` column holds the
    account's own id, which the matched lines then carry.
    """
    k = known_accounts.rename(_k_account="account_id")
    j = t.left_join(k, t.account_id == k._k_account)
    if "_canon" not in k.columns:
        return j.select(*[j[c] for c in t.columns], j[ACCOUNT_KEY])
    return j.select(*[j[c] for c in t.columns if c != "account_id"],
                    account_id=j._canon.coalesce(j.account_id), **{ACCOUNT_KEY: j[ACCOUNT_KEY]})


def line_checks(t: ir.Table, today: dt.date, present: list[str]) -> list[tuple[Any, str]]:
    """The checks an invoice line must pass on its own values, as ``(condition, reason)`` pairs.

    A line is set aside for the first condition that holds (a null condition does not hold);
    these come first, then those of :func:`context_checks` (see :func:`transaction_checks`).
    """
    import ibis

    def bad(c: str):  # None where the column needs no parsing (typed in the file): no check
        return t[f"_bad_{c}"] if f"_bad_{c}" in t.columns else None

    def foreign(c: str):  # a money cell naming another currency than the engagement's
        return t[f"_fx_{c}"] if f"_fx_{c}" in t.columns else None

    def too_large(c: str, where=True):
        # margin only counts where there is no cost: it is computed from cost otherwise
        return (where & ~within_limit(t[c]),
                f"{c}: {EXACT_LIMIT:,.0f} or more in size (no real invoice line is)")

    no_margin = t.cost.isnull() & t.margin.isnull()
    money_col = "cost" if "cost" in present else "margin"
    checks = [
        (repeated_header(t), REPEATED_HEADER),
        (t.account_id.isnull(), "account_id: missing"),
        (bad("date"), "date: not a date (YYYY-MM-DD)"),
        (t.date.isnull(), "date: missing"),
        (t.date > ibis.literal(today, type="date"), "date: in the future"),
        (foreign("net_revenue"), f"net_revenue: {OTHER_CURRENCY}"),
        (bad("net_revenue"), "net_revenue: not a number"),
        (t.net_revenue.isnull(), "net_revenue: missing"),
        too_large("net_revenue"),
        (bad("quantity"), "quantity: not a number"),
        (t.quantity.isnull(), "quantity: missing"),
        too_large("quantity"),
        (foreign("cost"), f"cost: {OTHER_CURRENCY}"),
        (bad("cost"), "cost: not a number"),
        too_large("cost"),
        (foreign("margin"), f"margin: {OTHER_CURRENCY}"),
        (bad("margin"), "margin: not a number"),
        too_large("margin", t.cost.isnull()),
        (no_margin, f"{money_col}: missing (give cost or margin)"),
        (t.invoice_id.isnull(), "invoice_id: missing"),
        (bad("line_no"), "line_no: not a whole number"),
    ]
    return [(cond, text) for cond, text in checks if cond is not None]


def repeated_header(t: ir.Table) -> Any:
    """Lines that repeat the header (two exports concatenated), or None when the dates were not
    text: the date does not parse, and it and the account id read as their own column names
    once normalised like a header (``Account ID`` -> ``account_id``). Only the lines whose
    date does not parse are looked at, so a clean export pays one test per line."""
    if "_raw_date" not in t.columns or "_bad_date" not in t.columns:
        return None

    def as_header(text):
        return text.lower().re_replace(r"[\s\-./]+", "_").re_replace("^_+|_+$", "")

    named = (as_header(t._raw_date) == "date") & (as_header(t.account_id) == "account_id")
    return t._bad_date.ifelse(named.fill_null(False), False)  # CASE: the rest never looks


def context_checks(t: ir.Table, present: list[str], aside_accounts: ir.Table | None = None, *,
                   after: dt.date | None = None,
                   ambiguous: ir.Table | None = None) -> list[tuple[Any, str]]:
    """The checks that look beyond the line: its account is known, it is not a duplicate, it
    is not later than an explicit ``as_of``; as ``(condition, reason)`` pairs, in order.

    ``t`` carries the account key of :func:`with_account_key` and, when duplicates have been
    looked for, a ``_dup`` flag (:func:`~kamlib.intake.checking_pass.flag_duplicates`,
    :func:`~kamlib.intake.checking_pass.window_duplicate_flag`);
    without it there is no duplicate check here. ``after`` (an explicit ``as_of``) adds the policy reason
    :data:`AFTER_AS_OF`, checked last. ``ambiguous`` lists ids (``account_id``) that match
    several accounts once case is ignored: their lines get their own reason.
    """
    import ibis

    unknown = t[ACCOUNT_KEY].isnull()
    checks = []
    if aside_accounts is not None:
        checks.append((t.account_id.isin(aside_accounts.account_id) & unknown, ACCOUNT_SET_ASIDE))
    if ambiguous is not None:
        checks.append((t.account_id.isin(ambiguous.account_id) & unknown, AMBIGUOUS_ID))
    checks.append((unknown, UNKNOWN_ACCOUNT))
    if "_dup" in t.columns:
        checks.append((t._dup, "invoice_id+line_no: duplicate invoice line" if "line_no" in present
                       else "invoice_id: duplicate invoice line (identical in every column)"))
    if after is not None:
        checks.append((t.date > ibis.literal(after, type="date"), AFTER_AS_OF))
    return checks


def transaction_checks(t: ir.Table, today: dt.date, present: list[str],
                       aside_accounts: ir.Table | None = None, *,
                       after: dt.date | None = None,
                       ambiguous: ir.Table | None = None) -> list[tuple[Any, str]]:
    """Every check of an invoice line in order: :func:`line_checks`, then :func:`context_checks`."""
    return [*line_checks(t, today, present),
            *context_checks(t, present, aside_accounts, after=after, ambiguous=ambiguous)]


def reason_text(checks: list[tuple[Any, str]]) -> Any:
    """The reason a line is set aside (null = the line is used), from :func:`transaction_checks`."""
    import ibis

    return ibis.cases(*checks, else_=ibis.null().cast("string"))


def reason_code(checks: list[tuple[Any, str]]) -> Any:
    """As :func:`reason_text`, as a small integer: 0 = used, k = the k-th check's reason.

    The checking pass groups by it (with the account key), which is cheaper than the text."""
    import ibis

    return ibis.cases(*[(cond, k) for k, (cond, _) in enumerate(checks, 1)], else_=0).cast("int8")


def passes(checks: list[tuple[Any, str]]) -> Any:
    """True where no check holds: :func:`reason_text` is null, as plain boolean logic (what
    every later query filters the used lines with spares the engine the reason of each line)."""
    import ibis

    return ibis.and_(*[~cond.fill_null(False) for cond, _ in checks])


def latest_date(t: ir.Table, today: dt.date) -> dt.date | None:
    """The last invoice date on or before ``today`` (None if there is none): the guess at
    ``as_of`` the checking pass starts from. It reads the date column only."""
    import pandas as pd

    value = t.filter(t.date <= today).date.max().to_pandas()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()
