"""Time `kam run` on the bundled sample (or an engagement, or a generated ledger): per notebook,
per kind of cell, and the floor, with CPU seconds and the peak memory of the run.

Usage::

    python benchmarks/bench_run.py [--repeat N] [ENGAGEMENT]
    python benchmarks/bench_run.py --ledger 10M --repeat 1     # the whole workbook at scale

Target (issue 15): the sample in <= 20 s wall on an idle 2-core machine and <= 30 s CPU (this
process and its kernels: ``getrusage`` of the process and of its ended children). Printed, as
medians over the runs:

* per notebook: wall seconds, split into code cells, figure cells (``step.figure``), the
  imports/``Step.begin`` cell, and papermill/kernel overhead (the step's time outside its cells),
  and the CPU seconds of its kernel (read just before the runner shuts it down: the warm-up
  imports, the notebook, and its kernel's start);
* the slowest cells of the run, by notebook and first line;
* the runner: the run's wall time outside the notebooks (parameters, manifest, HTML, Excel),
  and the CPU seconds of this process (the runner: papermill, HTML pages, results.xlsx, the
  deck, the manifest's hashes; the pages and the workbook are written while the next notebook
  runs);
* the floor: the same runner (``_execute_steps``: kernels started ahead, papermill, pages) on as
  many empty notebooks, the cost of the machinery with no work in it.

The machine may be shared: CPU seconds are the steadier figure. Run it with another checkout's
interpreter (``/other/.venv/bin/python benchmarks/bench_run.py``) for a paired comparison: the
kamlib that interpreter imports is the one measured. ``--ledger SIZE`` runs the workbook on the
synthetic ledger of ``bench_features.py`` (``gen_invoice_lines.py``, cached in
``benchmarks/.data`` or ``$KAM_BENCH_DATA``) with equal criteria weights, as it has no pairwise
comparisons; at 10M lines (~20k accounts) the target is the whole workbook in <= 60 s wall.
Runs go to a temporary reports folder, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET_WALL_S = 20.0
TARGET_CPU_S = 30.0
LEDGER_TARGET_WALL_S = 60.0
"""The whole workbook on the 10M-line ledger (issue 15)."""
KINDS = ("code cells", "figures", "imports/Step.begin", "papermill/kernel")


def cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have ended (the kernels)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def cell_kind(source: str) -> str:
    """Which kind of work a code cell is, for the breakdown."""
    if "Step.begin(" in source:
        return "imports/Step.begin"
    if "step.figure(" in source or "SVG(" in source:
        return "figures"
    return "code cells"


def own_cpu_seconds() -> float:
    """User + system CPU of this process alone (the runner)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


class KernelCpu:
    """The CPU seconds of every kernel the runner shuts down, in order (one per notebook: the
    step thread stops each kernel right after its notebook), read from the kernel's process
    just before it ends."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __enter__(self) -> KernelCpu:
        from kamlib.runner import execute

        self._execute, self._stop = execute, execute.stop_kernel

        def stop(km) -> None:
            process = getattr(getattr(km, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                self.seconds.append(process_cpu(process.pid))
            self._stop(km)

        execute.stop_kernel = stop
        return self

    def __exit__(self, *exc) -> None:
        self._execute.stop_kernel = self._stop


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process and of its ended children."""
    try:
        import psutil

        t = psutil.Process(pid).cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except Exception:  # psutil missing, or the process just ended
        return float("nan")


def slow_cells(executed: Path) -> list[tuple[str, float]]:
    """(line, seconds) of every code cell of an executed notebook, in order: the line calling
    a step's entry point (``.run(``) where the cell has one, else its first line."""
    import nbformat

    out = []
    for cell in nbformat.read(executed, as_version=4).cells:
        if cell.cell_type == "code":
            seconds = (cell.metadata.get("papermill") or {}).get("duration") or 0.0
            lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip()]
            shown = next((ln for ln in lines if ".run(" in ln), lines[0] if lines else "")
            out.append((shown, seconds))
    return out


def cell_breakdown(executed: Path, step_s: float) -> dict[str, float]:
    """Seconds by kind of cell in an executed notebook (papermill's per-cell durations); what
    the step took beyond its cells is papermill/kernel overhead."""
    import nbformat

    out = dict.fromkeys(KINDS, 0.0)
    for cell in nbformat.read(executed, as_version=4).cells:
        if cell.cell_type == "code":
            seconds = (cell.metadata.get("papermill") or {}).get("duration") or 0.0
            out[cell_kind(cell.source)] += seconds
    out["papermill/kernel"] = max(step_s - sum(out.values()), 0.0)
    return out


def floor_run(n_notebooks: int, scratch: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the runner on ``n_notebooks`` empty notebooks (no warm-up
    imports): kernels started one ahead, papermill, HTML rendering."""
    import nbformat

    from kamlib.runner import run as runner
    from kamlib.runner.execute import Kernels
    from kamlib.runner.outputs import ResultsWorkbook
    from kamlib.runner.parameters import StepPlan

    folder = scratch / "floor"
    folder.mkdir()
    plans = []
    for i in range(n_notebooks):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("engagement = ''\nrun_dir = ''")]
        nb.cells[0].metadata["tags"] = ["parameters"]
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                     "display_name": "Python 3"}
        path = folder / f"{i:02d}_empty.ipynb"
        nbformat.write(nb, path)
        plans.append(StepPlan(path, {}))
    if hasattr(runner, "warm_up"):  # an empty notebook imports nothing: no warm-up either
        from kamlib.runner.warm import WarmUp

        runner.warm_up = lambda km, _notebook: WarmUp(km, ())
    result = runner.RunResult(folder / "run")
    with open(os.devnull, "w") as quiet:
        t0, c0 = time.perf_counter(), cpu_seconds()
        runner._execute_steps(plans, folder, result, ResultsWorkbook(result.run_dir),
                              runner.Progress(len(plans), bar=False, stream=quiet), Kernels())
        return time.perf_counter() - t0, cpu_seconds() - c0


def ledger_engagement(size: str, folder: Path) -> Path:
    """An engagement in ``folder`` over the generated ledger of ``size`` lines (``"10M"``):
    the tables ``gen_invoice_lines.write_dataset`` writes, criteria weighted equally."""
    import yaml
    from gen_invoice_lines import parse_size, write_dataset

    from kamlib.scaffold import new_engagement

    files = write_dataset(parse_size(size), "parquet", quiet=True)
    new_engagement(folder, client=f"Generated ledger, {size} lines")
    config = yaml.safe_load((folder / "engagement.yml").read_text(encoding="utf-8"))
    config["inputs"] = {k: str(files[k]) for k in ("accounts", "transactions", "contacts",
                                                   "assessments")}
    config["parameters"] = {"selection": {"weights": "equal"}}
    (folder / "engagement.yml").write_text(yaml.safe_dump(config, sort_keys=False),
                                           encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engagement", nargs="?", default="sample")
    parser.add_argument("--repeat", type=int, default=5, help="runs to time (default 5)")
    parser.add_argument("--ledger", metavar="SIZE",
                        help="run on a generated ledger of SIZE lines (e.g. 10M) instead")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kam-bench-"))  # runs, ledger engagement, floor
    try:
        measure(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(args: argparse.Namespace, scratch: Path) -> None:
    """Time ``args.repeat`` runs and the floor, and print the report; everything is written
    below ``scratch``."""
    os.environ["KAM_REPORTS_DIR"] = str(scratch / "reports")
    if args.ledger:
        args.engagement = str(ledger_engagement(args.ledger, scratch / f"ledger_{args.ledger}"))
    from bench_features import PeakMemory

    t0 = time.perf_counter()
    from kamlib.runner import run_engagement  # import cost counted once, as in `kam run`
    import_s = time.perf_counter() - t0

    totals, cpus, peaks, runner_s, runner_cpu = [], [], [], [], []
    per_step: dict[str, list[float]] = {}
    step_cpu: dict[str, list[float]] = {}
    kinds: dict[str, dict[str, list[float]]] = {}
    cells: dict[tuple[str, int], list] = {}
    for _ in range(args.repeat):
        t0, c0, own0 = time.perf_counter(), cpu_seconds(), own_cpu_seconds()
        with PeakMemory() as mem, KernelCpu() as kernel_cpu:
            result = run_engagement(args.engagement, progress=False, echo=lambda _m: None)
        totals.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
        runner_cpu.append(own_cpu_seconds() - own0)
        peaks.append(mem.peak / 1e9)
        if result.exit_code:
            raise SystemExit(f"run failed: {result.message}")
        manifest = json.loads((result.run_dir / "manifest.json").read_text())
        for k, step in enumerate(manifest["steps"]):
            name, seconds = step["notebook"], step["duration_s"]
            per_step.setdefault(name, []).append(seconds)
            step_cpu.setdefault(name, []).append(
                kernel_cpu.seconds[k] if k < len(kernel_cpu.seconds) else float("nan"))
            executed = result.run_dir / "notebooks" / f"{name}.ipynb"
            split = cell_breakdown(executed, seconds)
            for kind, value in split.items():
                kinds.setdefault(name, {}).setdefault(kind, []).append(value)
            for j, (first, cell_s) in enumerate(slow_cells(executed)):
                cells.setdefault((name, j), [first, []])[1].append(cell_s)
        runner_s.append(totals[-1] - sum(s["duration_s"] for s in manifest["steps"]))
    floor_wall, floor_cpu = floor_run(len(per_step), scratch)
    report(args, Timings(per_step, step_cpu, kinds, cells, totals, cpus, runner_s, runner_cpu),
           import_s, max(peaks), (floor_wall, floor_cpu))


@dataclass
class Timings:
    """Every run's figures, by notebook (and cell), for :func:`report`'s medians."""

    per_step: dict[str, list[float]]
    step_cpu: dict[str, list[float]]
    kinds: dict[str, dict[str, list[float]]]
    cells: dict[tuple[str, int], list]
    totals: list[float]
    cpus: list[float]
    runner_s: list[float]
    runner_cpu: list[float]


SLOWEST_CELLS = 12
"""How many of the slowest cells the report lists."""


def report(args, t: Timings, import_s, peak, floor) -> None:
    med = statistics.median
    print(f"\nkam run {args.engagement}: {args.repeat} run(s), {os.cpu_count()} cores, "
          "medians in wall seconds (kernel CPU: CPU seconds of the notebook's kernel)")
    print(f"{'notebook':<22}{'total':>7}" + "".join(f"{k:>20}" for k in KINDS)
          + f"{'kernel CPU':>12}")
    for name, times in t.per_step.items():
        print(f"{name:<22}{med(times):>7.2f}"
              + "".join(f"{med(t.kinds[name][k]):>20.2f}" for k in KINDS)
              + f"{med(t.step_cpu[name]):>12.2f}")
    print(f"{'all notebooks':<22}{sum(med(v) for v in t.per_step.values()):>7.2f}"
          + "".join(f"{sum(med(t.kinds[n][k]) for n in t.kinds):>20.2f}" for k in KINDS)
          + f"{sum(med(v) for v in t.step_cpu.values()):>12.2f}")
    print(f"\nslowest cells (median wall seconds):")
    slowest = sorted(t.cells.items(), key=lambda item: -med(item[1][1]))[:SLOWEST_CELLS]
    for (name, j), (first, seconds) in slowest:
        print(f"  {med(seconds):7.2f}  {name} code cell {j + 1}: {first[:70]}")
    print()
    print(f"{'runner (outside notebooks)':<28}{med(t.runner_s):>7.2f} s wall; "
          f"runner process {med(t.runner_cpu):.2f} s CPU over the whole run")
    print(f"{'import kamlib.runner':<28}{import_s:>7.2f}")
    print(f"{'floor (empty notebooks)':<28}{floor[0]:>7.2f} s wall, {floor[1]:.2f} s CPU "
          f"({len(t.per_step)} notebooks through the same runner)")
    total, cpu = med(t.totals), med(t.cpus)
    print(f"{'total':<28}{total:>7.2f} s wall (min {min(t.totals):.2f}), {cpu:.2f} s CPU "
          f"(min {min(t.cpus):.2f}; this process and its kernels)")
    print(f"peak memory (this process and its kernels): {peak:.2f} GB")
    if not args.ledger:
        print(f"target {TARGET_WALL_S:.0f} s wall on an idle machine: "
              f"{'met' if total <= TARGET_WALL_S else 'NOT met'} ({total / TARGET_WALL_S:.2f}); "
              f"{TARGET_CPU_S:.0f} s CPU: {'met' if cpu <= TARGET_CPU_S else 'NOT met'} "
              f"({cpu / TARGET_CPU_S:.2f})")
    elif args.ledger.strip().upper() == "10M":
        print(f"target {LEDGER_TARGET_WALL_S:.0f} s wall at 10M lines (idle machine): "
              f"{'met' if total <= LEDGER_TARGET_WALL_S else 'NOT met'} "
              f"({total / LEDGER_TARGET_WALL_S:.2f})")


if __name__ == "__main__":
    main()
