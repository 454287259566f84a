"""Where things are: the repository, its notebooks, the bundled sample and the reports folder.

Notebooks and the CLI find every file through this module, so neither depends on the working
directory (nbval runs a notebook from its own folder, papermill from wherever it is called).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from kamlib.errors import KamError

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"

_STEP_FILE = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
SLUG_CHARS = 40
"""Longest readable part of a file name made by :func:`safe_name` (the hash follows it)."""
HASH_CHARS = 10
"""Hex digits of the id's hash in a file name made by :func:`safe_name`."""


def reports_dir() -> Path:
    """The folder run folders are written to: ``$KAM_REPORTS_DIR`` or ``<repo>/reports``."""
    return Path(os.environ.get("KAM_REPORTS_DIR") or REPO_ROOT / "reports")


def notebooks_dir() -> Path:
    """The step notebooks' folder: ``$KAM_NOTEBOOKS_DIR`` (tests use it) or ``<repo>/notebooks``."""
    return Path(os.environ.get("KAM_NOTEBOOKS_DIR") or NOTEBOOKS_DIR)


def step_notebooks(folder: Path | None = None) -> list[Path]:
    """The step notebooks (of :func:`notebooks_dir`, or of ``folder``), in the order they run
    (by their two-digit prefix)."""
    folder = notebooks_dir() if folder is None else Path(folder)
    return sorted(p for p in folder.glob("*.ipynb") if _STEP_FILE.match(p.name))


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


def safe_name(key: object) -> str:
    """A portable file-name stem for a value from the data (an account id, a name).

    The readable part is ``key`` folded to ASCII letters, digits, ``_`` and ``-`` (at most
    :data:`SLUG_CHARS` of them); a hash of the exact ``key`` follows, so two keys that fold
    alike (``DE/4711`` and ``DE-4711``, ``a`` and ``A`` on a case-insensitive disk) still get
    two names, and the same key always gets the same one. The result never holds a path
    separator, ``..``, a space, NUL or a character outside ASCII, and never starts with a dot
    or a dash: ``safe_name("../../x")`` is ``x-`` plus ten hex digits.
    """
    text = str(key)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", folded).strip("-_")[:SLUG_CHARS].strip("-_") or "id"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{slug}-{digest}"
