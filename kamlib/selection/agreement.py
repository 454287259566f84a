"""How far the managers agree before any criteria are applied.

The classic finding: ten senior managers asked for "our ten most important customers" gave 56
different names. This module measures the same thing on the client's own managers: the distinct
names in their top-N lists, pairwise overlap, Kendall's coefficient of concordance W (with the
tie correction) and the accounts that split them most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class KendallW:
    """Kendall's W with its chi-square test."""

    w: float
    chi2: float
    df: int
    p_value: float
    m: int          # raters
    n: int          # objects
    tie_correction: float


def kendall_w(scores, correct_ties: bool = True) -> KendallW:
    """Kendall's coefficient of concordance for ``m`` raters scoring ``n`` objects.

    Parameters
    ----------
    scores : array (m_raters, n_objects)
        Scores or ranks; each rater's row is ranked (ties get average ranks). Higher or lower
        is "better" does not matter as long as every rater uses the same direction.
    correct_ties : bool
        Subtract ``m * sum(t^3 - t) / 12`` (over every rater's tie groups) from the
        denominator, as in Kendall (1948) and Siegel & Castellan (1988).

    Returns
    -------
    KendallW
        ``W = 12 S / (m^2 (n^3 - n) - m * sum T)``, ``chi2 = m (n - 1) W`` with ``n - 1``
        degrees of freedom and its upper-tail p-value (large-sample approximation; with few
        objects treat the p-value as indicative).
    """
    from scipy.stats import chi2 as chi2_dist
    from scipy.stats import rankdata

    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError("Kendall's W needs at least 2 raters and 2 objects")
    if np.isnan(x).any():
        raise ValueError("Kendall's W needs a complete raters x objects table")
    m, n = x.shape
    r = rankdata(x, axis=1, method="average")
    totals = r.sum(axis=0)
    s = float(((totals - totals.mean()) ** 2).sum())
    t = 0.0
    if correct_ties:
        for row in x:
            _, counts = np.unique(row, return_counts=True)
            t += float((counts ** 3 - counts).sum())
    denom = m ** 2 * (n ** 3 - n) - m * t
    w = 12 * s / denom if denom > 0 else float("nan")
    chi2 = m * (n - 1) * w
    return KendallW(w, chi2, n - 1, float(chi2_dist.sf(chi2, n - 1)), m, n, t)


@dataclass
class AgreementResult:
    """Tables describing manager agreement (all pandas DataFrames)."""

    summary: pd.DataFrame   # metric, value, note
    lists: pd.DataFrame     # account_id, name, manager columns with their rank (NaN = not named)
    overlap: pd.DataFrame   # manager x manager: accounts in common (diag = list length)
    jaccard: pd.DataFrame   # manager x manager: |A and B| / |A or B|
    split: pd.DataFrame     # account_id, name, n_named, share_named, mean_rank, split
    missing_lists: list[str]


def top_lists(assessments: pd.DataFrame) -> dict[str, list[str]]:
    """Each manager's top list, ordered by ``top_rank`` (managers without one are absent)."""
    import pandas as pd

    if "top_rank" not in assessments.columns:
        return {}
    a = assessments.assign(top_rank=pd.to_numeric(assessments["top_rank"], errors="coerce"))
    a = a[a["top_rank"].notna()]
    return {str(m): g.sort_values("top_rank")["account_id"].astype(str).tolist()
            for m, g in a.groupby("manager", sort=True)}


def manager_agreement(assessments: pd.DataFrame, names: pd.Series | None = None,
                      judged: list[str] | None = None) -> AgreementResult:
    """Agreement among managers' top lists (and, where possible, their judged scores).

    Kendall's W on the lists: the objects are every account anybody named; a manager ranks the
    accounts they named 1..k and the rest share the bottom positions (a tie, hence the tie
    correction). Kendall's W on scores: every manager's mean judged score over the accounts
    that *all* managers assessed.

    Managers who gave no list are reported in ``missing_lists`` and in the summary (their
    assessment scores still count elsewhere); fewer than two lists is an error, because
    agreement needs two opinions.

    Raises
    ------
    InputError
        Fewer than two managers gave a top list, or a manager gave the same rank twice.
    """
    import pandas as pd

    a = assessments.assign(account_id=assessments["account_id"].astype(str),
                           manager=assessments["manager"].astype(str))
    managers = sorted(a["manager"].unique())
    lists = top_lists(a)
    _check_lists(a, lists)
    missing = [m for m in managers if m not in lists]
    rank_tab = _rank_table(lists)
    overlap, jacc = _overlap(lists)
    split = _split_table(rank_tab)
    rows = _list_summary(lists, rank_tab, jacc, n_managers=len(managers))
    if missing:
        rows.append(("managers_without_list", len(missing), ", ".join(missing)))
    rows += _score_concordance(a, [c for c in (judged or []) if c in a.columns])
    summary = pd.DataFrame(rows, columns=["metric", "value", "note"])
    summary["value"] = summary["value"].astype(float)
    lists_tab = _lists_table(rank_tab)
    if names is not None:
        nm = names.copy()
        nm.index = nm.index.astype(str)
        lists_tab.insert(1, "name", lists_tab["account_id"].map(nm))
        split.insert(1, "name", split["account_id"].map(nm))
    return AgreementResult(summary, lists_tab, overlap, jacc, split, missing)


def _check_lists(a: pd.DataFrame, lists: dict[str, list[str]]) -> None:
    """At least two top lists, and no manager giving a rank twice."""
    import pandas as pd

    if len(lists) < 2:
        raise InputError("assessments", f"only {len(lists)} manager(s) gave a top list "
                         "(column top_rank); agreement needs at least two.",
                         "ask each senior manager for their 10 most important customers "
                         "(top_rank 1-10).", column="top_rank")
    if "top_rank" in a.columns:
        tr = a[pd.to_numeric(a["top_rank"], errors="coerce").notna()]
        dup = tr[tr.duplicated(["manager", "top_rank"], keep=False)]
        if len(dup):
            raise InputError("assessments", f"manager '{dup['manager'].iloc[0]}' gave rank "
                             f"{int(dup['top_rank'].iloc[0])} to more than one account.",
                             "give each rank once.", column="top_rank",
                             rows=(dup.index + 1).tolist())


def _rank_table(lists: dict[str, list[str]]) -> pd.DataFrame:
    """Account (every one anybody named) x manager: the rank given, NaN where not named."""
    import pandas as pd

    named = sorted({acc for lst in lists.values() for acc in lst})
    listers = sorted(lists)
    rank_tab = pd.DataFrame(index=pd.Index(named, name="account_id"), columns=listers, dtype=float)
    for m, lst in lists.items():
        rank_tab.loc[lst, m] = np.arange(1, len(lst) + 1, dtype=float)
    return rank_tab


def _lists_concordance(rank_tab: pd.DataFrame) -> KendallW:
    """Kendall's W over the union of lists: unnamed accounts tie at the bottom."""
    filled = rank_tab.copy()
    for m in rank_tab.columns:
        k = int(filled[m].notna().sum())
        rest = len(rank_tab) - k
        filled[m] = filled[m].fillna(k + (rest + 1) / 2)
    return kendall_w(filled.to_numpy().T, correct_ties=True)


def _overlap(lists: dict[str, list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Manager x manager: accounts both named, and that count over the accounts either named."""
    import pandas as pd

    listers = sorted(lists)
    sets = {m: set(lst) for m, lst in lists.items()}
    overlap = pd.DataFrame([[len(sets[p] & sets[q]) for q in listers] for p in listers],
                       index=listers, columns=listers)
    jacc = pd.DataFrame([[len(sets[p] & sets[q]) / max(len(sets[p] | sets[q]), 1)
                      for q in listers] for p in listers], index=listers, columns=listers)
    return overlap, jacc


def _split_table(rank_tab: pd.DataFrame) -> pd.DataFrame:
    """The named accounts, those that split the managers most first."""
    import pandas as pd

    n_named = rank_tab.notna().sum(axis=1)
    share = n_named / rank_tab.shape[1]
    split = pd.DataFrame({"account_id": rank_tab.index.to_list(), "n_named": n_named.to_numpy(),
                      "share_named": share.to_numpy(),
                      "mean_rank": rank_tab.mean(axis=1).to_numpy(),
                      "best_rank": rank_tab.min(axis=1).to_numpy(),
                      "worst_rank": rank_tab.max(axis=1).to_numpy()})
    # p(1-p) is largest when half the managers name the account and half do not: that is the
    # disagreement a steering committee has to settle. Rank spread breaks ties among them.
    spread = (split["worst_rank"] - split["best_rank"]).fillna(0)
    split["split"] = 4 * split["share_named"] * (1 - split["share_named"]) + spread / 100
    return split.sort_values(["split", "n_named"], ascending=[False, False]).reset_index(
        drop=True)


def _list_summary(lists: dict[str, list[str]], rank_tab: pd.DataFrame, jacc: pd.DataFrame,
                  n_managers: int) -> list[tuple[str, float, str]]:
    """The summary's rows about the top lists: (metric, value, note)."""
    n_listers = len(lists)
    n_named = rank_tab.notna().sum(axis=1)
    off = ~np.eye(n_listers, dtype=bool)
    kw_lists = _lists_concordance(rank_tab)
    return [
        ("managers", n_managers, "managers in the assessments table"),
        ("managers_with_list", n_listers, "managers who gave a top list"),
        ("list_length", max(len(lst) for lst in lists.values()),
         "longest top list (the N in top-N)"),
        ("names_given", sum(len(v) for v in lists.values()), "names across all lists"),
        ("distinct_accounts", len(rank_tab), "different accounts named"),
        ("named_by_all", int((n_named == n_listers).sum()), "accounts on every list"),
        ("named_once", int((n_named == 1).sum()), "accounts on one list only"),
        ("mean_jaccard", float(jacc.to_numpy()[off].mean()),
         "mean pairwise overlap |A and B| / |A or B|"),
        ("kendall_w_lists", kw_lists.w, "Kendall's W of the lists (unnamed tie at bottom)"),
        ("kendall_w_lists_chi2", kw_lists.chi2, f"chi-square, {kw_lists.df} df"),
        ("kendall_w_lists_p", kw_lists.p_value, "p-value (no agreement beyond chance)"),
    ]


def _score_concordance(a: pd.DataFrame, judged: list[str]) -> list[tuple[str, float, str]]:
    """The summary's rows about the judged scores (none when no judged criterion is in use)."""
    if not judged:
        return []
    score = a.assign(_s=a[judged].mean(axis=1)).pivot_table(
        index="manager", columns="account_id", values="_s", aggfunc="mean")
    common = score.dropna(axis=1)
    if common.shape[0] < 2 or common.shape[1] < 3:
        return [("kendall_w_scores", float("nan"),
                 "not computed: fewer than 3 accounts were assessed by every manager")]
    kw_s = kendall_w(common.to_numpy(), correct_ties=True)
    return [("kendall_w_scores", kw_s.w,
             f"Kendall's W of judged scores on {common.shape[1]} accounts every manager "
             "assessed"),
            ("kendall_w_scores_p", kw_s.p_value, f"p-value, {kw_s.df} df")]


def _lists_table(rank_tab: pd.DataFrame) -> pd.DataFrame:
    """``agreement_lists``: the rank table, accounts named most (and best) first."""
    lists_tab = rank_tab.reset_index()
    lists_tab = lists_tab.assign(_n=rank_tab.notna().sum(axis=1).to_numpy(),
                                 _m=rank_tab.mean(axis=1).to_numpy())
    return lists_tab.sort_values(["_n", "_m"], ascending=[False, True]).drop(
        columns=["_n", "_m"]).reset_index(drop=True)
