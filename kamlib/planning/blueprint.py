"""Assemble a plan blueprint for every key account from the run's tables.

:class:`Blueprint` is a small estimator: its parameters are the planning rules, ``fit`` drafts
the plans from the tables earlier steps wrote, and the fitted attributes (trailing underscore)
are the plan tables. :meth:`Blueprint.account` gives one account's slice of every table, which
the printable page (:mod:`kamlib.report.account_page`) renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kamlib.planning import actions as _act
from kamlib.planning import health as _health
from kamlib.planning import objectives as _obj
from kamlib.planning import profile as _prof
from kamlib.planning import relationship as _rel
from kamlib.planning import whitespace as _ws
from kamlib.planning._common import pct_change, plain, plan_start, records, require_columns


@dataclass
class AccountPlan:
    """Everything one account's plan page shows (slices of the fitted tables)."""

    account_id: str
    profile: dict
    relationship: dict
    contacts: pd.DataFrame
    red_flags: pd.DataFrame
    trend: pd.DataFrame
    whitespace: pd.DataFrame
    objectives: pd.DataFrame
    actions: pd.DataFrame
    cadence: pd.DataFrame
    health: dict
    start: pd.Timestamp
    five_p: tuple[str, ...]
    missing: list[str] = field(default_factory=list)
    cover_strength: int = 2
    """Relationship strength (0-5) from which a contact covers a DMU role (for the page's legend)."""

    @property
    def name(self) -> str:
        return str(self.profile.get("name") or self.account_id)

    def five_p_table(self) -> pd.DataFrame:
        """The 5P view of the account's contacts, columns named by the configured dimensions."""
        cols = ["contact_name", "fivep_position", "fivep_power", "fivep_priorities", "fivep_perception",
                "fivep_proximity"]
        return self.contacts[cols].set_axis(["contact", *self.five_p], axis=1).reset_index(drop=True)


class Blueprint:
    """Draft a living account plan for every key account.

    Parameters
    ----------
    top_n : int
        Accounts planned when no selection output exists (top by 12-month revenue).
    plan_start : str
        First day of the plan (YYYY-MM-DD); "" = the data's ``as_of`` date.
    rules : RelationshipRules
        Relationship thresholds (stale days, champion/hostile attitude, 5P names, ...).
    segment_growth, margin_uplift : dict
        Per-segment yearly growth target and margin-rate change (percentage points).
    default_growth, momentum_weight, retention_p_alive, max_wallet_share : float
        See :func:`kamlib.planning.objectives.annual_targets`.
    min_adoption, little_share : float
        Whitespace thresholds (:func:`kamlib.planning.whitespace.whitespace`).
    max_actions : int
        Most actions per account in the 90-day plan.
    tier_days, role_factor : dict
        Contact cadence by tier and DMU role (:func:`kamlib.planning.actions.cadence`).
    health_weights : dict
        Health component weights; ``health_bands`` the red/amber and amber/green limits;
        ``margin_peers`` whether the margin component ranks among the plans or all accounts.
    horizon_days : int
        Length of the action plan and cadence (90).
    """

    def __init__(
        self,
        top_n: int = 25,
        plan_start: str = "",
        rules: _rel.RelationshipRules | None = None,
        segment_growth: dict[str, float] | None = None,
        margin_uplift: dict[str, float] | None = None,
        default_growth: float = 0.05,
        momentum_weight: float = 0.3,
        retention_p_alive: float = 0.6,
        max_wallet_share: float = 0.8,
        min_adoption: float = 0.3,
        little_share: float = 0.25,
        max_actions: int = 12,
        tier_days: dict[str, int] | None = None,
        role_factor: dict[str, float] | None = None,
        health_weights: dict[str, float] | None = None,
        health_bands: tuple[float, float] = _health.HEALTH_BANDS,
        margin_peers: str = "plans",
        horizon_days: int = 90,
    ) -> None:
        self.top_n = top_n
        self.plan_start = plan_start
        self.rules = rules if rules is not None else _rel.RelationshipRules()
        self.segment_growth = segment_growth
        self.margin_uplift = margin_uplift
        self.default_growth = default_growth
        self.momentum_weight = momentum_weight
        self.retention_p_alive = retention_p_alive
        self.max_wallet_share = max_wallet_share
        self.min_adoption = min_adoption
        self.little_share = little_share
        self.max_actions = max_actions
        self.tier_days = tier_days
        self.role_factor = role_factor
        self.health_weights = health_weights
        self.health_bands = tuple(health_bands)
        self.margin_peers = margin_peers
        self.horizon_days = horizon_days

    def fit(
        self,
        features: pd.DataFrame,
        category_year: pd.DataFrame,
        contacts: pd.DataFrame | None = None,
        key_accounts: pd.DataFrame | None = None,
        selection_scores: pd.DataFrame | None = None,
        segments: pd.DataFrame | None = None,
        clv: pd.DataFrame | None = None,
        accounts: pd.DataFrame | None = None,
    ) -> "Blueprint":
        """Draft the plans.

        Parameters
        ----------
        features, category_year : DataFrame
            ``account_features`` and ``account_category_year`` (required).
        contacts, key_accounts, selection_scores, segments, clv, accounts : DataFrame or None
            Optional tables; each one missing is named in ``notes_`` and in the ``missing``
            column of the plans it affects.

        Returns
        -------
        self
        """
        features, category_year, contacts, key_accounts, selection_scores, segments, clv, accounts = (
            plain(t) for t in (features, category_year, contacts, key_accounts, selection_scores, segments,
                               clv, accounts))
        require_columns(features, "account_features", ["account_id", "name", "revenue_12m", "as_of"])
        require_columns(category_year, "account_category_year", ["account_id", "year", "category", "revenue", "margin"])
        features = features.assign(account_id=features["account_id"].astype(str))
        self.start_ = plan_start(features, self.plan_start)
        keys, self.key_source_ = _prof.key_account_list(features, key_accounts, selection_scores, self.top_n)
        ids = keys["account_id"].tolist()
        self.notes_ = [self.key_source_]
        for nm, t in (("contacts", contacts), ("segments", segments), ("clv", clv)):
            if t is None or len(t) == 0:
                self.notes_.append(f"No '{nm}' table: the plans say what it would add and ask for it.")
        prof = _prof.account_profiles(features, category_year, keys, segments, clv, accounts, contacts,
                                      self.key_source_)
        ids = prof["account_id"].tolist()
        kf = features[features["account_id"].isin(set(ids))]
        self.contacts_ = _rel.contact_view(contacts, self.start_, self.rules, ids)
        self.relationship_ = _rel.relationship_summary(self.contacts_, kf, self.rules)
        self.red_flags_ = _rel.red_flags(self.contacts_, self.relationship_, kf, self.rules)
        self.trend_ = _prof.category_trend(category_year, ids)
        self.whitespace_ = _ws.whitespace(features, category_year, ids, self.min_adoption, self.little_share)
        pot = self.whitespace_.groupby("account_id")["potential"].sum() if len(self.whitespace_) else None
        self.targets_ = _obj.annual_targets(
            prof, self.segment_growth, self.margin_uplift, self.default_growth, self.momentum_weight,
            self.retention_p_alive, self.max_wallet_share, whitespace_potential=pot)
        self.objectives_ = _obj.objectives(self.targets_, prof, self.relationship_, self.whitespace_, self.start_)
        self.actions_ = _act.actions(prof, self.contacts_, self.relationship_, self.red_flags_, self.whitespace_,
                                     self.trend_, self.objectives_, self.start_, self.max_actions)
        self.cadence_ = _act.cadence(self.contacts_, prof, self.start_, self.tier_days, self.role_factor,
                                     self.horizon_days)
        self.health_ = _health.health(prof, features, self.relationship_, self.actions_, self.start_,
                                      self.health_weights, self.health_bands,
                                      contacts_known=contacts is not None and len(contacts) > 0,
                                      margin_peers=self.margin_peers)
        rel = self.relationship_.drop(columns=["wallet_share"])
        hl = self.health_[["account_id", "score", "band"]].rename(columns={"score": "health", "band": "health_band"})
        tg = self.targets_[["account_id", "kind", "revenue_target", "margin_target"]].rename(columns={"kind": "objective_kind"})
        self.profile_ = prof.merge(rel, on="account_id", how="left").merge(hl, on="account_id", how="left").merge(
            tg, on="account_id", how="left")
        # One groupby per table now, so that pages for hundreds of accounts don't each scan
        # every table.
        self._slices = {
            name: {k: g for k, g in df.groupby("account_id", sort=False)} if len(df) else {}
            for name, df in (("contacts", self.contacts_), ("red_flags", self.red_flags_),
                             ("trend", self.trend_), ("whitespace", self.whitespace_),
                             ("objectives", self.objectives_), ("actions", self.actions_),
                             ("cadence", self.cadence_))
        }
        self._rows = {name: {r["account_id"]: r for r in records(df)}
                      for name, df in (("profile", self.profile_), ("relationship", self.relationship_),
                                       ("health", self.health_))}
        return self

    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan tables to save, by table name (see ``docs/planning.md`` for columns)."""
        return {
            "plan_profile": self.profile_,
            "plan_relationship": self.contacts_,
            "plan_red_flags": self.red_flags_,
            "plan_whitespace": self.whitespace_,
            "plan_objectives": self.objectives_,
            "plan_actions": self.actions_,
            "plan_cadence": self.cadence_,
            "plan_health": self.health_,
        }

    def account(self, account_id: str) -> AccountPlan:
        """One account's plan (slices of every fitted table)."""
        aid = str(account_id)
        p = self._rows["profile"].get(aid)
        if p is None:
            from kamlib.errors import ParameterError

            raise ParameterError(f"account {aid!r} has no plan: it is not among the key accounts.")

        def sl(name: str) -> pd.DataFrame:
            got = self._slices[name].get(aid)
            return got if got is not None else getattr(self, f"{name}_").iloc[0:0]

        missing = [m for m in str(p.get("missing") or "").split(";") if m]
        return AccountPlan(
            account_id=aid, profile=p,
            relationship=self._rows["relationship"][aid],
            contacts=sl("contacts"), red_flags=sl("red_flags"), trend=sl("trend"),
            whitespace=sl("whitespace"), objectives=sl("objectives"), actions=sl("actions"),
            cadence=sl("cadence"), health=self._rows["health"][aid],
            start=self.start_, five_p=tuple(self.rules.five_p), missing=missing,
            cover_strength=int(self.rules.cover_strength),
        )

    def overview(self) -> pd.DataFrame:
        """One line per plan for a first look: segment, revenue, stage, shape, flags, health."""
        p = self.profile_
        n_flags = self.red_flags_.groupby("account_id").size() if len(self.red_flags_) else pd.Series(dtype=int)
        n_high = (self.red_flags_[self.red_flags_["severity"] == "high"].groupby("account_id").size()
                  if len(self.red_flags_) else pd.Series(dtype=int))
        n_act = self.actions_.groupby("account_id").size() if len(self.actions_) else pd.Series(dtype=int)
        ws = self.whitespace_.groupby("account_id")["potential"].sum() if len(self.whitespace_) else pd.Series(dtype=float)
        out = pd.DataFrame({
            "account": p["name"].astype(str).values,
            "segment": p["segment"].values,
            "revenue_12m": p["revenue_12m"].round(0).values,
            # the plain change the summary and the plan pages show, not the symmetric growth
            "change_12m": [round(pct_change(a, b), 2) for a, b in zip(p["revenue_12m"], p["revenue_prev_12m"])],
            "target": p["revenue_target"].round(0).values,
            "stage": p["stage"].values,
            "shape": p["shape"].values,
            "roles_covered": (p["coverage"] * 6).round().astype(int).values,
            "red_flags": p["account_id"].map(n_flags).fillna(0).astype(int).values,
            "high_flags": p["account_id"].map(n_high).fillna(0).astype(int).values,
            "whitespace": p["account_id"].map(ws).fillna(0).round(0).values,
            "actions": p["account_id"].map(n_act).fillna(0).astype(int).values,
            "health": p["health"].values,
            "band": p["health_band"].values,
        }, index=pd.Index(p["account_id"].values, name="account_id"))
        return out

    def examples(self, n: int = 2) -> list[str]:
        """Accounts worth showing in class: the top-ranked one, then the least healthy ones."""
        ids = list(self.profile_["account_id"])
        if not ids or n <= 0:
            return []
        worst = self.health_.sort_values(["score", "account_id"], na_position="last")["account_id"].tolist()
        out = [ids[0]] + [a for a in worst if a != ids[0]]
        return out[:n]

    def stage_goals(self, account_id: str) -> pd.DataFrame:
        """An account's objectives as a table: one row per objective, one column per milestone."""
        o = self.account(account_id).objectives
        t = o.pivot_table(index=["objective_id", "description"], columns="milestone", values="target",
                          aggfunc="first", sort=False)
        order = [m for m, _ in _obj.MILESTONES if m in t.columns]
        return t[order].round(0)

    def ics(self, account_id: str | None = None, cadence_only: bool = False) -> str:
        """iCalendar text: one account's actions and meetings, or every account's cadence."""
        names = dict(zip(self.profile_["account_id"], self.profile_["name"].astype(str)))
        if account_id is None:
            return _act.to_ics(None if cadence_only else self.actions_, self.cadence_, self.start_,
                               "Key account contact cadence" if cadence_only else "Key account plans",
                               self.horizon_days, names)
        aid = str(account_id)
        plan = self.account(aid)
        a, c = plan.actions, plan.cadence
        return _act.to_ics(a, c, self.start_, f"Account plan - {names.get(aid, aid)}", self.horizon_days, names)


REQUIRED_INPUTS: tuple[str, ...] = ("account_features", "account_category_year")
OPTIONAL_INPUTS: tuple[str, ...] = ("contacts", "key_accounts", "selection_scores", "segments", "clv", "accounts")


def load_inputs(step) -> tuple[dict[str, pd.DataFrame | None], list[str]]:
    """Read the tables the plans are drafted from, through a :class:`~kamlib.step.Step`.

    Required tables are loaded (running earlier steps if needed). An optional table that no
    step can provide (its notebook is missing or did not write it) becomes None and is
    named in the returned notes instead of stopping the run.

    Returns
    -------
    tables : dict
        Keyword arguments for :meth:`Blueprint.fit` (``features``, ``category_year``,
        ``contacts``, ``key_accounts``, ...).
    notes : list of str
        One sentence per optional table that was not available.
    """
    from kamlib.errors import KamError

    tables: dict[str, pd.DataFrame | None] = {
        "features": step.load("account_features"),
        "category_year": step.load("account_category_year"),
    }
    notes = []
    for name in OPTIONAL_INPUTS:
        try:
            tables[name] = step.load(name)
        except KamError:
            tables[name] = None
            notes.append(f"Table '{name}' is not available in this run: the plans go without it.")
    return tables, notes
