"""Shared by the scale tests: the run date and the input files of a generated ledger."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TODAY = dt.date(2026, 1, 1)
BAD_REVENUE_SHARE = 0.05
"""max_set_aside_revenue_share for the ledgers damaged on purpose (about 2 % of their lines,
and of their revenue, are set aside: more than the default 1 % allows)."""
"""The run date of every scale test (the generated ledgers end on 2025-12-31)."""


def ledger_inputs(files: dict, transactions=None) -> dict:
    """The inputs of a generated ledger (``gen_invoice_lines.write_dataset``), optionally with
    another invoice-lines file."""
    out = {k: files[k] for k in ("accounts", "contacts", "assessments", "transactions")}
    if transactions is not None:
        out["transactions"] = transactions
    return out


def assert_same_features(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Our feature table and a hand-written SQL's agree column by column: floats to 1e-9,
    dates and integers exactly, missing values in the same places, the rest as text."""
    assert list(ref.columns) == list(ours.columns) and len(ref) == len(ours)
    for col in ours.columns:
        a, b = ours[col], ref[col]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(dtype=float), rtol=1e-9,
                                       atol=1e-9, equal_nan=True, err_msg=col)
        elif a.dtype.kind == "M":
            assert ((pd.to_datetime(a) == pd.to_datetime(b)) | a.isna()).all(), col
            assert (a.isna() == b.isna()).all(), col
        elif a.dtype.kind in "iu":
            assert (a.to_numpy() == b.to_numpy()).all(), col
        else:
            assert a.astype("str").tolist() == b.astype("str").tolist(), col
