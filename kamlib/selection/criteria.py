"""The selection-criteria catalogue and the account x criterion matrix built from it.

Every criterion has a key (fixed in :data:`kamlib.intake.contract.SELECTION_CRITERIA`), a definition a
steering committee can read, a direction (``benefit``: more is better; ``cost``: less is better),
a source (``computed`` from the ``account_features`` table, ``judged`` by managers in the
``assessments`` table, or ``custom``: any other numeric column the engagement names) and a
transform applied before normalisation.

Why transforms: revenue, quantities, head counts and site counts are heavy-tailed. On a linear
scale one giant account squeezes everybody else into the bottom 5 % of the range, and the
"criterion" degenerates into "is it the giant". A log scale keeps the order and lets the rest
of the portfolio differ, but *where it starts* decides whether size still counts: ``log(1 + x)``
min-max scaled from zero-revenue accounts puts the largest account at 0.14 and the 300th at 0.09
on a billing weight of 0.15 (the log of 0 is the bottom of the range, and every active account
sits near the top). ``log_floor`` starts the log scale at a robust low end instead: the 25th
percentile of the positive values (:data:`LOG_FLOOR_QUANTILE`). Values at or below it score 0,
above it ``log(x / floor)``, so after normalisation the largest account scores 1, an account
half its size scores ``1 - log 2 / log(max / floor)``, and both the order and the ratios
between accounts show. Money, volume, head count and loss impact use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kamlib.intake.contract import DEFAULT_CRITERIA, JUDGED_CRITERIA, SELECTION_CRITERIA
from kamlib.errors import InputError, ParameterError
from kamlib.selection import loss as loss_mod

if TYPE_CHECKING:
    import pandas as pd

BENEFIT = "benefit"
COST = "cost"

LOG_FLOOR_QUANTILE = 0.25
"""Where ``log_floor`` starts its scale: this quantile of the criterion's positive values."""

UNASSESSED_FILLS = ("low", "median", "zero")
"""Repairs for a judged criterion on an account nobody assessed (see :func:`criterion_matrix`)."""


@dataclass(frozen=True)
class Criterion:
    """One selection criterion of the catalogue."""

    key: str
    label: str
    definition: str
    direction: str
    source: str
    column: str
    transform: str = "none"
    scaling: str = ""
    repair: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _computed(key, label, definition, column, transform, direction=BENEFIT, repair=""):
    scaling = {"log1p": "log(1 + x), negatives set to 0, then normalised",
               "log_floor": "log(x / floor), floor the 25th percentile of positive values "
                            "(0 at or below it), then normalised: the largest scores highest",
               "none": "as is, then normalised"}[transform]
    return Criterion(key, label, definition, direction, "computed", column, transform, scaling,
                     repair or "blank values get the criterion's median (flagged in 'repairs')")


def _judged(key, label, definition):
    return Criterion(key, label, definition, BENEFIT, "judged", key, "none",
                     "mean of the managers' 0-10 scores, then normalised",
                     "accounts nobody assessed get the repair chosen by 'unassessed_fill'")


CATALOGUE: dict[str, Criterion] = {c.key: c for c in (
    _computed("size", "Size", "How big the customer is as a company (head count).",
              "employees", "log_floor"),
    _computed("purchase_volume", "Purchase volume",
              "Units bought from us in the last 12 months.", "quantity_12m", "log_floor"),
    _computed("billing", "Billing", "Net revenue we invoiced in the last 12 months.",
              "revenue_12m", "log_floor"),
    _computed("share_of_sales", "Share of our sales",
              "The account's share of our total revenue in the last 12 months.",
              "share_of_sales_12m", "none"),
    _computed("growth", "Growth",
              "Symmetric revenue growth, last 12 months against the 12 before (-2..2).",
              "growth_12m", "none"),
    _computed("profitability", "Current profitability",
              "Gross margin as a share of revenue in the last 12 months.", "margin_pct_12m",
              "none", repair="accounts without revenue (no margin %) get the criterion's median"),
    _computed("buying_group_breadth", "Breadth of the buying group",
              "Distinct functions among our contacts at the account (a wide DMU).",
              "n_functions", "none"),
    _computed("dispersed_units", "Dispersed buying units",
              "Number of sites / buying units the account buys for.", "n_sites", "log1p"),
    Criterion("cost_to_serve", "Cost to serve",
              "Annual cost to serve the account per unit of revenue (cost_to_serve / "
              "revenue_12m): big is not strategic when serving it eats the margin.",
              COST, "computed", "cost_to_serve", "none",
              "cost per unit of revenue, capped at the 99th percentile, then normalised",
              "blank cost_to_serve is estimated as orders in the last 12 months x the median "
              "known cost per order (or the order count alone when no cost is known); accounts "
              "without revenue get the worst observed ratio"),
    Criterion("loss_impact", "Loss impact",
              "Could we afford to lose it? Our margin at risk (share of our margin x the chance "
              "it leaves, from recency and revenue trend), our dependency (share of our sales) "
              "and how hard it is to replace (look-alike accounts, share of wallet).",
              BENEFIT, "computed", "loss_impact", "log_floor",
              "log(x / floor), floor the 25th percentile of positive values, then normalised",
              "inputs the table lacks are left out of the formula (noted); see "
              "kamlib.selection.loss"),
    _judged("future_potential", "Future potential",
            "Expected growth of the account's business with us over the next 3 years."),
    _judged("industry_weight", "Weight in its industry",
            "Standing of the account within its own industry."),
    _judged("market_influence", "Influence on the market",
            "Influence on other companies, sectors and the market (a reference customer)."),
    _judged("potential_profitability", "Potential profitability",
            "Margin we could earn with the account once the relationship is developed."),
    _judged("strategic_fit", "Strategic fit",
            "Presence in a segment we want to be in; fit with our strategy."),
    _judged("reciprocity", "Reciprocity",
            "Does the account return special attention (shares plans, accepts joint work)?"),
    _judged("specialised_service", "Need for specialised service",
            "Need for logistics, inventory management, special terms or bespoke work that a "
            "key-account team provides."),
)}

assert tuple(CATALOGUE) == SELECTION_CRITERIA  # the contract and the catalogue stay in step


def resolve_criteria(criteria: list[str] | tuple[str, ...] | None = None,
                     custom_criteria: dict[str, str] | None = None) -> list[Criterion]:
    """The criteria switched on, in order: catalogue keys plus custom columns.

    Parameters
    ----------
    criteria : list of str, optional
        Catalogue keys to use; ``None`` or empty means :data:`DEFAULT_CRITERIA`.
    custom_criteria : dict, optional
        Extra criteria as ``{column_name: "benefit" | "cost"}``; the column must exist in the
        account features (or accounts) table. They are judged like any computed criterion.

    Raises
    ------
    ParameterError
        An unknown key, a duplicate, or a custom direction other than benefit/cost.
    """
    import difflib

    keys = list(criteria) if criteria else list(DEFAULT_CRITERIA)
    out: list[Criterion] = []
    for key in keys:
        if key not in CATALOGUE:
            close = difflib.get_close_matches(key, list(CATALOGUE), n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ParameterError(
                f"Unknown selection criterion '{key}'.{hint} Fix: use keys of the catalogue "
                f"({', '.join(CATALOGUE)}) or add your own column under 'custom_criteria'.")
        out.append(CATALOGUE[key])
    for column, direction in (custom_criteria or {}).items():
        if direction not in (BENEFIT, COST):
            raise ParameterError(
                f"custom_criteria: '{column}' has direction {direction!r}. Fix: write "
                f"'{column}: benefit' (more is better) or '{column}: cost' (less is better).")
        if column in CATALOGUE:
            raise ParameterError(
                f"custom_criteria: '{column}' is already a catalogue criterion. Fix: list it "
                "under 'criteria' instead.")
        out.append(Criterion(column, column.replace("_", " ").capitalize(),
                             f"Custom criterion from the column '{column}'.", direction,
                             "custom", column, "none", "as is, then normalised",
                             "blank values get the criterion's median (flagged)"))
    seen = [c.key for c in out]
    dupes = sorted({k for k in seen if seen.count(k) > 1})
    if dupes:
        raise ParameterError(f"Selection criteria listed twice: {', '.join(dupes)}. Fix: list "
                             "each criterion once.")
    if len(out) < 2:
        raise ParameterError("Selection needs at least two criteria. Fix: switch more on under "
                             "'criteria'.")
    return out


def criteria_table(criteria: list[Criterion], weights: dict[str, float] | None = None
                   ) -> pd.DataFrame:
    """The catalogue entries in use as a table (for the report and the Excel sheet)."""
    import pandas as pd

    rows = [{"criterion": c.key, "label": c.label, "definition": c.definition,
             "direction": c.direction, "source": c.source, "column": c.column,
             "scaling": c.scaling, "repair": c.repair} for c in criteria]
    df = pd.DataFrame(rows)
    if weights is not None:
        df["weight"] = df["criterion"].map(weights).astype(float)
    return df


def _num(s: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_numeric(s, errors="coerce").astype(float)


def criterion_matrix(features: pd.DataFrame, assessments: pd.DataFrame | None,
                     criteria: list[Criterion], unassessed_fill: str = "low",
                     untransformed: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw (transformed, not yet normalised) criterion values for every account.

    Parameters
    ----------
    features : DataFrame
        The ``account_features`` table (one row per account, ``account_id`` as text).
    assessments : DataFrame or None
        The ``assessments`` table (manager x account, judged criteria 0-10).
    criteria : list of Criterion
        From :func:`resolve_criteria`.
    unassessed_fill : {"low", "median", "zero"}
        Repair for a judged criterion on an account no manager scored: ``"low"`` uses the
        criterion's lower quartile among assessed accounts (default: an account no senior
        manager knows well is unlikely to be strategic, but is not scored as worthless),
        ``"median"`` the median, ``"zero"`` a 0.
    untransformed : dict, optional
        When given, filled with each criterion's values before its transform (criterion key ->
        Series by account id): the data the scaling figure plots against the score.

    Returns
    -------
    values : DataFrame
        Index ``account_id``, one column per criterion key, no missing values.
    repairs : DataFrame
        ``account_id, criterion, repair`` for every value that was filled in or estimated.

    Raises
    ------
    InputError
        A column a criterion needs is missing from the table.
    ParameterError
        ``unassessed_fill`` is not one of the allowed repairs.
    """
    import numpy as np
    import pandas as pd

    if unassessed_fill not in UNASSESSED_FILLS:
        raise ParameterError(f"unassessed_fill must be one of {', '.join(UNASSESSED_FILLS)}, "
                             f"not {unassessed_fill!r}.")
    if "account_id" not in features.columns:
        raise InputError("account_features", "the table has no account_id column.",
                         "run the intake step first.", column="account_id")
    ids = features["account_id"].astype(str)
    feats = features.assign(account_id=ids).set_index("account_id")
    if feats.index.duplicated().any():
        dup = feats.index[feats.index.duplicated()].unique()[:5].tolist()
        raise InputError("account_features", f"account ids appear more than once ({dup}).",
                         "deduplicate the accounts table.", column="account_id")
    values = pd.DataFrame(index=feats.index)
    repairs: list[pd.DataFrame] = []

    def note(mask: pd.Series, key: str, text: str) -> None:
        if mask.any():
            repairs.append(pd.DataFrame({"account_id": mask.index[mask.to_numpy()],
                                         "criterion": key, "repair": text}))

    judged_means = None
    n_assessors = pd.Series(0, index=feats.index)
    if any(c.source == "judged" for c in criteria):
        if assessments is None or len(assessments) == 0:
            raise InputError("assessments", "judged criteria are switched on but no manager "
                             "assessed any account.", "fill in the assessments sheet or switch "
                             f"the judged criteria ({', '.join(JUDGED_CRITERIA)}) off.")
        a = assessments.assign(account_id=assessments["account_id"].astype(str))
        unknown = sorted(set(a["account_id"]) - set(feats.index))
        if unknown:
            rows = (a.index[a["account_id"].isin(unknown)] + 1).tolist()
            raise InputError("assessments", f"{len(unknown)} assessed account(s) are not in the "
                             f"accounts table ({', '.join(unknown[:5])}).",
                             "correct the account ids or add the accounts.", column="account_id",
                             rows=rows)
        judged_means = a.groupby("account_id")[[c.key for c in criteria if c.source == "judged"
                                                and c.key in a.columns]].mean()
        n_assessors = a.groupby("account_id")["manager"].nunique().reindex(feats.index,
                                                                            fill_value=0)

    for c in criteria:
        if c.source == "judged":
            if c.key not in judged_means.columns:
                raise InputError("assessments", f"there is no column for the judged criterion "
                                 f"'{c.key}'.", f"add a '{c.key}' column (0-10) or switch the "
                                 "criterion off.", column=c.key)
            col = judged_means[c.key].reindex(feats.index)
            known = col.dropna()
            if known.empty:
                raise InputError("assessments", f"no manager scored '{c.key}'.",
                                 "score it or switch the criterion off.", column=c.key)
            fill = {"low": known.quantile(0.25), "median": known.median(), "zero": 0.0}[
                unassessed_fill]
            miss = col.isna()
            note(miss, c.key, f"not assessed: set to {fill:.2f} ({unassessed_fill})")
            values[c.key] = col.fillna(fill)
            if untransformed is not None:
                untransformed[c.key] = values[c.key]
            continue
        if c.key == "cost_to_serve":
            values[c.key], reps = _cost_to_serve_ratio(feats)
            repairs.extend(reps)
            if untransformed is not None:
                untransformed[c.key] = values[c.key]
            continue
        if c.key == "loss_impact":
            col = loss_mod.loss_table(feats).table["loss_impact"]
        elif c.column not in feats.columns:
            raise InputError("account_features", f"criterion '{c.key}' needs the column "
                             f"'{c.column}', which is missing.", "add the column to the accounts "
                             "export (or switch the criterion off).", column=c.column)
        else:
            col = _num(feats[c.column])
        if untransformed is not None:
            untransformed[c.key] = col
        if c.transform == "log1p":
            col = np.log1p(col.clip(lower=0))
        elif c.transform == "log_floor":
            col = log_floor(col)
        miss = col.isna()
        if miss.all():
            raise InputError("account_features", f"criterion '{c.key}': the column "
                             f"'{c.column}' is blank for every account.", "fill it in or switch "
                             "the criterion off.", column=c.column)
        med = float(col.median())
        note(miss, c.key, f"blank {c.column}: set to the median ({med:.3g})")
        values[c.key] = col.fillna(med)
    values["n_assessors"] = n_assessors.astype(int)
    rep = (pd.concat(repairs, ignore_index=True) if repairs
           else pd.DataFrame({"account_id": pd.Series(dtype=str), "criterion": pd.Series(dtype=str),
                              "repair": pd.Series(dtype=str)}))
    return values, rep


def log_floor(col: pd.Series, quantile: float = LOG_FLOOR_QUANTILE) -> pd.Series:
    """``log(x / floor)`` with ``floor`` the ``quantile`` of the positive values; 0 at or below
    the floor (blank stays blank). The largest value gets the largest result, and the ratio
    between two accounts above the floor shows as a difference (see the module docstring)."""
    import numpy as np

    pos = col[col > 0]
    floor = float(pos.quantile(quantile)) if len(pos) else 1.0
    return np.log(col.clip(lower=floor) / floor)


def _cost_to_serve_ratio(feats: pd.DataFrame) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Cost to serve per unit of revenue, with the documented proxy for blank costs."""
    import numpy as np
    import pandas as pd

    reps: list[pd.DataFrame] = []
    cost = _num(feats["cost_to_serve"]) if "cost_to_serve" in feats else pd.Series(
        np.nan, index=feats.index)
    orders = _num(feats["n_orders_12m"]).fillna(0) if "n_orders_12m" in feats else pd.Series(
        0.0, index=feats.index)
    revenue = _num(feats["revenue_12m"]).fillna(0) if "revenue_12m" in feats else None
    if revenue is None:
        raise InputError("account_features", "cost_to_serve needs revenue_12m, which is missing.",
                         "run the intake step.", column="revenue_12m")
    miss = cost.isna()
    if miss.any():
        known = cost.notna() & (orders > 0)
        per_order = float((cost[known] / orders[known]).median()) if known.any() else 1.0
        how = (f"estimated as orders x median cost per order ({per_order:.3g})" if known.any()
               else "no cost known for any account: order count used as a relative proxy")
        cost = cost.where(~miss, orders * per_order)
        reps.append(pd.DataFrame({"account_id": feats.index[miss.to_numpy()],
                                  "criterion": "cost_to_serve", "repair": f"blank cost: {how}"}))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cost / revenue.where(revenue > 0)
    finite = ratio[np.isfinite(ratio)]
    cap = float(finite.quantile(0.99)) if len(finite) else 1.0
    no_rev = ~np.isfinite(ratio)
    if no_rev.any():
        reps.append(pd.DataFrame({"account_id": feats.index[no_rev.to_numpy()],
                                  "criterion": "cost_to_serve",
                                  "repair": "no revenue in 12 months: worst observed ratio"}))
    return ratio.where(~no_rev, cap).clip(upper=cap), reps
