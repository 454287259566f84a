"""The whole selection step: intake tables in, selection tables out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import InputError, ParameterError
from kamlib.selection import agreement as agr
from kamlib.selection import ahp as ahp_mod
from kamlib.selection import criteria as crit
from kamlib.selection import mcda, robustness, tiers

if TYPE_CHECKING:
    import pandas as pd

WEIGHT_METHODS = ("ahp", "direct", "equal")

TABLE_DESCRIPTIONS = {
    "selection_scores": "every account: scores, ranks, P(key), rank interval, tier, drivers",
    "key_accounts": "the key-account list with rank, score, P(key), drivers",
    "criteria": "criteria in use: definition, direction, source, scaling, weight",
    "weights": "criteria weights per manager and for the group",
    "robustness": "Monte Carlo over the weights: P(key) and rank interval per account",
    "sensitivity": "one-at-a-time weight changes and the smallest change that alters the list",
    "selection_repairs": "criterion values filled in or estimated, per account",
    "ahp_consistency": "AHP lambda_max, CI, RI, CR per manager and group",
    "ahp_inconsistencies": "judgements that disagree most with the derived weights",
    "agreement_summary": "how far the managers' top lists agree",
    "agreement_lists": "who named which account, with the rank given",
    "agreement_overlap": "accounts two managers both named",
    "agreement_split": "accounts that split the managers most",
}


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
    ahp: ahp_mod.AHPResult | None
    agreement: agr.AgreementResult | None
    n_key: int
    n_key_reason: str
    notes: list[str] = field(default_factory=list)

    def headline(self) -> str:
        """A few sentences (Markdown) with this run's numbers, for the notebook and report."""
        s = self.selection_scores
        key = s[s["is_key"]]
        robust = int((key["robustness"] == robustness.ROBUST).sum())
        agree_topsis = int(key["rank_topsis"].le(self.n_key).sum())
        parts = [f"**{self.n_key} key accounts** ({self.n_key_reason})."]
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
        big = self.biggest_accounts()
        parts.append(f"Of the {len(big)} largest accounts by revenue, "
                     f"{int((~big['is_key']).sum())} are not key: size alone does not decide.")
        tiers_count = s["tier"].value_counts()
        parts.append("Serving models: " + ", ".join(
            f"{t} {int(tiers_count.get(t, 0))}" for t in tiers.TIERS) + ".")
        return " ".join(parts)

    def biggest_accounts(self, n: int | None = None) -> pd.DataFrame:
        """The ``n`` (default: key-list length) largest accounts by revenue and what the
        selection made of them: big is not automatically strategic."""
        n = n or self.n_key
        s = self.selection_scores
        cols = ["revenue_rank", "account_id", "name", "rank", "is_key", "tier", "p_key",
                "drivers"] + [c for c in s.columns if c == "raw_cost_to_serve"]
        return s.sort_values("revenue_rank").head(n)[cols].reset_index(drop=True)

    def save(self, step) -> None:
        """Save every table through a :class:`kamlib.step.Step` (Parquet + Excel sheet)."""
        for name, df in self.tables().items():
            step.save(name, df, description=TABLE_DESCRIPTIONS.get(name, ""))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables for ``step.save`` (name -> DataFrame)."""
        out = {"selection_scores": self.selection_scores, "key_accounts": self.key_accounts,
               "criteria": self.criteria, "weights": self.weights,
               "robustness": self.robustness, "sensitivity": self.sensitivity,
               "selection_repairs": self.repairs}
        if self.ahp is not None:
            out["ahp_consistency"] = self.ahp.consistency
            out["ahp_inconsistencies"] = self.ahp.inconsistencies
        if self.agreement is not None:
            out["agreement_summary"] = self.agreement.summary
            out["agreement_lists"] = self.agreement.lists
            out["agreement_overlap"] = self.agreement.overlap.rename_axis("manager").reset_index()
            out["agreement_split"] = self.agreement.split
        return out


def _direct_weights(direct: dict[str, float], keys: list[str]) -> dict[str, float]:
    unknown = sorted(set(direct) - set(keys))
    if unknown:
        raise ParameterError(f"direct_weights names criteria that are not switched on: "
                             f"{', '.join(unknown)}. Fix: add them to 'criteria' or remove them.")
    missing = [k for k in keys if k not in direct]
    if missing:
        raise ParameterError(f"direct_weights has no weight for {', '.join(missing)}. Fix: give "
                             "every criterion in use a weight (0 is allowed).")
    w = mcda.check_weights([direct[k] for k in keys], names=keys)
    return dict(zip(keys, map(float, w)))


def _drivers(contrib: np.ndarray, keys: list[str], labels: dict[str, str], top: int = 3
             ) -> list[str]:
    """'Billing 38%, Future potential 21%, ...': the largest shares of each score."""
    total = contrib.sum(axis=1, keepdims=True)
    share = np.divide(contrib, total, out=np.zeros_like(contrib), where=total > 0)
    order = np.argsort(-contrib, axis=1)[:, :top]
    out = []
    for i, idx in enumerate(order):
        parts = [f"{labels[keys[j]]} {share[i, j]:.0%}" for j in idx if contrib[i, j] > 0]
        out.append(", ".join(parts))
    return out


def select_accounts(
    features: pd.DataFrame,
    assessments: pd.DataFrame | None = None,
    ahp_judgements: pd.DataFrame | None = None,
    *,
    criteria: list[str] | None = None,
    custom_criteria: dict[str, str] | None = None,
    weights: str = "ahp",
    direct_weights: dict[str, float] | None = None,
    random_index: str = "alonso_lamata_2006",
    ahp_missing: str = "harker",
    ahp_exclude_inconsistent: bool = False,
    unassessed_fill: str = "low",
    normalisation: str = "minmax",
    topsis_normalisation: str = "vector",
    n_key_accounts: int = 0,
    n_key_account_managers: int = 5,
    accounts_per_manager: int = 5,
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
    progress: bool = False,
) -> SelectionResult:
    """Score every account on explicit criteria, pick the key accounts and test the choice.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` from intake (every account, one row each).
    assessments : DataFrame, optional
        ``assessments``: judged criteria 0-10 and each manager's ``top_rank``.
    ahp_judgements : DataFrame, optional
        Pairwise comparisons (needed when ``weights="ahp"``).
    criteria, custom_criteria
        See :func:`kamlib.selection.criteria.resolve_criteria`.
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
    """
    import pandas as pd

    if weights not in WEIGHT_METHODS:
        raise ParameterError(f"weights must be one of {', '.join(WEIGHT_METHODS)}, not "
                             f"{weights!r}.")
    if not 0 < borderline_threshold < robust_threshold <= 1:
        raise ParameterError("Need 0 < borderline_threshold < robust_threshold <= 1.")
    if not 0 < sensitivity_step < 1:
        raise ParameterError("sensitivity_step must be between 0 and 1 (0.1 = 10 %).")
    notes: list[str] = []
    crits = crit.resolve_criteria(criteria, custom_criteria)
    keys = [c.key for c in crits]
    labels = {c.key: c.label for c in crits}
    benefit = np.array([c.direction == crit.BENEFIT for c in crits])

    feats = features.assign(account_id=features["account_id"].astype(str))
    raw, repairs = crit.criterion_matrix(feats, assessments, crits, unassessed_fill)
    ids = raw.index.to_numpy()
    x = raw[keys].to_numpy(dtype=float)

    # ---- weights
    ahp_res = None
    manager_w = None
    if weights == "ahp":
        if ahp_judgements is None or len(ahp_judgements) == 0:
            raise ParameterError("weights is 'ahp' but there are no pairwise comparisons "
                                 "(ahp_judgements). Fix: provide ahp_judgements, or set weights "
                                 "to 'direct' with direct_weights, or 'equal'.")
        compared = set(ahp_judgements["criterion_a"]) | set(ahp_judgements["criterion_b"])
        uncovered = [k for k in keys if k not in compared]
        if uncovered:
            raise InputError("ahp_judgements", f"no manager compared {', '.join(uncovered)}, so "
                             "AHP cannot weight it.", "add comparisons for it, switch it off, "
                             "or use direct weights.", column="criterion_a")
        ahp_res = ahp_mod.ahp_weights(ahp_judgements, keys, random_index, ahp_missing,
                                      exclude_inconsistent=ahp_exclude_inconsistent)
        w_by = ahp_res.group_weights
        wide = ahp_res.weights.pivot(index="manager", columns="criterion", values="weight")
        manager_w = wide.drop(index=ahp_mod.GROUP)[keys].to_numpy()
        bad = ahp_res.consistency.query("manager != @ahp_mod.GROUP and not consistent")
        if len(bad):
            left_out = " (left out of the group weights)" if not bad["in_group"].any() else ""
            notes.append(f"{len(bad)} manager(s) have CR > 0.10 ({', '.join(bad['manager'])})"
                         f"{left_out}: see ahp_inconsistencies for the judgements to revisit.")
        weights_tab = ahp_res.weights
    else:
        w_by = (_direct_weights(direct_weights or {}, keys) if weights == "direct"
                else {k: 1.0 / len(keys) for k in keys})
        weights_tab = pd.DataFrame({"criterion": keys, "manager": ahp_mod.GROUP,
                                    "weight": [w_by[k] for k in keys]})
    w = mcda.check_weights([w_by[k] for k in keys], names=keys)
    if robustness_mode != "dirichlet" and manager_w is None:
        notes.append(f"robustness_mode '{robustness_mode}' needs per-manager AHP weights; "
                     "used 'dirichlet' around the agreed weights instead.")
        robustness_mode = "dirichlet"

    # ---- scores
    norm = mcda.normalise(x, benefit, normalisation)
    score, contrib = mcda.weighted_sum(norm, w)
    # Vector normalisation assumes ratio scales (a meaningful zero). Our transformed criteria
    # are interval scales (log revenue ~ 11 +/- 1, ratings 0-10, growth -2..2): dividing them by
    # their norm would all but erase the spread of the offset ones. Shifting each criterion so
    # its worst-to-best range starts at 0 restores a meaningful zero without changing the
    # order or the direction (TOPSIS still finds ideal and anti-ideal itself).
    tp = mcda.topsis(x - x.min(axis=0), w, benefit, topsis_normalisation)
    # Ordinal rank: ties broken by account id so the list length is exactly n_key.
    order = np.lexsort((ids, -score))
    rank = np.empty(len(ids), dtype=int)
    rank[order] = np.arange(1, len(ids) + 1)
    rank_topsis = mcda.rank_desc(tp["closeness"])

    n_key, why = tiers.n_key_accounts(len(ids), n_key_accounts, n_key_account_managers,
                                      accounts_per_manager)
    if n_key > tiers.TOO_MANY_KEY:
        notes.append(why)

    # ---- robustness
    draws = robustness.weight_draws(w, n_draws, concentration, seed, robustness_mode, manager_w)
    mc = robustness.monte_carlo(norm, draws, n_key, progress=progress)
    klass = robustness.classify(mc.p_key, robust_threshold, borderline_threshold)
    sens = robustness.sensitivity(norm, w, n_key, keys, sensitivity_step, list(ids))
    sens.insert(1, "label", sens["criterion"].map(labels))

    n_dev = n_key if n_development < 0 else n_development
    tier = tiers.assign_tiers(rank, mc.p_key, n_key, n_dev, n_sales_reps * accounts_per_rep,
                              borderline_threshold)
    drivers = _drivers(contrib, keys, labels)

    revenue = pd.to_numeric(feats.set_index("account_id").get("revenue_12m"), errors="coerce")
    revenue_rank = (mcda.rank_desc(revenue.reindex(ids).fillna(-np.inf).to_numpy())
                    if revenue is not None else np.zeros(len(ids), dtype=int))
    name = feats.set_index("account_id")["name"].reindex(ids).to_numpy() if "name" in feats \
        else ids
    scores = pd.DataFrame({
        "account_id": ids, "name": name, "score": score, "rank": rank,
        "score_topsis": tp["closeness"], "rank_topsis": rank_topsis,
        "p_key": mc.p_key, "rank_low": mc.rank_low, "rank_median": mc.rank_median,
        "rank_high": mc.rank_high, "robustness": klass, "is_key": rank <= n_key,
        "tier": tier, "serving_model": [tiers.SERVING_MODELS[t] for t in tier],
        "drivers": drivers, "revenue_rank": revenue_rank,
        "n_assessors": raw["n_assessors"].to_numpy(),
        "n_repaired": repairs.groupby("account_id").size().reindex(ids, fill_value=0).to_numpy(),
    })
    for j, k in enumerate(keys):
        scores[f"raw_{k}"] = x[:, j]
    for j, k in enumerate(keys):
        scores[f"contrib_{k}"] = contrib[:, j]
    scores = scores.sort_values("rank").reset_index(drop=True)

    key_acc = scores.loc[scores["is_key"], ["account_id", "name", "rank", "score",
                                            "rank_topsis", "p_key", "rank_low", "rank_high",
                                            "robustness", "tier", "drivers"]]
    key_acc = key_acc.rename(columns={"drivers": "main_drivers"}).reset_index(drop=True)

    contributions = pd.DataFrame(contrib, columns=keys, index=pd.Index(ids, name="account_id"))
    robust_tab = scores[["account_id", "name", "rank", "is_key", "p_key", "rank_low",
                         "rank_median", "rank_high", "robustness"]].copy()
    robust_tab.attrs = {}
    stable = int(((robust_tab["robustness"] == robustness.ROBUST) & robust_tab["is_key"]).sum())
    notes.append(f"{stable} of the {n_key} key accounts make the list in at least "
                 f"{robust_threshold:.0%} of {mc.n_draws} weight scenarios.")
    agreement_res = None
    if assessments is not None and len(assessments):
        names = feats.set_index("account_id")["name"] if "name" in feats else None
        try:
            agreement_res = agr.manager_agreement(
                assessments, names, [c for c in keys if c in crit.JUDGED_CRITERIA])
        except InputError as exc:
            notes.append(f"Agreement not measured: {exc}")
        else:
            if agreement_res.missing_lists:
                notes.append("No top list from: " + ", ".join(agreement_res.missing_lists)
                             + " (their scores still count; agreement uses the others).")
    weights_out = weights_tab.assign(label=weights_tab["criterion"].map(labels))
    return SelectionResult(
        selection_scores=scores, key_accounts=key_acc,
        criteria=crit.criteria_table(crits, dict(zip(keys, map(float, w)))),
        weights=weights_out, contributions=contributions, robustness=robust_tab,
        sensitivity=sens, repairs=repairs, ahp=ahp_res, agreement=agreement_res,
        n_key=n_key, n_key_reason=why, notes=notes)
