"""What can end a run from outside the notebooks: a signal, a disk that takes no more, and the
run's temporary folder, removed however the run ends.

* **Signals.** While a run is under way, Ctrl-C (SIGINT) and SIGTERM raise
  :class:`RunInterrupted` in the runner's main thread (:func:`signals_raise`); the runner then
  kills the kernels, writes the manifest with status ``interrupted`` and exits ``128 + signal``
  (130 for Ctrl-C, 143 for SIGTERM). Further signals while it cleans up are ignored, so a second
  Ctrl-C cannot leave the folder without its manifest.
* **Write errors.** A full disk, a quota, a read-only or forbidden folder (:data:`WRITE_ERRNOS`)
  is the user's to fix, not a bug: :func:`write_error` turns it into a one-paragraph
  :class:`~kamlib.errors.KamError` naming the folder and what to do (exit 2), whether the runner
  met it or a notebook's kernel did (:func:`kernel_write_error` reads the kernel's error text).
* **Temporary folder.** :func:`run_temp_dir` makes one folder per run; the kernels get it as
  ``TMPDIR``, so everything they put in the system temp directory (DuckDB's spill folder) lives
  inside it and goes with it, even when a kernel is killed and never runs its own clean-up.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from kamlib import paths
from kamlib.errors import KamError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_FORBIDDEN = (errno.EACCES, errno.EPERM, errno.EROFS)
WRITE_ERRNOS = frozenset((*_FULL, *_FORBIDDEN, errno.EIO))
"""OS errors a user fixes on their side (free space, permissions, another disk)."""

_KERNEL_OS_ERROR = re.compile(r"\[Errno (\d+)\][^:']*(?::\s*'(?P<file>[^']*)')?")
_OS_ERROR_NAMES = frozenset(("OSError", "IOError", "PermissionError", "ArrowIOError"))


class RunInterrupted(Exception):
    """A stop signal reached the runner; ``exit_code`` is ``128 + signal number``."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.signal_name = signal.Signals(self.signum).name
        self.exit_code = 128 + self.signum
        super().__init__(self.signal_name)

    @property
    def what(self) -> str:
        return "Ctrl-C" if self.signum == signal.SIGINT else self.signal_name


class _SignalGuard:
    def __init__(self) -> None:
        self.received: int | None = None
        self.holding = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum, _frame) -> None:
        if self.received is None and not self.holding:  # the first stops the run; later ones
            self.received = signum                      # wait for the clean-up
            raise RunInterrupted(signum)

    def hold(self) -> None:
        """From now on signals are ignored: the run is writing its manifest."""
        self.holding = True

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals only reach the main thread; a run started elsewhere keeps the defaults
        for sig in STOP_SIGNALS:
            current = signal.getsignal(sig)
            if current is signal.SIG_IGN:
                continue  # the caller asked for it to be ignored (nohup, a background job)
            self._previous[sig] = current
            signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_raise() -> Iterator[_SignalGuard]:
    """SIGINT and SIGTERM raise :class:`RunInterrupted` (once) in the main thread while inside."""
    guard = _SignalGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.restore()


@contextlib.contextmanager
def run_temp_dir() -> Iterator[Path]:
    """A fresh ``kam-run-*`` folder in the system temp directory, removed on the way out."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="kam-run-"))
    except OSError as exc:
        raise (write_error(exc, Path(tempfile.gettempdir())) or exc) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def kernel_environment(temp: Path) -> dict[str, str]:
    """The environment a run's kernels start with: this process's, with ``TMPDIR`` the run's."""
    return {**os.environ, "TMPDIR": str(temp)}


def write_error(exc: BaseException, folder: Path) -> KamError | None:
    """The user's side of an OS error met while writing into ``folder`` (None for any other)."""
    if not isinstance(exc, OSError) or exc.errno not in WRITE_ERRNOS:
        return None
    return KamError(_write_message(exc.errno, exc.filename, folder))


def kernel_write_error(ename: str, evalue: str, folder: Path | None) -> str | None:
    """The paragraph for an OS error a notebook's kernel raised (its class name and text), or
    None when it is not one of :data:`WRITE_ERRNOS`."""
    found = _KERNEL_OS_ERROR.search(evalue or "")
    if ename not in _OS_ERROR_NAMES or not found or int(found.group(1)) not in WRITE_ERRNOS:
        return None
    return _write_message(int(found.group(1)), found.group("file"), folder)


def _write_message(code: int, filename: str | os.PathLike | None, folder: Path | None) -> str:
    target = Path(filename) if filename else None
    folder = Path(folder) if folder else paths.reports_dir()
    if target is not None and not target.is_relative_to(folder):
        folder = target.parent
    where = f"{folder} (writing {target.name})" if target is not None else str(folder)
    setting = ("KAM_REPORTS_DIR" if folder.is_relative_to(paths.reports_dir()) else
               "TMPDIR" if folder.is_relative_to(tempfile.gettempdir()) else None)
    if code in _FULL:
        fix, other = ("free some disk space there (a run of the sample needs about 10 MB)",
                      "a folder on a disk with room")
    elif code in _FORBIDDEN:
        fix, other = "give yourself permission to write there", "a folder you can write to"
    else:
        fix, other = "check the disk", "a folder on another disk"
    if setting:
        fix += f", or set {setting} to {other}"
    return (f"{where}: {os.strerror(code)} ({errno.errorcode.get(code, code)}). "
            f"Fix: {fix}, then run again (each run writes a new folder).")
