"""Executing notebooks on pre-started kernels (kamlib.runner.execute) leaves nothing open."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from kamlib.runner.execute import execute_notebook, start_kernel, stop_kernel

FDS = Path("/proc/self/fd")


def _open_descriptors() -> int:
    return len(os.listdir(FDS))


@pytest.mark.skipif(not FDS.is_dir(), reason="counts file descriptors through /proc")
def test_notebooks_run_on_a_given_kernel_leave_no_client_open(tmp_path):
    """nbclient leaves the client of a kernel it was given open (its ZeroMQ context and
    sockets, a dozen descriptors per notebook); the runner's engine stops it, and the kernel
    stays the runner's to use and to stop."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 40 + 2")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    source = tmp_path / "tiny.ipynb"
    source.write_text(nbformat.writes(nb))

    def run_once(i: int) -> None:
        km = start_kernel()
        try:
            execute_notebook(source, tmp_path / f"out{i}.ipynb", {}, km=km)
            assert km.provisioner.process.poll() is None  # still running: not nbclient's to stop
        finally:
            stop_kernel(km)

    run_once(0)  # the first run opens what the process keeps (its event loop)
    before = _open_descriptors()
    for i in range(1, 4):
        run_once(i)
    assert _open_descriptors() <= before + 1
    executed = nbformat.read(tmp_path / "out3.ipynb", as_version=4)
    assert executed.cells[-1].execution_count is not None
