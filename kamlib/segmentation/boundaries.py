"""Segment boundaries that hold from run to run, and how much movement is only noise.

Cut at each run's medians, half the accounts are always above the value line and half above
the growth line, so "more Stars, fewer Laggards" can never be measured. The boundaries of the
first run are therefore stored (``segment_boundaries``: the value and growth thresholds, and
the cluster centres when clustering is shown) and a run with a baseline reuses them unless
``reuse_boundaries`` is off: segment counts can then move.

A segment move is not always news: an account's growth moves from one year to the next even
when nothing changed. :func:`movement_noise` measures that spread on the portfolio itself (a
robust standard deviation of the year-on-year change of growth, and of the log of value), and
:func:`mark_noise` flags the moves whose account lies within that distance of the boundary it
crossed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BOUNDARY_COLUMNS: list[str] = ["measure", "based_on", "kind", "threshold", "set_on", "how"]
"""Columns of ``segment_boundaries``: one row per threshold (``value``, ``growth``) and per
noise band (``growth_noise``, ``value_noise``), plus a row per cluster centre coordinate."""


def _robust_sd(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def movement_noise(migration: pd.DataFrame) -> dict[str, float]:
    """One year's noise of the coordinates: ``growth`` (robust SD of growth - last year's
    growth) and ``value`` (robust SD of log(value / last year's value))."""
    if not len(migration) or "growth_prev" not in migration.columns:
        return {"growth": float("nan"), "value": float("nan")}
    g = (migration["growth"] - migration["growth_prev"]).to_numpy(float)
    v0 = migration["value_prev"].to_numpy(float)
    v1 = migration["value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.where((v0 > 0) & (v1 > 0), np.log(v1 / v0), np.nan)
    return {"growth": _robust_sd(g), "value": _robust_sd(lv)}


def mark_noise(migration: pd.DataFrame, thresholds: dict[str, float],
               noise: dict[str, float]) -> pd.DataFrame:
    """``migration`` with ``within_noise``: a move whose account now lies within one year's
    noise of a boundary it crossed (the move may undo itself next year)."""
    out = migration.copy()
    if not len(out) or "growth" not in out.columns:
        out["within_noise"] = pd.Series([], dtype=bool)
        return out
    g, v = out["growth"].to_numpy(float), out["value"].to_numpy(float)
    g0, v0 = out["growth_prev"].to_numpy(float), out["value_prev"].to_numpy(float)
    gt, vt = float(thresholds["growth"]), float(thresholds["value"])
    with np.errstate(divide="ignore", invalid="ignore"):
        near_g = (np.abs(g - gt) <= noise["growth"]) & ((g > gt) != (g0 > gt))
        near_v = ((v > 0) & (vt > 0) & (np.abs(np.log(v / vt)) <= noise["value"])
                  & ((v > vt) != (v0 > vt)))
    out["within_noise"] = out["moved"].to_numpy(bool) & (near_g | near_v)
    return out


def noise_sentence(migration: pd.DataFrame, noise: dict[str, float]) -> str:
    """How many moves lie within one year's noise, in one sentence."""
    if not len(migration) or "within_noise" not in migration.columns:
        return "No migration to judge against the noise."
    moved = int(migration["moved"].sum())
    within = int(migration["within_noise"].sum())
    return (f"{within} of {moved} segment moves lie within one year's noise of the boundary "
            f"they crossed (growth ±{noise['growth']:.2f}, value ×/÷ "
            f"{np.exp(noise['value']):.2f}): treat them as watch items, not news.")


def boundaries_table(thresholds: dict[str, float], noise: dict[str, float], set_on: str,
                     how: str, measures: dict[str, str],
                     centres: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``segment_boundaries`` table of a run (what the next run reuses); ``measures``
    names the value and growth measures the thresholds are in."""
    mv, mg = measures["value"], measures["growth"]
    rows = [("value", mv, "threshold", thresholds["value"], set_on, how),
            ("growth", mg, "threshold", thresholds["growth"], set_on, how),
            ("growth", mg, "noise", noise["growth"], set_on, "robust SD of the yearly change"),
            ("value", mv, "noise", noise["value"], set_on, "robust SD of the yearly log change")]
    if centres is not None and len(centres):
        for _, r in centres.iterrows():
            for col, based in (("value", mv), ("growth", mg)):
                if col in r.index and pd.notna(r[col]):
                    rows.append((col, based, f"centre {r['cluster']}", float(r[col]), set_on,
                                 "cluster centre (stored, not reused)"))
    out = pd.DataFrame(rows, columns=BOUNDARY_COLUMNS)
    out["threshold"] = out["threshold"].astype(float)
    for c in ("measure", "based_on", "kind", "set_on", "how"):
        out[c] = out[c].astype("str")
    return out


def stored_thresholds(last: pd.DataFrame | None,
                      measures: dict[str, str]) -> tuple[float, float, str] | None:
    """The value and growth thresholds (and the date they were set) a baseline run stored in
    the same ``measures``, or None when it stored none."""
    if last is None or not len(last) or not set(BOUNDARY_COLUMNS) <= set(last.columns):
        return None
    rows = last[last["kind"].astype(str) == "threshold"]
    t = rows.set_index(rows["measure"].astype(str))
    if not {"value", "growth"} <= set(t.index):
        return None
    if any(str(t.loc[k, "based_on"]) != measures[k] for k in ("value", "growth")):
        return None
    value, growth = float(t.loc["value", "threshold"]), float(t.loc["growth", "threshold"])
    if not (np.isfinite(value) and np.isfinite(growth)):
        return None
    return value, growth, str(t.loc["value", "set_on"])


def reuse(last_plan, reuse_boundaries: bool, measures: dict[str, str], rules_kw: dict,
          notes: list[str]) -> tuple[float, float, str] | None:
    """With a baseline (``last_plan``, its ``segment_boundaries`` in ``.tables``) and
    ``reuse_boundaries``, the thresholds it stored: ``rules_kw`` is set to cut at them and
    ``notes`` says so. None (and the rules' own method) otherwise."""
    if last_plan is None or not reuse_boundaries:
        return None
    stored = stored_thresholds((getattr(last_plan, "tables", None) or {}).get(
        "segment_boundaries"), measures)
    if stored is None:
        notes.append("The baseline stored no segment boundaries in the same measures: they are "
                     f"computed afresh ({rules_kw['threshold_method']}).")
        return None
    rules_kw.update(threshold_method="value", value_threshold=stored[0], growth_threshold=stored[1])
    notes.append(f"Segment boundaries reused from the baseline (set on {stored[2]}): value "
                 f"{stored[0]:,.0f}, growth {stored[1]:.3f}; segment counts can move.")
    return stored


def settle(migration: pd.DataFrame, thresholds: dict[str, float],
           stored: tuple[float, float, str] | None, threshold_method: str,
           features: pd.DataFrame, measures: dict[str, str], centres: pd.DataFrame | None,
           notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The migration with its moves judged against one year's noise (a sentence in
    ``notes``), and this run's ``segment_boundaries`` (dated by the run that first set them)."""
    noise = movement_noise(migration)
    migration = mark_noise(migration, thresholds, noise)
    if len(migration):
        notes.append(noise_sentence(migration, noise))
    if stored is not None:
        set_on, how = stored[2], f"reused from the run of {stored[2]}"
    else:
        as_of = features["as_of"].max() if "as_of" in features.columns else None
        set_on = str(pd.Timestamp(as_of).date()) if as_of is not None and pd.notna(as_of) else ""
        how = f"computed ({threshold_method})"
    return migration, boundaries_table(thresholds, noise, set_on, how, measures, centres)
