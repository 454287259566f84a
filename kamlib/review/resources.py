"""The resource plan: which account manager serves which key account, within capacity.

Serving a key account takes time: meetings, plan reviews, internal coordination. How much
depends on the account's tier (a key account needs more than a key-development account). An
account manager has a limited number of hours in the year and can hold only so many accounts
before the relationships thin out. The resource plan assigns every account to one manager so
that

* no manager holds more accounts or more hours than their capacity (hard limits),
* workloads are balanced (each manager's hours close to their fair share of the total), and
* existing relationships are kept: an owner change costs a handover (``switch_cost_hours``),
  so an account only moves when that buys more than its cost in better balance.

This is a small assignment problem solved exactly as a mixed-integer programme (HiGHS through
:func:`scipy.optimize.milp`). Binary ``x[i, j]`` says account ``i`` goes to manager ``j``;
``d+[j]``, ``d-[j]`` measure how far manager ``j``'s hours are above / below their fair share.
The objective is::

    switch_cost_hours * (number of owner changes) + 0.5 * sum_j (d+[j] + d-[j])

Moving ``h`` hours from an overloaded to an underloaded manager lowers the second term by ``h``
(half of the two deviations it shrinks), so a move pays off exactly when it shifts more hours
towards balance than the handover costs.
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
from kamlib.vocabulary import KEY, KEY_DEVELOPMENT, LONG_TAIL, MANAGED, PLANNED_TIERS, SEGMENTS
from kamlib.vocabulary import TIERS as TIER_ORDER

DEFAULT_HOURS_BY_TIER: dict[str, float] = {
    KEY: 120.0,
    KEY_DEVELOPMENT: 60.0,
    MANAGED: 12.0,
    LONG_TAIL: 2.0,
}
"""Annual hours one account of each tier takes from its account manager (defaults)."""


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

    def _check_capacity(self, hours: np.ndarray, mgr: pd.DataFrame) -> None:
        n, h_total = len(hours), float(hours.sum())
        slots, h_avail = int(mgr["max_accounts"].sum()), float(mgr["max_hours"].sum())
        biggest = float(hours.max()) if n else 0.0
        if biggest > mgr["max_hours"].max():
            raise CapacityError(
                f"One account needs {_fmt(biggest)} hours a year, more than any manager has "
                f"(at most {_fmt(mgr['max_hours'].max())}). Fix: raise max_hours to at least "
                f"{_fmt(math.ceil(biggest))}, or lower that tier's hours_by_tier.",
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
            raise_.append(f"max_hours to {_fmt(math.ceil(h_total / m))}")
        raise CapacityError(
            f"Capacity is insufficient: {n} accounts need {_fmt(h_total)} hours a year, but "
            f"{m} manager(s) offer {slots} account slots and {_fmt(h_avail)} hours. "
            f"Fix: add at least {extra} more manager(s) (at {self.max_accounts} accounts and "
            f"{_fmt(self.max_hours)} hours each), or raise {' and '.join(raise_)} per "
            "manager, or lower hours_by_tier.",
            extra_managers=extra, hours_needed=h_total, hours_available=h_avail,
        )

    # -- solve ----------------------------------------------------------------------------
    def fit(self, accounts: pd.DataFrame,
            managers: Sequence[str] | pd.DataFrame | None = None) -> ResourcePlanner:
        """Assign ``accounts`` to ``managers``.

        Parameters
        ----------
        accounts : DataFrame
            One row per account to assign: ``account_id``, ``tier`` (or ``hours``) and
            ``account_manager`` (the current owner, may be missing). Other columns (name,
            segment, value ...) are carried into ``assignment_``.
        managers : list of str or DataFrame, optional
            The managers to assign to; a DataFrame may give per-manager ``max_accounts`` and
            ``max_hours``. Default: every current owner named in ``accounts``.

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
        self._check_capacity(hours, mgr)

        raw = acc["account_manager"] if "account_manager" in acc.columns else [None] * len(acc)
        prev = [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in raw]
        names = mgr["manager"].tolist()
        n, m = len(acc), len(names)
        owner_idx = np.array([names.index(p) if p in names else -1 for p in prev])

        # Fair share of hours in proportion to each manager's capacity.
        cap_h = mgr["max_hours"].to_numpy(float)
        fair = hours.sum() * cap_h / cap_h.sum()

        # Variables: x (n*m, account-major), d+ (m), d- (m).
        nx = n * m
        switch = np.full((n, m), float(self.switch_cost_hours))
        has_owner = np.array([p is not None for p in prev])
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
            LinearConstraint(dev, fair, fair),
        ]
        integrality = np.r_[np.ones(nx), np.zeros(2 * m)]
        bounds = Bounds(np.zeros(nx + 2 * m), np.r_[np.ones(nx), np.full(2 * m, np.inf)])
        res = milp(c, constraints=constraints, integrality=integrality, bounds=bounds,
                   options={"time_limit": float(self.time_limit), "mip_rel_gap": 1e-6})
        if res.x is None:
            raise CapacityError(
                f"The {n} accounts fit the managers' total capacity but cannot be packed into "
                f"{m} managers' limits (accounts of {sorted(set(hours))} hours against "
                f"{_fmt(self.max_hours)} hours each). Fix: add 1 more manager or raise max_hours.",
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
        self.assignment_ = out
        self.n_changes_ = int(out["changed"].sum())
        self.workload_ = self._workload(out, mgr, fair)
        return self

    @staticmethod
    def _workload(out: pd.DataFrame, mgr: pd.DataFrame, fair: np.ndarray) -> pd.DataFrame:
        w = mgr.copy()
        g = out.groupby("manager")
        w["n_accounts"] = w["manager"].map(g.size()).fillna(0).astype(int)
        w["hours"] = w["manager"].map(g["hours"].sum()).fillna(0.0)
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
                 "fair_share_hours"]
        return w[first + [c for c in w.columns if c not in first]]


def assign_accounts(accounts: pd.DataFrame, managers: Sequence[str] | pd.DataFrame | None = None,
                    **params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Functional shortcut: ``ResourcePlanner(**params).fit(accounts, managers)``.

    Returns
    -------
    assignment, workload : DataFrame
        See :class:`ResourcePlanner`.
    """
    planner = ResourcePlanner(**params).fit(accounts, managers)
    return planner.assignment_, planner.workload_


def accounts_to_assign(features: pd.DataFrame, scores: pd.DataFrame,
                       tiers: Sequence[str] = PLANNED_TIERS,
                       segments: pd.DataFrame | None = None,
                       clv: pd.DataFrame | None = None) -> pd.DataFrame:
    """The accounts the resource plan covers, with what the plan and its figures need.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` (account_id, name, account_manager, revenue_12m, margin_12m).
    scores : DataFrame
        ``selection_scores`` (account_id, tier, score).
    tiers : sequence of str
        Tiers to assign (default the key and key-development accounts).
    segments, clv : DataFrame, optional
        ``segments`` (segment) and ``clv`` (clv) tables, joined when given.

    Returns
    -------
    DataFrame
        account_id, name, tier, score, account_manager, revenue_12m, margin_12m and, when
        available, segment and clv; sorted by tier then score (best first).
    """
    for name, table, source in (("account_features", features, "00_intake"),
                                ("selection_scores", scores, "10_selection")):
        if table is None:
            raise InputError(name, "is not in this run; the resource plan needs it to know "
                             "which accounts are key.", f"run step {source} first (kam run "
                             "runs every step).")
    missing = [c for c in ("account_id", "tier") if c not in scores.columns]
    if missing:
        raise InputError("selection_scores", f"columns {missing} are missing.",
                         "rerun step 10_selection, which writes them.", column=missing[0])
    unknown = sorted(set(tiers) - set(scores["tier"].astype(str)) - set(TIER_ORDER))
    if unknown:
        raise ParameterError(
            f"tiers {unknown} are not selection tiers; use some of {list(TIER_ORDER)}."
        )
    keep = [c for c in ("account_id", "tier", "score") if c in scores.columns]
    sel = scores.loc[in_tiers(scores, tiers).to_numpy(), keep]
    fcols = [c for c in ("account_id", "name", "account_manager", "revenue_12m", "margin_12m")
             if c in features.columns]
    out = sel.merge(features[fcols], on="account_id", how="left")
    if segments is not None and "segment" in segments.columns:
        out = out.merge(segments[["account_id", "segment"]], on="account_id", how="left")
    if clv is not None and "clv" in clv.columns:
        out = out.merge(clv[["account_id", "clv"]], on="account_id", how="left")
    order = {t: i for i, t in enumerate(TIER_ORDER)}
    out["_t"] = out["tier"].map(order)
    sort = ["_t", "score"] if "score" in out.columns else ["_t"]
    out = out.sort_values(sort, ascending=[True, False][: len(sort)], kind="stable")
    return out.drop(columns="_t").reset_index(drop=True)


def effort_by_segment(assignment: pd.DataFrame, value: str = "revenue_12m",
                      by: str = "segment") -> pd.DataFrame:
    """Effort (hours) against value, by segment: does our time follow the money?

    Parameters
    ----------
    assignment : DataFrame
        :attr:`ResourcePlanner.assignment_` (needs ``hours``, ``by`` and ``value``).
    value : str
        The value column (``revenue_12m``, ``margin_12m`` or ``clv``).
    by : str
        The grouping column (``segment`` or ``tier``). When the segments are not in the run,
        ``segment`` falls back to ``tier`` (the first column of the result says which).

    Returns
    -------
    DataFrame
        One row per group: n_accounts, hours, value, hours_share, value_share and
        ``effort_ratio`` = hours_share / value_share (above 1: more time than value).
    """
    if by == "segment" and ("segment" not in assignment.columns
                            or assignment["segment"].isna().all()):
        by = "tier"
    for col in ("hours", by, value):
        if col not in assignment.columns:
            raise InputError("resource plan", f"column '{col}' is missing.",
                             f"join the '{col}' column before comparing effort with value.",
                             column=col)
    g = assignment.assign(**{by: assignment[by].astype("object").fillna("(none)")}).groupby(
        by, sort=False)
    out = pd.DataFrame({"n_accounts": g.size(), "hours": g["hours"].sum(),
                        "value": g[value].sum(min_count=1).fillna(0.0)})
    out["hours_share"] = out["hours"] / out["hours"].sum() if out["hours"].sum() else 0.0
    total = out["value"].clip(lower=0).sum()
    out["value_share"] = out["value"].clip(lower=0) / total if total else 0.0
    out["effort_ratio"] = np.where(out["value_share"] > 0,
                                   out["hours_share"] / out["value_share"].where(
                                       out["value_share"] > 0, 1.0), np.nan)
    order = [*SEGMENTS, *TIER_ORDER]
    out = out.reset_index()
    out["_o"] = out[by].map({k: i for i, k in enumerate(order)}).fillna(len(order))
    return out.sort_values(["_o", by]).drop(columns="_o").reset_index(drop=True)
