"""Executing notebooks: kernels, papermill's API, what a failure was, and HTML without code.

A notebook that fails is told apart by its exception's class, in the kernel: every
:class:`~kamlib.errors.KamError` shows a tag line (``KamError._render_traceback_``), and
:func:`describe_failure` reads it back. A user's mistake exits 2 with its one-paragraph
message; anything else exits 1 with the cell and the error.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.intake.engagement import Engagement
from kamlib.errors import USER_ERROR_TAG, KamError
from kamlib.runner.folder import executed_notebook_path
from kamlib.runner.parameters import injected_cell, plan_for

KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
"""The kernel's own start-up chatter (transport warnings) is noise on the user's terminal."""

_USER_ERROR_LINE = re.compile(rf"\[{re.escape(USER_ERROR_TAG)} (\d+)\]")


def start_kernel():
    """Start a ``python3`` kernel in the repository root and return its manager.

    The runner starts the next notebook's kernel while the current notebook runs, so the ~1.3 s
    a kernel needs to boot overlaps with work instead of adding to it.
    """
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(paths.REPO_ROOT), extra_arguments=KERNEL_ARGS)
    return km


def stop_kernel(km) -> None:
    """Shut a kernel down without waiting for it to finish politely."""
    if km is not None and km.has_kernel:
        km.shutdown_kernel(now=True)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], km=None) -> None:
    """Execute one notebook with papermill's Python API (kernel ``python3``, cwd = repo root).

    ``parameters`` are injected only when papermill writes each as a plain literal
    (:func:`~kamlib.runner.parameters.injected_cell`).

    ``km`` is an already started kernel (see :func:`start_kernel`); without one papermill
    starts its own.
    """
    import papermill as pm

    injected_cell(parameters)  # plain literals only, or nothing runs
    # papermill only warns (and misreads comments with '=') where we already validated
    logging.getLogger("papermill").setLevel(logging.ERROR)
    output.parent.mkdir(parents=True, exist_ok=True)
    extra = {"km": km} if km is not None else {"extra_arguments": KERNEL_ARGS}
    pm.execute_notebook(
        _unformattable(notebook), _unformattable(output), parameters=parameters,
        kernel_name="python3", progress_bar=False, cwd=str(paths.REPO_ROOT), log_output=False, **extra,
    )


def _unformattable(path: Path) -> str:
    """``path`` for papermill, which formats paths with the parameters (``str.format``): braces
    are doubled, so a folder named ``client{label}`` stays that folder whatever the values."""
    return str(path).replace("{", "{{").replace("}", "}}")


def user_error_exit_code(traceback: list[str] | None) -> int | None:
    """The exit code a notebook's error output asks for when it was a KamError, else None."""
    for line in traceback or []:
        found = _USER_ERROR_LINE.fullmatch(line.strip())
        if found:
            return int(found.group(1))
    return None


def describe_failure(exc: BaseException) -> dict[str, Any] | None:
    """Cell, exception and exit code of a papermill execution error (None for any other).

    ``exit_code`` is the KamError's (2) when the notebook raised one, else 1.
    """
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(exc, PapermillExecutionError):
        return None
    first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
    user_code = user_error_exit_code(exc.traceback)
    return {"cell": exc.exec_count, "cell_index": exc.cell_index, "ename": exc.ename,
            "evalue": exc.evalue, "source": first_line[:80], "user_error": user_code is not None,
            "exit_code": user_code or 1}


def failure_message(notebook: Path, failure: dict[str, Any]) -> str:
    """What the user reads: a user error's own message, or where a crash happened."""
    if failure["user_error"]:
        return f"{failure['evalue']}"
    return (f"{notebook.name} failed in cell In [{failure['cell']}] (`{failure['source']}`) "
            f"with {failure['ename']}: {failure['evalue']}")


def run_upstream(notebook: Path, engagement: Engagement, run_dir: Path) -> None:
    """Run one earlier notebook into ``run_dir`` (what :meth:`Step.load` does when a table is
    missing), with the engagement's parameters.

    Raises
    ------
    KamError
        The earlier notebook stopped on a user's mistake (any KamError): its message, prefixed
        with the notebook's name.
    """
    params = {"engagement": str(engagement.folder), "run_dir": str(run_dir),
              **plan_for(engagement, notebook).parameters}
    try:
        execute_notebook(notebook, executed_notebook_path(run_dir, notebook), params)
    except Exception as exc:
        failure = describe_failure(exc)
        if failure and failure["user_error"]:
            raise KamError(f"{notebook.stem}: {failure['evalue']}") from None
        raise


class HtmlRenderer:
    """Render executed notebooks to HTML without code, in-process (nbconvert's exporter)."""

    def __init__(self) -> None:
        self._exporter = None

    def render(self, notebook: Path, html: Path) -> Path:
        import nbformat

        if self._exporter is None:
            from nbconvert import HTMLExporter

            self._exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                          exclude_output_prompt=True)
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:  # warnings and logs are for us, not for the client
            if cell.get("cell_type") == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        body, _ = self._exporter.from_notebook_node(nb)
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(body, encoding="utf-8")
        return html
