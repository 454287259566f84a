"""Time the sample-company generator: generate_sample and write_sample.

Usage: python benchmarks/bench_sample.py [--accounts N ...] [--repeat R]

Target: 600 accounts (the bundled sample) generated and written in <= 10 s; a few seconds is
what it should take.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[50, 600, 2000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from kamlib.sample import generate_sample, write_sample

    print(f"{'accounts':>8} {'lines':>9} {'generate s':>11} {'write s':>8} {'vs target':>10}")
    for n in args.accounts:
        gen, wri = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            tables = generate_sample(n_accounts=n)
            gen.append(time.perf_counter() - t0)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                write_sample(Path(tmp) / "s", n_accounts=n)
                wri.append(time.perf_counter() - t0)
        g, w = statistics.median(gen), statistics.median(wri)
        print(f"{n:>8} {len(tables['transactions']):>9,} {g:>11.2f} {w:>8.2f} {w / TARGET_S:>9.0%}")
    print(f"(write includes generation; target for 600 accounts: {TARGET_S:.0f} s)")


if __name__ == "__main__":
    main()
