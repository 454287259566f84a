"""End to end: the sample company exported the way a client's ERP and CRM write files gives the
same money per account as the clean sample, to the cent, with every row accounted for."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from kamlib import intake
from kamlib.intake.engagement import load_engagement

MONEY = ["revenue_total", "margin_total", "revenue_12m", "margin_12m", "revenue_prev_12m",
         "margin_prev_12m"]


def _amount(value: float, negative: str) -> str:
    """``1,234.50``; negatives as accounting ``(1,234.50)`` or SAP ``1,234.50-``."""
    if pd.isna(value):
        return ""
    text = f"{abs(value):,.2f}"
    if value >= 0:
        return text
    return f"({text})" if negative == "paren" else f"{text}-"


def _client_export(folder):
    """The sample's inputs, with transactions and accounts as a client's systems export them."""
    sample = load_engagement("sample")
    shutil.copytree(sample.folder, folder)
    lines = pd.read_parquet(folder / "transactions.parquet")
    out = lines.astype(object)
    out["net_revenue"] = [_amount(v, "paren") for v in lines["net_revenue"]]
    out["cost"] = [_amount(v, "minus") for v in lines["cost"]]
    out["margin"] = [_amount(v, "minus") for v in lines["margin"]]
    out["account_id"] = lines["account_id"].map(lambda v: v if pd.isna(v) else f"{v:<10}")
    out["currency"] = lines["currency"].str.lower()
    first = lines["product_id"].dropna().iloc[0]
    out["product_id"] = lines["product_id"].replace({first: f"{first} – 5 € “net”"})
    out.to_csv(folder / "transactions.csv", index=False, encoding="cp1252")
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.loc[[3, 7], "n_sites"] = ""
    accounts = accounts.rename(columns={"account_id": "Account\u00a0ID"})
    accounts.to_csv(folder / "accounts.csv", index=False, encoding="utf-8")
    yml = (folder / "engagement.yml").read_text().replace("transactions.parquet", "transactions.csv")
    (folder / "engagement.yml").write_text(yml)
    (folder / "transactions.parquet").unlink()
    return folder, int((lines["net_revenue"] < 0).sum()), int((lines["net_revenue"].abs() >= 1000).sum())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder, credits, large = _client_export(tmp_path_factory.mktemp("client") / "export")
    clean = intake.run(load_engagement("sample"))
    export = intake.run(load_engagement(str(folder)))
    return clean, export, credits, large


def test_money_per_account_equals_the_clean_sample_to_the_cent(runs):
    clean, export, credits, large = runs
    assert credits > 100 and large > 1000  # the export really uses both formats
    a = clean.account_features.set_index("account_id")[MONEY]
    b = export.account_features.set_index("account_id")[MONEY]
    assert list(a.index) == list(b.index)
    assert np.array_equal(a.round(2).to_numpy(), b.round(2).to_numpy())


def test_every_row_is_accounted_for_as_in_the_clean_sample(runs):
    clean, export, _, _ = runs
    for mine, theirs in zip(export.row_accounts, clean.row_accounts):
        assert (mine.table, mine.rows_read, mine.rows_used, mine.reasons) == \
            (theirs.table, theirs.rows_read, theirs.rows_used, theirs.reasons)
        assert mine.balanced
    m, c = export.row_accounts[1].money, clean.row_accounts[1].money
    assert round(m.revenue_read, 2) == round(c.revenue_read, 2)
    assert round(m.revenue_set_aside, 2) == round(c.revenue_set_aside, 2)
    assert m.unknown == c.unknown
    assert export.inputs.transactions.summary["currency"] == "EUR"
    assert export.inputs.frames["accounts"]["n_sites"].isna().sum() == 2
    notes = "; ".join(export.row_accounts[1].notes)
    assert "net_revenue: values read by the amount rules" in notes
    assert "values trimmed of surrounding blanks" in notes
