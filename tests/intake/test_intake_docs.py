"""docs/data_contract.md describes every contract column and every feature column."""

from __future__ import annotations

from kamlib import paths
from kamlib.intake.contract import TABLES
from kamlib.intake.features import FEATURE_COLUMNS

DOC = (paths.REPO_ROOT / "docs" / "data_contract.md").read_text(encoding="utf-8")


def test_every_contract_column_is_documented():
    for table in TABLES.values():
        assert f"### {table.name}" in DOC
        for col in table.columns:
            assert f"| `{col.name}` | {col.type} |" in DOC, (table.name, col.name)


def test_every_feature_column_is_documented():
    for col in FEATURE_COLUMNS:
        assert f"`{col}`" in DOC, col
