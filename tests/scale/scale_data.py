"""Shared by the scale tests: the run date and the input files of a generated ledger."""

from __future__ import annotations

import datetime as dt

TODAY = dt.date(2026, 1, 1)
"""The run date of every scale test (the generated ledgers end on 2025-12-31)."""


def ledger_inputs(files: dict, transactions=None) -> dict:
    """The inputs of a generated ledger (``gen_invoice_lines.write_dataset``), optionally with
    another invoice-lines file."""
    out = {k: files[k] for k in ("accounts", "contacts", "assessments", "transactions")}
    if transactions is not None:
        out["transactions"] = transactions
    return out
