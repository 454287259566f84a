"""Time the segmentation of a large portfolio, choosing k by silhouette.

Usage: python benchmarks/bench_segmentation.py [--accounts N] [--method kmeans|gmm] [--repeat R]

Target (issue 4): 100,000 accounts segmented, including choosing k in 2..8 (silhouette on a
sample), in <= 10 s on 2 cores. The whole step runs (measures, rules, clusters for every k,
naming, strategy, summary, the previous window for migration, the DPM of the top accounts).
The clustering runs on one thread by default (``--threads 2`` to compare: on a busy machine
OpenMP threads spin and slow down ~10x), so the whole run fits a 2-core budget. Import time (scikit-learn) is shown
apart: a notebook pays it once. On a shared machine timings are pessimistic.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--method", default="kmeans", choices=["kmeans", "gmm"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for the clustering (kamlib's default is 1)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401

    from kamlib import segmentation
    from kamlib.segmentation import segments
    from kamlib.segmentation.synthetic import synthetic_features
    import_s = time.perf_counter() - t0

    n = args.accounts
    sizes = {"Star": n // 20, "Developing": n * 3 // 20, "Core": n // 5}
    sizes["Laggard"] = n - sum(sizes.values())
    # Wide blobs: a realistic, overlapping portfolio rather than four tidy clouds.
    features = synthetic_features(sizes, seed=1, value_sd=0.9, growth_sd=0.35)
    segments.CLUSTER_THREADS = args.threads
    times, result = [], None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = segmentation.run(features, k=0, k_range=(2, 8), cluster_method=args.method,
                                  method_shown="clustering", seed=0)
        times.append(time.perf_counter() - t0)
    assert result is not None
    best = min(times)
    print(f"segmentation of {n:,} accounts, {args.method}, k chosen in 2..8, clustering on {args.threads} thread(s)")
    print(f"  import (once per notebook): {import_s:.2f} s")
    print(f"  runs: {', '.join(f'{t:.2f}' for t in times)} s  (median {statistics.median(times):.2f}, best {best:.2f})")
    print(f"  chosen k = {result.params['k_chosen']}; silhouette sample = "
          f"{int(result.cluster_scores['silhouette_sample'].iloc[0]):,}")
    print(result.cluster_scores[["k", "silhouette"]].round(3).to_string(index=False))
    print(f"  target {TARGET_S:.0f} s: median is {statistics.median(times) / TARGET_S:.2f} x the target "
          f"({'OK' if statistics.median(times) <= TARGET_S else 'TOO SLOW'})")
    print(f"  machine load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(other work on the machine makes these numbers pessimistic)")


if __name__ == "__main__":
    main()
