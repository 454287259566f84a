"""Loaded by pytest before anything is collected, whatever is run (tests/, notebooks/ or both).

No test may write into the working tree. Run folders go to ``$KAM_REPORTS_DIR``, so it is set
to a temporary folder for the whole session here, before any fixture runs (a module-scoped
fixture runs before the per-test folder of tests/conftest.py is set) and before nbval starts
a notebook's kernel (kernels inherit the environment; a notebook run on its own writes to
``reports/<engagement>/interactive``).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_SESSION = pytest.StashKey[tuple[str, str | None]]()


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix="kam-test-reports-")
    config.stash[_SESSION] = (folder, os.environ.get("KAM_REPORTS_DIR"))
    os.environ["KAM_REPORTS_DIR"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder, before = config.stash[_SESSION]
    if before is None:
        os.environ.pop("KAM_REPORTS_DIR", None)
    else:
        os.environ["KAM_REPORTS_DIR"] = before
    shutil.rmtree(folder, ignore_errors=True)
