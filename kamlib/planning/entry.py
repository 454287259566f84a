"""The account-plans step's entry point: :func:`run`, called once by ``notebooks/40_account_plans.ipynb``.

Its keyword arguments are exactly the notebook's parameters, so the notebook passes them once
(``planning.run(features, category_year, ..., **step.params)``); its result holds every plan
table (:meth:`PlanningResult.tables`) and gives one account's plan for its printable page
(:meth:`PlanningResult.account`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from kamlib.errors import ParameterError
from kamlib.formatting import date as fmt_date
from kamlib.planning import _common
from kamlib.planning import actions as _act
from kamlib.planning import health as _health
from kamlib.planning import objectives as _obj
from kamlib.planning import profile as _prof
from kamlib.planning import governance as _gov
from kamlib.planning import relationship as _rel
from kamlib.planning import rollforward as _roll
from kamlib.planning import targets as _tg
from kamlib.planning import whitespace as _ws
from kamlib.planning.account_plan import AccountPlan
from kamlib.vocabulary import DMU_ROLES, FIVE_P, GOVERNANCE_MEETINGS
from kamlib import step_inputs

TABLES: dict[str, str] = {
    "plan_profile": "One row per key account: profile, relationship stage, health, targets",
    "plan_relationship": "One row per contact of a key account: the 5P view",
    "plan_red_flags": "Relationship and revenue red flags per key account",
    "plan_whitespace": "Categories look-alikes buy that the account does not (potential per year)",
    "plan_objectives": "Objectives with stage goals (day 30/60/90, quarters): edit and feed back",
    "plan_actions": "The 90-day action plan: edit status and feed back as the next baseline",
    "plan_cadence": "How often to meet each contact, by tier and DMU role",
    "plan_health": "Health score 0-100 with components and band",
    "plan_target_bridge": "The bridge from this year's revenue to the target: one bar per piece of evidence",
    "plan_pipeline": "The key accounts' opportunities: status, weighted value, in the plan year or not",
    "plan_team": "Our people on each key account's team, with the gaps (executive sponsor to assign)",
    "plan_governance": "Top-to-top meetings, quarterly business reviews and operational reviews in the plan year",
    "plan_closed_actions": "Actions closed (done, dropped) in earlier plans: never proposed again",
    "plan_changes": "What changed since the last plan, per key account",
}
"""The tables the account-plans step saves, in the order :meth:`PlanningResult.tables` gives them,
and what each holds."""

INPUTS: dict[str, str] = {
    "account_features": "who the accounts are and what they bought (required)",
    "account_category_year": "purchases by category: trend and whitespace (required)",
    "contacts": "the relationship X-ray, red flags, contact cadence",
    "key_accounts": "which accounts get a plan",
    "selection_scores": "which accounts get a plan (when there is no key_accounts list), tiers",
    "segments": "segment and strategy: the revenue and margin targets",
    "clv": "lifetime value, investment ceiling, retention objectives",
    "accounts": "industry, sites and group of each account",
    "opportunities": "the weighted pipeline in the revenue targets, the pipeline section",
    "competitors": "who else supplies the account (the competitors section)",
    "account_strategy": "the customer's aims and culture, our value proposition, the SWOT",
    "account_team": "our account team and the governance meetings",
}
"""The tables :func:`run` reads, and what each is used for."""

_RULES = _rel.RelationshipRules  # its field defaults are the relationship parameters' defaults
_TARGETS = _tg.TargetRules()  # its field values are the target parameters' defaults


def _slices(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {k: g for k, g in df.groupby("account_id", sort=False)} if len(df) else {}


@dataclass
class PlanningResult:
    """The drafted plans of every key account.

    Attributes
    ----------
    profile : DataFrame
        ``plan_profile``: one row per key account (profile, relationship stage and shape,
        health, targets), in the order of the key-account list.
    contacts : DataFrame
        ``plan_relationship``: one row per contact of a key account, with the 5P view.
    relationship : DataFrame
        One row per account: DMU role coverage, links, shape and stage, with their reasons.
    red_flags, whitespace, objectives, actions, cadence, health : DataFrame
        ``plan_red_flags``, ``plan_whitespace``, ``plan_objectives``, ``plan_actions``,
        ``plan_cadence``, ``plan_health`` (see ``docs/planning.md``).
    trend, targets : DataFrame
        Purchases by category over three years, and the yearly targets with their reasons.
    start : Timestamp
        The plans' first day.
    key_source : str
        Where the key-account list came from, in one sentence.
    rules : RelationshipRules
        The relationship thresholds used.
    health_bands : (float, float)
        The red/amber and amber/green health limits used.
    show_accounts : int
        How many example plans :meth:`examples` gives.
    inputs : dict
        Rows of each table of :data:`INPUTS` that :func:`run` was given (None: not given).
    notes : list of str
        Where the key accounts came from and what each missing table changes.
    """

    profile: pd.DataFrame
    contacts: pd.DataFrame
    relationship: pd.DataFrame
    red_flags: pd.DataFrame
    trend: pd.DataFrame
    whitespace: pd.DataFrame
    targets: pd.DataFrame
    objectives: pd.DataFrame
    actions: pd.DataFrame
    cadence: pd.DataFrame
    health: pd.DataFrame
    start: pd.Timestamp
    key_source: str
    rules: _rel.RelationshipRules
    closed: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    health_bands: tuple[float, float] = _health.HEALTH_BANDS
    show_accounts: int = 2
    inputs: dict[str, int | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    bridge: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_tg.BRIDGE_COLUMNS))
    pipeline: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_tg.PIPELINE_COLUMNS))
    team: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_gov.TEAM_COLUMNS))
    governance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_gov.GOVERNANCE_COLUMNS))
    competitors: pd.DataFrame = field(default_factory=pd.DataFrame)
    strategy: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        # One groupby per table now, so that pages for hundreds of accounts don't each scan
        # every table.
        self._slices = {name: _slices(getattr(self, name)) for name in (
            "contacts", "red_flags", "trend", "whitespace", "objectives", "actions", "cadence",
            "bridge", "pipeline", "team", "governance", "competitors", "strategy", "changes")}
        self._rows = {name: {r["account_id"]: r for r in _common.records(getattr(self, name))}
                      for name in ("profile", "relationship", "health")}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the step saves, by name (see :data:`TABLES` and ``docs/planning.md``)."""
        return dict(zip(TABLES, (self.profile, self.contacts, self.red_flags, self.whitespace,
                                 self.objectives, self.actions, self.cadence, self.health,
                                 self.bridge, self.pipeline, self.team, self.governance,
                                 self.closed, self.changes)))

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name (the descriptions the run folder lists)."""
        return dict(TABLES)

    def availability(self) -> pd.DataFrame:
        """One row per input table: available?, rows, what it is used for."""
        return step_inputs.availability(self.inputs, INPUTS)

    def notes_markdown(self) -> str:
        """When the plans start, where the key accounts came from, what is missing: Markdown."""
        start = f"Plans start on {fmt_date(self.start)}; the first checkpoint is 30 days later."
        return "\n".join(f"- {n}" for n in (start, *self.notes))

    def account(self, account_id: str) -> AccountPlan:
        """One account's plan (slices of every plan table)."""
        aid = str(account_id)
        p = self._rows["profile"].get(aid)
        if p is None:
            raise ParameterError(f"account {aid!r} has no plan: it is not among the key accounts.")

        def sl(name: str) -> pd.DataFrame:
            got = self._slices[name].get(aid)
            return got if got is not None else getattr(self, name).iloc[0:0]

        missing = [m for m in str(p.get("missing") or "").split(";") if m]
        return AccountPlan(
            account_id=aid, profile=p,
            relationship=self._rows["relationship"][aid],
            contacts=sl("contacts"), red_flags=sl("red_flags"), trend=sl("trend"),
            whitespace=sl("whitespace"), objectives=sl("objectives"), actions=sl("actions"),
            cadence=sl("cadence"), health=self._rows["health"][aid],
            start=self.start, five_p=tuple(self.rules.five_p), missing=missing,
            cover_strength=int(self.rules.cover_strength),
            bridge=sl("bridge"), pipeline=sl("pipeline"), team=sl("team"),
            governance=sl("governance"), competitors=sl("competitors"), strategy=sl("strategy"),
            changes=sl("changes"),
        )

    def overview(self) -> pd.DataFrame:
        """One line per plan for a first look: segment, revenue, stage, shape, flags, health."""
        p = self.profile
        n_flags = self.red_flags.groupby("account_id").size() if len(self.red_flags) else pd.Series(dtype=int)
        n_high = (self.red_flags[self.red_flags["severity"] == "high"].groupby("account_id").size()
                  if len(self.red_flags) else pd.Series(dtype=int))
        n_act = self.actions.groupby("account_id").size() if len(self.actions) else pd.Series(dtype=int)
        ws = self.whitespace.groupby("account_id")["potential"].sum() if len(self.whitespace) else pd.Series(dtype=float)
        return pd.DataFrame({
            "account": p["name"].astype(str).values,
            "segment": p["segment"].values,
            "revenue_12m": p["revenue_12m"].values,
            # the plain change the summary and the plan pages show, not the symmetric growth
            "change_12m": [_common.pct_change(a, b)
                           for a, b in zip(p["revenue_12m"], p["revenue_prev_12m"])],
            "target": p["revenue_target"].values,
            "stage": p["stage"].values,
            "shape": p["shape"].values,
            "roles_covered": (p["coverage"] * len(DMU_ROLES)).round().astype(int).values,
            "red_flags": p["account_id"].map(n_flags).fillna(0).astype(int).values,
            "high_flags": p["account_id"].map(n_high).fillna(0).astype(int).values,
            "whitespace": p["account_id"].map(ws).fillna(0).values,
            "actions": p["account_id"].map(n_act).fillna(0).astype(int).values,
            "health": p["health"].values,
            "band": p["health_band"].values,
        }, index=pd.Index(p["account_id"].values, name="account_id"))

    def relationship_shapes(self) -> pd.DataFrame:
        """How many key accounts are at each relationship stage, with each shape."""
        return self.profile.groupby(["stage", "shape"]).size().rename("accounts").to_frame()

    def flag_counts(self) -> pd.DataFrame:
        """How many red flags of each kind and severity, the most frequent first."""
        return (self.red_flags.groupby(["flag", "severity"]).size().rename("accounts")
                .sort_values(ascending=False).to_frame())

    def examples(self, n: int | None = None) -> list[str]:
        """Accounts worth showing in class: the top-ranked one, then the least healthy ones
        (``show_accounts`` of them unless ``n`` says otherwise)."""
        n = self.show_accounts if n is None else n
        ids = list(self.profile["account_id"])
        if not ids or n <= 0:
            return []
        worst = self.health.sort_values(["score", "account_id"], na_position="last")["account_id"].tolist()
        return ([ids[0]] + [a for a in worst if a != ids[0]])[:n]

    def stage_goals(self, account_id: str) -> pd.DataFrame:
        """An account's objectives as a table: one row per objective, one column per milestone."""
        o = self.account(account_id).objectives
        t = o.pivot_table(index=["objective_id", "description"], columns="milestone", values="target",
                          aggfunc="first", sort=False)
        order = [m for m, _ in _obj.MILESTONES if m in t.columns]
        return t[order]

    def ics(self, account_id: str | None = None, cadence_only: bool = False) -> str:
        """iCalendar text: one account's actions and meetings, or every account's cadence."""
        names = dict(zip(self.profile["account_id"], self.profile["name"].astype(str)))
        if account_id is None:
            return _act.to_ics(None if cadence_only else self.actions, self.cadence, self.start,
                               "Key account contact cadence" if cadence_only else "Key account plans",
                               _act.HORIZON_DAYS, names, None if cadence_only else self.governance)
        aid = str(account_id)
        plan = self.account(aid)
        return _act.to_ics(plan.actions, plan.cadence, self.start, f"Account plan - {names.get(aid, aid)}",
                           _act.HORIZON_DAYS, names, plan.governance)


def _settled_owners(features: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    """The features with each account's owner as the capacity model settled it
    (``selection_scores.owner``, :mod:`kamlib.capacity`): the plan names the manager the
    resource plan will show, not the one before a move."""
    if scores is None or "owner" not in scores.columns or "account_manager" not in features:
        return features
    owner = scores.assign(account_id=scores["account_id"].astype(str)).set_index(
        "account_id")["owner"]
    settled = features["account_id"].map(owner)
    settled = settled.where(settled.notna() & settled.astype(str).str.strip().ne(""))
    return features.assign(account_manager=settled.fillna(features["account_manager"]))


def _group_links(profile: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    """The profiles with the selection's group (``group_id``, ``group_name``, ``group_note``)
    and ``group_plan``: the group head's id when it has a plan of its own and is not this
    account, so a member's plan page links to its group's plan."""
    cols = ["group_id", "group_name", "group_note"]
    if scores is None or not set(cols) <= set(scores.columns):
        return profile
    g = scores.assign(account_id=scores["account_id"].astype(str)).drop_duplicates(
        "account_id").set_index("account_id")[cols]
    out = profile.join(g, on="account_id")
    head = out["group_id"].astype("object")
    planned = head.isin(set(out["account_id"])) & head.ne(out["account_id"])
    out["group_plan"] = head.where(planned, "").fillna("").astype("str")
    return out


def _plan_profile(profile: pd.DataFrame, relationship: pd.DataFrame, health: pd.DataFrame,
                  targets: pd.DataFrame) -> pd.DataFrame:
    """``plan_profile``: the profiles with relationship, health and targets beside them."""
    rel = relationship.drop(columns=["wallet_share"])
    hl = health[["account_id", "score", "band"]].rename(columns={"score": "health", "band": "health_band"})
    tg = targets[["account_id", "kind", "revenue_target", "margin_target", "target_basis"]].rename(
        columns={"kind": "objective_kind"})
    return (profile.merge(rel, on="account_id", how="left").merge(hl, on="account_id", how="left")
            .merge(tg, on="account_id", how="left"))


def run(
    features: pd.DataFrame,
    category_year: pd.DataFrame,
    contacts: pd.DataFrame | None = None,
    key_accounts: pd.DataFrame | None = None,
    selection_scores: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    clv: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    opportunities: pd.DataFrame | None = None,
    competitors: pd.DataFrame | None = None,
    account_strategy: pd.DataFrame | None = None,
    account_team: pd.DataFrame | None = None,
    last_plan: object | None = None,
    *,
    baseline: str = "", retarget: bool = False, top_n: int = _prof.TOP_N,
    plan_start: str = "",
    stale_days: int = _RULES.stale_days,
    champion_attitude: int = _RULES.champion_attitude,
    hostile_attitude: int = _RULES.hostile_attitude,
    cover_strength: int = _RULES.cover_strength,
    five_p: Sequence[str] = FIVE_P,
    segment_growth: Mapping[str, float] = _obj.SEGMENT_GROWTH,
    margin_uplift: Mapping[str, float] = _obj.MARGIN_UPLIFT,
    momentum_weight: float = _obj.MOMENTUM_WEIGHT,
    retention_p_alive: float = _obj.RETENTION_P_ALIVE,
    whitespace_capture: float = _TARGETS.whitespace_capture,
    site_capture: float = _TARGETS.site_capture,
    wallet_reachable_share: float = _TARGETS.wallet_reachable_share,
    headroom_capture: float = _TARGETS.headroom_capture,
    default_probability: float = _TARGETS.default_probability,
    governance_days: Mapping[str, int] = GOVERNANCE_MEETINGS,
    min_adoption: float = _ws.MIN_ADOPTION, max_actions: int = _act.MAX_ACTIONS,
    min_stake_share: float = _act.MIN_STAKE_SHARE, min_stake: float = _act.MIN_STAKE,
    high_stake_share: float = _act.HIGH_STAKE_SHARE,
    cadence_tier_days: Mapping[str, int] = _act.CADENCE_TIER_DAYS,
    cadence_role_factor: Mapping[str, float] = _act.CADENCE_ROLE_FACTOR,
    health_weights: Mapping[str, float] = _health.HEALTH_WEIGHTS,
    health_bands: Sequence[float] = _health.HEALTH_BANDS,
    health_margin_peers: str = _health.MARGIN_PEERS,
    show_accounts: int = 2,
) -> PlanningResult:
    """Draft a living account plan for every key account.

    Parameters
    ----------
    features, category_year : DataFrame
        ``account_features`` and ``account_category_year`` (required).
    contacts, key_accounts, selection_scores, segments, clv, accounts : DataFrame or None
        Optional tables; each one missing is named in ``notes`` and in the ``missing``
        column of the plans it affects.
    opportunities, competitors, account_strategy, account_team : DataFrame or None
        The optional plan inputs (intake's run tables of the same names): the pipeline, the
        competitors, the customer's strategy with our value proposition and SWOT, and our
        account team. An account without rows gets a "to gather" prompt on its page.
    last_plan : Baseline, optional
        The last plan, as read from the ``baseline`` run
        (:meth:`kamlib.runner.Step.load_baseline`: ``.objectives``, ``.actions`` and the
        run's other ``.tables``); the new plan rolls it forward
        (:mod:`kamlib.planning.rollforward`). None: a first plan.
    baseline : str
        Where ``last_plan`` was read from. Not read here: a ``baseline`` without ``last_plan``
        is an error.
    retarget : bool
        With a baseline, set the objectives' targets afresh from this run's data instead of
        carrying the last plan's.
    top_n : int
        Accounts planned when there is no key-account list (top by 12-month revenue).
    plan_start : str
        First day of the plans: YYYY-MM-DD, ``as_of`` (the data's date), or "" -- the run
        date, or the data's ``as_of`` when it is at most 92 days old
        (:func:`kamlib.planning._common.plan_start`).
    stale_days, champion_attitude, hostile_attitude, cover_strength, five_p
        Relationship rules (:class:`kamlib.planning.relationship.RelationshipRules`).
    segment_growth, margin_uplift, momentum_weight, retention_p_alive
        The segment rule of the targets (:func:`kamlib.planning.objectives.annual_targets`),
        used where no evidence is known and for accounts to retain.
    whitespace_capture, site_capture, wallet_reachable_share, headroom_capture, default_probability
        The evidence bars of the target bridge (:mod:`kamlib.planning.targets`).
    governance_days : mapping
        Days between two top-to-top meetings, business reviews, operational reviews
        (:mod:`kamlib.planning.governance`).
    min_adoption : float
        Whitespace threshold (:func:`kamlib.planning.whitespace.whitespace`).
    max_actions : int
        Most actions per account in the 90-day plan.
    min_stake_share, min_stake, high_stake_share : float
        Materiality of actions about money (:func:`kamlib.planning.actions.actions`).
    cadence_tier_days, cadence_role_factor : mapping
        Contact cadence by tier and DMU role (:func:`kamlib.planning.actions.cadence`).
    health_weights, health_bands, health_margin_peers
        Health component weights, the red/amber and amber/green limits, and whether the
        margin ranks among the plans or all accounts (:func:`kamlib.planning.health.health`).
    show_accounts : int
        How many example plans :meth:`PlanningResult.examples` gives.

    Returns
    -------
    PlanningResult
    """
    given = dict(zip(INPUTS, (features, category_year, contacts, key_accounts, selection_scores,
                              segments, clv, accounts, opportunities, competitors, account_strategy,
                              account_team)))
    (features, category_year, contacts, key_accounts, selection_scores, segments, clv, accounts,
     opportunities, competitors, account_strategy, account_team) = (
        _common.plain(t) for t in given.values())
    rules_t = _tg.TargetRules(whitespace_capture=whitespace_capture, site_capture=site_capture,
                              wallet_reachable_share=wallet_reachable_share,
                              headroom_capture=headroom_capture,
                              default_probability=default_probability)
    _common.require_columns(features, "account_features", ["account_id", "name", "revenue_12m", "as_of"])
    _common.require_columns(category_year, "account_category_year",
                            ["account_id", "year", "category", "revenue", "margin"])
    features = features.assign(account_id=features["account_id"].astype(str))
    features = _settled_owners(features, selection_scores)
    start, as_of = _common.plan_start(features, plan_start), _common.data_date(features)
    rules = _rel.RelationshipRules(stale_days=stale_days, champion_attitude=champion_attitude,
                                   hostile_attitude=hostile_attitude, cover_strength=cover_strength,
                                   five_p=tuple(five_p))
    keys, key_source = _prof.key_account_list(features, key_accounts, selection_scores, top_n)
    notes = [key_source] + [f"No '{name}' table: the plans say what it would add and ask for it."
                            for name, t in (("contacts", contacts), ("segments", segments), ("clv", clv))
                            if t is None or len(t) == 0]
    prof = _prof.account_profiles(features, category_year, keys, segments, clv, accounts, contacts,
                                  key_source)
    ids = prof["account_id"].tolist()
    kf = features[features["account_id"].isin(set(ids))]
    view = _rel.contact_view(contacts, as_of, rules, ids)  # the relationship as the data saw it
    relationship = _rel.relationship_summary(view, kf, rules)
    red_flags = _rel.red_flags(view, relationship, kf, rules)
    trend = _prof.category_trend(category_year, ids)
    whitespace = _ws.whitespace(features, category_year, ids, min_adoption)
    potential = whitespace.groupby("account_id")["potential"].sum() if len(whitespace) else None
    targets = _obj.annual_targets(prof, segment_growth, margin_uplift, momentum_weight=momentum_weight,
                                  retention_p_alive=retention_p_alive, whitespace_potential=potential)
    pipe = _tg.pipeline(opportunities, ids, start, default_probability)
    bridge, targets = _tg.target_bridge(targets, prof, kf, whitespace, pipe, rules_t)
    objectives = _obj.objectives(targets, prof, relationship, whitespace, start)
    actions = _act.actions(prof, view, relationship, red_flags, whitespace, trend, objectives, start, 10**6,
                           min_stake_share=min_stake_share, min_stake=min_stake, high_stake_share=high_stake_share)
    objectives, rolled = _roll.roll_plan(objectives, actions, last_plan, start, ids, max_actions,
                                         retarget, notes, baseline)
    cadence = _act.cadence(view, prof, start, cadence_tier_days, cadence_role_factor)
    health = _health.health(prof, features, relationship, rolled.actions, as_of, health_weights,
                            tuple(health_bands), contacts_known=contacts is not None and len(contacts) > 0,
                            margin_peers=health_margin_peers)
    team = _gov.team(account_team, prof)
    return PlanningResult(
        profile=_group_links(_plan_profile(prof, relationship, health, targets), selection_scores),
        contacts=view, relationship=relationship, red_flags=red_flags, trend=trend,
        whitespace=whitespace, targets=targets, objectives=objectives, actions=rolled.actions,
        cadence=cadence, health=health, start=start, closed=rolled.closed,
        changes=_roll.changes(last_plan, prof, rolled.actions, objectives, red_flags, view, health, start),
        key_source=key_source, rules=rules, health_bands=tuple(health_bands), show_accounts=show_accounts,
        inputs=step_inputs.rows_given(given), notes=notes,
        bridge=bridge, pipeline=pipe, team=team,
        governance=_gov.governance(team, view, prof, start, governance_days),
        competitors=_for_keys(competitors, ids), strategy=_for_keys(account_strategy, ids))


def _for_keys(table: pd.DataFrame | None, ids: list[str]) -> pd.DataFrame:
    """The rows of an optional plan input that concern the key accounts (empty when none)."""
    if table is None or "account_id" not in table.columns:
        return pd.DataFrame(columns=["account_id"])
    t = table.assign(account_id=table["account_id"].astype(str))
    return t[t["account_id"].isin(set(ids))].reset_index(drop=True)
