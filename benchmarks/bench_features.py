"""Benchmark: intake's build from 1M-50M invoice lines, against the plain feature query.

Each case runs in a fresh Python process, so its peak memory is its own (RSS of the process and
its children: DuckDB runs inside the process, Spark's JVM is a child). The cases of one size run
back to back, round after round (``--repeat``), so each round pairs them on the same machine
state. Cases:

``plain``    the yardstick: ``plain_feature_query.sql``, the query a peer writes for features
             (one ``GROUP BY account`` with sums, counts, first and last date) on the same file,
             with the same threads and DuckDB memory share; it checks nothing and builds no
             further table.
``features`` what intake does for ``account_features``: read and cast the lines, check every
             line and account for it (rows read = used + set aside), then the features (Ibis on
             DuckDB, default memory budget 2GB). The checks, the accounting and the per-account
             aggregates are one pass (``checking_pass.check_transactions``).
``intake``   every table intake builds from the lines: ``features`` plus purchase occasions,
             account x category x year and monthly revenue (``features.feature_tables``).
``sql``, ``sqlcheck``, ``sqlall`` (``--references``) the hand-written references:
             ``feature_reference.sql`` (the features written by hand, windows and distinct
             counts, no checks); ``check_reference.sql`` then ``feature_reference.sql`` (the
             checks by hand too); and ``feature_reference.sql`` with ``tables_reference.sql``
             (every table intake builds from the lines, by hand, nothing checked: the floor
             of the ``intake`` case's work, which its ratio to ``sqlall`` measures against).
``spark``    the ``intake`` case on a local Spark session (``--spark``; needs ``.[spark]``, Java).

A German-format size (``10Mdecsv``: the same lines written as German Excel writes a CSV -- ``;``
between fields, decimal commas with ``.`` thousands, ``DD.MM.YYYY`` dates) runs the kamlib
cases on that file and the SQL on the same lines in the contract's CSV format: the yardstick is
unchanged, and the ratio shows what reading the regional formats costs.

Usage::

    python benchmarks/bench_features.py                       # 1M Parquet (a minute)
    python benchmarks/bench_features.py --sizes 10M 50M --repeat 3
    python benchmarks/bench_features.py --sizes 1M --spark --references

Sizes: ``1M``, ``10M``, ``50M`` (Parquet), ``10Mcsv`` (CSV) and ``10Mdecsv`` (German CSV); any
``<n>M``/``<n>k`` works. Data is generated on first use (``gen_invoice_lines.py``) and cached
(``$KAM_BENCH_DATA``). Targets (issue 15): all intake tables within 1.5x the plain query's CPU
time at 10M and 50M, peak memory <= 1 GB at 10M and <= 2 GB at 50M. Both ratios -- features
only, and all intake tables -- are printed for CPU and wall time: from the run of each case with
the least CPU time, and as the median of the rounds' own ratios. On a machine shared with other
work CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

AS_OF = dt.date(2025, 12, 31)  # the generator's last day (every size has invoices on it)
TODAY = dt.date(2026, 1, 1)
TARGET_RATIO = 1.5
TARGET_PEAK_GB = {10_000_000: 1.0, 50_000_000: 2.0}
"""Peak memory targets by line count (issue 15)."""
KAMLIB_CASES = ("features", "intake", "spark")


# ------------------------------------------------------------------------ the reference query
def _scan(path: str | Path, numbered: bool = False) -> str:
    """A DuckDB table expression reading ``path`` (Parquet or CSV); ``numbered`` adds
    ``file_row_number`` (0 = first line). A parenthesised query is passed through."""
    path = str(path)
    if path.startswith("("):
        return path
    path = path.replace("'", "''")
    if path.endswith(".csv"):
        # explicit types, as a careful hand-written query would give them
        scan = (f"read_csv('{path}', header=true, types={{'account_id': 'VARCHAR', "
                "'invoice_id': 'VARCHAR', 'date': 'DATE', 'product_id': 'VARCHAR', "
                "'site_id': 'VARCHAR'})")
        return f"(SELECT *, row_number() OVER () - 1 AS file_row_number FROM {scan})" if numbered else scan
    return f"read_parquet('{path}', file_row_number=true)" if numbered else f"read_parquet('{path}')"


def plain_sql(transactions: str | Path) -> str:
    """``plain_feature_query.sql`` (the yardstick) filled in for this file."""
    return (HERE / "plain_feature_query.sql").read_text().format(transactions=_scan(transactions))


def tables_sql(transactions: str | Path, as_of: dt.date = AS_OF) -> list[str]:
    """``tables_reference.sql`` filled in for this file, as its statements in order (purchase
    occasions, account x category x year, monthly revenue)."""
    return _statements("tables_reference.sql", transactions=_scan(transactions),
                       as_of=as_of.isoformat())


def reference_sql(transactions: str | Path, accounts: str | Path, contacts: str | Path,
                  as_of: dt.date = AS_OF) -> str:
    """``feature_reference.sql`` filled in for these files (Parquet or CSV transactions, or a
    parenthesised query such as the checked lines)."""
    text = (HERE / "feature_reference.sql").read_text()
    return text.format(transactions=_scan(transactions), accounts=_scan(accounts),
                       contacts=_scan(contacts), as_of=as_of.isoformat())


CHECKED_USED_LINES = "(SELECT * EXCLUDE (reason, row_no) FROM checked_lines WHERE reason IS NULL)"
"""The lines ``check_reference.sql`` keeps, as a table expression for ``reference_sql``."""


def reference_check_sql(transactions: str | Path, accounts: str | Path,
                        today: dt.date = TODAY) -> list[str]:
    """``check_reference.sql`` filled in, as its statements in order (the last one returns the
    row accounting per reason; the used lines are then :data:`CHECKED_USED_LINES`)."""
    return _statements("check_reference.sql", transactions=_scan(transactions, numbered=True),
                       accounts=_scan(accounts), today=today.isoformat())


def _statements(name: str, **values: str) -> list[str]:
    """The SQL file ``name`` beside this script with ``values`` filled in, as its statements in
    order (comment lines dropped, split at semicolons)."""
    lines = [ln for ln in (HERE / name).read_text().splitlines()
             if not ln.lstrip().startswith("--")]
    text = "\n".join(lines).format(**values)
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


def run_reference(con, files: dict, checked: bool, today: dt.date = TODAY):
    """Run the hand-written SQL on a DuckDB connection: ``(features, accounting)``.

    Without ``checked`` the feature query reads the file as it is (``as_of`` the generator's
    last day, accounting None); with it, the checks run first, as_of is the last date of the
    lines they keep, and the feature query reads those lines.
    """
    if not checked:
        return con.sql(reference_sql(files["transactions"], files["accounts"],
                                     files["contacts"])).df(), None
    *setup, accounting = reference_check_sql(files["transactions"], files["accounts"], today)
    for stmt in setup:
        con.execute(stmt)
    acc = con.sql(accounting).df()
    as_of = acc.loc[acc["reason"].isna(), "last_date"].iloc[0]
    as_of = as_of.date() if hasattr(as_of, "date") else as_of
    frame = con.sql(reference_sql(CHECKED_USED_LINES, files["accounts"], files["contacts"],
                                  as_of)).df()
    return frame, acc


# ---------------------------------------------------------------------- measuring one process
class PeakMemory:
    """Largest RSS of this process plus its children, sampled every 50 ms (psutil), and the
    kernel's own high-water mark of this process (``getrusage``), whichever is larger."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:  # pragma: no cover - psutil is optional
            self._proc = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # the child ended meanwhile
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._proc is not None:
                self.peak = max(self.peak, self._sample())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        self.peak = max(self.peak, own, kids)


def cpu_seconds() -> float:
    """CPU time of this process and its children so far (user + system)."""
    try:
        import psutil

        p = psutil.Process()
        t = p.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in p.children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except Exception:
                pass
        return total
    except ImportError:  # pragma: no cover
        return time.process_time()


def run_case(case: dict) -> dict:
    """Run one case in this process; return wall time, CPU time, peak memory and checks."""
    from gen_invoice_lines import write_dataset

    files = write_dataset(case["rows"], case["fmt"], quiet=True)
    out: dict = {"case": case["kind"], "size": case["label"]}
    # Libraries are imported before the clock starts, for both cases: the import of Ibis and
    # pandas (about a second) is paid once per notebook kernel, not per feature build.
    import duckdb  # noqa: F401
    import ibis  # noqa: F401
    import pandas  # noqa: F401
    import ibis.backends.duckdb  # noqa: F401
    if case["kind"] == "spark":  # session start is reported apart: it is paid once
        from kamlib.intake import engine

        t0 = time.perf_counter()
        con = engine.connect("spark", spark={"master": f"local[{case['threads']}]", "conf": {
            "spark.driver.memory": case["spark_memory"], "spark.ui.enabled": "false"}})
        con._session.sparkContext.setLogLevel("ERROR")
        out["startup_s"] = time.perf_counter() - t0
    with PeakMemory() as mem:
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        if case["kind"] in ("plain", "sql", "sqlcheck", "sqlall"):
            import duckdb

            from kamlib.intake import engine

            budget = engine.memory_bytes(case["memory_limit"]) * engine.DUCKDB_SHARE
            con = duckdb.connect(config={"memory_limit": f"{int(budget // 10**6)}MB",
                                         "threads": case["threads"]})
            if case["kind"] == "plain":
                frame, acc = con.sql(plain_sql(files["transactions"])).df(), None
            elif case["kind"] == "sqlall":
                frame, acc = run_reference(con, files, checked=False)
                out["rows"] = {f"table {i}": len(con.sql(stmt).df())
                               for i, stmt in enumerate(tables_sql(files["transactions"]), 1)}
            else:
                frame, acc = run_reference(con, files, checked=case["kind"] == "sqlcheck")
            out["accounts"] = len(frame)
            if acc is not None:
                out["rows_read"] = int(acc["n"].sum())
                out["rows_used"] = int(acc.loc[acc["reason"].isna(), "n"].sum())
        else:
            from kamlib.intake import engine, features
            from kamlib.intake.loading import load_inputs

            if case["kind"] != "spark":
                con = engine.connect("duckdb", memory_limit=case["memory_limit"],
                                     threads=case["threads"])
            inputs = {k: files[k] for k in ("accounts", "contacts", "assessments", "transactions")}
            intake = load_inputs(inputs, con=con, today=TODAY, engine=con.name)
            out["checks_s"] = time.perf_counter() - t0
            tx = intake.transactions
            if case["kind"] == "features":
                frame = features.account_features(tx.lines, intake.frames["accounts"], tx.as_of,
                                                  intake.frames["contacts"], tx.has_sites,
                                                  aggregates=tx.aggregates)
            else:  # every table intake builds from the lines
                tables = features.feature_tables(intake, progress=False)
                frame = tables["account_features"]
                out["rows"] = {k: len(v) for k, v in tables.items()}
            acc = tx.account
            out["accounts"] = len(frame)
            out["rows_read"], out["rows_used"] = acc.rows_read, acc.rows_used
            out["balanced"] = acc.rows_read == acc.rows_used + acc.rows_set_aside
        out["wall_s"] = time.perf_counter() - t0
        out["cpu_s"] = cpu_seconds() - cpu0
    out["peak_gb"] = mem.peak / 1e9
    return out


def spawn(case: dict) -> dict:
    """Run a case in a fresh interpreter (its peak memory is then its own)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(case)],
                          capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        return {"case": case["kind"], "size": case["label"], "error": tail or "no output"}
    return json.loads(lines[-1])


# ---------------------------------------------------------------------------------- the CLI
def parse_sizes(sizes: list[str]) -> list[tuple[str, int, str]]:
    from gen_invoice_lines import parse_size

    out = []
    for s in sizes:
        low = s.lower()
        fmt = "decsv" if low.endswith("decsv") else "csv" if low.endswith("csv") else "parquet"
        out.append((s, parse_size(s[:len(s) - len(fmt)] if fmt != "parquet" else s), fmt))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["1M"],
                    help="1M, 10M, 50M (Parquet), 10Mcsv (CSV), 10Mdecsv (German CSV); "
                         "default 1M")
    ap.add_argument("--spark", action="store_true", help="also run intake on local Spark")
    ap.add_argument("--references", action="store_true",
                    help="also run the hand-written feature SQL (feature_reference.sql), the "
                         "hand-written checks (check_reference.sql) before it, and every table "
                         "by hand with no checks (feature_reference.sql + tables_reference.sql)")
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB memory budget (default 2GB)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--spark-memory", default="4g", help="Spark driver memory (local mode)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of all cases, back to back; ratios are shown from each case's "
                         "run with the least CPU time and as the median of the rounds' ratios")
    ap.add_argument("--json", type=Path, help="also write every run to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_case(json.loads(args.child))))
        return 0

    kinds = (["plain", "features", "intake"]
             + (["sql", "sqlcheck", "sqlall"] if args.references else [])
             + (["spark"] if args.spark else []))
    print(f"intake from invoice lines: {', '.join(kinds)}; memory budget {args.memory_limit}, "
          f"{args.threads} threads, {os.cpu_count()} cores, {args.repeat} round(s)")
    runs: list[dict] = []
    from gen_invoice_lines import write_dataset

    for label, rows, fmt in parse_sizes(args.sizes):
        write_dataset(rows, fmt)  # generate outside the timed processes
        if fmt == "decsv":  # the references read the same lines in the contract's format
            write_dataset(rows, "csv")
        rounds: list[dict[str, dict]] = []
        for _ in range(args.repeat):
            done: dict[str, dict] = {}
            for kind in kinds:
                case_fmt = "csv" if fmt == "decsv" and kind not in KAMLIB_CASES else fmt
                case = {"kind": kind, "label": label, "rows": rows, "fmt": case_fmt,
                        "memory_limit": args.memory_limit, "threads": args.threads,
                        "spark_memory": args.spark_memory}
                r = spawn(case)
                runs.append(r)
                if "error" in r:
                    print(f"  {label:>7} {kind:<8} FAILED: {r['error']}")
                    continue
                done[kind] = r
            rounds.append(done)
        report(label, rows, rounds)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


def best_runs(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Each case's run with the least CPU time over the rounds."""
    best: dict[str, dict] = {}
    for done in rounds:
        for kind, r in done.items():
            if kind not in best or r["cpu_s"] < best[kind]["cpu_s"]:
                best[kind] = r
    return best


def paired_ratios(rounds: list[dict[str, dict]], kind: str, to: str = "plain") -> dict | None:
    """Median over the rounds of ``kind``'s wall and CPU time divided by ``to``'s in the same
    round, with the range; None if no round has both."""
    import statistics

    pairs = [(d[kind], d[to]) for d in rounds if kind in d and to in d]
    if not pairs:
        return None
    out = {}
    for m in ("wall_s", "cpu_s"):
        values = sorted(a[m] / b[m] for a, b in pairs)
        out[m] = (statistics.median(values), values[0], values[-1])
    return out


def report(label: str, rows: int, rounds: list[dict[str, dict]]) -> None:
    """Print each case's best run, its ratios to the plain query and whether the targets hold."""
    best = best_runs(rounds)
    plain = best.get("plain")
    target_gb = TARGET_PEAK_GB.get(rows)
    for kind, r in best.items():
        line = (f"  {label:>7} {kind:<8} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                f"peak {r['peak_gb']:5.2f} GB  accounts {r['accounts']:>6}")
        if "checks_s" in r:
            line += f"  (load_inputs {r['checks_s']:.1f} s)"
        if "startup_s" in r:
            line += f"  (+ session start {r['startup_s']:.1f} s)"
        if "balanced" in r:
            line += "  rows balanced" if r["balanced"] else "  ROWS DO NOT BALANCE"
        if plain is not None and kind != "plain":
            line += (f"  ratio to plain: wall {r['wall_s'] / plain['wall_s']:.2f}x, "
                     f"cpu {r['cpu_s'] / plain['cpu_s']:.2f}x")
        for name in ("sqlcheck", "sqlall") if kind in KAMLIB_CASES else ():
            if name in best:
                ref = best[name]
                line += (f"  [to {name}: wall {r['wall_s'] / ref['wall_s']:.2f}x, "
                         f"cpu {r['cpu_s'] / ref['cpu_s']:.2f}x]")
        print(line, flush=True)
    for kind in ("features", "intake"):
        paired = paired_ratios(rounds, kind)
        if paired is None:
            continue
        (cpu, lo, hi), (wall, wlo, whi) = paired["cpu_s"], paired["wall_s"]
        line = (f"  {label:>7} {kind:<8} to plain, median of {len(rounds)} round(s): "
                f"cpu {cpu:.2f}x ({lo:.2f}-{hi:.2f}), wall {wall:.2f}x ({wlo:.2f}-{whi:.2f})")
        if kind == "intake":
            met = cpu <= TARGET_RATIO
            line += f"  target cpu <= {TARGET_RATIO}x: {'met' if met else 'NOT met'}"
            if target_gb is not None and kind in best:
                peak = best[kind]["peak_gb"]
                line += (f"; peak <= {target_gb:.0f} GB: "
                         f"{'met' if peak <= target_gb else 'NOT met'} ({peak:.2f} GB)")
        print(line, flush=True)
    paired = paired_ratios(rounds, "intake", to="sqlall")
    if paired is not None:
        (cpu, lo, hi), (wall, wlo, whi) = paired["cpu_s"], paired["wall_s"]
        print(f"  {label:>7} intake   to sqlall (every table by hand, nothing checked), median "
              f"of {len(rounds)} round(s): cpu {cpu:.2f}x ({lo:.2f}-{hi:.2f}), "
              f"wall {wall:.2f}x ({wlo:.2f}-{whi:.2f})", flush=True)
    if "intake" in best and "rows" in best["intake"]:
        sizes = ", ".join(f"{k} {v:,}" for k, v in best["intake"]["rows"].items())
        print(f"  {label:>7} intake tables: {sizes}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
