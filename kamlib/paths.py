"""Where things are: the repository, its notebooks, the bundled sample and the reports folder.

Notebooks and the CLI find every file through this module, so neither depends on the working
directory (nbval runs a notebook from its own folder, papermill from wherever it is called).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kamlib.errors import KamError

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"

_STEP_FILE = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")


def reports_dir() -> Path:
    """The folder run folders are written to: ``$KAM_REPORTS_DIR`` or ``<repo>/reports``."""
    return Path(os.environ.get("KAM_REPORTS_DIR") or REPO_ROOT / "reports")


def notebooks_dir() -> Path:
    """The step notebooks' folder: ``$KAM_NOTEBOOKS_DIR`` (tests use it) or ``<repo>/notebooks``."""
    return Path(os.environ.get("KAM_NOTEBOOKS_DIR") or NOTEBOOKS_DIR)


def step_notebooks() -> list[Path]:
    """The step notebooks, in the order they run (by their two-digit prefix)."""
    return sorted(p for p in notebooks_dir().glob("*.ipynb") if _STEP_FILE.match(p.name))


def step_key(notebook: Path | str) -> str:
    """The step's short name: ``notebooks/30_segmentation.ipynb`` -> ``segmentation``."""
    stem = Path(notebook).stem
    return stem.split("_", 1)[1] if re.match(r"^\d\d_", stem) else stem


def notebook_for(step: str) -> Path:
    """Find a step notebook by its full stem (``30_segmentation``) or short name (``segmentation``)."""
    for path in step_notebooks():
        if step in (path.stem, step_key(path)):
            return path
    known = ", ".join(p.stem for p in step_notebooks()) or "none"
    raise KamError(f"There is no step notebook called '{step}'. Known steps: {known}.")
