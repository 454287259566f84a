"""Shared fixtures: a throw-away reports folder and tiny step notebooks for runner tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest


@pytest.fixture(autouse=True)
def _reports_in_tmp(tmp_path_factory, monkeypatch):
    """Runs made by tests never land in the repository's reports/ folder."""
    monkeypatch.setenv("KAM_REPORTS_DIR", str(tmp_path_factory.mktemp("reports")))


@pytest.fixture(autouse=True)
def _notebook_style_stays_in_its_test():
    """``Step.begin`` styles matplotlib for the rest of a notebook's process (titles on the
    left, ...); in the test process that would leak into every later test's figures."""
    import matplotlib

    with matplotlib.rc_context():
        yield


def make_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """Write a step notebook: a tagged parameters cell followed by code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    pcell = nbformat.v4.new_code_cell(parameters)
    pcell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), pcell,
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
