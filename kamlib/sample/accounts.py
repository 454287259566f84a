"""Sample accounts: who the customers are, and the hidden traits that drive their buying.

:func:`draw_accounts` returns one row per account with the contract columns of
:data:`kamlib.intake.contract.ACCOUNTS` *plus* latent columns (prefixed ``_``) that the transaction,
contact and assessment generators read: the account's true size, growth trend, purchase rate,
churn date and so on. :func:`kamlib.sample.generate_sample` drops the latent columns before
handing the table out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.sample import catalogue as cat

DAY0 = np.datetime64(cat.DATA_START, "D")
N_DAYS = int((np.datetime64(cat.DATA_END, "D") - DAY0).astype(int)) + 1

PARETO_ALPHA = 1.05
"""Tail index of account size: ~20% of accounts make ~75-80% of revenue."""
SIZE_MIN = 15_000.0
"""Annual revenue (EUR) of the smallest regular account."""
SIZE_CAP = 350.0
"""Largest account as a multiple of SIZE_MIN (keeps one giant from owning the whole sample)."""
NEW_SHARE = 0.12
"""Share of accounts won during the three years."""
CONTRACT_SHARE = 0.15
"""Share of accounts on annual contracts (renewal data for the shifted-beta-geometric model)."""
WALLET_KNOWN = 0.85
COST_TO_SERVE_KNOWN = 0.40


def _pick(rng: np.random.Generator, options, weights=None, size=None):
    w = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return rng.choice(np.asarray(options, dtype=object), p=w, size=size)


def draw_accounts(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Draw ``n`` accounts with contract columns and latent buying traits (``_``-prefixed)."""
    # The helpers below draw in a fixed order from one generator: reordering them changes
    # every sample company (and the bundled one's files).
    size, rel, order, pct = _draw_size(rng, n)
    region, country, industry = _draw_markets(rng, n)
    n_sites, n_active_sites, employees = _draw_sites(rng, n, size, rel, industry)
    life = _draw_lifecycle(rng, n, size, rel, pct)
    contract_start, contract_end = _draw_contracts(rng, life)
    size, start_day, end_day, is_new = life["size"], life["start_day"], life["end_day"], life["is_new"]

    # Trends: most accounts drift, some grow fast, some decline (per year, log scale).
    kind = rng.choice(3, n, p=[0.68, 0.17, 0.15])
    growth = np.select(
        [kind == 0, kind == 1, kind == 2],
        [rng.normal(0.03, 0.07, n), rng.normal(0.32, 0.10, n), rng.normal(-0.30, 0.10, n)],
    )

    # Buying behaviour: rate of orders, lines per order, value per line, discount.
    orders_per_year = 17.0 * rel**0.65 * rng.gamma(5.0, 1 / 5.0, n)
    lines_per_order = 1.8 * rel**0.25 * rng.gamma(6.0, 1 / 6.0, n)  # extra lines beyond the first
    discount = np.clip(0.02 + 0.05 * np.log10(rel) + rng.normal(0, 0.025, n), 0.0, 0.28)

    # Share of wallet and wallet estimate (in the sales team's round numbers).
    sow = np.clip(rng.beta(2.5, 3.0, n), 0.04, 0.95)
    revenue_now = size * np.exp(growth * 3.0)
    wallet = np.round(revenue_now / sow, -3)
    wallet[rng.random(n) > WALLET_KNOWN] = np.nan

    am = _draw_managers(rng, n, region, order, pct)
    cts = _draw_cost_to_serve(rng, n, size, n_active_sites, am)

    # Identifiers: customer numbers with gaps, as in a real ERP.
    numbers = np.sort(rng.choice(np.arange(10_000, 10_000 + 3 * n), n, replace=False))
    account_id = np.array([f"C{x}" for x in numbers], dtype=object)

    parent = _draw_groups(rng, n, pct)
    names = _draw_names(rng, industry, country, parent)
    parent_id = np.array([account_id[p] if p >= 0 else None for p in parent], dtype=object)

    def dates(a):
        return pd.Series(a).astype("datetime64[s]")

    return pd.DataFrame(
        {
            "account_id": pd.Series(account_id, dtype="str"),
            "name": pd.Series(names, dtype="str"),
            "industry": pd.Series(industry, dtype="str"),
            "region": pd.Series(region, dtype="str"),
            "country": pd.Series(country, dtype="str"),
            "n_sites": n_sites.astype("int64"),
            "parent_id": pd.Series(parent_id, dtype="str"),
            "employees": employees.astype("int64"),
            "wallet": wallet,
            "relationship_start": dates(life["rel_start"]),
            "account_manager": pd.Series(am, dtype="str"),
            "cost_to_serve": cts,
            "contract_start": dates(contract_start),
            "contract_end": dates(contract_end),
            # latent traits
            "_size": size,
            "_rel": rel,
            "_pct": pct,
            "_growth": growth,
            "_orders_per_year": orders_per_year,
            "_lines_per_order": lines_per_order,
            "_discount": discount,
            "_start_day": start_day,
            "_end_day": end_day,
            "_n_active_sites": n_active_sites,
            "_is_new": is_new,
            "_is_contract": life["is_contract"],
            "_sow": sow,
        }
    )


def _draw_size(rng: np.random.Generator, n: int):
    """Size, size relative to the smallest account, largest-first order and size percentile."""
    # Stratified Pareto quantiles, so the concentration of revenue is stable across seeds
    # and sample sizes (plain draws let one lucky giant swing the Pareto share by 10 points).
    u = (rng.permutation(n) + rng.random(n)) / n
    rel = np.minimum((1.0 - u) ** (-1.0 / PARETO_ALPHA), SIZE_CAP)
    size = SIZE_MIN * rel
    order = np.argsort(-size, kind="stable")
    size_rank = np.empty(n, int)
    size_rank[order] = np.arange(n)  # 0 = largest
    pct = 1.0 - size_rank / max(n - 1, 1)  # 1 = largest
    return size, rel, order, pct


def _draw_markets(rng: np.random.Generator, n: int):
    """Region, country and industry of each account."""
    regions = list(cat.REGIONS)
    region = _pick(rng, regions, [cat.REGIONS[r][2] for r in regions], n)
    country = np.empty(n, dtype=object)
    for r in regions:
        mask = region == r
        countries, weights, _ = cat.REGIONS[r]
        country[mask] = _pick(rng, countries, weights, int(mask.sum()))
    industries = list(cat.INDUSTRIES)
    industry = _pick(rng, industries, [cat.INDUSTRIES[i][0] for i in industries], n)
    return region, country, industry


def _draw_sites(rng: np.random.Generator, n: int, size, rel, industry):
    """Sites, sites buying from us, and employees."""
    # Bigger accounts run more plants/branches; networks (logistics, public, building) more.
    networked = np.isin(industry, ["Logistics & Warehousing", "Public Sector & Healthcare", "Construction", "Food & Beverage"])
    log_sites = 0.5 * np.log(rel) + rng.normal(0, 0.55, n) + 0.45 * networked
    n_sites = np.clip(np.round(np.exp(log_sites)), 1, 40).astype(int)
    n_active_sites = np.maximum(1, np.round(n_sites * rng.beta(3, 2, n))).astype(int)
    employees = np.maximum(5, np.round(size / np.exp(rng.normal(np.log(700), 0.6, n)))).astype(int)
    return n_sites, n_active_sites, employees


def _draw_lifecycle(rng: np.random.Generator, n: int, size, rel, pct) -> dict[str, np.ndarray]:
    """New accounts, contracts, prospects, relationship start and (non-contract) churn."""
    is_new = rng.random(n) < NEW_SHARE
    prefer = pct**1.5 + 0.05
    n_contract = int(round(CONTRACT_SHARE * n))
    is_contract = np.zeros(n, bool)
    is_contract[rng.choice(n, n_contract, replace=False, p=prefer / prefer.sum())] = True

    start_day = np.zeros(n, int)
    start_day[is_new] = rng.integers(20, N_DAYS - 25, int(is_new.sum()))
    size = np.where(is_new, size * 0.6, size)
    # A few accounts signed in the last weeks have not ordered yet.
    n_prospects = max(1, n // 200)
    candidates = np.flatnonzero(is_new & ~is_contract)
    if len(candidates) < n_prospects:  # tiny samples: make one of the small accounts new
        candidates = np.flatnonzero(~is_contract)
    prospects = rng.choice(candidates, n_prospects, replace=False)
    is_new[prospects] = True
    start_day[prospects] = N_DAYS - rng.integers(3, 20, n_prospects)

    years_before = np.minimum(rng.gamma(2.0, 3.2, n) + 0.6 * np.log(rel), 32)
    rel_start = DAY0 - np.round(years_before * 365.25).astype(int).astype("timedelta64[D]")
    rel_start = np.where(is_new, DAY0 + (start_day - rng.integers(0, 15, n)).astype("timedelta64[D]"), rel_start)

    # Non-contract churn: exponential lifetime from the window start (or the first order),
    # hazard higher for small accounts.
    hazard = rng.gamma(0.8, 0.10, n) * rel ** -0.3  # per year
    lifetime_days = rng.exponential(1.0, n) / np.maximum(hazard, 1e-6) * 365.25
    end_day = np.minimum(start_day + lifetime_days, N_DAYS).astype(int)
    end_day[prospects] = N_DAYS
    return {"size": size, "is_new": is_new, "is_contract": is_contract, "start_day": start_day,
            "rel_start": rel_start, "end_day": end_day}


def _draw_contracts(rng: np.random.Generator, life: dict[str, np.ndarray]):
    """Contract start and end; moves the contract accounts' relationship start and churn day.

    Annual terms renewed on the anniversary; churn probability theta per account drawn from a
    beta distribution (the shifted-beta-geometric story of Fader & Hardie).
    """
    is_new, is_contract, rel_start = life["is_new"], life["is_contract"], life["rel_start"]
    start_day, end_day = life["start_day"], life["end_day"]
    n = len(is_new)
    contract_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    contract_end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    theta = rng.beta(0.9, 3.5, n)
    first_start = np.where(
        is_new,
        rel_start,
        np.datetime64("2018-01-02") + rng.integers(0, int((DAY0 - np.datetime64("2018-01-02")).astype(int)), n).astype("timedelta64[D]"),
    ).astype("datetime64[D]")
    data_end = np.datetime64(cat.DATA_END, "D")
    for i in np.flatnonzero(is_contract):
        start = pd.Timestamp(first_start[i])
        rel_start[i] = first_start[i]
        k = 1
        churned = False
        while True:
            anniversary = start + pd.DateOffset(years=k)
            if anniversary > pd.Timestamp(data_end):
                break
            if rng.random() < theta[i]:
                churned = True
                break
            k += 1
        contract_start[i] = np.datetime64((start + pd.DateOffset(years=k - 1)).date(), "D")
        if churned:
            last = np.datetime64((start + pd.DateOffset(years=k)).date(), "D") - np.timedelta64(1, "D")
            contract_end[i] = last
            end_day[i] = int((last - DAY0).astype(int)) + 1
        else:
            end_day[i] = N_DAYS
        if not is_new[i]:
            start_day[i] = 0
    life["end_day"] = np.clip(end_day, 0, N_DAYS)
    return contract_start, contract_end


def _draw_managers(rng: np.random.Generator, n: int, region, order, pct) -> np.ndarray:
    """Account managers: the largest accounts belong to the global key account manager,
    the rest to the regional AM; a slice of the small tail has nobody."""
    am = np.empty(n, dtype=object)
    global_kam = next(a for a, r in cat.ACCOUNT_MANAGERS.items() if len(r) > 1)
    for r in cat.REGIONS:
        ams = [a for a, rr in cat.ACCOUNT_MANAGERS.items() if rr == (r,)]
        mask = np.flatnonzero(region == r)
        am[mask] = _pick(rng, ams, None, len(mask))
    n_global = max(1, int(round(0.025 * n)))
    am[order[:n_global]] = global_kam
    orphan = (pct < 0.45) & (rng.random(n) < 0.3)
    am[orphan] = None
    return am


def _draw_cost_to_serve(rng: np.random.Generator, n: int, size, n_active_sites, am) -> np.ndarray:
    """Cost to serve: known where the controller ran a cost-to-serve study."""
    cts = (1_500 + 900 * n_active_sites + 0.05 * size * np.exp(rng.normal(0, 0.45, n)))
    cts *= np.where(rng.random(n) < 0.12, 2.6, 1.0)  # high-touch accounts: VMI, special reporting
    cts = np.round(cts, -2)
    cts[(rng.random(n) > COST_TO_SERVE_KNOWN) | (am == None)] = np.nan  # noqa: E711
    return cts


def calibrate_wallet(accounts: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Keep wallet estimates above what the account actually bought from us in its best year.

    The sales team's estimate is rough, but a share of wallet above 100% would read as a data
    error rather than as the rough estimate it is.
    """
    days = lines["_day"].to_numpy()
    year = np.minimum(days // 365, 2)
    best = (
        pd.DataFrame({"a": lines["account_id"].to_numpy(), "y": year, "r": lines["net_revenue"].to_numpy()})
        .groupby(["a", "y"])["r"].sum().groupby(level="a").max()
    )
    floor = np.round(best.reindex(accounts["account_id"]).fillna(0.0).to_numpy() / 0.9, -3)
    out = accounts.copy()
    out["wallet"] = np.where(out["wallet"].notna(), np.maximum(out["wallet"], floor), np.nan)
    return out


def _draw_groups(rng: np.random.Generator, n: int, pct: np.ndarray) -> np.ndarray:
    """Index of each account's group head, -1 if none. Heads are larger accounts."""
    parent = np.full(n, -1)
    n_groups = max(2, int(round(0.03 * n)))
    big = np.flatnonzero(pct > 0.6)
    heads = rng.choice(big, min(n_groups, len(big)), replace=False)
    free = np.setdiff1d(np.arange(n), heads)
    rng.shuffle(free)
    pos = 0
    for h in heads:
        k = int(rng.integers(1, 5))
        members = free[pos : pos + k]
        pos += k
        parent[members] = h
    return parent


def _draw_names(rng, industry, country, parent) -> list[str]:
    n = len(industry)
    stems = np.empty(n, dtype=object)
    taken: set[str] = set()
    names: list[str | None] = [None] * n
    # heads first, so members can borrow their stem
    order = sorted(range(n), key=lambda i: parent[i] >= 0)
    for i in order:
        descriptors = cat.INDUSTRIES[industry[i]][1]
        forms = ("",) if industry[i] in cat.NO_LEGAL_FORM else cat.LEGAL_FORMS[country[i]]
        for attempt in range(200):
            stem = stems[parent[i]] if parent[i] >= 0 and attempt < 20 else str(rng.choice(cat.COMPANY_STEMS))
            name = f"{stem} {rng.choice(descriptors)} {rng.choice(forms)}".strip()
            if attempt >= 100:
                name = f"{stem} {rng.choice(descriptors)} {country[i]} {rng.choice(forms)}".strip()
            if name not in taken:
                break
        else:  # pragma: no cover - only for absurd n with tiny name pools
            name = f"{name} ({i})"
        stems[i] = stem
        taken.add(name)
        names[i] = name
    return names  # type: ignore[return-value]
