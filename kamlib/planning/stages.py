"""The relationship's shape (bow-tie or diamond) and stage (exploratory .. integrated), each
with the reason in words, as :func:`kamlib.planning.relationship.relationship_summary` states
them. The rules are in ``docs/planning.md``.
"""

from __future__ import annotations

from kamlib.planning._common import nz
from kamlib.planning.relationship_rules import RelationshipRules
from kamlib.vocabulary import BASIC, COOPERATIVE, DIAMOND, EXPLORATORY, INTEGRATED, INTERDEPENDENT
from kamlib.formatting import share as fmt_share


def _n(k: int, word: str, many: str | None = None) -> str:
    """``_n(1, "contact")`` -> '1 contact', ``_n(3, "contact")`` -> '3 contacts'."""
    return f"{k} {word if k == 1 else (many or word + 's')}"


def _live(rules: RelationshipRules) -> str:
    """What a live link is, in words (said once per sentence that relies on it)."""
    return f"strength {rules.link_strength}+/5 and contacted in the last {rules.stale_days} days"


def shape_reason(g: list[dict], links: list[dict], lf: list[str], owners: list[str],
                  rules: RelationshipRules) -> str:
    """Why the account is a diamond or a bow-tie, starting from who we know.

    Says how many contacts in how many functions we know, how many of them are live links
    (and, when none is, why not: too weak or not touched recently), and what a diamond still
    needs. Counts alone ("0 functions linked by 0 people") read as "we know nobody" when the
    account team knows five people who have simply gone cold.
    """
    funcs = sorted({c["function"] for c in g})
    known = f"we know {_n(len(g), 'contact')} in {_n(len(funcs), 'function')}"
    need = (f"a diamond needs live links in {rules.diamond_functions}+ functions "
            f"held by 2+ of our people")
    if not links:
        strong = [c for c in g if nz(c["relationship_strength"]) >= rules.link_strength]
        if strong:
            why = (f"{_n(len(strong), 'contact is', 'contacts are')} strong enough but "
                   f"{'was' if len(strong) == 1 else 'were'} last contacted more than "
                   f"{rules.stale_days} days ago (or never)")
        else:
            why = f"nobody is known at strength {rules.link_strength}+/5"
        return f"{known}, but none is a live link ({_live(rules)}): {why}; {need}"
    if not owners:
        held = "with no owner on our side recorded"
    elif len(owners) <= 3:
        held = "held by " + (owners[0] if len(owners) == 1
                             else ", ".join(owners[:-1]) + " and " + owners[-1])
    else:
        held = f"held by {len(owners)} of our people"
    live = (f"{known}; {_n(len(links), 'is a live link', 'are live links')} ({_live(rules)}) "
            f"in {_n(len(lf), 'function')} ({', '.join(lf)}) {held}")
    if len(lf) >= rules.diamond_functions and len(owners) >= 2:
        return live
    short = []
    if len(lf) < rules.diamond_functions:
        short.append(f"live links in {rules.diamond_functions}+ functions")
    if len(owners) < 2:
        short.append("a second person on our side holding some of them" if owners
                     else "owners on our side (2+ people)")
    return f"{live}; a diamond also needs " + " and ".join(short)


def stage(r: dict, revenue: float, rules: RelationshipRules) -> tuple[str, str]:
    """The account's relationship stage (exploratory .. integrated) and why, from its
    relationship summary row ``r`` and its 12-month revenue."""
    if revenue <= 0:
        if r.get("_lost", False):
            return EXPLORATORY, "no revenue in the last 12 months (it bought before): win it back"
        return EXPLORATORY, "no revenue in the last 12 months: no business yet"
    if r["n_contacts"] == 0:
        return BASIC, "business but no contacts recorded: at best transactional"
    dec = bool(r.get("_decider_linked", False))
    if r["shape"] == DIAMOND and dec:
        missing = []
        if r["n_link_functions"] < rules.integrated_functions:
            missing.append(f"live links in {rules.integrated_functions}+ functions")
        if not r.get("_senior_linked", False):
            missing.append("a director/executive as a live link")
        if not r["champions"]:
            missing.append("a champion")
        ws = r["wallet_share"]
        if ws != ws:
            missing.append("a known share of wallet (no wallet estimate)")
        elif ws < rules.integrated_wallet_share:
            missing.append(f"share of wallet {fmt_share(rules.integrated_wallet_share)}+ (now {fmt_share(ws)})")
        if not missing:
            return INTEGRATED, "diamond with the decider a live link, senior live links, a champion and a high share of wallet"
        return INTERDEPENDENT, "diamond with the decider a live link; not integrated: lacks " + ", ".join(missing)
    lf = [f for f in str(r.get("link_functions") or "").split(";") if f]
    if len(lf) >= 2:
        why = f"live links in {_n(len(lf), 'function')} ({', '.join(lf)})" + (
            "; not interdependent: the decider is not a live link" if r["shape"] == DIAMOND
            else "; not interdependent: not yet a diamond")
        return COOPERATIVE, why
    if lf:
        return BASIC, (f"transactional: live links in one function only ({lf[0]}); "
                         "cooperative needs live links in 2+ functions")
    return BASIC, ("transactional: no contact is a live link, so the business runs on orders, "
                     "not on relationships; cooperative needs live links in 2+ functions")
