"""How many key accounts, and how every other account is served.

A key-account programme is limited by the people who run it: a key account manager can look
after a handful of accounts properly, a field or inside sales rep around 40. Nominating more key
accounts than the team can serve means every one of them gets less than key treatment, and the
programme has to cut back later (as a technology company that named 200 global accounts did).
So the list length is either given, or derived from capacity; accounts outside it get a serving
model rather than silence.
"""

from __future__ import annotations

import numpy as np

from kamlib.errors import ParameterError
from kamlib.vocabulary import KEY, KEY_DEVELOPMENT, LONG_TAIL, MANAGED, TIERS
from kamlib.vocabulary import TIER_SERVING_MODELS as SERVING_MODELS

__all__ = ["KEY", "KEY_DEVELOPMENT", "MANAGED", "LONG_TAIL", "TIERS", "SERVING_MODELS",
           "TOO_MANY_KEY", "assign_tiers", "n_key_accounts"]

TOO_MANY_KEY = 50
"""Above this, the list is usually too long to give each account key treatment."""


def n_key_accounts(n_accounts: int, n_key: int = 0, n_key_account_managers: int = 5,
                   accounts_per_manager: int = 5) -> tuple[int, str]:
    """The key-list length and a sentence saying where it comes from.

    ``n_key > 0`` is used as given (more than ``n_accounts`` is a ParameterError naming
    ``n_key_accounts``); ``0`` derives it from capacity (managers x accounts each), capped at
    the number of accounts.
    """
    if n_key < 0:
        raise ParameterError("n_key_accounts must be 0 (derive from capacity) or positive.")
    if n_key == 0:
        if n_key_account_managers < 1 or accounts_per_manager < 1:
            raise ParameterError("n_key_account_managers and accounts_per_manager must be at "
                                 "least 1 when n_key_accounts is 0.")
        n = n_key_account_managers * accounts_per_manager
        why = (f"capacity: {n_key_account_managers} key account managers x "
               f"{accounts_per_manager} accounts each = {n}")
    elif n_key > n_accounts:
        raise ParameterError(
            f"Parameter 'n_key_accounts' of 10_selection is {n_key}, but the portfolio has only "
            f"{n_accounts} accounts. Fix: set selection.n_key_accounts to a value from 1 to "
            f"{n_accounts}, or to 0 to derive it from capacity (managers x accounts each).")
    else:
        n, why = n_key, f"set by parameter n_key_accounts = {n_key}"
    if n > n_accounts:
        n, why = n_accounts, why + f", capped at the {n_accounts} accounts"
    if n > TOO_MANY_KEY:
        why += (f"; note: more than {TOO_MANY_KEY} key accounts is usually more than a "
                "programme can serve as key")
    return n, why


def assign_tiers(rank: np.ndarray, p_key: np.ndarray, n_key: int, n_development: int,
                 n_managed: int, borderline: float = 0.1,
                 is_key: np.ndarray | None = None) -> np.ndarray:
    """Tier of every account.

    ``key``: the top ``n_key`` by score, or the accounts ``is_key`` marks (the list after
    management's overrides). ``key-development``: the next ``n_development`` by
    rank, plus any non-key account with P(key) >= ``borderline`` (it makes the list under
    plausible weights, so it deserves a plan); an account that is not key although its rank is
    within the list (excluded, or made room for an inclusion) is key-development too.
    ``managed``: the next ``n_managed`` by rank (rep capacity). ``long-tail``: everybody else.
    """
    r = np.asarray(rank)
    p = np.asarray(p_key, dtype=float)
    tier = np.full(r.shape, LONG_TAIL, dtype=object)
    tier[r <= n_key + n_development + n_managed] = MANAGED
    tier[(r <= n_key + n_development) | (p >= borderline)] = KEY_DEVELOPMENT
    key = r <= n_key if is_key is None else np.asarray(is_key, dtype=bool)
    tier[key] = KEY
    return tier.astype(str)
