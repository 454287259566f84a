"""Time `kam run` on the bundled sample (or an engagement, or a generated ledger): per notebook
and in total, with the peak memory of the run (this process and its kernels).

Usage::

    python benchmarks/bench_run.py [--repeat N] [ENGAGEMENT]
    python benchmarks/bench_run.py --ledger 10M --repeat 1     # the whole workbook at scale

Target (issue 2): the whole sample engagement in <= 30 s on a 2-core machine once installed.
Kernel start is ~1.3 s per notebook; the rest should be small next to it. ``--ledger SIZE``
runs the workbook on the synthetic ledger of ``bench_features.py`` (``gen_invoice_lines.py``,
cached in ``benchmarks/.data`` or ``$KAM_BENCH_DATA``) with equal criteria weights, as it has
no pairwise comparisons; it has no target, it shows what a large client costs. Runs go to a
temporary reports folder, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET_S = 30.0


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
    parser.add_argument("--repeat", type=int, default=2, help="runs to time (default 2)")
    parser.add_argument("--ledger", metavar="SIZE",
                        help="run on a generated ledger of SIZE lines (e.g. 10M) instead")
    args = parser.parse_args()
    os.environ["KAM_REPORTS_DIR"] = tempfile.mkdtemp(prefix="kam-bench-")
    if args.ledger:
        args.engagement = str(ledger_engagement(
            args.ledger, Path(tempfile.mkdtemp(prefix="kam-ledger-")) / f"ledger_{args.ledger}"))
    from bench_features import PeakMemory

    t0 = time.perf_counter()
    from kamlib.runner import run_engagement  # import cost counted once, as in `kam run`
    import_s = time.perf_counter() - t0

    totals, per_step, peaks = [], {}, []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        with PeakMemory() as mem:
            result = run_engagement(args.engagement, progress=False, echo=lambda _m: None)
        totals.append(time.perf_counter() - t0)
        peaks.append(mem.peak / 1e9)
        if result.exit_code:
            raise SystemExit(f"run failed: {result.message}")
        manifest = json.loads((result.run_dir / "manifest.json").read_text())
        for step in manifest["steps"]:
            per_step.setdefault(step["notebook"], []).append(step["duration_s"])
    print(f"\nkam run {args.engagement}: {args.repeat} run(s), {os.cpu_count()} cores")
    print(f"{'notebook':<24}{'median s':>10}{'min s':>9}")
    for name, times in per_step.items():
        print(f"{name:<24}{statistics.median(times):>10.2f}{min(times):>9.2f}")
    total = statistics.median(totals)
    print(f"{'import kamlib.runner':<24}{import_s:>10.2f}")
    print(f"{'total (median)':<24}{total:>10.2f}{min(totals):>9.2f}")
    print(f"peak memory (this process and its kernels): {max(peaks):.2f} GB")
    if not args.ledger:
        print(f"target {TARGET_S:.0f} s: ratio {total / TARGET_S:.2f} "
              f"({'met' if total <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
