"""Segment boundaries that hold from run to run, and how much movement is only noise.

Cut at each run's medians, half the accounts are always above the value line and half above
the growth line, so "more Stars, fewer Laggards" can never be measured. The boundaries of the
first run are therefore stored (``segment_boundaries``: the value and growth thresholds, and
the cluster centres when clustering is shown) and a run with a baseline reuses them unless
``reuse_boundaries`` is off: segment counts can then move.

The centres are stored with the scaling that places an account among them (``kind``
``scaling centre``, ``scaling spread``, ``scaling asinh``, ``scaling clip``; the centres'
coordinates are in those scaled units), so the next run assigns its accounts to the nearest
stored centre exactly as this run would have. They are refitted, with a note saying why, when
the next run clusters other features (measures, the potential axis), with another method or
with another fixed k.

A segment move is not always news: an account's growth moves from one year to the next even
when nothing changed. :func:`movement_noise` measures that spread on the portfolio itself (a
robust standard deviation of the year-on-year change of growth, and of the log of value), and
:func:`mark_noise` flags the moves whose account lies within that distance of the boundary it
crossed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from kamlib.formatting import money as fmt_money

BOUNDARY_COLUMNS: list[str] = ["measure", "based_on", "kind", "threshold", "set_on", "how"]
"""Columns of ``segment_boundaries``: one row per threshold (``value``, ``growth``) and per
noise band (``growth_noise``, ``value_noise``), plus a row per cluster centre coordinate
(``kind`` "centre N", in scaled units) and per scaling number (``kind`` "scaling ...")."""

SCALING_KINDS: tuple[str, ...] = ("scaling centre", "scaling spread")


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


def _based_on(feature: str, measures: dict[str, str]) -> str:
    return measures.get(feature, feature)


def centre_rows(state: dict, measures: dict[str, str], set_on: str) -> list[tuple]:
    """The ``segment_boundaries`` rows of a clustering's :meth:`~kamlib.segmentation.clustering.
    ClusterSegmenter.state`: its scaling, then each centre's coordinates (scaled units)."""
    feats, method = list(state["features"]), state["method"]
    how = f"{method} clustering, scaled units"
    rows = [("value", _based_on("value", measures), "scaling asinh", state["value_scale"],
             set_on, how),
            ("value", _based_on("value", measures), "scaling clip", state["clip"], set_on, how)]
    for kind, key in zip(SCALING_KINDS, ("centre", "spread")):
        rows += [(f, _based_on(f, measures), kind, state[key][j], set_on, how)
                 for j, f in enumerate(feats)]
    for i, c in enumerate(np.asarray(state["centroids"], dtype=float)):
        rows += [(f, _based_on(f, measures), f"centre {i}", c[j], set_on, how)
                 for j, f in enumerate(feats)]
    return rows


def stored_centres(last: pd.DataFrame | None) -> tuple[dict, dict[str, str], str] | None:
    """The clustering state a baseline's ``segment_boundaries`` stored (as
    :meth:`~kamlib.segmentation.clustering.ClusterSegmenter.state` gives it), the measure each
    feature was based on, and the date it was set; None when it stored no centres."""
    if last is None or not len(last) or not set(BOUNDARY_COLUMNS) <= set(last.columns):
        return None
    kind = last["kind"].astype(str)
    cen = last[kind.str.match(r"centre \d+$")]
    if not len(cen):
        return None
    feats = list(dict.fromkeys(cen["measure"].astype(str)))
    ids = sorted({int(x.split()[1]) for x in cen["kind"].astype(str)})

    def value(k: str, f: str = "value") -> float:
        hit = last[(kind == k) & (last["measure"].astype(str) == f)]["threshold"]
        if len(hit) != 1:
            raise KeyError(k)
        return float(hit.iloc[0])

    try:
        centroids = np.array([[value(f"centre {i}", f) for f in feats] for i in ids])
        state = {"method": str(cen["how"].iloc[0]).split()[0], "features": tuple(feats),
                 "value_scale": value("scaling asinh"), "clip": value("scaling clip"),
                 "centre": [value("scaling centre", f) for f in feats],
                 "spread": [value("scaling spread", f) for f in feats], "centroids": centroids}
    except KeyError:
        return None
    if not np.isfinite(centroids).all():
        return None
    based = dict(zip(cen["measure"].astype(str), cen["based_on"].astype(str)))
    return state, based, str(cen["set_on"].iloc[0])


def reuse_centres(last_plan, reuse_boundaries: bool, measures: dict[str, str], method: str,
                  k: int, use_potential: bool, method_shown: str,
                  notes: list[str]) -> tuple[dict, str] | None:
    """With a baseline and ``reuse_boundaries``, the clustering state it stored and the date
    it was set, when this run clusters the same features with the same method and k (``k=0``
    takes the stored k); ``notes`` says whether they are reused or why they are refitted."""
    if last_plan is None or not reuse_boundaries:
        return None
    stored = stored_centres((getattr(last_plan, "tables", None) or {}).get("segment_boundaries"))
    if stored is None:
        if method_shown == "clustering":
            notes.append("The baseline stored no cluster centres: the clusters are fitted afresh.")
        return None
    state, based, set_on = stored
    feats = ("value", "growth", "potential") if use_potential else ("value", "growth")
    want = {f: _based_on(f, measures) for f in feats}
    n = len(state["centroids"])
    why = (f"they cluster {', '.join(f'{f} ({b})' for f, b in based.items())}, this run "
           f"{', '.join(f'{f} ({b})' for f, b in want.items())}" if based != want else
           f"they are {state['method']} centres, this run uses {method}"
           if state["method"] != method else
           f"they are {n} centres, this run asks for k={k}" if k and k != n else "")
    if why:
        notes.append(f"The baseline's cluster centres (set on {set_on}) are not reused: {why}; "
                     "the clusters are refitted.")
        return None
    notes.append(f"Cluster centres reused from the baseline (set on {set_on}): each account "
                 f"joins the nearest of its {n} {state['method']} centres, in the baseline's "
                 "scaling, so an account that did not move keeps its cluster.")
    return state, set_on


def boundaries_table(thresholds: dict[str, float], noise: dict[str, float], set_on: str,
                     how: str, measures: dict[str, str],
                     centres: tuple[dict, str] | None = None) -> pd.DataFrame:
    """The ``segment_boundaries`` table of a run (what the next run reuses); ``measures``
    names the value and growth measures the thresholds are in; ``centres`` is the clustering
    state to store and the date it was first set."""
    mv, mg = measures["value"], measures["growth"]
    rows = [("value", mv, "threshold", thresholds["value"], set_on, how),
            ("growth", mg, "threshold", thresholds["growth"], set_on, how),
            ("growth", mg, "noise", noise["growth"], set_on, "robust SD of the yearly change"),
            ("value", mv, "noise", noise["value"], set_on, "robust SD of the yearly log change")]
    if centres is not None:
        rows += centre_rows(centres[0], measures, centres[1])
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
                 f"{fmt_money(stored[0])}, growth {stored[1]:.3f}; segment counts can move.")
    return stored


def _run_date(features: pd.DataFrame) -> str:
    as_of = features["as_of"].max() if "as_of" in features.columns else None
    return str(pd.Timestamp(as_of).date()) if as_of is not None and pd.notna(as_of) else ""


def settle(migration: pd.DataFrame, thresholds: dict[str, float],
           stored: tuple[float, float, str] | None, threshold_method: str,
           features: pd.DataFrame, measures: dict[str, str], centres: dict | None,
           centres_set_on: str | None, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The migration with its moves judged against one year's noise (a sentence in
    ``notes``), and this run's ``segment_boundaries`` (dated by the run that first set them;
    ``centres``: the clustering state to store, ``centres_set_on`` the date a reused one was
    set)."""
    noise = movement_noise(migration)
    migration = mark_noise(migration, thresholds, noise)
    if len(migration):
        notes.append(noise_sentence(migration, noise))
    if stored is not None:
        set_on, how = stored[2], f"reused from the run of {stored[2]}"
    else:
        set_on = _run_date(features)
        how = f"computed ({threshold_method})"
    if centres is not None:
        centres = (centres, centres_set_on or _run_date(features))
    return migration, boundaries_table(thresholds, noise, set_on, how, measures, centres)
