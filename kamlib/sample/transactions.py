"""Sample invoice lines: three years of repeat buying, returns, and a few planted data problems.

The buying process, per account: orders arrive as a Poisson process whose rate follows the
season, the account's own growth or decline, a ramp-up for newly won accounts, and stops when
the account churns (or its contract ends). This is the world the BG/NBD and Pareto/NBD models
assume, with the realistic wrinkles (seasonality, trends) a consultant meets in real exports.
Everything is drawn with numpy in a handful of vectorised steps: no loop over lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.sample import catalogue as cat
from kamlib.sample.accounts import DAY0, N_DAYS

ZERO_VALUE_SHARE = 0.004
"""Share of lines delivered free of charge (samples, warranty replacements)."""
FAVOURITE_SHARE = 0.7
"""Share of lines an account spends on its own regular products (accounts rebuy the same SKUs)."""


def draw_products(rng: np.random.Generator) -> pd.DataFrame:
    """The product range: ~200 SKUs in 12 categories, each with list price, unit cost, popularity."""
    rows = []
    for c in cat.CATEGORIES:
        k = c.n_products
        price = np.round(c.median_price * np.exp(rng.normal(0, 0.75, k)), 2)
        margin = np.clip(c.margin + rng.normal(0, 0.05, k), 0.08, 0.7)
        popularity = 1.0 / np.arange(1, k + 1) ** 0.9
        numbers = np.sort(rng.choice(np.arange(100, 1000), k, replace=False))
        for j in range(k):
            rows.append((f"{c.code}-{numbers[j]}", c.name, c.code, price[j], round(price[j] * (1 - margin[j]), 2), popularity[j]))
    products = pd.DataFrame(rows, columns=["product_id", "category", "code", "list_price", "unit_cost", "popularity"])
    # popularity is relative within the category
    products["popularity"] = products["popularity"] / products.groupby("code")["popularity"].transform("sum")
    return products


def draw_categorical(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each entry of ``rows``, draw a column index of ``weights[row]`` with probability
    proportional to the weights (rows need not be normalised; zero rows are never asked for).

    One ``searchsorted`` over the row-offset cumulative sums: row ``r``'s cumulative
    distribution lives in ``[r, r + 1]``.
    """
    n, k = weights.shape
    total = weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights / np.where(total > 0, total, 1.0), axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(n)[:, None]).ravel()
    x = rows + rng.random(len(rows))
    pos = np.searchsorted(flat, x, side="right")
    return np.clip(pos - rows * k, 0, k - 1)


def _calendar() -> tuple[np.ndarray, np.ndarray]:
    """Dates of the window and their relative invoicing intensity (mean 1 over all days)."""
    days = DAY0 + np.arange(N_DAYS).astype("timedelta64[D]")
    idx = pd.DatetimeIndex(days)
    season = np.asarray(cat.MONTH_SEASONALITY)[idx.month - 1]
    weekday = np.select([idx.day_of_week < 5, idx.day_of_week == 5], [1.0, 0.03], 0.0)
    holiday = np.zeros(N_DAYS, bool)
    for m, d in cat.HOLIDAYS_MD:
        holiday |= (idx.month == m) & (idx.day == d)
    base = season * weekday * ~holiday
    return days, base / base.mean()


def draw_transactions(rng: np.random.Generator, accounts: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Invoice lines (contract columns) for ``accounts`` (with latent columns) over the window."""
    # The helpers draw in a fixed order from one generator: reordering them changes every
    # sample company (and the bundled one's files).
    days, _ = _calendar()
    o_acc, o_day, o_site = _draw_orders(rng, accounts)

    # Lines: how many per order, which products.
    n_lines = 1 + rng.poisson(accounts["_lines_per_order"].to_numpy()[o_acc])
    l_inv = np.repeat(np.arange(len(o_acc)), n_lines)
    l_acc = o_acc[l_inv]
    l_day = o_day[l_inv]
    first = np.r_[0, np.cumsum(n_lines)[:-1]]
    l_no = np.arange(len(l_inv)) - first[l_inv] + 1
    l_prod, prod_cat = _draw_products(rng, accounts, products, l_acc)

    # Quantities and values. Prices rise ~3% every January, costs a little faster.
    year_offset = (pd.DatetimeIndex(days).year.to_numpy() - 2023)[l_day]
    discount = accounts["_discount"].to_numpy()[l_acc]
    unit_price = products["list_price"].to_numpy()[l_prod] * (1 - discount) * 1.03**year_offset
    unit_cost = products["unit_cost"].to_numpy()[l_prod] * 1.035**year_offset
    rate = accounts["_orders_per_year"].to_numpy()
    line_target = (accounts["_size"] / (rate * (1 + accounts["_lines_per_order"]))).to_numpy()[l_acc]
    qty = np.maximum(1.0, np.round(line_target * rng.lognormal(-0.245, 0.7, len(l_inv)) / unit_price))
    revenue = np.round(qty * unit_price, 2)
    cost = np.round(qty * unit_cost, 2)
    revenue[rng.random(len(l_inv)) < ZERO_VALUE_SHARE] = 0.0

    n = len(accounts)
    account_id = accounts["account_id"].to_numpy(dtype=object)
    site_of = np.array([f"{a}-S{k + 1:02d}" for a in account_id for k in range(40)], dtype=object).reshape(n, 40)
    inv_ids = np.array([f"INV{4_100_001 + i}" for i in range(len(o_acc))], dtype=object)
    pid = products["product_id"].to_numpy(dtype=object)
    pcat = products["category"].to_numpy(dtype=object)
    sales = pd.DataFrame(
        {
            "account_id": account_id[l_acc],
            "invoice_id": inv_ids[l_inv],
            "line_no": l_no,
            "_day": l_day,
            "product_id": pid[l_prod],
            "category": pcat[l_prod],
            "quantity": qty,
            "net_revenue": revenue,
            "cost": cost,
            "site_id": site_of[l_acc, o_site[l_inv]],
            "_kind": 0,
            "_seq": l_inv,
        }
    )
    credits = _draw_credit_notes(rng, accounts, sales, prod_cat[l_prod], l_acc, l_day,
                                 o_site[l_inv], unit_price, unit_cost)
    lines = pd.concat([sales, credits], ignore_index=True)
    lines = lines.sort_values(["_day", "_kind", "_seq", "line_no"], kind="stable", ignore_index=True)
    lines["date"] = days[lines["_day"].to_numpy()]
    return lines


def _draw_orders(rng: np.random.Generator, accounts: pd.DataFrame):
    """Orders: the account, day and site of each, sorted by day, account and site."""
    n = len(accounts)
    _, base = _calendar()
    t = np.arange(N_DAYS)
    start = accounts["_start_day"].to_numpy()[:, None]
    end = accounts["_end_day"].to_numpy()[:, None]
    growth = accounts["_growth"].to_numpy()[:, None]
    alive = (t >= start) & (t < end)
    ramp = np.where(accounts["_is_new"].to_numpy()[:, None], 1 - np.exp(-np.maximum(t - start, 0) / 45.0), 1.0)
    intensity = base * np.exp(growth * t / 365.25) * ramp * alive

    rate = accounts["_orders_per_year"].to_numpy()
    expected = rate / 365.25 * intensity.sum(axis=1)
    n_orders = rng.poisson(expected)
    o_acc = np.repeat(np.arange(n), n_orders)
    o_day = draw_categorical(rng, intensity, o_acc)
    n_active = accounts["_n_active_sites"].to_numpy()
    o_site = np.floor(n_active[o_acc] * rng.random(len(o_acc)) ** 1.8).astype(int)  # main site buys most
    order = np.lexsort((o_site, o_acc, o_day))
    return o_acc[order], o_day[order], o_site[order]


def _draw_products(rng: np.random.Generator, accounts: pd.DataFrame, products: pd.DataFrame, l_acc):
    """The product of each line, and each product's category index."""
    n = len(accounts)
    codes = [c.code for c in cat.CATEGORIES]
    industry = accounts["industry"].to_numpy()
    affinity = np.array([[cat.INDUSTRY_CATEGORY_AFFINITY[ind].get(c, 1.0) for c in codes] for ind in industry])
    # Small accounts buy from few categories, large ones from most (Dirichlet concentration).
    conc = 0.25 + 2.0 * accounts["_pct"].to_numpy()[:, None]
    cat_mix = rng.gamma(conc * affinity / affinity.mean(axis=1, keepdims=True)) + 1e-12

    code_index = {c: k for k, c in enumerate(codes)}
    prod_cat = np.array([code_index[c] for c in products["code"].to_numpy()])
    # account x product weights = category mix x product popularity within the category
    acc_prod = cat_mix[:, prod_cat] * products["popularity"].to_numpy()[None, :]
    # Each account has its own regulars: a handful of SKUs it reorders again and again.
    n_fav = np.clip(np.round(3 + 40 * accounts["_pct"].to_numpy() ** 2), 3, 45).astype(int)
    fav = draw_categorical(rng, acc_prod, np.repeat(np.arange(n), 45)).reshape(n, 45)
    use_fav = rng.random(len(l_acc)) < FAVOURITE_SHARE
    pick = np.floor(rng.random(len(l_acc)) * n_fav[l_acc]).astype(int)
    l_prod = np.where(use_fav, fav[l_acc, pick], draw_categorical(rng, acc_prod, l_acc))
    return l_prod, prod_cat


def _draw_credit_notes(rng: np.random.Generator, accounts: pd.DataFrame, sales: pd.DataFrame,
                       line_cat, l_acc, l_day, l_site, unit_price, unit_cost) -> pd.DataFrame:
    """Returns: a share of lines comes back 1-8 weeks later as a credit note."""
    revenue, qty = sales["net_revenue"].to_numpy(), sales["quantity"].to_numpy()
    ret_rate = np.array([c.return_rate for c in cat.CATEGORIES])[line_cat]
    returned = np.flatnonzero((rng.random(len(sales)) < ret_rate) & (revenue > 0))
    r_day = l_day[returned] + rng.integers(5, 60, len(returned))
    r_day = r_day + np.select([r_day % 7 == 0, r_day % 7 == 1], [2, 1], 0)  # DAY0 is a Saturday: skip weekends
    # (no credit notes after the export was cut, nor after the account left)
    keep = r_day < np.minimum(N_DAYS, accounts["_end_day"].to_numpy()[l_acc[returned]])
    returned, r_day = returned[keep], r_day[keep]
    r_qty = -np.maximum(1.0, np.round(qty[returned] * rng.beta(1.5, 2.5, len(returned))))
    r_acc = l_acc[returned]
    r_site = l_site[returned]
    r_order = np.lexsort((returned, r_site, r_acc, r_day))
    returned, r_day, r_qty, r_acc, r_site = (x[r_order] for x in (returned, r_day, r_qty, r_acc, r_site))
    # one credit note per account, site and day
    new_note = np.r_[True, (r_day[1:] != r_day[:-1]) | (r_acc[1:] != r_acc[:-1]) | (r_site[1:] != r_site[:-1])]
    note = np.cumsum(new_note) - 1
    note_first = np.flatnonzero(new_note)
    r_no = np.arange(len(returned)) - note_first[note] + 1
    cn_ids = np.array([f"CN{700_001 + i}" for i in range(int(note[-1]) + 1 if len(note) else 0)], dtype=object)
    account_id = accounts["account_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "account_id": account_id[r_acc],
            "invoice_id": cn_ids[note],
            "line_no": r_no,
            "_day": r_day,
            "product_id": sales["product_id"].to_numpy()[returned],
            "category": sales["category"].to_numpy()[returned],
            "quantity": r_qty,
            "net_revenue": -np.round(-r_qty * unit_price[returned], 2),
            "cost": -np.round(-r_qty * unit_cost[returned], 2),
            "site_id": sales["site_id"].to_numpy()[returned],
            "_kind": 1,
            "_seq": note,
        }
    )


def plant_problems(rng: np.random.Generator, lines: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Add the deliberate data problems documented in docs/sample.md.

    * two invoices (10 lines) for an account that is not in the accounts table,
    * 5 lines exported twice (exact duplicates),
    * one 3-line invoice dated 2062 instead of 2026 (a future date),
    * one 3-line invoice whose date is missing.
    """
    lines = lines.copy()
    lines["_key"] = np.arange(len(lines), dtype=float)
    n_lines_of = lines.groupby("invoice_id")["line_no"].transform("max")
    regular = lines["invoice_id"].str.startswith("INV")
    last_day = N_DAYS - 1

    def pick_invoice(when: pd.Series, exclude: str = "") -> str:
        """A 3-line invoice dated ``when`` (falling back to any 3-line, then any invoice)."""
        first_line = regular & (lines["line_no"] == 1) & (lines["invoice_id"] != exclude)
        for mask in (first_line & (n_lines_of == 3) & when, first_line & (n_lines_of == 3), first_line):
            rows = np.flatnonzero(mask)
            if len(rows):
                return str(lines.at[int(rng.choice(rows)), "invoice_id"])
        raise ValueError("the sample has no invoices to plant problems in")  # pragma: no cover

    # Future date: a typo in the year of an invoice from the last month.
    inv_future = pick_invoice(lines["_day"] > last_day - 30)
    # Missing date: an invoice from the middle of the window lost its date in the export.
    inv_missing = pick_invoice(lines["_day"].between(400, 700), exclude=inv_future)

    # Unknown account: billed in the ERP but never set up in the CRM.
    numbers = accounts["account_id"].str[1:].astype(int)
    unknown = f"C{int(numbers.max()) + 7}"
    template = lines[regular & (lines["_day"] > last_day - 20)]
    if len(template) < 6:
        template = lines[regular]
    extra = []
    next_inv = int(lines.loc[regular, "invoice_id"].str[3:].astype(int).max()) + 1
    for k, size in enumerate((6, 4)):
        rows = template.sample(size, random_state=rng, replace=len(template) < size).copy()
        rows["account_id"] = unknown
        rows["invoice_id"] = f"INV{next_inv + k}"
        rows["line_no"] = np.arange(1, size + 1)
        rows["site_id"] = f"{unknown}-S01"
        rows["_day"] = int(rows["_day"].max())
        rows["_key"] = float(rows.index.max()) + 0.5 + k * 0.01
        extra.append(rows)

    # Duplicates: the same line twice, right after the original.
    dup_idx = rng.choice(np.flatnonzero(regular & ~lines["invoice_id"].isin([inv_future, inv_missing])), 5, replace=False)
    dups = lines.iloc[dup_idx].copy()
    dups["_key"] = dups["_key"] + 0.001

    lines = pd.concat([lines, *extra, dups], ignore_index=True)
    lines = lines.sort_values("_key", kind="stable", ignore_index=True)
    lines["date"] = DAY0 + lines["_day"].to_numpy().astype("timedelta64[D]")
    future = lines["invoice_id"] == inv_future
    lines.loc[future, "date"] = lines.loc[future, "date"] + pd.DateOffset(years=36)  # 2026 -> 2062
    lines.loc[lines["invoice_id"] == inv_missing, "date"] = pd.NaT
    return lines.drop(columns=["_key"])


def finish(lines: pd.DataFrame) -> pd.DataFrame:
    """Contract columns and types, in contract order."""
    out = pd.DataFrame(
        {
            "account_id": lines["account_id"].astype("str"),
            "invoice_id": lines["invoice_id"].astype("str"),
            "line_no": lines["line_no"].astype("int64"),
            "date": pd.to_datetime(lines["date"]).astype("datetime64[s]"),
            "product_id": lines["product_id"].astype("str"),
            "category": lines["category"].astype("str"),
            "quantity": lines["quantity"].astype("float64"),
            "net_revenue": lines["net_revenue"].astype("float64"),
            "cost": lines["cost"].astype("float64"),
            "margin": np.round(lines["net_revenue"] - lines["cost"], 2).astype("float64"),
            "site_id": lines["site_id"].astype("str"),
            "currency": cat.CURRENCY,
        }
    )
    out["currency"] = out["currency"].astype("str")
    return out
