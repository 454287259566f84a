"""Warm kernels: the kernel started for the next notebook imports what that notebook needs.

Each notebook still runs in a kernel of its own (papermill, one process per step), but the
runner starts the next kernel while the current notebook runs (:mod:`kamlib.runner.run`). Right
after it starts, that kernel is sent one silent request, which imports the heavy libraries the
next notebook will import anyway (pandas, matplotlib, scipy.stats, sklearn.cluster, the Ibis
DuckDB backend, the step's kamlib package): 1.5-2.5 s per kernel that then overlap with the
current notebook instead of adding to the next one.

The request is fixed source (:func:`warm_up_source`): module names from :data:`WARM_IMPORTS`,
nothing from the engagement, its data or the parameters. It runs silently (no output, no
execution count, no history, no name left in the notebook's namespace), and a warm-up that fails
(a library missing, a kernel that dies) changes nothing: the notebook imports what it needs
itself, as without a warm-up, and reports its own errors.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Callable
from pathlib import Path

_COMMON = ("numpy", "pandas", "pyarrow.parquet", "pyarrow.dataset", "matplotlib.pyplot",
           "IPython.display", "kamlib.runner.step", "kamlib.figures")
"""What every step notebook imports: tables, figures and ``Step``."""

WARM_IMPORTS: dict[str, tuple[str, ...]] = {
    "00_intake": _COMMON + ("duckdb", "ibis", "ibis.backends.duckdb", "openpyxl",
                            "kamlib.intake.entry", "kamlib.figures.intake"),
    "10_selection": _COMMON + ("scipy.stats", "kamlib.selection.entry",
                               "kamlib.figures.selection"),
    "20_clv": _COMMON + ("scipy.special", "scipy.optimize", "kamlib.clv.entry",
                         "kamlib.figures.clv"),
    "30_segmentation": _COMMON + ("scipy.stats", "sklearn.cluster", "sklearn.metrics",
                                  "kamlib.segmentation.entry", "kamlib.figures.segmentation"),
    "40_account_plans": _COMMON + ("kamlib.planning.entry", "kamlib.figures.planning",
                                   "kamlib.report.account_page"),
    "50_portfolio_review": _COMMON + ("scipy.optimize", "xlsxwriter", "kamlib.review.entry",
                                      "kamlib.figures.portfolio", "kamlib.report.plan_workbook",
                                      "kamlib.report.summary"),
}
"""Modules to import ahead of each step notebook (by stem); any other notebook gets the common
ones. Each list is what the notebook imports with its default parameters (``sys.modules`` after a
run of the sample), no more: a module imported for nothing would cost CPU. Names only: which of
them a kernel cannot import is left for the notebook to report."""

WARM_UP_TIMEOUT_S = 300.0
"""Longest wait for a warm-up before its notebook runs anyway (papermill then waits in turn)."""

_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")

log = logging.getLogger(__name__)


def warm_imports(notebook: Path | str) -> tuple[str, ...]:
    """The modules to import ahead of ``notebook`` (a path or a stem)."""
    return WARM_IMPORTS.get(Path(notebook).stem, _COMMON)


def warm_up_source(modules: tuple[str, ...]) -> str:
    """The code a kernel runs to import ``modules``: every import tried, every failure ignored,
    no name left behind. Only dotted module names are accepted (ValueError otherwise)."""
    bad = [m for m in modules if not isinstance(m, str) or not _MODULE_NAME.fullmatch(m)]
    if bad:
        raise ValueError(f"not module names: {bad!r}")
    return ("def _kam_warm_up():\n"
            "    import importlib\n"
            f"    for name in {tuple(modules)!r}:\n"
            "        try:\n"
            "            importlib.import_module(name)\n"
            "        except Exception:\n"
            "            pass\n"
            "try:\n"
            "    _kam_warm_up()\n"
            "finally:\n"
            "    del _kam_warm_up\n")


class WarmUp:
    """One kernel's warm-up, sent at once and waited for with :meth:`finish`.

    Never raises: a warm-up that cannot be sent or fails is logged (debug) and forgotten.
    """

    def __init__(self, km, modules: tuple[str, ...]) -> None:
        self.km = km
        self.status = "not sent"
        self._client = None
        self._msg_id = None
        try:
            source = warm_up_source(modules)
            client = km.blocking_client()
            # the shell channel only: the request and its reply are all a warm-up needs, and the
            # heartbeat's thread, on a kernel that has died, reopens its socket until ZeroMQ's
            # limit of sockets per context ("Too many open files")
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            self._client = client
            self._msg_id = client.execute(source, silent=True, store_history=False,
                                          allow_stdin=False)
            self.status = "sent"
        except Exception as exc:  # the notebook will import what it needs itself
            log.debug("kernel warm-up not sent: %s", exc)
            self._close()

    def finish(self, timeout: float = WARM_UP_TIMEOUT_S,
               stopping: Callable[[], bool] = lambda: False) -> str:
        """Wait until the kernel has done the warm-up (or died, or the run is stopping), so
        that the notebook's first request does not queue behind it unseen; the status:
        ``ok``, ``error`` (an import the kernel could not do is ignored), ``not sent``,
        ``kernel gone``, ``stopping`` or ``timed out``."""
        deadline = time.monotonic() + timeout
        try:
            while self._msg_id is not None:
                if stopping():
                    self.status = "stopping"
                elif not self._kernel_alive():
                    self.status = "kernel gone"
                elif time.monotonic() > deadline:
                    self.status = "timed out"
                else:
                    try:
                        reply = self._client.get_shell_msg(timeout=0.5)
                    except queue.Empty:
                        continue
                    if reply.get("parent_header", {}).get("msg_id") != self._msg_id:
                        continue
                    self.status = reply.get("content", {}).get("status", "error")
                break
        except Exception as exc:
            log.debug("kernel warm-up not awaited: %s", exc)
            self.status = "error"
        finally:
            self._close()
        return self.status

    def close(self) -> None:
        """Close the client now, without waiting for the reply: a warm-up whose notebook will
        not run (the run failed or is stopping) must not leave its client behind. A client left open keeps
        its own ZeroMQ context with a socket in it, and when the garbage collector finalises
        that context, its ``term`` can wait for the socket forever. Safe to call more than
        once."""
        self._close()

    @property
    def closed(self) -> bool:
        """Whether the warm-up's client is closed (finished, closed, or never sent)."""
        return self._client is None

    def _kernel_alive(self) -> bool:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return process is not None and process.poll() is None

    def _close(self) -> None:
        client, self._client, self._msg_id = self._client, None, None
        if client is not None:
            try:
                client.stop_channels()
            except Exception:  # pragma: no cover - closing a client of a dead kernel
                pass


def warm_up(km, notebook: Path | str) -> WarmUp | None:
    """Send ``km`` the warm-up for ``notebook``; None when there is no kernel."""
    return None if km is None else WarmUp(km, warm_imports(notebook))
