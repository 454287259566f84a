"""Benchmark: the resource plan's assignment on portfolios of growing size.

Run: ``python benchmarks/bench_resources.py``. Prints seconds per solve and the ratio to the
target (a 200-account, 20-manager plan in <= 2 s, well inside a notebook's 2-3 s budget).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from kamlib.review.resources import ResourcePlanner

TARGET_S = 2.0


def portfolio(n: int, m: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    managers = [f"M{i:02d}" for i in range(m)]
    owners = rng.choice(managers[: max(1, m - 2)] + [None], n)  # two new managers, some unowned
    acc = pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(n)],
                        "tier": rng.choice(["key", "key-development"], n, p=[0.6, 0.4]),
                        "account_manager": owners})
    return acc, managers


def main() -> None:
    print(f"{'accounts':>8} {'managers':>8} {'seconds':>8} {'changes':>8} {'status':>8}  ratio")
    for n, m in ((35, 5), (100, 10), (200, 20), (400, 40)):
        acc, mgrs = portfolio(n, m)
        hours = float(np.where(acc["tier"] == "key", 120, 60).sum())
        planner = ResourcePlanner(max_accounts=int(np.ceil(n / m * 1.25)),
                                  max_hours=np.ceil(hours / m * 1.15))
        t = time.perf_counter()
        planner.fit(acc, mgrs)
        s = time.perf_counter() - t
        print(f"{n:>8} {m:>8} {s:>8.2f} {planner.n_changes_:>8} {planner.status_[:8]:>8}  "
              f"{s / TARGET_S:.2f} of target" + ("  <- target size" if n == 200 else ""))


if __name__ == "__main__":
    main()
