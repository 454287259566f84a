"""The sample company a quarter later: consecutive snapshots of one company.

Quarter 1 is the bundled sample itself (:func:`kamlib.sample.generate_sample`). Each next
quarter adds three months of invoices and moves the people, so that rerunning the workbook
with the last run as its baseline shows a real review:

- **Invoices.** An account buys in the new quarter what it bought in the same quarter a year
  before, scaled by its own factor: most accounts move a little, some grow strongly (their
  revenue goals are met), some fall away (missed), a few stop buying. Some accounts place
  first orders in a category they did not buy (the effect of a whitespace proposal).
- **Contacts.** Some people leave, some are met again after a long silence (their
  ``last_contact`` falls in the quarter and the relationship grows stronger: the effect of a
  re-engagement), some change attitude, and some accounts get one or two new contacts in DMU
  roles nobody held (the effect of "identify and meet the ...").

Each quarter draws from its own random stream (spawned from the seed and the quarter), so
quarter 1 never changes when the later quarters are tuned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.sample import catalogue as cat

NEW_CONTACT_ROLES: tuple[str, ...] = ("decider", "influencer", "user", "initiator", "gatekeeper")


def quarter_end(quarter: int) -> pd.Timestamp:
    """Last invoice date of quarter ``quarter`` (1 = the bundled sample)."""
    return (pd.Timestamp(cat.DATA_END) + pd.offsets.MonthEnd(3 * (quarter - 1))).normalize()


def _factors(rng: np.random.Generator, ids: np.ndarray) -> pd.Series:
    """Each account's revenue in the new quarter relative to a year before."""
    f = np.exp(rng.normal(0.20, 0.25, len(ids)))  # the plans' targets assume growth
    kind = rng.random(len(ids))
    f = np.where(kind < 0.15, f * 1.6, f)                       # strong growth: goals met
    f = np.where((kind >= 0.15) & (kind < 0.30), f * 0.45, f)   # falling away: goals missed
    f = np.where((kind >= 0.30) & (kind < 0.32), 0.0, f)        # stopped buying
    return pd.Series(f, index=ids)


def _quarter_lines(rng: np.random.Generator, tx: pd.DataFrame, start: pd.Timestamp,
                   end: pd.Timestamp, quarter: int) -> pd.DataFrame:
    """The new quarter's invoice lines, copied from a year before and scaled per account."""
    date = pd.to_datetime(tx["date"])
    year_ago = tx[(date > start - pd.DateOffset(years=1)) & (date <= end - pd.DateOffset(years=1))
                  & (tx["net_revenue"] > 0) & (tx["quantity"] > 0)]
    ids = np.sort(tx["account_id"].unique())
    factor = _factors(rng, ids)
    f = year_ago["account_id"].map(factor).to_numpy(float)
    copies = np.floor(f).astype(int) + (rng.random(len(f)) < f - np.floor(f))
    lines = year_ago.loc[year_ago.index.repeat(copies)].copy()
    lines["date"] = pd.to_datetime(lines["date"]) + pd.DateOffset(years=1)
    lines = pd.concat([lines, _whitespace_orders(rng, tx, ids, start, end)], ignore_index=True)
    lines = lines.sort_values(["date", "account_id", "invoice_id", "line_no"], kind="stable")
    inv = lines["invoice_id"].astype(str) + "-" + lines["date"].dt.strftime("%Y%m%d")
    codes = pd.factorize(inv)[0]
    lines["invoice_id"] = [f"INV{quarter}Q{c + 1:06d}" for c in codes]
    lines["line_no"] = lines.groupby("invoice_id").cumcount() + 1
    return lines.reset_index(drop=True)


def _whitespace_orders(rng: np.random.Generator, tx: pd.DataFrame, ids: np.ndarray,
                       start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """First orders in a category an account did not buy in the last year (about one account
    in three), priced as another account bought it."""
    date = pd.to_datetime(tx["date"])
    last_year = tx[(date > start - pd.DateOffset(years=1)) & (date < start) & (tx["net_revenue"] > 0)]
    bought = last_year.groupby("account_id")["category"].agg(set).to_dict()
    sites = tx.groupby("account_id")["site_id"].first().to_dict()
    categories = sorted(last_year["category"].unique())
    by_cat = {c: g for c, g in last_year.groupby("category")}
    rows = []
    days = (end - start).days + 1
    for aid in ids[rng.random(len(ids)) < 0.30]:
        have = bought.get(aid, set())
        if not have:
            continue
        options = [c for c in categories if c not in have]
        if not options:
            continue
        c = options[int(rng.integers(len(options)))]
        pool = by_cat[c]
        pick = pool.iloc[rng.integers(len(pool), size=int(rng.integers(3, 9)))].copy()
        pick["account_id"] = aid
        pick["site_id"] = sites[aid]
        pick["date"] = start + pd.to_timedelta(rng.integers(0, days, size=len(pick)), unit="D")
        pick["quantity"] = pick["quantity"] * 4
        for col in ("net_revenue", "cost"):
            pick[col] = np.round(pick[col] * 4, 2)
        rows.append(pick)
    return pd.concat(rows, ignore_index=True) if rows else tx.iloc[0:0]


def _move_contacts(rng: np.random.Generator, contacts: pd.DataFrame, start: pd.Timestamp,
                   end: pd.Timestamp, quarter: int) -> pd.DataFrame:
    """People leave, are met again, change attitude; some accounts meet someone new."""
    c = contacts.copy()
    days = (end - start).days + 1
    last = pd.to_datetime(c["last_contact"])
    leave = rng.random(len(c)) < 0.05
    gone = set(c.loc[leave, "contact_id"])
    stale = (last.isna() | (last < start - pd.Timedelta(days=90))).to_numpy()
    met = ~leave & stale & (rng.random(len(c)) < 0.30)
    when = start + pd.to_timedelta(rng.integers(0, days, size=len(c)), unit="D")
    c.loc[met, "last_contact"] = when[met]
    c.loc[met, "relationship_strength"] = np.minimum(5, c.loc[met, "relationship_strength"] + 1)
    turn = ~leave & (rng.random(len(c)) < 0.10)
    c.loc[turn, "attitude"] = np.clip(c.loc[turn, "attitude"] + rng.choice([-2, -1, 1, 2], size=int(turn.sum())),
                                      -5, 5)
    c = c[~leave].copy()
    c.loc[c["reports_to"].isin(gone), "reports_to"] = np.nan
    new = _new_contacts(rng, c, start, days, quarter)
    out = pd.concat([c, new], ignore_index=True)
    out["last_contact"] = pd.to_datetime(out["last_contact"]).astype(contacts["last_contact"].dtype)
    for col in contacts.columns:
        if col != "last_contact":
            out[col] = out[col].astype(contacts[col].dtype)
    return out.reset_index(drop=True)


def _new_contacts(rng: np.random.Generator, c: pd.DataFrame, start: pd.Timestamp, days: int,
                  quarter: int) -> pd.DataFrame:
    """New people at about one account in four: one or two, each in a DMU role nobody there
    held."""
    accounts = np.sort(c["account_id"].unique())
    rows = []
    first = sorted({n for names in cat.FIRST_NAMES.values() for n in names})
    last = sorted({n for names in cat.LAST_NAMES.values() for n in names})
    n = 0
    for aid in accounts[rng.random(len(accounts)) < 0.25]:
        mine = c[c["account_id"] == aid]
        held = {r for v in mine["dmu_roles"].dropna() for r in str(v).split(";")}
        for role in [r for r in NEW_CONTACT_ROLES if r not in held][: int(rng.integers(1, 3))]:
            n += 1
            tmpl = mine.iloc[int(rng.integers(len(mine)))].to_dict()
            tmpl.update(
                contact_id=f"P{quarter}Q{n:05d}",
                name=f"{first[int(rng.integers(len(first)))]} {last[int(rng.integers(len(last)))]}",
                dmu_roles=role, power=int(rng.integers(2, 6)), attitude=int(rng.integers(0, 4)),
                relationship_strength=int(rng.integers(2, 4)),
                last_contact=start + pd.Timedelta(days=int(rng.integers(0, days))), reports_to=np.nan)
            rows.append(tmpl)
    return pd.DataFrame(rows, columns=c.columns)


def next_quarter(tables: dict[str, pd.DataFrame], quarter: int, seed: int) -> dict[str, pd.DataFrame]:
    """The company's tables at the end of quarter ``quarter`` (2, 3 ...), from the tables of
    the quarter before: three more months of invoices and the people moved (module doc)."""
    from kamlib.sample.transactions import finish

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1000 + int(quarter)]))
    start = quarter_end(quarter - 1) + pd.Timedelta(days=1)
    end = quarter_end(quarter)
    tx = tables["transactions"]
    new_lines = _quarter_lines(rng, tx, start, end, quarter)
    transactions = finish(pd.concat([tx, new_lines], ignore_index=True))
    contacts = _move_contacts(rng, tables["contacts"], start, end, quarter)
    return {**tables, "transactions": transactions[tx.columns], "contacts": contacts}
