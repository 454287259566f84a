"""Benchmark: robustness Monte Carlo of the selection step.

Target (issue 3): 10,000 weight draws over 10,000 accounts and 13 criteria in <= 5 s on 2 cores,
peak memory < 2 GB; since issue 19 the default catalogue has 14 criteria (loss impact and three
judgement criteria on), which is the default here. Run from the repository root::

    python benchmarks/bench_selection.py [--accounts 10000] [--draws 10000] [--criteria 14]

Prints wall time, the ratio to the target and the peak memory (tracemalloc for numpy/Python
allocations during the run, plus the process's maximum resident set size). Timings on a shared
machine are pessimistic: other processes compete for the same cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from kamlib.selection.robustness import classify, monte_carlo, weight_draws  # noqa: E402

TARGET_S = 5.0
TARGET_MB = 2048


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--criteria", type=int, default=14)
    ap.add_argument("--key", type=int, default=30, help="key-list length")
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--rank-draws", type=int, default=500)
    ap.add_argument("--concentration", type=float, default=100.0,
                    help="Dirichlet concentration (smaller = wider spread of weights)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((args.accounts, args.criteria))
    centre = rng.dirichlet(np.full(args.criteria, 3.0))
    print(f"accounts={args.accounts} draws={args.draws} criteria={args.criteria} "
          f"key={args.key} concentration={args.concentration:g} chunk={args.chunk} rank_draws={args.rank_draws} "
          f"cpus={os.cpu_count()} "
          f"OMP/BLAS threads={os.environ.get('OMP_NUM_THREADS', 'default')}")
    times = []
    peak = 0
    for _ in range(args.repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        draws = weight_draws(centre, args.draws, args.concentration, seed=1, mode="dirichlet")
        res = monte_carlo(x, draws, args.key, chunk=args.chunk, rank_draws=args.rank_draws)
        classify(res.p_key)
        times.append(time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    best = min(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"time: best {best:.2f} s, all {', '.join(f'{t:.2f}' for t in times)} "
          f"(target {TARGET_S:.1f} s, ratio {best / TARGET_S:.2f})")
    print(f"peak traced memory: {peak / 2**20:.0f} MB; max RSS of the process: {rss_mb:.0f} MB "
          f"(target {TARGET_MB} MB, ratio {rss_mb / TARGET_MB:.2f})")
    print(f"sanity: sum P(key) = {res.p_key.sum():.2f} (must equal key-list length {args.key})")


if __name__ == "__main__":
    main()
