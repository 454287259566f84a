"""Roll the last plan forward: the new plan starts from the one the account managers edited.

With a baseline (``kam run --baseline RUN``) the account plans are not drafted afresh:

- **Actions** the account managers marked done or dropped are *closed*: they go to the
  ``plan_closed_actions`` ledger (which every later plan carries on) and are never proposed
  again for the same gap, contact and category. Open actions are *carried* as they were left
  (owner, dates, notes and any column typed into the workbook); only a checkpoint already past
  moves on to the new plan's next one. Rows typed in by hand are kept (origin ``by hand``).
  An action is *new* only for new evidence: a gap, contact or category the last plan did not
  hold; new actions fill the plan up to ``max_actions``. The quarterly business review is
  the one recurring action: a new one is planned each quarter unless one is still open.
- **Objectives** keep their year target and description (unless ``retarget``), and their
  stage goals move on: day 30/60/90 and the quarters are dated from the new plan start.
  Objectives typed in by hand persist, re-dated the same way; a generated objective whose gap
  has closed (every DMU role covered, no whitespace left) is not planned again.
- **What changed** since the last plan is listed per account (:func:`changes`).

The last plan arrives duck-typed (``.objectives``, ``.actions`` and a ``.tables`` mapping of
the baseline run's other tables), as the runner reads it; this module reads no file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.formatting import money, share
from kamlib.vocabulary import ACTION_COLUMNS, MILESTONES, OBJECTIVE_COLUMNS

ORIGINS: tuple[str, ...] = ("new", "carried", "by hand", "re-targeted")
"""Where a row of the plan comes from: proposed now, carried from the last plan, typed into
the workbook by hand, or carried with a target set afresh (``retarget``)."""

CLOSED = ("done", "dropped")
RECURRING_GAP = "business_review"
_GENERATED_OBJECTIVE = re.compile(r"-(?:REV|MAR|WS|REL)$")
_KEY = ("account_id", "gap", "contact_id", "category")


@dataclass
class _NoPlan:
    """The plan before the first: nothing to carry."""

    objectives: pd.DataFrame
    actions: pd.DataFrame
    tables: dict


EMPTY_PLAN = _NoPlan(objectives=pd.DataFrame({c: pd.Series([], dtype="str") for c in OBJECTIVE_COLUMNS}),
                     actions=pd.DataFrame({c: pd.Series([], dtype="str") for c in ACTION_COLUMNS}),
                     tables={})
"""What :func:`roll_actions` starts from for a first plan."""


def _text(s: pd.Series) -> pd.Series:
    """Text with '' for a blank (NaN, None, 'nan')."""
    out = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return out.where(~out.isin(["nan", "None", "NaT", "<NA>"]), "")


def _keys(df: pd.DataFrame) -> list[tuple[str, ...]]:
    """What an action is about: account, gap, contact and category -- and, for an uncovered
    DMU role (no contact yet), its text, which names the role."""
    cols = [_text(df[c]) if c in df.columns else pd.Series("", index=df.index) for c in _KEY]
    if not len(df):
        return []
    text = _text(df["action"]) if "action" in df.columns else pd.Series("", index=df.index)
    cols[3] = cols[3].where(cols[1] != "uncovered_role", text)
    return list(zip(*cols))


def _number(action_id: str, account_id: str) -> int:
    m = re.fullmatch(re.escape(account_id) + r"-A(\d+)", action_id)
    return int(m.group(1)) if m else 0


def _table(last, name: str) -> pd.DataFrame | None:
    tables = getattr(last, "tables", None) or {}
    df = tables.get(name)
    return df if df is not None and len(df.columns) else None


def _checkpoint(due: pd.Timestamp, start: pd.Timestamp) -> tuple[str, pd.Timestamp]:
    days = next((d for d in (30, 60, 90) if start + pd.Timedelta(days=d) >= due), 90)
    return f"day {days}", start + pd.Timedelta(days=days)


def _same_columns(df: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    """The plan's action columns first, then ``origin``, ``notes`` and anything typed in."""
    df = df.copy()
    for c in (*ACTION_COLUMNS, "origin", "notes", *extra):
        if c not in df.columns:
            df[c] = np.nan if c == "value" else ""
    for c in df.columns:
        if c in ("due_date", "checkpoint_date", "closed_at"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif c == "value":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        else:
            df[c] = _text(df[c]).astype("str")
    order = [*ACTION_COLUMNS, "origin", "notes"]
    return df[order + [c for c in df.columns if c not in order]].reset_index(drop=True)


def _origin_of(rows: pd.DataFrame) -> pd.Series:
    from kamlib.planning.actions import ACTION_RULES

    gap = _text(rows["gap"]) if "gap" in rows.columns else pd.Series("", index=rows.index)
    prior = _text(rows["origin"]) if "origin" in rows.columns else pd.Series("", index=rows.index)
    by_hand = (prior == "by hand") | ~gap.isin(list(ACTION_RULES))
    return pd.Series(np.where(by_hand, "by hand", "carried"), index=rows.index, dtype="str")


@dataclass
class RolledActions:
    """The new plan's actions (open: carried, by hand, new) and the closed-actions ledger."""

    actions: pd.DataFrame
    closed: pd.DataFrame
    dropped_accounts: int = 0


def roll_actions(fresh: pd.DataFrame, last, start: pd.Timestamp, accounts: list[str],
                 max_actions: int) -> RolledActions:
    """Merge this run's proposed actions into the last plan's (rules in the module doc).

    ``fresh`` holds every action the evidence calls for now (not yet capped), ``accounts``
    the key accounts of the new plan.
    """
    old = last.actions.copy()
    old["account_id"] = _text(old["account_id"])
    status = _text(old["status"]).str.lower()
    ledger = _table(last, "plan_closed_actions")
    closed_now = old[status.isin(CLOSED)].assign(closed_at=start)
    closed = (pd.concat([ledger, closed_now], ignore_index=True) if ledger is not None
              else closed_now)
    closed = closed.drop_duplicates(["account_id", "action_id"], keep="first")
    keep = status.eq("open") & old["account_id"].isin(set(accounts))
    carried = old[keep].copy()
    carried["origin"] = _origin_of(carried)
    when = pd.to_datetime(carried["checkpoint_date"])
    past = (when < start) | when.isna()
    for i in carried.index[past.to_numpy(bool)]:
        due = pd.Timestamp(carried.at[i, "due_date"]) if pd.notna(carried.at[i, "due_date"]) else start
        carried.at[i, "checkpoint"], carried.at[i, "checkpoint_date"] = _checkpoint(due, start)
    blocked = {k for k in _keys(closed) if k[1] != RECURRING_GAP}
    blocked |= set(_keys(carried))
    fresh = fresh[[k not in blocked for k in _keys(fresh)]]
    used: dict[str, int] = {}
    for aid, aid_ in zip(pd.concat([old["account_id"], _text(closed["account_id"])]),
                         pd.concat([_text(old["action_id"]), _text(closed["action_id"])])):
        used[aid] = max(used.get(aid, 0), _number(aid_, aid))
    from kamlib.planning.actions import _PRIO

    n_open = carried.groupby("account_id").size()
    new_rows = []
    for aid, g in fresh.groupby("account_id", sort=False):
        stake = -pd.to_numeric(g["value"], errors="coerce").abs().fillna(0.0)  # larger first
        g = g.assign(_p=g["priority"].map(_PRIO), _s=stake).sort_values(["_p", "_s", "due_date"],
                                                                       kind="stable")
        review = g[g["gap"] == RECURRING_GAP]  # always kept
        room = max(0, max_actions - int(n_open.get(aid, 0)) - len(review))
        take = pd.concat([g[g["gap"] != RECURRING_GAP].head(room), review])
        take = take.sort_values(["due_date", "_p"], kind="stable").drop(columns=["_p", "_s"])
        n = used.get(aid, 0)
        take["action_id"] = [f"{aid}-A{n + i:02d}" for i in range(1, len(take) + 1)]
        used[aid] = n + len(take)
        new_rows.append(take)
    new = pd.concat(new_rows, ignore_index=True) if new_rows else fresh.iloc[0:0]
    blank = _text(carried["action_id"]).str.startswith("NEW-")
    for i in carried.index[blank.to_numpy()]:  # typed in without an id: give it one for good
        aid = carried.at[i, "account_id"]
        used[aid] = used.get(aid, 0) + 1
        carried.at[i, "action_id"] = f"{aid}-A{used[aid]:02d}"
    new = new.assign(origin="new")
    extra = [c for c in carried.columns if c not in (*ACTION_COLUMNS, "origin", "notes")]
    rows = pd.concat([carried, new], ignore_index=True)
    order = {a: i for i, a in enumerate(accounts)}
    rows = rows.assign(_o=rows["account_id"].map(order)).sort_values(
        ["_o", "due_date", "action_id"], kind="stable").drop(columns="_o")
    return RolledActions(actions=_same_columns(rows, extra),
                         closed=_same_columns(closed, ["closed_at"]),
                         dropped_accounts=int((status.eq("open") & ~keep).sum()))


def check_baseline(baseline: str, last_plan) -> None:
    """A ``baseline`` named without its plan read (``last_plan``) is a mistake in the caller."""
    if str(baseline).strip() and last_plan is None:
        from kamlib.errors import ParameterError

        raise ParameterError(
            f"baseline {baseline!r} was given but its plan was not read. Fix: pass "
            "last_plan=step.load_baseline() (kamlib.runner.baseline.load_baseline) with it.")


def roll_plan(objectives: pd.DataFrame, actions: pd.DataFrame, last, start: pd.Timestamp,
              accounts: list[str], max_actions: int, retarget: bool, notes: list[str],
              baseline: str = "") -> tuple[pd.DataFrame, RolledActions]:
    """The plan's objectives and actions: this run's proposals (every one the evidence calls
    for) rolled into the last plan (``last`` None: a first plan, everything new, at most
    ``max_actions`` per account); the roll-forward's note goes to ``notes``. ``baseline``
    named without ``last`` is an error (:func:`check_baseline`)."""
    check_baseline(baseline, last)
    if last is None:
        return (objectives.assign(origin="new"),
                roll_actions(actions, EMPTY_PLAN, start, accounts, max_actions))
    rolled = roll_actions(actions, last, start, accounts, max_actions)
    notes.append(roll_note(rolled, retarget))
    return roll_objectives(objectives, last, start, accounts, retarget), rolled


def roll_note(rolled: RolledActions, retarget: bool) -> str:
    """The roll-forward in one sentence for the notebook's notes."""
    o = rolled.actions["origin"]
    text = (f"Rolled forward from the last plan: {int((o == 'carried').sum())} open action(s) "
            f"carried, {int((o == 'by hand').sum())} typed in by hand kept, "
            f"{int((o == 'new').sum())} new for new evidence; {len(rolled.closed)} closed "
            "action(s) are never proposed again")
    if rolled.dropped_accounts:
        text += (f"; {rolled.dropped_accounts} open action(s) of accounts no longer key are "
                 "not carried")
    return text + ("; objectives re-targeted from this run's data." if retarget
                   else "; objectives keep their year targets.")


def _redate(rows: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    days = pd.to_numeric(rows["days"], errors="coerce") if "days" in rows.columns else None
    if days is None or days.isna().all():
        return rows
    rows = rows.copy()
    rows["due_date"] = (start + pd.to_timedelta(days.fillna(0), unit="D")).where(
        days.notna(), rows["due_date"])
    return rows


def roll_objectives(fresh: pd.DataFrame, last, start: pd.Timestamp, accounts: list[str],
                    retarget: bool = False) -> pd.DataFrame:
    """This run's objectives with the last plan's year targets, owners and hand-typed ones
    (rules in the module doc)."""
    old = last.objectives.copy()
    old["account_id"] = _text(old["account_id"])
    old = old[old["account_id"].isin(set(accounts))]
    fresh = fresh.assign(origin="new")
    year_days = MILESTONES[-1][1]
    parts = []
    for (aid, oid), g in fresh.groupby(["account_id", "objective_id"], sort=False):
        b = old[old["objective_id"] == oid]
        if not len(b):
            parts.append(g)
            continue
        if retarget:
            parts.append(g.assign(origin="re-targeted"))
            continue
        last_row = b.sort_values("days", na_position="first").iloc[-1]
        year = float(last_row["target"])
        g = g.copy()
        if g["unit"].iloc[0] == "money":
            g["target"] = year * g["days"].astype(float) / year_days
        else:
            g["target"] = np.minimum(g["target"].astype(float), year)
            g.loc[g["days"] == g["days"].max(), "target"] = year
        for col in ("description", "owner", "notes"):
            if col in b.columns and pd.notna(last_row.get(col)) and str(last_row[col]).strip():
                g[col] = str(last_row[col])
        parts.append(g.assign(origin="carried"))
    generated = old["objective_id"].astype(str).str.contains(_GENERATED_OBJECTIVE)
    hand = old[~generated & ~old["objective_id"].isin(set(fresh["objective_id"]))]
    if len(hand):
        parts.append(_redate(hand, start).assign(origin="by hand"))
    out = pd.concat(parts, ignore_index=True) if parts else fresh
    for c in ("baseline", "target", "days"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["due_date"] = pd.to_datetime(out["due_date"]).astype("datetime64[us]")
    order = [*OBJECTIVE_COLUMNS, "origin"]
    for c in out.columns:
        if c not in ("baseline", "target", "days", "due_date"):
            out[c] = _text(out[c]).astype("str")
    pos = {a: i for i, a in enumerate(accounts)}
    out = out.assign(_o=out["account_id"].map(pos)).sort_values("_o", kind="stable").drop(columns="_o")
    return out[order + [c for c in out.columns if c not in order]].reset_index(drop=True)


def _by_account(df: pd.DataFrame | None, col: str) -> dict[str, object]:
    if df is None or col not in df.columns or "account_id" not in df.columns:
        return {}
    return dict(zip(_text(df["account_id"]), df[col]))


def _sets(df: pd.DataFrame | None, col: str) -> dict[str, set[str]]:
    if df is None or col not in df.columns:
        return {}
    out: dict[str, set[str]] = {}
    for a, v in zip(_text(df["account_id"]), _text(df[col])):
        out.setdefault(a, set()).add(v)
    return out


def changes(last, profile: pd.DataFrame, actions: pd.DataFrame, objectives: pd.DataFrame,
            red_flags: pd.DataFrame, contacts: pd.DataFrame, health: pd.DataFrame,
            start: pd.Timestamp) -> pd.DataFrame:
    """What changed since the last plan, per key account: ``account_id``, ``topic``
    (actions, objectives, segment, revenue, health, red flags, contacts) and ``change``
    (``last`` None: every plan is a first plan)."""
    if last is None:
        return first_plan_changes(profile)
    old_act = last.actions.assign(account_id=_text(last.actions["account_id"]))
    old_status = _text(old_act["status"]).str.lower()
    old_prof = _table(last, "plan_profile")
    seg0, rev0 = _by_account(old_prof, "segment"), _by_account(old_prof, "revenue_12m")
    seg_b = _by_account(_table(last, "segments"), "segment")
    h0 = _by_account(_table(last, "plan_health"), "score")
    flags0, flags1 = _sets(_table(last, "plan_red_flags"), "flag"), _sets(red_flags, "flag")
    con0, con1 = _sets(_table(last, "plan_relationship"), "contact_name"), _sets(contacts, "contact_name")
    obj0 = _sets(last.objectives.assign(account_id=_text(last.objectives["account_id"])), "objective_id")
    obj1 = _sets(objectives, "objective_id")
    h1 = _by_account(health, "score")
    rows: list[tuple[str, str, str]] = []
    planned = set(old_act["account_id"]) | set(obj0)
    for p in profile.to_dict("records"):
        aid = p["account_id"]
        add = lambda topic, text: rows.append((aid, topic, text))  # noqa: E731
        if aid not in planned:
            add("plan", "New key account: its first plan.")
            continue
        mine = old_status[old_act["account_id"] == aid]
        done, dropped = int((mine == "done").sum()), int((mine == "dropped").sum())
        if done or dropped:
            add("actions", f"{done} action(s) done and {dropped} dropped since the last plan: closed.")
        a = actions[actions["account_id"] == aid]
        carried = a[a["origin"].isin(["carried", "by hand"])]
        if len(carried):
            late = int((pd.to_datetime(carried["due_date"]) < start).sum())
            add("actions", f"{len(carried)} open action(s) carried over"
                + (f", {late} of them past their due date." if late else "."))
        for text in a.loc[a["origin"] == "new", "action"]:
            if not str(text).startswith("Quarterly business review"):
                add("actions", f"New: {text}")
        for oid in sorted(obj0.get(aid, set()) - obj1.get(aid, set())):
            add("objectives", f"Objective {oid} is not planned again: its gap has closed.")
        s0, s1 = seg0.get(aid, seg_b.get(aid)), p.get("segment")
        if isinstance(s0, str) and isinstance(s1, str) and s0 and s1 and s0 != s1:
            add("segment", f"Moved from {s0} to {s1}.")
        r0, r1 = rev0.get(aid), p.get("revenue_12m")
        if r0 is not None and pd.notna(r0) and pd.notna(r1) and float(r0) != float(r1):
            pct = f" ({share((float(r1) - float(r0)) / float(r0), signed=True)})" if float(r0) else ""
            add("revenue", f"12-month revenue {money(float(r0))} -> {money(float(r1))}{pct}.")
        if aid in h0 and aid in h1 and pd.notna(h0[aid]) and pd.notna(h1[aid]):
            d = float(h1[aid]) - float(h0[aid])
            if abs(d) >= 1:
                add("health", f"Health {float(h0[aid]):.0f} -> {float(h1[aid]):.0f} ({d:+.0f}).")
        if aid in flags0 or aid in flags1:
            for f in sorted(flags1.get(aid, set()) - flags0.get(aid, set())):
                add("red flags", f"New red flag: {f}.")
            for f in sorted(flags0.get(aid, set()) - flags1.get(aid, set())):
                add("red flags", f"Red flag cleared: {f}.")
        if aid in con0:
            met = sorted(con1.get(aid, set()) - con0[aid])
            gone = sorted(con0[aid] - con1.get(aid, set()))
            if met:
                add("contacts", f"New contact(s): {', '.join(met)}.")
            if gone:
                add("contacts", f"No longer in the contacts: {', '.join(gone)}.")
    return pd.DataFrame(rows, columns=["account_id", "topic", "change"]).astype("str")


def first_plan_changes(profile: pd.DataFrame) -> pd.DataFrame:
    """Without a baseline every account's plan is its first."""
    return pd.DataFrame({"account_id": profile["account_id"].astype("str"), "topic": "plan",
                         "change": "First plan: no earlier plan to compare with."}).astype("str")
