"""Render report pages in a real headless browser: screenshots and PDF prints.

Pages are meant to be read in a browser and printed; the only honest check of that is a browser.
This drives the system's Chromium in headless mode (Debian: ``apt-get install chromium``) through
its command line, so there is no Python dependency. Used by the tests and by anyone who wants a
PDF of a page::

    from kamlib.report.browser import print_pdf
    print_pdf("reports/acme/run/html/summary.html", "summary.pdf")
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome",
                               "google-chrome-stable", "chrome")
"""Executable names tried, in order, after the ``KAM_CHROMIUM`` environment variable."""

_FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
)


class BrowserError(RuntimeError):
    """Chromium ran but did not produce the file asked for."""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``KAM_CHROMIUM`` first), or None."""
    env = os.environ.get("KAM_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], out: Path, timeout: float) -> Path:
    exe = find_chromium()
    if exe is None:
        raise BrowserError("No Chromium found. Fix: apt-get install chromium (or set "
                           "KAM_CHROMIUM to a Chrome/Chromium executable).")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    with tempfile.TemporaryDirectory(prefix="kam-chromium-") as profile:
        cmd = [exe, *_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    if not out.exists() or out.stat().st_size == 0:
        raise BrowserError(f"Chromium did not write {out} (exit {proc.returncode}).\n"
                           f"{proc.stderr[-2000:]}")
    return out


def _url(page: str | Path) -> str:
    page = str(page)
    return page if "://" in page else Path(page).resolve().as_uri()


def screenshot(page: str | Path, png: str | Path, width: int = 1280, height: int = 2000,
               timeout: float = 60.0) -> Path:
    """Render ``page`` (a file path or URL) and save a PNG screenshot of the first
    ``width`` × ``height`` pixels."""
    return _run([f"--screenshot={Path(png).resolve()}", f"--window-size={width},{height}",
                 _url(page)], Path(png), timeout)


def print_pdf(page: str | Path, pdf: str | Path, timeout: float = 60.0) -> Path:
    """Print ``page`` to PDF with its print stylesheet (as File > Print would)."""
    return _run([f"--print-to-pdf={Path(pdf).resolve()}", "--no-pdf-header-footer",
                 _url(page)], Path(pdf), timeout)


def image_variance(png: str | Path) -> float:
    """Pixel variance of an image (0 for a blank, single-colour page)."""
    import numpy as np
    from matplotlib.image import imread

    img = np.asarray(imread(str(png)), dtype=float)
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2)
    return float(img.var())
