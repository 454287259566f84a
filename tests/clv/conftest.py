from pathlib import Path

import pandas as pd
import pytest

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "CDNOW_sample.txt"
CDNOW_MASTER = CDNOW.with_name("CDNOW_master.txt.gz")


@pytest.fixture(scope="session")
def cdnow_lines() -> pd.DataFrame:
    """CDNOW sample lines as account_id, date, revenue (see tests/data/cdnow/README.md)."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None,
                      names=["master", "account_id", "date", "cds", "revenue"],
                      dtype={"account_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["account_id", "date", "revenue"]]


@pytest.fixture(scope="session")
def cdnow_rfm(cdnow_lines):
    from kamlib.clv.prep import rfm_summary

    rfm, _ = rfm_summary(cdnow_lines, "1997-09-30", "1998-06-30", "week", value="revenue")
    return rfm


@pytest.fixture(scope="session")
def cdnow_master_rfm() -> pd.DataFrame:
    """The full CDNOW cohort (23,570 customers), calibration to 1997-09-30, holdout to
    1998-06-30, in weeks (see tests/data/cdnow/README.md)."""
    from kamlib.clv.prep import rfm_summary

    raw = pd.read_csv(CDNOW_MASTER, sep=r"\s+", header=None,
                      names=["account_id", "date", "cds", "revenue"],
                      dtype={"account_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    rfm, _ = rfm_summary(raw, "1997-09-30", "1998-06-30", "week", value="revenue")
    return rfm
