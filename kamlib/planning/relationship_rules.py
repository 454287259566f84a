"""The thresholds of the relationship rules: :class:`RelationshipRules`.

Apart from :mod:`kamlib.planning.relationship` so that the stage and shape reasoning
(:mod:`kamlib.planning.stages`) can use them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kamlib.errors import ParameterError
from kamlib.vocabulary import FIVE_P


@dataclass(frozen=True)
class RelationshipRules:
    """Thresholds of the relationship rules (all documented in ``docs/planning.md``).

    Parameters
    ----------
    stale_days : int
        A contact not touched for more than this many days (or never) is stale.
    cover_strength : int
        A DMU role is covered when a contact holding it has at least this relationship
        strength (0-5); weaker contacts count as "known, thin".
    link_strength : int
        A contact is a *link* (a real thread of the relationship) when its strength is at
        least this and it is not stale.
    champion_attitude : int
        Attitude (-5..+5) from which a contact counts as a champion.
    hostile_attitude : int
        Attitude at or below which a contact counts as hostile.
    high_power : int
        Power (1-5) from which a hostile contact is a red flag even when not the decider.
    diamond_functions : int
        Links in at least this many functions, held by at least two of our people, make a
        diamond; anything less is a bow-tie.
    integrated_functions : int
        Links in at least this many functions are needed for the integrated stage.
    integrated_wallet_share : float
        Share of the account's wallet we must hold for the integrated stage.
    five_p : tuple of str
        Display names of the five 5P dimensions, in the order Position, Power, Priorities,
        Perception, Proximity.
    """

    stale_days: int = 90
    cover_strength: int = 2
    link_strength: int = 3
    champion_attitude: int = 4
    hostile_attitude: int = -2
    high_power: int = 4
    diamond_functions: int = 3
    integrated_functions: int = 4
    integrated_wallet_share: float = 0.5
    five_p: tuple[str, ...] = field(default=FIVE_P)

    def __post_init__(self) -> None:
        if len(self.five_p) != 5:
            raise ParameterError(
                f"five_p needs exactly five names (Position, Power, Priorities, Perception, "
                f"Proximity in that order), got {len(self.five_p)}: {list(self.five_p)}.")
        if self.hostile_attitude >= self.champion_attitude:
            raise ParameterError("hostile_attitude must be below champion_attitude.")
