"""Time `kam run` on the bundled sample: per notebook and in total.

Usage: python benchmarks/bench_run.py [--repeat N] [ENGAGEMENT]

Target (issue 2): the whole sample engagement in <= 30 s on a 2-core machine once installed.
Kernel start is ~1.3 s per notebook; the rest should be small next to it. Runs go to a
temporary reports folder, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

TARGET_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engagement", nargs="?", default="sample")
    parser.add_argument("--repeat", type=int, default=2, help="runs to time (default 2)")
    args = parser.parse_args()
    os.environ["KAM_REPORTS_DIR"] = tempfile.mkdtemp(prefix="kam-bench-")

    t0 = time.perf_counter()
    from kamlib.runner import run_engagement  # import cost counted once, as in `kam run`
    import_s = time.perf_counter() - t0

    totals, per_step = [], {}
    for i in range(args.repeat):
        t0 = time.perf_counter()
        result = run_engagement(args.engagement, progress=False, echo=lambda _m: None)
        totals.append(time.perf_counter() - t0)
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
    print(f"target {TARGET_S:.0f} s: ratio {total / TARGET_S:.2f} "
          f"({'met' if total <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
