"""The portfolio review's entry point: :func:`run`, called once by
``notebooks/50_portfolio_review.ipynb``.

Its keyword-only arguments are exactly the notebook's parameters, so the notebook passes them
once (``review.run(<tables>, **step.params)``); the tables come first, as DataFrames (the
optional ones default to None), and the last plan arrives already read (``last_plan``, from
:meth:`kamlib.runner.Step.load_baseline`). The result gives every table the step saves
(:meth:`PortfolioReview.tables`) and what the notebook and the executive summary show.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kamlib.capacity import CapacityRules, ResourcePlanner, fit_beside_books
from kamlib.errors import ParameterError
from kamlib.review.audit import PlanReview, review_overview, review_plan, review_tables
from kamlib.key_accounts import key_account_ids
from kamlib.review import history as _history
from kamlib.review.evidence import evidence_from
from kamlib.review.plan import Baseline, data_date
from kamlib.review.resources import (accounts_to_assign, book_hours, effort_by_segment,
                                     explain_serving_moves, tiers_after_moves)
from kamlib.review.summary import SummaryFacts, summary_facts

TABLES: dict[str, str] = {
    "resource_plan": "Key account -> account manager, hours, change of owner and why",
    "manager_workload": "Accounts and hours per account manager against capacity",
    "plan_review": "Every stage goal of the last plan: actual vs target, met/missed/on track/behind",
    "objective_review": "One row per objective of the last plan: latest outcome",
    "action_review": "Actions of the last plan: done, dropped, overdue, past checkpoint",
    "segment_changes": "Accounts that moved between segments since the baseline",
    "portfolio_history": "One row per run: key accounts, Stars/Laggards revenue share, health, plan completion",
    "early_warnings": "Accounts that lost P(alive) or health since the last run",
}
"""The tables the portfolio review saves, in the order :meth:`PortfolioReview.tables` gives them,
and what each holds."""

INPUTS: dict[str, str] = {
    "account_features": "00_intake", "purchase_occasions": "00_intake",
    "account_category_year": "00_intake", "selection_scores": "10_selection",
    "key_accounts": "10_selection", "capacity_rules": "10_selection", "clv": "20_clv",
    "segments": "30_segmentation",
    "plan_health": "40_account_plans", "plan_red_flags": "40_account_plans",
    "plan_profile": "40_account_plans",
}
"""The tables the portfolio review reads, and the step that writes each."""


@dataclass
class PortfolioReview:
    """What the portfolio review found: the resource plan, the review of the last plan, and
    the tables they were made from.

    Attributes
    ----------
    inputs : dict of str to DataFrame or None
        The tables :func:`run` was given, by table name (see :data:`INPUTS`).
    planner : ResourcePlanner
        The fitted resource plan (``assignment_``, ``workload_``, ``n_changes_``, ``status_``).
    audit : PlanReview or None
        The review of the last plan; None without a baseline.
    value_measure : str
        The value that effort is compared with: the resource plan's column for the value the
        segments were cut on (step 30's ``value_measure``: ``revenue_12m``, ``margin_12m`` or
        ``clv``).
    serving_models : DataFrame or None
        Step 30's serving-model economics, for the summary.
    """

    inputs: dict[str, pd.DataFrame | None]
    planner: ResourcePlanner
    audit: PlanReview | None
    value_measure: str = "revenue_12m"
    serving_models: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the portfolio review saves, by name (see :data:`TABLES`); the review's
        tables are empty, with their columns, when there is no baseline."""
        return {"resource_plan": self.planner.assignment_,
                "manager_workload": self.planner.workload_, **review_tables(self.audit),
                "portfolio_history": self.history, "early_warnings": self.warnings}

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name (the descriptions the run folder lists)."""
        return dict(TABLES)

    # -- what the notebook shows -------------------------------------------------------------
    def input_status(self) -> pd.DataFrame:
        """One row per table read: ``table``, ``rows``, ``from_step`` and ``note`` (what is
        missing and what it costs the review)."""
        rows = [(name, 0 if df is None else len(df), INPUTS[name],
                 "ok" if df is not None else f"missing: run step {INPUTS[name]}; the sections "
                 "that need it say so") for name, df in self.inputs.items()]
        return pd.DataFrame(rows, columns=["table", "rows", "from_step", "note"])

    @property
    def as_of(self) -> pd.Timestamp | None:
        """The data date of this run (the plan date of the next review)."""
        return data_date(self.inputs["account_features"])

    @property
    def assignment(self) -> pd.DataFrame:
        """Key account -> account manager, hours, change of owner and why."""
        return self.planner.assignment_

    @property
    def workload(self) -> pd.DataFrame:
        """Accounts and hours per account manager against capacity."""
        return self.planner.workload_

    def resource_line(self) -> str:
        """The resource plan in one line: accounts, managers, changes, the solver's status."""
        p = self.planner
        line = (f"{len(p.assignment_)} accounts, {len(p.workload_)} managers, "
                f"{p.n_changes_} change(s) of owner; solver: {p.status_}")
        moved = self.serving_moved()
        if moved:
            line += (f"; {moved} account(s) follow a proposed serving-model move (30_segmentation), "
                     "with the new model's hours")
        differ = self.owners_differ()
        if differ and moved:
            line += (f". {differ} account(s) get another owner here than the account plans "
                     "name (settled in 10_selection, before the serving-model moves were "
                     "proposed); set follow_serving_moves to false to plan without the moves")
        elif differ:
            line += (f". {differ} account(s) get another owner here than the account plans "
                     "name: the owners in selection_scores were settled with other capacity "
                     "rules than the capacity_rules table read here (tables of two runs?), or "
                     "the solver's time limit cut a search short; rerun 10_selection")
        if p.books_note_:
            line += ". " + p.books_note_
        return line

    def serving_moved(self) -> int:
        """How many accounts of the resource plan follow a proposed serving-model move."""
        a = self.planner.assignment_
        if "serving_move" not in a.columns:
            return 0
        return int(a["serving_move"].fillna("").astype(str).ne("").sum())

    def owners_differ(self) -> int:
        """How many accounts the resource plan gives another owner than the selection settled
        (0 unless the serving-model moves are followed: both plan with the selection's
        ``capacity_rules``)."""
        scores = self.inputs.get("selection_scores")
        if scores is None or "owner" not in scores.columns:
            return 0
        settled = scores.assign(account_id=scores["account_id"].astype(str)).set_index(
            "account_id")["owner"]
        a = self.planner.assignment_
        return int((a["account_id"].astype(str).map(settled) != a["manager"]).sum())

    def owner_changes(self) -> pd.DataFrame:
        """The accounts whose owner is not simply kept, and why."""
        return self.assignment[self.assignment["reason"] != "kept"]

    def effort(self) -> pd.DataFrame:
        """Effort against value by segment (:func:`~kamlib.review.resources.effort_by_segment`)."""
        return effort_by_segment(self.assignment, value=self.value_measure)

    @property
    def value_label(self) -> str:
        """The value measure as the effort figure names it (``revenue_12m`` -> ``revenue``)."""
        return self.value_measure.replace("_12m", "")

    def review_overview(self, hint: str) -> tuple[str, pd.DataFrame]:
        """Where the reviewed plan came from and its findings; without a baseline, ``hint``
        (how to get one) and what the review will contain."""
        return review_overview(self.audit, hint)

    def summary(self, currency: str = "") -> SummaryFacts:
        """What the executive summary states (:func:`kamlib.review.summary.summary_facts`)."""
        t = self.inputs
        return summary_facts(t["account_features"], t["selection_scores"], t["key_accounts"],
                             t["segments"], t["clv"], t["plan_health"], t["plan_red_flags"],
                             self.assignment, self.workload, self.audit, currency=currency,
                             serving_models=self.serving_models)


def run(account_features: pd.DataFrame, selection_scores: pd.DataFrame,
        key_accounts: pd.DataFrame | None = None, clv: pd.DataFrame | None = None,
        segments: pd.DataFrame | None = None, purchase_occasions: pd.DataFrame | None = None,
        account_category_year: pd.DataFrame | None = None,
        plan_health: pd.DataFrame | None = None, plan_red_flags: pd.DataFrame | None = None,
        plan_profile: pd.DataFrame | None = None, last_plan: Baseline | None = None,
        serving_models: pd.DataFrame | None = None,
        serving_moves: pd.DataFrame | None = None,
        capacity_rules: pd.DataFrame | None = None, *,
        baseline: str = "", follow_serving_moves: bool = False) -> PortfolioReview:
    """Plan who serves which key account, and review the last plan against the new data.

    Parameters
    ----------
    account_features, selection_scores : DataFrame
        Tables of steps 00 and 10: the accounts, and which of them are key.
    key_accounts, clv, segments : DataFrame, optional
        Tables of steps 10, 20 and 30.
    purchase_occasions, account_category_year : DataFrame, optional
        Tables of step 00 the review measures revenue, margin and whitespace with.
    plan_health, plan_red_flags, plan_profile : DataFrame, optional
        Tables of step 40 (the risks on the summary; DMU roles covered now).
    last_plan : Baseline, optional
        The plan to review, as read from the ``baseline`` run
        (:func:`kamlib.runner.baseline.load_baseline`); None: first plan, no review.
    serving_models : DataFrame, optional
        Step 30's serving-model economics, for the summary's account economics.
    serving_moves : DataFrame, optional
        Step 30's proposed serving-model moves, which the resource plan follows when
        ``follow_serving_moves`` is on.
    capacity_rules : DataFrame, optional
        Step 10's ``capacity_rules`` (:class:`kamlib.capacity.CapacityRules`): the managers,
        limits and hours by tier the selection settled the owners with, which the resource
        plan uses too (the parameters are declared once, in ``10_selection``). None: the
        defaults.
    baseline : str
        Where ``last_plan`` was read from (a previous run folder or its edited
        ``plan_workbook.xlsx``). Not read here: a ``baseline`` without ``last_plan`` is an error.
    follow_serving_moves : bool
        The resource plan follows the proposed serving-model moves: a moved account takes
        the hours of its new model's tier (an account moved to inside sales frees its
        manager's time, one moved up to an account manager takes more), in the plan and in
        the managers' books, and its line in the plan says so. False: every account keeps
        its selection tier's hours.

    Returns
    -------
    PortfolioReview

    Raises
    ------
    CapacityError
        The managers cannot hold the accounts (a :class:`~kamlib.errors.ParameterError`).
    InputError
        A table the resource plan or the review needs lacks a column.
    """
    if str(baseline).strip() and last_plan is None:
        raise ParameterError(
            f"baseline {baseline!r} was given but its plan was not read. Fix: pass "
            "last_plan=step.load_baseline() (kamlib.runner.baseline.load_baseline) with it.")
    inputs = {"account_features": account_features, "purchase_occasions": purchase_occasions,
              "account_category_year": account_category_year,
              "selection_scores": selection_scores, "key_accounts": key_accounts, "clv": clv,
              "segments": segments, "plan_health": plan_health,
              "plan_red_flags": plan_red_flags, "plan_profile": plan_profile,
              "capacity_rules": capacity_rules}
    rules = (CapacityRules() if capacity_rules is None
             else CapacityRules.from_table(capacity_rules))
    moves = serving_moves if follow_serving_moves else None
    to_assign = accounts_to_assign(account_features, selection_scores, tiers=rules.tiers,
                                   segments=segments, clv=clv, moves=moves)
    # the capacity model counts every manager's other accounts (kamlib.capacity), with the
    # tier each has after the proposed serving-model moves
    book = book_hours(account_features, tiers_after_moves(selection_scores, moves),
                      to_assign["account_id"], rules.hours_by_tier)
    planner = fit_beside_books(rules.planner(), to_assign, list(rules.managers) or None, book)
    planner.assignment_ = explain_serving_moves(planner.assignment_)
    audit = (None if last_plan is None
             else review_plan(last_plan, evidence_from(inputs), segments))
    history, warnings = _portfolio_history(inputs, last_plan, audit)
    return PortfolioReview(inputs=inputs, planner=planner, audit=audit,
                           value_measure=_value_column(segments), serving_models=serving_models,
                           history=history, warnings=warnings)


def _value_column(segments: pd.DataFrame | None) -> str:
    """The resource plan's column for the value the segments were cut on (step 30 declares
    ``value_measure``; its table carries it), so effort is compared with the same value."""
    measure = "revenue"
    if segments is not None and len(segments) and "value_measure" in segments.columns:
        measure = str(segments["value_measure"].iloc[0])
    return {"revenue": "revenue_12m", "margin": "margin_12m"}.get(measure, measure)


def _portfolio_history(inputs: dict[str, pd.DataFrame | None], last_plan: Baseline | None,
                       audit: PlanReview | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The portfolio history with this run's row, and the early-warning list
    (:mod:`kamlib.review.history`)."""
    before = last_plan.tables if last_plan is not None else {}
    feats = inputs["account_features"]
    names = (feats.assign(account_id=feats["account_id"].astype(str)).drop_duplicates("account_id")
             .set_index("account_id")["name"] if "name" in feats.columns else None)
    warnings = _history.early_warnings(before.get("clv"), inputs["clv"], before.get("plan_health"),
                                       inputs["plan_health"], names)
    keys = key_account_ids(inputs["key_accounts"], inputs["selection_scores"])
    as_of = data_date(feats)
    row = _history.history_row(as_of, len(keys), inputs["segments"], inputs["plan_health"],
                               audit.actions if audit is not None else None, warnings)
    previous = before.get("portfolio_history")
    if previous is None and last_plan is not None and last_plan.as_of is not None:
        # a baseline from before the history was kept: its row from its own tables
        profile = before.get("plan_profile")
        previous = _history.portfolio_history(None, _history.history_row(
            last_plan.as_of, 0 if profile is None else len(profile), last_plan.segments,
            before.get("plan_health"), None, warnings.iloc[0:0]))
    return _history.portfolio_history(previous, row), warnings
