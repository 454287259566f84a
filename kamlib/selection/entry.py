"""The selection step's entry point: :func:`run`, called once by ``notebooks/10_selection.ipynb``.

Its keyword arguments are exactly the notebook's parameters, so the notebook passes them once
(``selection.run(features, assessments, judgements, **step.params)``); its result gives every
table the step saves (:meth:`SelectionResult.tables`) and what the notebook shows beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import InputError, ParameterError
from kamlib.selection import agreement as agr
from kamlib.selection import ahp as ahp_mod
from kamlib.selection import criteria as crit
from kamlib.capacity import DEFAULT_HOURS_BY_TIER, CapacityRules
from kamlib.vocabulary import PLANNED_TIERS
from kamlib.selection import explain, mcda, owners, robustness, scoring
from kamlib.selection import tiers as tier_rules
from kamlib.selection import groups as groups_mod
from kamlib.selection import loss as loss_mod
from kamlib.selection import overrides as ov
from kamlib.selection.weighting import check_method, criterion_weights
from kamlib.formatting import share as fmt_share

if TYPE_CHECKING:
    import pandas as pd

TABLE_DESCRIPTIONS = {
    "selection_scores": "every account: scores, ranks, P(key), rank interval, tier, drivers",
    "key_accounts": "the key-account list with rank, score, P(key), drivers",
    "criteria": "criteria in use: definition, direction, source, scaling, weight",
    "weights": "criteria weights per manager and for the group",
    "robustness": "Monte Carlo over the weights: P(key) and rank interval per account",
    "sensitivity": "one-at-a-time weight changes and the smallest change that alters the list",
    "selection_repairs": "criterion values filled in or estimated, per account",
    "selection_overrides": "management's inclusions and exclusions with their reasons, what the "
                           "criteria alone said, and the accounts that made room",
    "big_not_key": "the largest accounts by revenue that are not key, and why",
    "account_owners": "key and key-development accounts -> settled owner, hours, change and why "
                      "(the capacity model, with every manager's other accounts counted)",
    "capacity_rules": "the capacity rules the owners were settled with (managers, limits, hours "
                      "by tier); the portfolio review's resource plan reads them from here",
    "ahp_consistency": "AHP lambda_max, CI, RI, CR per manager and group",
    "ahp_inconsistencies": "judgements that disagree most with the derived weights",
    "agreement_summary": "how far the managers' top lists agree",
    "agreement_lists": "who named which account, with the rank given",
    "agreement_overlap": "accounts two managers both named",
    "agreement_split": "accounts that split the managers most",
}
"""What each table the step saves holds (the run's Excel workbook and index show it)."""

KEY_ACCOUNT_COLUMNS = ["account_id", "name", "rank", "score", "rank_topsis", "p_key", "rank_low",
                       "rank_high", "robustness", "tier", "drivers", "why_loss", "override",
                       "override_reason", "group_id", "group_name", "group_role",
                       "group_members"]
ROBUSTNESS_COLUMNS = ["account_id", "name", "rank", "is_key", "p_key", "rank_low", "rank_median",
                      "rank_high", "robustness"]


@dataclass
class SelectionResult:
    """Everything the selection step produces.

    ``tables()`` gives the tables to save (name -> DataFrame); the other attributes feed the
    figures and the notebook's prose.
    """

    selection_scores: pd.DataFrame
    key_accounts: pd.DataFrame
    criteria: pd.DataFrame
    weights: pd.DataFrame              # criterion, manager, weight (long); manager "group"
    contributions: pd.DataFrame        # account_id x criterion contributions to the score
    robustness: pd.DataFrame
    sensitivity: pd.DataFrame
    repairs: pd.DataFrame
    overrides: pd.DataFrame
    big_not_key: pd.DataFrame
    scaling: pd.DataFrame              # account_id, criterion, value (before transform), score
    owners: pd.DataFrame               # the capacity model's assignment (kamlib.capacity)
    capacity_rules: pd.DataFrame       # the rules it was settled with (CapacityRules.table)
    ahp: ahp_mod.AHPResult | None
    agreement: agr.AgreementResult | None
    n_key: int
    n_key_reason: str
    notes: list[str] = field(default_factory=list)
    level: str = "account"

    def headline(self) -> str:
        """A few sentences (Markdown) with this run's numbers, for the notebook and report."""
        s = self.selection_scores
        key = s[s["is_key"]]
        robust = int((key["robustness"] == robustness.ROBUST).sum())
        agree_topsis = int(key["rank_topsis"].le(self.n_key).sum())
        parts = [f"**{self.n_key} key accounts** ({self.n_key_reason})."]
        if self.level == "group":
            parts = [f"**{self.n_key} key groups**, {len(key)} accounts with their members "
                     f"({self.n_key_reason})."]
        if self.agreement is not None:
            m = self.agreement.summary.set_index("metric")["value"]
            parts.append(
                f"Asked for their top {int(m['list_length'])}, {int(m['managers_with_list'])} "
                f"managers named **{int(m['distinct_accounts'])} different accounts** "
                f"({int(m['named_by_all'])} on every list; Kendall's W = "
                f"{m['kendall_w_lists']:.2f}).")
        parts.append(f"With the agreed weights, {agree_topsis} of the {self.n_key} are also in "
                     f"TOPSIS's top {self.n_key}; **{robust}** make the list in almost every "
                     "weight scenario, "
                     f"{int((key['robustness'] == robustness.BORDERLINE).sum())} are borderline.")
        big = self.biggest_accounts(explain.BIG_ACCOUNTS)
        parts.append(f"Of the {len(big)} largest accounts by revenue, "
                     f"{int((~big['is_key']).sum())} are not key (see 'big but not key').")
        o = self.overrides
        if len(o):
            n_in = int(o["override"].eq(ov.INCLUDE).sum())
            n_out = int(o["override"].eq(ov.EXCLUDE).sum())
            parts.append(f"Management included {n_in} and excluded {n_out} account(s) by "
                         "decision; each reason is listed with what the criteria alone said.")
        tiers_count = s["tier"].value_counts()
        parts.append("Serving models: " + ", ".join(
            f"{t} {int(tiers_count.get(t, 0))}" for t in tier_rules.TIERS) + ".")
        return " ".join(parts)

    def biggest_accounts(self, n: int | None = None) -> pd.DataFrame:
        """The ``n`` (default: key-list length) largest accounts by revenue and what the
        selection made of them: big is not automatically strategic."""
        n = n or self.n_key
        s = self.selection_scores
        cols = ["revenue_rank", "account_id", "name", "rank", "is_key", "tier", "p_key",
                "drivers", "why_not_key"] + [c for c in s.columns if c == "raw_cost_to_serve"]
        return s.sort_values("revenue_rank").head(n)[cols].reset_index(drop=True)

    def key_flags(self) -> pd.Series:
        """``is_key`` by account id (the figures colour the key accounts with it)."""
        return self.selection_scores.set_index("account_id")["is_key"]

    def why_key(self) -> pd.DataFrame:
        """Why each key account is key: the score's drivers, what losing it would cost (its
        own column) and management's reason where an override put it on the list."""
        return self.key_accounts[["account_id", "name", "rank", "main_drivers", "why_loss",
                                  "override_reason"]]

    def group_view(self) -> pd.DataFrame:
        """Accounts of groups that hold a key account: group, role, key or not, tier, note."""
        s = self.selection_scores
        cols = ["group_id", "group_name", "account_id", "name", "group_role", "is_key", "tier",
                "rank", "group_note"]
        return (s.loc[s["key_group"].ne(""), cols]
                .sort_values(["group_id", "rank", "account_id"]).reset_index(drop=True))

    def owner_changes(self) -> pd.DataFrame:
        """The key and key-development accounts whose owner the capacity model changes, why."""
        o = self.owners
        if not len(o):
            return o
        cols = ["account_id", "name", "tier", "previous_manager", "manager", "explanation"]
        return o.loc[o["changed"], [c for c in cols if c in o.columns]].reset_index(drop=True)

    def criterion_labels(self) -> dict[str, str]:
        """Each criterion's label by its key (for the figures)."""
        return dict(zip(self.criteria["criterion"], self.criteria["label"]))

    def repairs_by_criterion(self) -> pd.DataFrame:
        """``criterion, repair, accounts``: how many accounts each kind of repair touched."""
        return (self.repairs.groupby(["criterion", "repair"]).size().rename("accounts")
                .reset_index())

    def tier_summary(self) -> pd.DataFrame:
        """Per tier (in rank order): accounts, their mean score and the serving model."""
        return self.selection_scores.groupby("tier", sort=False).agg(
            accounts=("account_id", "size"), mean_score=("score", "mean"),
            serving_model=("serving_model", "first"))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the selection step saves, by name (AHP and agreement tables when they
        were computed)."""
        out = {"selection_scores": self.selection_scores, "key_accounts": self.key_accounts,
               "criteria": self.criteria, "weights": self.weights,
               "robustness": self.robustness, "sensitivity": self.sensitivity,
               "selection_repairs": self.repairs, "selection_overrides": self.overrides,
               "big_not_key": self.big_not_key, "account_owners": self.owners,
               "capacity_rules": self.capacity_rules}
        if self.ahp is not None:
            out["ahp_consistency"] = self.ahp.consistency
            out["ahp_inconsistencies"] = self.ahp.inconsistencies
        if self.agreement is not None:
            out["agreement_summary"] = self.agreement.summary
            out["agreement_lists"] = self.agreement.lists
            out["agreement_overlap"] = self.agreement.overlap.rename_axis("manager").reset_index()
            out["agreement_split"] = self.agreement.split
        return out

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name."""
        return {name: TABLE_DESCRIPTIONS[name] for name in self.tables()}


def _check_params(weights: str, robust_threshold: float, borderline_threshold: float,
                  sensitivity_step: float) -> None:
    check_method(weights)
    if not 0 < borderline_threshold < robust_threshold <= 1:
        raise ParameterError("Need 0 < borderline_threshold < robust_threshold <= 1.")
    if not 0 < sensitivity_step < 1:
        raise ParameterError("sensitivity_step must be between 0 and 1 (0.1 = 10 %).")


def run(
    features: pd.DataFrame,
    assessments: pd.DataFrame | None = None,
    judgements: pd.DataFrame | None = None,
    *,
    # the defaults are the notebook's, [] and {} included; run() never changes them
    criteria: list[str] = [],  # noqa: B006
    custom_criteria: dict[str, str] = {},  # noqa: B006
    weights: str = "ahp",
    direct_weights: dict[str, float] = {},  # noqa: B006
    random_index: str = "alonso_lamata_2006",
    ahp_missing: str = "harker",
    ahp_exclude_inconsistent: bool = False,
    unassessed_fill: str = "low",
    normalisation: str = "minmax",
    topsis_normalisation: str = "vector",
    n_key_accounts: int = 0,
    n_key_account_managers: int = 5,
    accounts_per_manager: int = 5,
    include: dict[str, str] = {},  # noqa: B006
    exclude: dict[str, str] = {},  # noqa: B006
    level: str = "account",
    managers: list[str] = [],  # noqa: B006
    max_accounts: int = 8,
    max_hours: float = 900.0,
    hours_by_tier: dict[str, float] = dict(DEFAULT_HOURS_BY_TIER),  # noqa: B006
    tiers: list[str] = list(PLANNED_TIERS),  # noqa: B006
    switch_cost_hours: float = 100.0,
    n_development: int = -1,
    n_sales_reps: int = 5,
    accounts_per_rep: int = 40,
    n_draws: int = 2000,
    concentration: float = 100.0,
    robustness_mode: str = "both",
    robust_threshold: float = 0.9,
    borderline_threshold: float = 0.1,
    sensitivity_step: float = 0.1,
    seed: int = 42,
) -> SelectionResult:
    """Score every account on explicit criteria, pick the key accounts and test the choice.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` from intake (every account, one row each).
    assessments : DataFrame, optional
        ``assessments``: judged criteria 0-10 and each manager's ``top_rank``.
    judgements : DataFrame, optional
        ``ahp_judgements``: pairwise comparisons (needed when ``weights="ahp"``).
    criteria, custom_criteria
        See :func:`kamlib.selection.criteria.resolve_criteria` (empty: the default ten).
    weights : {"ahp", "direct", "equal"}
        Where the weights come from; ``direct`` reads ``direct_weights`` (must sum to 1).
    random_index : str
        Random-index table for AHP's CR (see :mod:`kamlib.selection.ahp`).
    ahp_missing : {"harker", "error"}
        Missing pairwise comparisons: estimate (Harker 1987, flagged) or refuse.
    ahp_exclude_inconsistent : bool
        Form the group weights from managers with CR <= 0.10 only.
    unassessed_fill : {"low", "median", "zero"}
        Judged criterion on an account nobody assessed (see ``criterion_matrix``).
    normalisation : str
        For the weighted sum: ``minmax`` (default), ``rank``, ``zscore`` or ``vector``.
    topsis_normalisation : {"vector", "minmax"}
    n_key_accounts : int
        List length; 0 = ``n_key_account_managers * accounts_per_manager``.
    include, exclude : dict
        Management's overrides, ``{account_id: reason}``: key whatever the score, or never
        key; both count against the list length (see :mod:`kamlib.selection.overrides`).
    level : {"account", "group"}
        Score single accounts, or groups (a parent with its subsidiaries, by ``parent_id``)
        rolled up into one (see :mod:`kamlib.selection.groups`).
    managers, max_accounts, max_hours, hours_by_tier, tiers, switch_cost_hours
        The capacity model (:mod:`kamlib.capacity`, the review's parameters of the same
        names): the owners of the accounts in ``tiers`` are settled here, every manager's other
        accounts counted (see :mod:`kamlib.selection.owners`).
    n_development : int
        Accounts in the key-development tier after the key list; -1 = as many as key accounts.
    n_sales_reps, accounts_per_rep : int
        Capacity of the managed tier (reps x accounts each).
    n_draws, concentration, robustness_mode, seed
        Monte Carlo over the weights (see :mod:`kamlib.selection.robustness`).
    robust_threshold, borderline_threshold : float
        P(key) limits of the robustness classes.
    sensitivity_step : float
        Relative change of each weight in the one-at-a-time analysis (0.1 = +/-10 %).

    Returns
    -------
    SelectionResult
    """
    import pandas as pd

    _check_params(weights, robust_threshold, borderline_threshold, sensitivity_step)
    crits = crit.resolve_criteria(criteria, custom_criteria)
    keys = [c.key for c in crits]
    labels = {c.key: c.label for c in crits}
    feats = features.assign(account_id=features["account_id"].astype(str))
    groups_mod.check_level(level)
    gtab = groups_mod.group_table(feats)
    accounts = feats
    if level == "group":
        feats, assessments, include, exclude = _as_groups(feats, assessments, gtab, include,
                                                          exclude)
    untransformed: dict = {}
    raw, repairs = crit.criterion_matrix(feats, assessments, crits, unassessed_fill,
                                         untransformed)
    ids = raw.index.to_numpy()
    x = raw[keys].to_numpy(dtype=float)

    weighting = criterion_weights(keys, labels, weights, direct_weights, judgements,
                                  random_index, ahp_missing, ahp_exclude_inconsistent)
    notes = list(weighting.notes)
    if robustness_mode != "dirichlet" and weighting.managers is None:
        notes.append(f"robustness_mode '{robustness_mode}' needs per-manager AHP weights; "
                     "used 'dirichlet' around the agreed weights instead.")
        robustness_mode = "dirichlet"
    benefit = np.array([c.direction == crit.BENEFIT for c in crits])
    scored = scoring.score_accounts(x, ids, benefit, weighting.weights, normalisation,
                                    topsis_normalisation)
    n_key, why = tier_rules.n_key_accounts(len(ids), n_key_accounts, n_key_account_managers,
                                      accounts_per_manager)
    if n_key > tier_rules.TOO_MANY_KEY:
        notes.append(why)
    ov.check_overrides(include, exclude, [str(i) for i in ids], n_key)
    is_key = ov.key_mask(ids, scored.rank, n_key, include, exclude)
    losses = loss_mod.loss_table(feats.set_index("account_id"))
    if "loss_impact" in keys:
        notes.extend(losses.notes)

    draws = robustness.weight_draws(weighting.weights, n_draws, concentration, seed,
                                    robustness_mode, weighting.managers)
    mc = robustness.monte_carlo(scored.normalised, draws, n_key)
    sens = robustness.sensitivity(scored.normalised, weighting.weights, n_key, keys,
                                  sensitivity_step, list(ids))
    sens.insert(1, "label", sens["criterion"].map(labels))
    tier = tier_rules.assign_tiers(scored.rank, mc.p_key, n_key,
                              n_key if n_development < 0 else n_development,
                              n_sales_reps * accounts_per_rep, borderline_threshold, is_key)
    scores = _scores_table(feats, raw, repairs, keys, labels, scored, mc, n_key, tier,
                           robustness.classify(mc.p_key, robust_threshold, borderline_threshold))
    scores = _explained(scores, is_key, scored, weighting.weights, keys, labels, losses.table,
                        include, exclude, n_key)
    overrides = ov.overrides_table(scores, include, exclude, n_key)
    scaling = _scaling_table(scores, untransformed, keys, labels, scored)
    stable = int(((scores["robustness"] == robustness.ROBUST) & scores["is_key"]).sum())
    unit = "key groups" if level == "group" else "key accounts"
    notes.append(f"{stable} of the {n_key} {unit} make the list in at least "
                 f"{fmt_share(robust_threshold)} of {mc.n_draws} weight scenarios.")
    if level == "group":
        scores = _members(scores, gtab, accounts)
    scores = groups_mod.mark(scores, gtab)
    rules = CapacityRules(tuple(managers), max_accounts, max_hours, dict(hours_by_tier),
                          tuple(tiers), switch_cost_hours)
    scores, assignment = owners.settle(accounts, scores, rules, notes)
    robust_tab = scores[ROBUSTNESS_COLUMNS].copy()
    robust_tab.attrs = {}
    return SelectionResult(
        selection_scores=scores, key_accounts=_key_accounts_table(scores),
        criteria=crit.criteria_table(crits, weighting.by_criterion(keys)),
        weights=weighting.table,
        contributions=pd.DataFrame(scored.contributions, columns=keys,
                                   index=pd.Index(ids, name="account_id")),
        robustness=robust_tab, sensitivity=sens, repairs=repairs,
        overrides=overrides,
        big_not_key=explain.big_not_key(scores),
        scaling=scaling, owners=assignment, capacity_rules=rules.table(), ahp=weighting.ahp,
        agreement=_agreement(assessments, feats, keys, notes),
        n_key=n_key, n_key_reason=why, notes=notes, level=level)


def _scores_table(feats: pd.DataFrame, raw: pd.DataFrame, repairs: pd.DataFrame,
                  keys: list[str], labels: dict[str, str], scored: scoring.Scores,
                  mc: robustness.MonteCarloResult, n_key: int, tier: np.ndarray,
                  klass: np.ndarray) -> pd.DataFrame:
    """``selection_scores``: one row per account, in rank order."""
    import pandas as pd

    ids = raw.index.to_numpy()
    by_id = feats.set_index("account_id")
    revenue = pd.to_numeric(by_id.get("revenue_12m"), errors="coerce")
    revenue_rank = (mcda.rank_desc(revenue.reindex(ids).fillna(-np.inf).to_numpy())
                    if revenue is not None else np.zeros(len(ids), dtype=int))
    name = by_id["name"].reindex(ids).to_numpy() if "name" in feats else ids
    rank = scored.rank
    scores = pd.DataFrame({
        "account_id": ids, "name": name, "score": scored.score, "rank": rank,
        "score_topsis": scored.closeness, "rank_topsis": scored.rank_topsis,
        "p_key": mc.p_key, "rank_low": mc.rank_low, "rank_median": mc.rank_median,
        "rank_high": mc.rank_high,
        "robustness": klass, "is_key": rank <= n_key,
        "tier": tier, "serving_model": [tier_rules.SERVING_MODELS[t] for t in tier],
        "drivers": scoring.drivers(scored.contributions, keys, labels),
        "revenue_12m": (revenue.reindex(ids).to_numpy(dtype=float) if revenue is not None
                        else np.full(len(ids), np.nan)),
        "revenue_rank": revenue_rank,
        "n_assessors": raw["n_assessors"].to_numpy(),
        "n_repaired": repairs.groupby("account_id").size().reindex(ids, fill_value=0).to_numpy(),
    })
    x = raw[keys].to_numpy(dtype=float)
    for j, k in enumerate(keys):
        scores[f"raw_{k}"] = x[:, j]
    for j, k in enumerate(keys):
        scores[f"contrib_{k}"] = scored.contributions[:, j]
    return scores.sort_values("rank").reset_index(drop=True)


def _as_groups(feats: pd.DataFrame, assessments: pd.DataFrame | None, gtab: pd.DataFrame,
               include: dict, exclude: dict) -> tuple:
    """The inputs at group level: features and judgements rolled up, overrides of a member
    moved to its group (an id that is neither an account nor a group stays, and is refused)."""
    gid = dict(zip(gtab["account_id"], gtab["group_id"]))

    def moved(given: dict) -> dict:
        return {gid.get(str(k), str(k)): v for k, v in given.items()}

    return (groups_mod.roll_up(feats, gtab), groups_mod.roll_up_assessments(assessments, gtab),
            moved(include), moved(exclude))


def _members(scores: pd.DataFrame, gtab: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Group-level scores back on the accounts: each member carries its group's rank, score,
    tier and explanations; its own id, name and revenue (and its rank by revenue)."""
    import pandas as pd

    own = accounts.set_index("account_id")
    out = gtab[["account_id", "group_id"]].merge(
        scores.drop(columns=["name", "revenue_12m", "revenue_rank"]).rename(
            columns={"account_id": "group_id"}), on="group_id", how="left")
    out = out.drop(columns="group_id")
    out.insert(1, "name", own["name"].reindex(out["account_id"]).to_numpy()
               if "name" in own.columns else out["account_id"].to_numpy())
    revenue = pd.to_numeric(own.get("revenue_12m"), errors="coerce")
    if revenue is not None:
        out["revenue_12m"] = revenue.reindex(out["account_id"]).to_numpy(dtype=float)
        out["revenue_rank"] = mcda.rank_desc(out["revenue_12m"].fillna(-np.inf).to_numpy())
    return out.sort_values(["rank", "account_id"], kind="stable").reset_index(drop=True)


def _explained(scores: pd.DataFrame, is_key: np.ndarray, scored: scoring.Scores,
               weights: np.ndarray, keys: list[str], labels: dict[str, str],
               losses: pd.DataFrame, include: dict, exclude: dict, n_key: int) -> pd.DataFrame:
    """``scores`` with the key list after the overrides and the words beside the numbers:
    ``key_by_criteria``, ``override``, ``override_reason``, ``held_back_by``, ``why_not_key``,
    the loss-impact parts and ``why_loss``."""
    import pandas as pd

    # scores is in rank order; the arrays of the scoring are in the criterion matrix's order
    order = np.argsort(scored.rank, kind="stable")
    ids = scores["account_id"].astype(str)
    out = scores.assign(key_by_criteria=scores["is_key"].to_numpy(),
                        is_key=is_key[order])
    kind = pd.Series("", index=out.index, dtype="str")
    reason = pd.Series("", index=out.index, dtype="str")
    for name, given in ((ov.INCLUDE, include), (ov.EXCLUDE, exclude)):
        hit = ids.isin([str(k) for k in given])
        kind[hit] = name
        reason[hit] = ids[hit].map({str(k): str(v).strip() for k, v in given.items()})
    out["override"] = kind
    out["override_reason"] = reason
    out["held_back_by"] = pd.Series(explain.held_back_by(
        scored.normalised[order], weights, is_key[order], [labels[k] for k in keys]),
        index=out.index, dtype="str")
    out["why_not_key"] = pd.Series(explain.why_not_key(out, n_key), index=out.index,
                                   dtype="str")
    loss = losses.reindex(ids.to_numpy())
    for c in loss_mod.COLUMNS:
        out[c] = loss[c].to_numpy()
    out["why_loss"] = pd.Series(loss_mod.why_lost(loss), index=out.index, dtype="str")
    return out


def _scaling_table(scores: pd.DataFrame, untransformed: dict, keys: list[str],
                   labels: dict[str, str], scored: scoring.Scores) -> pd.DataFrame:
    """Long table ``account_id, criterion, label, value, score``: each criterion's data value
    (before its transform) against the normalised score the weighted sum uses."""
    import pandas as pd

    ids = scores["account_id"].to_numpy()  # in rank order, as the scores table is
    order = np.argsort(scored.rank, kind="stable")
    frames = []
    for j, k in enumerate(keys):
        value = untransformed[k].reindex(ids).to_numpy(dtype=float)
        frames.append(pd.DataFrame({"account_id": ids, "criterion": k, "label": labels[k],
                                    "value": value, "score": scored.normalised[order, j]}))
    return pd.concat(frames, ignore_index=True)


def _key_accounts_table(scores: pd.DataFrame) -> pd.DataFrame:
    """``key_accounts``: the key accounts' rows of ``scores``, drivers as ``main_drivers``."""
    key_acc = scores.loc[scores["is_key"], KEY_ACCOUNT_COLUMNS]
    return key_acc.rename(columns={"drivers": "main_drivers"}).reset_index(drop=True)


def _agreement(assessments: pd.DataFrame | None, feats: pd.DataFrame, keys: list[str],
               notes: list[str]) -> agr.AgreementResult | None:
    """How far the managers agree, when they gave assessments; a note when it cannot be
    measured or a manager gave no top list."""
    if assessments is None or not len(assessments):
        return None
    names = feats.set_index("account_id")["name"] if "name" in feats else None
    try:
        found = agr.manager_agreement(assessments, names,
                                      [c for c in keys if c in crit.JUDGED_CRITERIA])
    except InputError as exc:
        notes.append(f"Agreement not measured: {exc}")
        return None
    if found.missing_lists:
        notes.append("No top list from: " + ", ".join(found.missing_lists)
                     + " (their scores still count; agreement uses the others).")
    return found
