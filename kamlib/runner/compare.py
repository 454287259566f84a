"""``kam compare RUN_A RUN_B``: what changed between two runs of the same engagement.

A trainer's "what if the board weighted growth more?" is two runs that differ in a parameter or
two. This module reads both run folders (their manifests and result tables, never the inputs)
and gathers what a class looks at first:

- the parameters that differ, step by step;
- the key-account list: which accounts came in, which went out, how many stayed;
- segment moves: accounts whose portfolio segment differs, and the counts from one to the other;
- CLV and investment-ceiling deltas: totals over the key accounts and the accounts that moved most.

:func:`compare_runs` gives the comparison as tables; :func:`write_comparison` renders it as one
self-contained page (``templates/compare.html.j2``). A table one run lacks (a step not run, an
older run) is named on the page and its section left out, never an error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib import formatting as fmt
from kamlib.errors import KamError
from kamlib.report import pages
from kamlib.runner.folder import table_path
from kamlib.vocabulary import NOT_SEGMENTED

TOP_MOVES = 15
"""The CLV and ceiling rows the page lists: the accounts whose value changed most."""


class NotARunFolder(KamError):
    """A folder given to ``kam compare`` is not a run folder."""


@dataclass
class RunInfo:
    """One side of the comparison: the folder and what its manifest says."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def label(self) -> str:
        return str(self.manifest.get("label") or "")

    @property
    def engagement(self) -> str:
        return str(self.manifest.get("engagement", {}).get("folder", ""))

    @property
    def client(self) -> str:
        return str(self.manifest.get("engagement", {}).get("client", ""))

    def parameters(self) -> dict[str, Any]:
        """Every parameter the run's notebooks ran with, defaults included (``parameters.yml``;
        the manifest, which may hold only the values that were set, when it is missing)."""
        from kamlib.params import load_yaml

        path = self.folder / "parameters.yml"
        if path.is_file():
            try:
                return load_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
            except KamError:
                pass
        return self.manifest.get("parameters", {})

    def table(self, name: str):
        """The run's result table, or None when the run has none by that name."""
        import pandas as pd

        path = table_path(self.folder, name)
        return pd.read_parquet(path) if path.exists() else None


def read_run(folder: str | Path) -> RunInfo:
    """A run folder with its manifest; a :class:`NotARunFolder` naming the fix otherwise."""
    path = Path(folder).expanduser().resolve()
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise NotARunFolder(
            f"{folder}: not a run folder (no manifest.json in it). Fix: give two folders that "
            "'kam run' wrote, e.g. reports/sample/20260301-091500 and "
            "reports/sample/20260301-094000_growth.")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotARunFolder(f"{manifest}: cannot be read as a run manifest ({exc}). Fix: give a "
                            "run folder whose run finished writing its manifest.") from None
    return RunInfo(path, data)


@dataclass
class RunComparison:
    """What changed from run A to run B (every table keeps full precision)."""

    a: RunInfo
    b: RunInfo
    parameters: Any = None
    """step, parameter, a, b: the parameters whose values differ."""
    key_in: Any = None
    """account_id, name, rank: key accounts in B that were not key in A (rank in B)."""
    key_out: Any = None
    """account_id, name, rank: key accounts in A that are not key in B (rank in A)."""
    key_kept: int = 0
    segment_moves: Any = None
    """account_id, name, segment_a, segment_b, is_key_b: accounts whose segment differs."""
    segment_counts: Any = None
    """segment, a, b, change: accounts per segment in each run."""
    value: Any = None
    """account_id, name, clv_a, clv_b, clv_change, investment_ceiling_a/_b/_change."""
    value_totals: Any = None
    """measure, a, b, change: CLV and ceiling summed over each run's key accounts."""
    notes: list[str] = field(default_factory=list)


def _flat(params: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """The manifest's parameters as (step, name) -> value."""
    return {(step, name): value for step, values in params.items()
            for name, value in (values or {}).items()}


def parameter_diff(a: dict[str, Any], b: dict[str, Any]):
    """step, parameter, a, b for every parameter whose value differs (or only one run has)."""
    import pandas as pd

    fa, fb = _flat(a), _flat(b)
    missing = object()
    rows = [{"step": step, "parameter": name,
             "a": fa.get((step, name), missing), "b": fb.get((step, name), missing)}
            for step, name in sorted(set(fa) | set(fb))
            if fa.get((step, name), missing) != fb.get((step, name), missing)]
    for row in rows:  # shown as JSON text: lists and mappings read as they were written
        for side in ("a", "b"):
            row[side] = fmt.DASH if row[side] is missing else json.dumps(row[side])
    return pd.DataFrame(rows, columns=["step", "parameter", "a", "b"])


def key_list_changes(keys_a, keys_b):
    """(came in, went out, stayed): accounts key in B only, in A only, and the count in both."""
    cols = [c for c in ("account_id", "name", "rank", "score", "tier") if c in keys_b.columns]
    ids_a, ids_b = set(keys_a["account_id"]), set(keys_b["account_id"])
    came = keys_b[~keys_b["account_id"].isin(ids_a)][cols].sort_values("rank")
    cols_a = [c for c in ("account_id", "name", "rank", "score", "tier") if c in keys_a.columns]
    went = keys_a[~keys_a["account_id"].isin(ids_b)][cols_a].sort_values("rank")
    return came.reset_index(drop=True), went.reset_index(drop=True), len(ids_a & ids_b)


def segment_changes(seg_a, seg_b):
    """(moves, counts): accounts whose segment differs; accounts per segment in each run."""
    import pandas as pd

    seg_a, seg_b = (s.assign(segment=s["segment"].astype(object).where(s["segment"].notna(),
                                                                      NOT_SEGMENTED).astype(str))
                    for s in (seg_a, seg_b))
    both = seg_a[["account_id", "name", "segment"]].merge(
        seg_b[["account_id", "segment", "is_key"]], on="account_id", how="outer",
        suffixes=("_a", "_b"))
    both = both.rename(columns={"is_key": "is_key_b"})
    moved = both[both["segment_a"] != both["segment_b"]]
    moved = moved.sort_values(["is_key_b", "segment_a", "segment_b", "account_id"],
                              ascending=[False, True, True, True])
    counts = pd.DataFrame({"a": seg_a["segment"].value_counts(),
                           "b": seg_b["segment"].value_counts()}).fillna(0).astype(int)
    counts["change"] = counts["b"] - counts["a"]
    counts = counts.rename_axis("segment").reset_index()
    return moved.reset_index(drop=True), counts


VALUE_COLUMNS = ("clv", "investment_ceiling")


def value_changes(clv_a, clv_b, keys_a=None, keys_b=None):
    """(per account, totals): CLV and investment ceiling in each run and the change.

    Per account, rows are sorted by the largest absolute CLV change. The totals sum each run
    over its own key accounts (the CLV table covers the key accounts when the run has a list).
    """
    import pandas as pd

    cols = [c for c in VALUE_COLUMNS if c in clv_a.columns and c in clv_b.columns]
    named = [c for c in ("account_id", "name") if c in clv_b.columns]
    per = clv_a[["account_id", *cols]].merge(clv_b[[*named, *cols]], on="account_id",
                                             how="outer", suffixes=("_a", "_b"))
    for c in cols:
        per[f"{c}_change"] = per[f"{c}_b"] - per[f"{c}_a"]
    if cols:
        per = per.reindex(per[f"{cols[0]}_change"].abs().sort_values(
            ascending=False, na_position="last").index)
    totals = []
    for c in cols:
        ta = _over_keys(clv_a, keys_a)[c].sum()
        tb = _over_keys(clv_b, keys_b)[c].sum()
        totals.append({"measure": c, "a": float(ta), "b": float(tb), "change": float(tb - ta)})
    return per.reset_index(drop=True), pd.DataFrame(totals, columns=["measure", "a", "b", "change"])


def _over_keys(clv, keys):
    return clv if keys is None else clv[clv["account_id"].isin(set(keys["account_id"]))]


def compare_runs(run_a: str | Path, run_b: str | Path) -> RunComparison:
    """Compare two run folders: parameters, key list, segments, CLV and ceilings."""
    a, b = read_run(run_a), read_run(run_b)
    out = RunComparison(a, b)
    params_a, params_b = a.parameters(), b.parameters()
    shared = [step for step in params_a if step in params_b]
    out.parameters = parameter_diff({s: params_a[s] for s in shared},
                                    {s: params_b[s] for s in shared})
    for run, params in ((a, params_a), (b, params_b)):
        alone = [step for step in params if step not in shared]
        if alone:
            out.notes.append(f"Only run {run.name} ran {', '.join(alone)}: those steps' "
                             "parameters are not compared.")
    if a.engagement != b.engagement or a.manifest.get("inputs") != b.manifest.get("inputs"):
        out.notes.append("The two runs did not read the same input files: differences below "
                         "mix changed data with changed parameters.")
    keys_a, keys_b = a.table("key_accounts"), b.table("key_accounts")
    if keys_a is not None and keys_b is not None:
        out.key_in, out.key_out, out.key_kept = key_list_changes(keys_a, keys_b)
    else:
        out.notes.append(_missing("key_accounts", "10_selection", a, keys_a, b))
    seg_a, seg_b = a.table("segments"), b.table("segments")
    if seg_a is not None and seg_b is not None:
        out.segment_moves, out.segment_counts = segment_changes(seg_a, seg_b)
    else:
        out.notes.append(_missing("segments", "30_segmentation", a, seg_a, b))
    clv_a, clv_b = a.table("clv"), b.table("clv")
    if clv_a is not None and clv_b is not None:
        out.value, out.value_totals = value_changes(clv_a, clv_b, keys_a, keys_b)
    else:
        out.notes.append(_missing("clv", "20_clv", a, clv_a, b))
    return out


def _missing(table: str, notebook: str, a: RunInfo, found_a, b: RunInfo) -> str:
    which = a.name if found_a is None else b.name
    return (f"Run {which} has no '{table}' table (step {notebook} did not run there), so that "
            "comparison is left out.")


def _money_rows(df, columns: list[str], currency: str) -> list[dict[str, str]]:
    return [{c: (fmt.money(row[c], currency) if c not in ("account_id", "name", "measure")
                 else str(row[c]) if not fmt.missing(row[c]) else fmt.DASH) for c in columns}
            for row in df.to_dict("records")]


def _text_rows(df, columns: list[str]) -> list[dict[str, str]]:
    def text(v: Any) -> str:
        if fmt.missing(v):
            return fmt.DASH
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return fmt.number(v)
        return str(v)

    return [{c: text(row.get(c)) for c in columns} for row in df.to_dict("records")]


def _currency(run: RunInfo) -> str:
    """The engagement's currency when its engagement.yml can still be read, else none."""
    from kamlib.intake.engagement import load_engagement

    try:
        return load_engagement(run.engagement).currency if run.engagement else ""
    except (KamError, OSError, ValueError):
        return ""


HEADERS = {"account_id": "Account", "name": "Name", "rank": "Rank", "tier": "Tier",
           "clv_a": "CLV in A", "clv_b": "CLV in B", "clv_change": "CLV change",
           "investment_ceiling_a": "Ceiling in A", "investment_ceiling_b": "Ceiling in B",
           "investment_ceiling_change": "Ceiling change",
           "clv": "CLV", "investment_ceiling": "Investment ceiling"}


def comparison_context(cmp: RunComparison, top: int = TOP_MOVES) -> dict[str, Any]:
    """Everything the page shows, formatted (numbers through kamlib.formatting)."""
    currency = _currency(cmp.b)
    ctx: dict[str, Any] = {
        "client": cmp.b.client or cmp.a.client, "a": cmp.a.name, "b": cmp.b.name,
        "label_a": cmp.a.label, "label_b": cmp.b.label, "notes": cmp.notes,
        "parameters": _text_rows(cmp.parameters, ["step", "parameter", "a", "b"]),
        "keys": None, "segments": None, "value": None,
    }
    if cmp.key_in is not None:
        cols = [c for c in ("account_id", "name", "rank", "tier") if c in cmp.key_in.columns]
        ctx["keys"] = {"kept": cmp.key_kept, "columns": cols,
                       "headers": [HEADERS[c] for c in cols],
                       "came_in": _text_rows(cmp.key_in, cols),
                       "went_out": _text_rows(cmp.key_out, cols)}
    if cmp.segment_moves is not None:
        cols = ["account_id", "name", "segment_a", "segment_b", "is_key_b"]
        ctx["segments"] = {"n_moved": len(cmp.segment_moves),
                           "counts": _text_rows(cmp.segment_counts, ["segment", "a", "b", "change"]),
                           "moves": _text_rows(cmp.segment_moves.head(top * 2), cols),
                           "more": max(0, len(cmp.segment_moves) - top * 2)}
    if cmp.value is not None:
        cols = [c for c in ("account_id", "name", "clv_a", "clv_b", "clv_change",
                            "investment_ceiling_a", "investment_ceiling_b",
                            "investment_ceiling_change") if c in cmp.value.columns]
        totals = cmp.value_totals.assign(measure=cmp.value_totals["measure"].map(HEADERS))
        ctx["value"] = {"totals": _money_rows(totals, ["measure", "a", "b", "change"], currency),
                        "columns": cols, "headers": [HEADERS[c] for c in cols], "rows": _money_rows(cmp.value.head(top), cols, currency)}
    return ctx


def write_comparison(run_a: str | Path, run_b: str | Path, out: str | Path | None = None) -> Path:
    """Compare two runs and write the page; by default ``compare_<A>_vs_<B>.html`` beside run B
    (in the engagement's reports folder, so neither run folder changes)."""
    cmp = compare_runs(run_a, run_b)
    path = Path(out) if out else cmp.b.folder.parent / f"compare_{cmp.a.name}_vs_{cmp.b.name}.html"
    context = comparison_context(cmp)
    for side, run in (("index_a", cmp.a), ("index_b", cmp.b)):  # each run's own index page
        index = run.folder / "html" / "index.html"
        context[side] = (Path(os.path.relpath(index, path.resolve().parent)).as_posix()
                         if index.is_file() else "")
    text = pages.render("compare.html.j2", **context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
