"""The capacity model: who serves which key account, counting every manager's whole book.

One model, used by the selection (which settles the owners of the key and key-development
accounts), the account plans (which show that owner) and the resource plan of the portfolio
review (which shows the workload and the moves):

* **the hours rule** (:data:`DEFAULT_HOURS_BY_TIER`, parameter ``hours_by_tier``): an account
  takes 120 hours a year from its manager when key, 60 when key-development, 12 when managed and
  2 in the long tail;
* **the existing book** (:func:`book_hours`): every account a manager owns outside the accounts
  being assigned counts with its tier's hours, so a manager with 70 other accounts has less room
  for key accounts than one with 15, and the workload shows all their hours, not a part;
* **the assignment** (:class:`ResourcePlanner`): every account being assigned goes to one manager
  so that no manager holds more of these accounts than ``max_accounts`` nor more hours than
  ``max_hours`` with their book (hard limits), hours are balanced (each manager's total close to
  their fair share of all hours) and relationships are kept: a change of owner costs a handover
  (``switch_cost_hours``, up to 1.5 times that for the largest account, :data:`VALUE_WEIGHT`),
  so an account moves only when that buys more balance than its cost, the smaller ones first,
  an **at-risk** account (chance of leaving at least :data:`AT_RISK_P_LEAVE`) is never moved for
  balance alone, only when its owner is over capacity, and every move is explained.

The assignment is a small mixed-integer programme solved exactly (HiGHS through
:func:`scipy.optimize.milp`). Binary ``x[i, j]`` says account ``i`` goes to manager ``j``;
``d+[j]``, ``d-[j]`` measure how far manager ``j``'s hours (book included) are above / below
their fair share. The objective is::

    sum over moved accounts of their handover cost + 0.5 * sum_j (d+[j] + d-[j])

Moving ``h`` hours from an overloaded to an underloaded manager lowers the second term by ``h``
(half of the two deviations it shrinks), so a move pays off exactly when it shifts more hours
towards balance than the handover costs.

Foundation layer: numpy and pandas (scipy on first use), nothing of kamlib but the foundation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.formatting import hours as _fmt
from kamlib.key_accounts import in_tiers
from kamlib.vocabulary import KEY, KEY_DEVELOPMENT, LONG_TAIL, MANAGED, PLANNED_TIERS
from kamlib.vocabulary import TIERS as TIER_ORDER

DEFAULT_HOURS_BY_TIER: dict[str, float] = {
    KEY: 120.0,
    KEY_DEVELOPMENT: 60.0,
    MANAGED: 12.0,
    LONG_TAIL: 2.0,
}
"""The hours-per-account rule: annual hours one account of each tier takes from its account
manager (defaults). The resource plan counts a manager's whole book with it: the accounts being
assigned and every other account the manager owns."""

AT_RISK_P_LEAVE = 0.3
"""An account whose chance of leaving (``selection_scores.loss_p_leave``) is at least this is
*at risk*: the plan never moves it to another owner for balance alone."""

VALUE_WEIGHT = 0.5
"""A handover costs ``switch_cost_hours x (1 + 0.5 x revenue / largest revenue)``: when some
accounts must move, the smaller ones go first and the largest customer keeps its manager."""

LOCK_HOURS = 1e6
"""Handover cost of an at-risk account: so high that only a capacity limit moves it."""


class CapacityError(ParameterError):
    """The managers' capacity cannot hold the accounts.

    Attributes
    ----------
    extra_managers : int
        How many more managers (at the default capacity) would make room.
    hours_needed, hours_available : float
        Total hours the accounts need and the managers offer.
    """

    def __init__(self, message: str, extra_managers: int, hours_needed: float,
                 hours_available: float) -> None:
        self.extra_managers = extra_managers
        self.hours_needed = hours_needed
        self.hours_available = hours_available
        super().__init__(message)


@dataclass
class ResourcePlanner:
    """Assign accounts to account managers within capacity, balancing workload.

    Parameters
    ----------
    max_accounts : int
        Most accounts one manager may hold.
    max_hours : float
        Hours per year one manager can give to the accounts being assigned.
    hours_by_tier : mapping of str to float, optional
        Annual hours an account of each tier needs; defaults to
        :data:`DEFAULT_HOURS_BY_TIER`. An ``hours`` column in the accounts overrides it
        account by account.
    switch_cost_hours : float
        Cost of one change of owner (the handover), in hours of workload imbalance. The
        default, 100 hours, is most of a key account's yearly time: a new owner spends months
        learning the account and its people, and some goodwill is lost. ``0`` ignores current
        owners; a very large value keeps every owner that capacity allows.
    time_limit : float
        Seconds the solver may take; the best plan found so far is used when it runs out
        (``status_`` says so).

    Attributes
    ----------
    assignment_ : DataFrame
        One row per account: the input columns plus ``hours``, ``previous_manager``,
        ``manager``, ``changed`` (owner changes) and ``reason``.
    workload_ : DataFrame
        One row per manager: ``n_accounts``, ``hours``, capacities, ``utilisation``,
        ``fair_share_hours``, accounts per tier, ``kept``, ``gained``, ``lost``.
    n_changes_ : int
        Number of owner changes.
    status_ : str
        ``"optimal"`` or a note that the time limit cut the search short.
    """

    max_accounts: int = 8
    max_hours: float = 900.0
    hours_by_tier: Mapping[str, float] | None = None
    switch_cost_hours: float = 100.0
    time_limit: float = 20.0
    assignment_: pd.DataFrame = field(init=False, repr=False)
    workload_: pd.DataFrame = field(init=False, repr=False)
    n_changes_: int = field(init=False, repr=False)
    status_: str = field(init=False, repr=False)
    books_note_: str = field(init=False, repr=False, default="")

    # -- inputs ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        if int(self.max_accounts) < 1:
            raise ParameterError(
                f"max_accounts is {self.max_accounts}; a manager must be able to hold at least "
                "one account. Fix: set max_accounts to 1 or more."
            )
        if not float(self.max_hours) > 0:
            raise ParameterError(
                f"max_hours is {self.max_hours}; give the hours per year a manager has for these "
                "accounts (e.g. 900). Fix: set max_hours above 0."
            )
        if float(self.switch_cost_hours) < 0:
            raise ParameterError(
                f"switch_cost_hours is {self.switch_cost_hours}; a handover cannot save time. "
                "Fix: set switch_cost_hours to 0 or more."
            )
        for tier, h in (self.hours_by_tier or {}).items():
            if not (isinstance(h, (int, float)) and h >= 0):
                raise ParameterError(
                    f"hours_by_tier[{tier!r}] is {h!r}. Fix: give a number of hours, 0 or more."
                )

    def _hours(self, accounts: pd.DataFrame) -> np.ndarray:
        table = dict(DEFAULT_HOURS_BY_TIER)
        if self.hours_by_tier is not None:
            table = {str(k): float(v) for k, v in self.hours_by_tier.items()}
        if "hours" in accounts.columns and accounts["hours"].notna().all():
            return accounts["hours"].to_numpy(float)
        if "tier" not in accounts.columns:
            raise InputError(
                "accounts to assign", "there is no 'tier' column to look up the hours each "
                "account needs.", "pass the selection tiers (table selection_scores) or an "
                "'hours' column.", column="tier",
            )
        tiers = accounts["tier"].astype(str)
        unknown = sorted(set(tiers) - set(table))
        if unknown:
            raise ParameterError(
                f"hours_by_tier has no hours for tier(s) {unknown}; it covers {sorted(table)}. "
                f"Fix: add them, e.g. hours_by_tier={{..., {unknown[0]!r}: 40}}."
            )
        hours = tiers.map(table).to_numpy(float)
        if "hours" in accounts.columns:  # per-account overrides where given
            given = accounts["hours"].to_numpy(float)
            hours = np.where(np.isnan(given), hours, given)
        return hours

    def _managers(self, accounts: pd.DataFrame,
                  managers: Sequence[str] | pd.DataFrame | None) -> pd.DataFrame:
        if managers is None or (not isinstance(managers, pd.DataFrame) and len(managers) == 0):
            names = accounts["account_manager"].dropna().astype(str) if (
                "account_manager" in accounts.columns) else pd.Series([], dtype=str)
            names = sorted(set(names) - {""})
            if not names:
                raise ParameterError(
                    "No account managers to assign to: the accounts name no account_manager and "
                    "no list of managers was given. Fix: pass managers=['Name 1', 'Name 2', ...] "
                    "(parameter 'managers')."
                )
            frame = pd.DataFrame({"manager": names})
        elif isinstance(managers, pd.DataFrame):
            if "manager" not in managers.columns:
                raise InputError("managers", "there is no 'manager' column.",
                                 "name the column with the managers' names 'manager'.",
                                 column="manager")
            frame = managers.copy()
            frame["manager"] = frame["manager"].astype(str)
        else:
            frame = pd.DataFrame({"manager": [str(m) for m in managers]})
        dup = frame["manager"].duplicated()
        if dup.any():
            raise ParameterError(
                f"Manager(s) {sorted(set(frame.loc[dup, 'manager']))} are listed twice. "
                "Fix: list each manager once."
            )
        if "max_accounts" not in frame.columns:
            frame["max_accounts"] = int(self.max_accounts)
        if "max_hours" not in frame.columns:
            frame["max_hours"] = float(self.max_hours)
        frame["max_accounts"] = frame["max_accounts"].fillna(self.max_accounts).astype(int)
        frame["max_hours"] = frame["max_hours"].fillna(self.max_hours).astype(float)
        return frame[["manager", "max_accounts", "max_hours"]].reset_index(drop=True)

    def _check_capacity(self, hours: np.ndarray, mgr: pd.DataFrame,
                        book: np.ndarray | None = None) -> None:
        book = np.zeros(len(mgr)) if book is None else book
        n, h_total = len(hours), float(hours.sum())
        free = np.clip(mgr["max_hours"].to_numpy(float) - book, 0, None)
        slots, h_avail = int(mgr["max_accounts"].sum()), float(free.sum())
        biggest = float(hours.max()) if n else 0.0
        if biggest > free.max():
            booked = (f" after their other accounts ({_fmt(book.sum())} hours in all)"
                      if book.any() else "")
            raise CapacityError(
                f"One account needs {_fmt(biggest)} hours a year, more than any manager has "
                f"free{booked} (at most {_fmt(free.max())}). Fix: raise max_hours to at least "
                f"{_fmt(math.ceil(biggest + book[free.argmax()]))}, or lower that tier's "
                "hours_by_tier.",
                extra_managers=0, hours_needed=h_total, hours_available=h_avail,
            )
        if n <= slots and h_total <= h_avail + 1e-9:
            return
        m = len(mgr)
        extra = max(math.ceil(max(n - slots, 0) / self.max_accounts),
                    math.ceil(max(h_total - h_avail, 0) / self.max_hours))
        raise_ = []
        if n > slots:
            raise_.append(f"max_accounts to {math.ceil(n / m)}")
        if h_total > h_avail + 1e-9:
            raise_.append(f"max_hours to {_fmt(math.ceil((h_total + book.sum()) / m))}")
        booked = (f" (after the {_fmt(book.sum())} hours their other accounts take)"
                  if book.any() else "")
        raise CapacityError(
            f"Capacity is insufficient: {n} accounts need {_fmt(h_total)} hours a year, but "
            f"{m} manager(s) offer {slots} account slots and {_fmt(h_avail)} hours{booked}. "
            f"Fix: add at least {extra} more manager(s) (at {self.max_accounts} accounts and "
            f"{_fmt(self.max_hours)} hours each), or raise {' and '.join(raise_)} per "
            "manager, or lower hours_by_tier.",
            extra_managers=extra, hours_needed=h_total, hours_available=h_avail,
        )

    # -- solve ----------------------------------------------------------------------------
    def fit(self, accounts: pd.DataFrame,
            managers: Sequence[str] | pd.DataFrame | None = None,
            book: Mapping[str, float] | None = None) -> ResourcePlanner:
        """Assign ``accounts`` to ``managers``.

        Parameters
        ----------
        accounts : DataFrame
            One row per account to assign: ``account_id``, ``tier`` (or ``hours``) and
            ``account_manager`` (the current owner, may be missing); ``at_risk`` (optional,
            true/false): an at-risk account is never moved for balance alone. Other columns
            (name, segment, value ...) are carried into ``assignment_``.
        managers : list of str or DataFrame, optional
            The managers to assign to; a DataFrame may give per-manager ``max_accounts`` and
            ``max_hours``. Default: every current owner named in ``accounts``.
        book : mapping of str to float, optional
            Hours a year each manager already gives to their other accounts (their existing
            book, :func:`book_hours`): it takes from their ``max_hours`` and counts in the
            balance. Default: none.

        Returns
        -------
        ResourcePlanner
            self, with the fitted attributes set.

        Raises
        ------
        CapacityError
            When the managers cannot hold the accounts; the message says how many more
            managers or hours are needed.
        """
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint, milp

        self._check_params()
        if "account_id" not in accounts.columns:
            raise InputError("accounts to assign", "there is no 'account_id' column.",
                             "pass one row per account with its account_id.",
                             column="account_id")
        acc = accounts.reset_index(drop=True).copy()
        if acc["account_id"].duplicated().any():
            rows = (np.flatnonzero(acc["account_id"].duplicated()) + 1).tolist()
            raise InputError("accounts to assign", "an account is listed more than once.",
                             "pass each account once.", column="account_id", rows=rows)
        hours = self._hours(acc)
        mgr = self._managers(acc, managers)
        booked = np.array([float((book or {}).get(m, 0.0)) for m in mgr["manager"]])
        self._check_capacity(hours, mgr, booked)

        raw = acc["account_manager"] if "account_manager" in acc.columns else [None] * len(acc)
        prev = [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in raw]
        names = mgr["manager"].tolist()
        n, m = len(acc), len(names)
        owner_idx = np.array([names.index(p) if p in names else -1 for p in prev])

        # Fair share of all hours (these accounts and the books) in proportion to capacity;
        # the accounts being assigned get what each manager's book leaves free.
        max_h = mgr["max_hours"].to_numpy(float)
        cap_h = np.clip(max_h - booked, 0, None)
        fair = (hours.sum() + booked.sum()) * max_h / max_h.sum()
        at_risk = (acc["at_risk"].fillna(False).astype(bool).to_numpy()
                   if "at_risk" in acc.columns else np.zeros(n, dtype=bool))

        # Variables: x (n*m, account-major), d+ (m), d- (m).
        nx = n * m
        switch = np.full((n, m), float(self.switch_cost_hours))
        if "revenue_12m" in acc.columns:  # a larger account's handover costs more (up to 1.5x)
            value = pd.to_numeric(acc["revenue_12m"], errors="coerce").fillna(0).clip(lower=0)
            top = float(value.max())
            if top > 0:
                switch = switch * (1 + VALUE_WEIGHT * value.to_numpy(float) / top)[:, None]
        has_owner = np.array([p is not None for p in prev])
        switch[at_risk & has_owner, :] = LOCK_HOURS  # moved only when capacity forces it
        switch[~has_owner, :] = 0.0  # an unowned account changes nobody's relationship
        for i in np.flatnonzero(owner_idx >= 0):
            switch[i, owner_idx[i]] = 0.0
        c = np.concatenate([switch.ravel(), np.full(2 * m, 0.5)])

        rows_i = np.repeat(np.arange(n), m)
        cols_j = np.tile(np.arange(m), n)
        xcol = np.arange(nx)
        one_each = sparse.csr_matrix((np.ones(nx), (rows_i, xcol)), shape=(n, nx + 2 * m))
        count = sparse.csr_matrix((np.ones(nx), (cols_j, xcol)), shape=(m, nx + 2 * m))
        load = sparse.csr_matrix((hours[rows_i], (cols_j, xcol)), shape=(m, nx + 2 * m))
        dev = load + sparse.csr_matrix(
            (np.r_[-np.ones(m), np.ones(m)], (np.r_[np.arange(m), np.arange(m)],
                                              nx + np.arange(2 * m))), shape=(m, nx + 2 * m))
        constraints = [
            LinearConstraint(one_each, 1, 1),
            LinearConstraint(count, 0, mgr["max_accounts"].to_numpy(float)),
            LinearConstraint(load, 0, cap_h),
            LinearConstraint(dev, fair - booked, fair - booked),
        ]
        integrality = np.r_[np.ones(nx), np.zeros(2 * m)]
        bounds = Bounds(np.zeros(nx + 2 * m), np.r_[np.ones(nx), np.full(2 * m, np.inf)])
        res = milp(c, constraints=constraints, integrality=integrality, bounds=bounds,
                   options={"time_limit": float(self.time_limit), "mip_rel_gap": 1e-6})
        if res.x is None:
            raise CapacityError(
                f"The {n} accounts fit the managers' total capacity but cannot be packed into "
                f"{m} managers' limits (accounts of {', '.join(_fmt(h) for h in sorted(set(hours)))} "
                f"hours against {_fmt(self.max_hours)} hours each"
                + (f", {_fmt(booked.sum())} of them taken by the managers' other accounts"
                   if booked.any() else "")
                + "). Fix: add 1 more manager or raise max_hours.",
                extra_managers=1, hours_needed=float(hours.sum()),
                hours_available=float(cap_h.sum()),
            )
        self.status_ = "optimal" if res.status == 0 else (
            f"time limit of {self.time_limit:g} s reached: best plan found is used")
        x = res.x[:nx].reshape(n, m) > 0.5
        chosen = x.argmax(axis=1)
        self.objective_ = float(res.fun)

        out = acc.copy()
        out["hours"] = hours
        out["previous_manager"] = pd.Series(list(prev), dtype="str")
        out["manager"] = pd.Series([names[j] for j in chosen], dtype="str")
        out["changed"] = has_owner & (chosen != owner_idx)
        # Why did an account move? An owner with more accounts or hours than capacity had to
        # give some up; otherwise the move bought balance worth more than the handover.
        prev_load = pd.Series(hours).groupby(pd.Series(list(prev))).agg(["sum", "count"])
        prev_load["sum"] += prev_load.index.map(dict(zip(names, booked))).fillna(0.0)
        cap = mgr.set_index("manager")
        reasons = []
        for i in range(n):
            p = prev[i]
            if p is None:
                reasons.append("new: no previous owner")
            elif owner_idx[i] < 0:
                reasons.append("moved: previous owner not in the manager pool")
            elif not out.at[i, "changed"]:
                reasons.append("kept")
            elif (prev_load.at[p, "sum"] > cap.at[p, "max_hours"] + 1e-9
                  or prev_load.at[p, "count"] > cap.at[p, "max_accounts"]):
                reasons.append("moved: previous owner over capacity")
            else:
                reasons.append("moved: balances workload")
        out["reason"] = pd.Series(reasons, dtype="str")
        out["at_risk"] = at_risk
        out["explanation"] = pd.Series(_explain(out, mgr, booked), dtype="str")
        self.assignment_ = out
        self.n_changes_ = int(out["changed"].sum())
        self.workload_ = self._workload(out, mgr, fair, booked)
        return self

    @staticmethod
    def _workload(out: pd.DataFrame, mgr: pd.DataFrame, fair: np.ndarray,
                  booked: np.ndarray) -> pd.DataFrame:
        w = mgr.copy()
        g = out.groupby("manager")
        w["n_accounts"] = w["manager"].map(g.size()).fillna(0).astype(int)
        w["plan_hours"] = w["manager"].map(g["hours"].sum()).fillna(0.0)
        w["book_hours"] = booked
        w["hours"] = w["plan_hours"] + w["book_hours"]
        w["fair_share_hours"] = fair
        w["utilisation"] = w["hours"] / w["max_hours"]
        if "tier" in out.columns:
            for tier in [t for t in TIER_ORDER if t in set(out["tier"])] + sorted(
                    set(out["tier"].astype(str)) - set(TIER_ORDER)):
                col = "n_" + tier.replace("-", "_")
                w[col] = w["manager"].map(out[out["tier"] == tier].groupby("manager").size())
                w[col] = w[col].fillna(0).astype(int)
        kept = out[~out["changed"] & out["previous_manager"].notna()]
        w["kept"] = w["manager"].map(kept.groupby("manager").size()).fillna(0).astype(int)
        w["gained"] = w["n_accounts"] - w["kept"]
        lost = out[out["changed"]].groupby("previous_manager").size()
        w["lost"] = w["manager"].map(lost).fillna(0).astype(int)
        first = ["manager", "n_accounts", "hours", "max_accounts", "max_hours", "utilisation",
                 "fair_share_hours", "plan_hours", "book_hours"]
        return w[first + [c for c in w.columns if c not in first]]


def assign_accounts(accounts: pd.DataFrame, managers: Sequence[str] | pd.DataFrame | None = None,
                    book: Mapping[str, float] | None = None,
                    **params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Functional shortcut: ``ResourcePlanner(**params).fit(accounts, managers)``.

    Returns
    -------
    assignment, workload : DataFrame
        See :class:`ResourcePlanner`.
    """
    planner = ResourcePlanner(**params).fit(accounts, managers, book=book)
    return planner.assignment_, planner.workload_


def _explain(out: pd.DataFrame, mgr: pd.DataFrame, booked: np.ndarray) -> list[str]:
    """One sentence per account: why it stays or moves, with the hours that decided it."""
    max_h = dict(zip(mgr["manager"], mgr["max_hours"]))
    book = dict(zip(mgr["manager"], booked))
    before = out.groupby("previous_manager")["hours"].sum()
    after = out.groupby("manager")["hours"].sum()

    def load(m: str, plan: pd.Series) -> str:
        total = float(plan.get(m, 0.0)) + float(book.get(m, 0.0))
        return f"{_fmt(total)} of {_fmt(max_h.get(m, 0.0))} h"

    text = []
    for r in out.itertuples(index=False):
        prev, new = r.previous_manager, r.manager
        if r.reason == "kept":
            text.append("kept with " + new + (" (at risk: never moved for balance alone)"
                                              if r.at_risk else ""))
        elif r.reason.startswith("new"):
            text.append(f"no owner yet: given to {new} ({load(new, after)} after)")
        elif "not in the manager pool" in r.reason:
            text.append(f"{prev} is not in the manager pool: given to {new}")
        elif "over capacity" in r.reason:
            text.append(f"{prev} would hold {load(prev, before)} with their other accounts: "
                        f"moved to {new} ({load(new, after)} after)")
        else:
            text.append(f"balances workload: {prev} at {load(prev, before)}, {new} at "
                        f"{load(new, after)} after")
    return text


def fit_beside_books(planner: ResourcePlanner, accounts: pd.DataFrame,
                     managers: Sequence[str] | pd.DataFrame | None,
                     book: Mapping[str, float] | None) -> ResourcePlanner:
    """``planner`` fitted beside the managers' existing books; when the books alone leave too
    little room (a large client: thousands of accounts per manager at the default hours), it
    is fitted without them and ``books_note_`` says so, with the fix.

    Every user of the capacity model fits through here, so the selection's owners and the
    review's resource plan agree in both cases. A plan that does not fit even without the
    books raises :class:`CapacityError` as :meth:`ResourcePlanner.fit` does.
    """
    try:
        return planner.fit(accounts, managers, book)
    except CapacityError as crowded:
        if not book or not any(book.values()):
            raise
        planner.fit(accounts, managers, None)
        planner.books_note_ = (
            f"The managers' other accounts already take {_fmt(sum(book.values()))} hours a "
            "year by the hours rule, more than their capacity leaves for these accounts, so "
            "these accounts were balanced without the other accounts' hours (their existing "
            f"books are overloaded). Why: {crowded}")
        return planner


def book_hours(features: pd.DataFrame, scores: pd.DataFrame | None, assigned: Sequence[str],
               hours_by_tier: Mapping[str, float] | None = None) -> dict[str, float]:
    """Hours a year each manager gives to the accounts they own outside ``assigned``.

    ``features`` gives each account's owner (``account_manager``), ``scores`` its tier
    (``selection_scores``; without it every account counts as long tail). The hours come
    from the hours rule (``hours_by_tier``, default :data:`DEFAULT_HOURS_BY_TIER`).
    """
    if "account_manager" not in features.columns:
        return {}
    table = {str(k): float(v) for k, v in (hours_by_tier or DEFAULT_HOURS_BY_TIER).items()}
    f = features.assign(account_id=features["account_id"].astype(str))
    tier = (scores.assign(account_id=scores["account_id"].astype(str))
            .set_index("account_id")["tier"].astype(str)
            if scores is not None and "tier" in scores.columns else pd.Series(dtype=str))
    f["tier"] = f["account_id"].map(tier).astype("object").fillna(LONG_TAIL).astype(str)
    others = f[~f["account_id"].isin({str(a) for a in assigned})]
    owner = others["account_manager"].astype("object")
    others = others[owner.notna() & owner.astype(str).str.strip().ne("")]
    hours = others["tier"].map(table).fillna(table.get(LONG_TAIL, 0.0))
    return {str(k): float(v) for k, v in hours.groupby(
        others["account_manager"].astype(str).str.strip()).sum().items()}


def planned_accounts(features: pd.DataFrame, scores: pd.DataFrame,
                     tiers: Sequence[str] = PLANNED_TIERS) -> pd.DataFrame:
    """The accounts to assign, in the order every user of the model gives them to the solver:
    ``account_id, tier, score, at_risk`` and the features' ``name, account_manager,
    revenue_12m, margin_12m``, sorted by tier then score (best first)."""
    keep = [c for c in ("account_id", "tier", "score") if c in scores.columns]
    sel = scores.loc[in_tiers(scores, tiers).to_numpy(), keep].assign(
        account_id=lambda d: d["account_id"].astype(str))
    if "loss_p_leave" in scores.columns:
        risk = scores.loc[in_tiers(scores, tiers).to_numpy(), "loss_p_leave"].to_numpy(float)
        sel["at_risk"] = risk >= AT_RISK_P_LEAVE
    fcols = [c for c in ("account_id", "name", "account_manager", "revenue_12m", "margin_12m")
             if c in features.columns]
    out = sel.merge(features[fcols].assign(account_id=features["account_id"].astype(str)),
                    on="account_id", how="left")
    order = {t: i for i, t in enumerate(TIER_ORDER)}
    out["_t"] = out["tier"].map(order)
    sort = ["_t", "score"] if "score" in out.columns else ["_t"]
    out = out.sort_values(sort, ascending=[True, False][: len(sort)], kind="stable")
    return out.drop(columns="_t").reset_index(drop=True)


@dataclass(frozen=True)
class CapacityRules:
    """The capacity parameters, decided once: ``10_selection`` declares them, settles the
    owners with them and saves them as its ``capacity_rules`` table (:meth:`table`); the
    portfolio review reads that table back (:meth:`from_table`), so both steps plan with the
    same rules and no second copy can drift."""

    managers: tuple[str, ...] = ()
    max_accounts: int = 8
    max_hours: float = 900.0
    hours_by_tier: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_HOURS_BY_TIER))
    tiers: tuple[str, ...] = PLANNED_TIERS
    switch_cost_hours: float = 100.0

    def planner(self) -> ResourcePlanner:
        """An unfitted :class:`ResourcePlanner` with these rules."""
        return ResourcePlanner(max_accounts=self.max_accounts, max_hours=self.max_hours,
                               hours_by_tier=self.hours_by_tier,
                               switch_cost_hours=self.switch_cost_hours)

    def table(self) -> pd.DataFrame:
        """``rule, item, value``: a row per scalar rule (``item`` blank), per tier of
        ``hours_by_tier`` and per name of ``managers`` and ``tiers`` (``value`` empty)."""
        rows = [("managers", str(m), math.nan) for m in self.managers]
        rows += [("max_accounts", "", float(self.max_accounts)),
                 ("max_hours", "", float(self.max_hours))]
        rows += [("hours_by_tier", str(t), float(h)) for t, h in self.hours_by_tier.items()]
        rows += [("tiers", str(t), math.nan) for t in self.tiers]
        rows += [("switch_cost_hours", "", float(self.switch_cost_hours))]
        return pd.DataFrame(rows, columns=["rule", "item", "value"]).astype(
            {"rule": "str", "item": "str", "value": "float64"})

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> CapacityRules:
        """The rules :meth:`table` wrote (a rule missing from it keeps its default)."""
        def rows(rule: str) -> pd.DataFrame:
            return table[table["rule"].astype(str) == rule]

        def scalar(rule: str, default: float) -> float:
            return float(rows(rule)["value"].iloc[0]) if len(rows(rule)) else default

        hours = rows("hours_by_tier")
        return cls(managers=tuple(rows("managers")["item"].astype(str)),
                   max_accounts=int(scalar("max_accounts", cls.max_accounts)),
                   max_hours=scalar("max_hours", cls.max_hours),
                   hours_by_tier=(dict(zip(hours["item"].astype(str), hours["value"].astype(float)))
                                  if len(hours) else dict(DEFAULT_HOURS_BY_TIER)),
                   tiers=tuple(rows("tiers")["item"].astype(str)) or PLANNED_TIERS,
                   switch_cost_hours=scalar("switch_cost_hours", cls.switch_cost_hours))
