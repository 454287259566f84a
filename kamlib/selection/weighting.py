"""Where the criteria's weights come from: the managers' pairwise comparisons (AHP), weights
given directly, or equal weights.

:func:`criterion_weights` gives the agreed (group) weights, the long weights table the step
saves and, for AHP, every manager's own weights (the robustness analysis draws around them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import InputError, ParameterError
from kamlib.selection import ahp as ahp_mod
from kamlib.selection import mcda

if TYPE_CHECKING:
    import pandas as pd

WEIGHT_METHODS = ("ahp", "direct", "equal")


@dataclass
class Weighting:
    """The weights of the criteria in use, and how they were found.

    Attributes
    ----------
    weights : ndarray
        The agreed (group) weight of each criterion, in the order of the criteria; sums to 1.
    table : DataFrame
        ``criterion, manager, weight, label`` (long); manager ``"group"`` holds the agreed ones.
    managers : ndarray or None
        Manager x criterion weights (AHP only).
    ahp : AHPResult or None
        The AHP fit, with its consistency tables (AHP only).
    notes : list of str
        What the reader should know (managers with CR above 0.10).
    """

    weights: np.ndarray
    table: pd.DataFrame
    managers: np.ndarray | None = None
    ahp: ahp_mod.AHPResult | None = None
    notes: list[str] = field(default_factory=list)

    def by_criterion(self, keys: list[str]) -> dict[str, float]:
        """The agreed weights by criterion key."""
        return dict(zip(keys, map(float, self.weights)))


def check_method(weights: str) -> None:
    """Refuse a weight method other than :data:`WEIGHT_METHODS`."""
    if weights not in WEIGHT_METHODS:
        raise ParameterError(f"weights must be one of {', '.join(WEIGHT_METHODS)}, not "
                             f"{weights!r}.")


def criterion_weights(keys: list[str], labels: dict[str, str], method: str,
                      direct_weights: dict[str, float] | None,
                      judgements: pd.DataFrame | None, random_index: str, ahp_missing: str,
                      exclude_inconsistent: bool) -> Weighting:
    """The weights of the criteria ``keys`` by ``method`` (see :data:`WEIGHT_METHODS`).

    Raises
    ------
    ParameterError
        AHP without comparisons; direct weights that miss a criterion, name one not in use,
        or do not sum to 1.
    InputError
        A criterion in use that no manager compared.
    """
    import pandas as pd

    check_method(method)
    if method == "ahp":
        found = _ahp_weights(keys, judgements, random_index, ahp_missing, exclude_inconsistent)
    else:
        by_key = (_direct_weights(direct_weights or {}, keys) if method == "direct"
                  else {k: 1.0 / len(keys) for k in keys})
        found = Weighting(np.array([by_key[k] for k in keys]), pd.DataFrame(
            {"criterion": keys, "manager": ahp_mod.GROUP, "weight": [by_key[k] for k in keys]}))
    found.weights = mcda.check_weights(list(found.weights), names=keys)
    found.table = found.table.assign(label=found.table["criterion"].map(labels))
    return found


def _ahp_weights(keys: list[str], judgements: pd.DataFrame | None, random_index: str,
                 ahp_missing: str, exclude_inconsistent: bool) -> Weighting:
    if judgements is None or len(judgements) == 0:
        raise ParameterError("weights is 'ahp' but there are no pairwise comparisons "
                             "(ahp_judgements). Fix: provide ahp_judgements, or set weights "
                             "to 'direct' with direct_weights, or 'equal'.")
    compared = set(judgements["criterion_a"]) | set(judgements["criterion_b"])
    uncovered = [k for k in keys if k not in compared]
    if uncovered:
        raise InputError("ahp_judgements", f"no manager compared {', '.join(uncovered)}, so "
                         "AHP cannot weight it.", "add comparisons for it, switch it off, "
                         "or use direct weights.", column="criterion_a")
    fit = ahp_mod.ahp_weights(judgements, keys, random_index, ahp_missing,
                              exclude_inconsistent=exclude_inconsistent)
    wide = fit.weights.pivot(index="manager", columns="criterion", values="weight")
    notes = []
    bad = fit.consistency.query("manager != @ahp_mod.GROUP and not consistent")
    if len(bad):
        left_out = " (left out of the group weights)" if not bad["in_group"].any() else ""
        notes.append(f"{len(bad)} manager(s) have CR > 0.10 ({', '.join(bad['manager'])})"
                     f"{left_out}: see ahp_inconsistencies for the judgements to revisit.")
    return Weighting(np.array([fit.group_weights[k] for k in keys]), fit.weights,
                     managers=wide.drop(index=ahp_mod.GROUP)[keys].to_numpy(), ahp=fit,
                     notes=notes)


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
