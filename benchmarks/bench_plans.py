"""Benchmark: draft plans for 200 key accounts (tables, figures, HTML pages, calendars).

Target (issue 6): <= 60 s on 2 cores. Run from the repo root::

    python benchmarks/bench_plans.py            # 200 key accounts of 1,500
    python benchmarks/bench_plans.py --keys 400 --accounts 3000

The data are simulated (seeded): 1,500 accounts in 8 industries buying from 24 categories,
about 9 contacts per key account with random roles, power, attitude and last-contact dates.
Pages, calendars and tables are written to a temporary folder, as the notebook would.
Timings on a shared machine are pessimistic: other jobs compete for the same two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_S = 60.0


def simulate(n_accounts: int, n_keys: int, seed: int = 7):
    """Features, category-year revenue, contacts and a key list for a simulated customer base."""
    rng = np.random.default_rng(seed)
    ids = [f"A{i:05d}" for i in range(n_accounts)]
    industries = np.array(["food", "metal", "chemicals", "retail", "automotive", "pharma", "energy", "logistics"])
    ind = rng.choice(industries, n_accounts)
    emp = np.round(rng.lognormal(5.5, 1.0, n_accounts)).astype(int) + 5
    cats = [f"Category {c:02d}" for c in range(24)]
    # each industry favours its own categories
    pref = {i: rng.dirichlet(np.ones(len(cats)) * 0.4) for i in industries}
    rows = []
    for a, i, e in zip(ids, ind, emp):
        scale = e * rng.lognormal(6.0, 0.6)
        for y in (0, 1, 2):
            buys = rng.random(len(cats)) < np.minimum(1, pref[i] * 8)
            rev = scale * pref[i] * buys * rng.lognormal(0, 0.3, len(cats)) * (1 - 0.05 * y)
            for c, v in zip(cats, rev):
                if v > 0:
                    rows.append((a, y, c, v, 0.28 * v, 1.0))
    cy = pd.DataFrame(rows, columns=["account_id", "year", "category", "revenue", "margin", "quantity"])
    by = cy.pivot_table(index="account_id", columns="year", values="revenue", aggfunc="sum", fill_value=0).reindex(ids, fill_value=0)
    r0, r1, r2 = (by[y].to_numpy() for y in (0, 1, 2))
    sym = lambda a, b: np.where((a == 0) & (b == 0), 0, (a - b) / ((np.abs(a) + np.abs(b)) / 2 + 1e-12))  # noqa: E731
    as_of = pd.Timestamp("2026-09-30")
    features = pd.DataFrame(dict(
        account_id=ids, name=[f"Company {i}" for i in range(n_accounts)], industry=ind, region="EU", country="DE",
        n_sites=rng.integers(1, 30, n_accounts), employees=emp,
        wallet=np.where(rng.random(n_accounts) < 0.6, r0 * rng.uniform(1.2, 4, n_accounts), np.nan),
        account_manager=rng.choice(["Ann", "Ben", "Cleo", "Dev", "Eva", "Finn"], n_accounts), as_of=as_of.date(),
        revenue_12m=r0, revenue_prev_12m=r1, revenue_prev2_12m=r2, margin_12m=0.28 * r0,
        margin_pct_12m=rng.normal(0.28, 0.05, n_accounts), growth_12m=sym(r0, r1),
        share_of_sales_12m=r0 / r0.sum()))
    keys = features.nlargest(n_keys, "revenue_12m")[["account_id"]].assign(
        rank=np.arange(1, n_keys + 1), score=np.linspace(95, 50, n_keys), p_key=np.linspace(0.99, 0.6, n_keys),
        main_drivers="billing;growth", tier=np.where(np.arange(n_keys) < n_keys // 2, "key", "key-development"))
    roles = np.array(["initiator", "user", "influencer", "decider", "buyer", "gatekeeper"])
    funcs = np.array(["purchasing", "operations", "finance", "engineering", "logistics", "management", "quality"])
    crow = []
    for a in keys["account_id"]:
        for j in range(rng.integers(0, 16)):
            r = ";".join(rng.choice(roles, rng.integers(1, 3), replace=False))
            crow.append((f"{a}-C{j}", a, f"Person {a}-{j}", "Title", rng.choice(funcs),
                         rng.choice(["staff", "manager", "director", "executive"]), r, int(rng.integers(1, 6)),
                         int(rng.integers(-5, 6)), int(rng.integers(0, 6)), rng.choice(["Ann", "Ben", "Tom"]),
                         as_of - pd.Timedelta(days=int(rng.integers(1, 400)))))
    contacts = pd.DataFrame(crow, columns=["contact_id", "account_id", "name", "title", "function", "seniority",
                                           "dmu_roles", "power", "attitude", "relationship_strength", "owner",
                                           "last_contact"])
    segments = pd.DataFrame(dict(account_id=ids, segment=rng.choice(["Star", "Developing", "Core", "Laggard"], n_accounts),
                                 strategy="see segment"))
    clv = pd.DataFrame(dict(account_id=ids, clv=r0 * 3, clv_low=r0 * 2, clv_high=r0 * 4, investment_ceiling=r0 * 0.3,
                            p_alive=rng.uniform(0.3, 1, n_accounts)))
    return features, cy, contacts, keys, segments, clv


def plan_inputs(keys: pd.DataFrame, seed: int = 8) -> dict[str, pd.DataFrame]:
    """Opportunities, competitors, strategy statements and teams for the key accounts (a few
    of each per account, as an account team that keeps its CRM up to date would have)."""
    rng = np.random.default_rng(seed)
    opp, comp, strat, team = [], [], [], []
    for a in keys["account_id"]:
        for j in range(rng.integers(0, 6)):
            opp.append((a, f"Deal {j}", rng.choice(["proposal", "negotiation", "won", "lost"]),
                        float(rng.integers(5, 200)) * 1000, float(rng.uniform(0.1, 0.9)),
                        pd.Timestamp("2026-09-30") + pd.Timedelta(days=int(rng.integers(-30, 400))),
                        f"Category {rng.integers(0, 24):02d}", "Ann"))
        for j in range(rng.integers(0, 4)):
            comp.append((a, f"Rival {j}", None, float(rng.uniform(0, 0.3)), float(rng.integers(2, 10)), "incumbent"))
        for topic in rng.choice(["aim", "culture", "value_proposition", "strength", "weakness",
                                 "opportunity", "threat"], int(rng.integers(0, 8))):
            strat.append((a, topic, f"A statement about {topic} {rng.integers(0, 1000)}", "team"))
        for role in ("key account manager", "executive sponsor", "service")[: int(rng.integers(0, 4))]:
            team.append((a, f"Person {role}", role, None))
    return {
        "opportunities": pd.DataFrame(opp, columns=["account_id", "name", "stage", "amount", "probability",
                                                    "expected_close", "category", "owner"]),
        "competitors": pd.DataFrame(comp, columns=["account_id", "competitor", "scope", "share_of_wallet",
                                                   "strength", "position"]),
        "account_strategy": pd.DataFrame(strat, columns=["account_id", "topic", "text", "source"]),
        "account_team": pd.DataFrame(team, columns=["account_id", "person", "role", "counterpart"]),
    }


def run(n_accounts: int, n_keys: int) -> dict[str, float]:
    """Time each stage of drafting the plans; returns seconds per stage."""
    t = {}
    t0 = time.perf_counter()
    features, cy, contacts, keys, segments, clv = simulate(n_accounts, n_keys)
    inputs = plan_inputs(keys)
    t["simulate (not counted)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kamlib import planning
    from kamlib.figures import planning as figs
    from kamlib.report import communicate
    from kamlib.report.account_page import account_page
    t["imports"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    plans = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, clv=clv, **inputs)
    t["draft tables"] = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "plans").mkdir()
        t0 = time.perf_counter()
        for name, df in plans.tables().items():
            df.to_parquet(out / f"{name}.parquet")
        t["save tables (parquet)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        for aid in plans.profile["account_id"]:
            html = account_page(plans.account(aid), currency="EUR", ics_href=f"{aid}.ics")
            (out / "plans" / f"{aid}.html").write_text(html, encoding="utf-8")
        t["HTML pages (with SVG figures)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        for aid in plans.profile["account_id"]:
            (out / "plans" / f"{aid}.ics").write_text(plans.ics(aid), encoding="utf-8")
        (out / "plans" / "contact_cadence.ics").write_text(plans.ics(cadence_only=True), encoding="utf-8")
        t["calendars (.ics)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        (out / "key_accounts.html").write_text(communicate.key_accounts_page(plans), encoding="utf-8")
        for _, rel, html in communicate.customer_packs(plans, supplier="Us", currency="EUR"):
            (out / "plans" / Path(rel).name).write_text(html, encoding="utf-8")
        t["step 7 pages (company page, customer packs)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        for fig in (figs.health_overview(plans.health, plans.profile), figs.whitespace_by_category(plans.whitespace),
                    figs.relationship_map(plans.account(keys["account_id"].iloc[0]).contacts)):
            fig.savefig(out / "fig.png", dpi=110)
            plt.close(fig)
        t["portfolio figures (PNG)"] = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (out / "plans").glob("*.html")) / len(plans.profile)
    t["_pages"] = len(plans.profile)
    t["_kb_per_page"] = size / 1024
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1500)
    ap.add_argument("--keys", type=int, default=200)
    a = ap.parse_args()
    t = run(a.accounts, a.keys)
    total = sum(v for k, v in t.items() if not k.startswith("_") and "not counted" not in k)
    print(f"Drafting plans for {t['_pages']} key accounts out of {a.accounts} "
          f"(cpus: {os.cpu_count()}, load {os.getloadavg()[0]:.1f})")
    for k, v in t.items():
        if not k.startswith("_"):
            print(f"  {k:32s} {v:7.2f} s")
    print(f"  {'total':32s} {total:7.2f} s   target {TARGET_S:.0f} s   ratio {total / TARGET_S:.2f}"
          f"   ({'OK' if total <= TARGET_S else 'TOO SLOW'})")
    print(f"  per account {1000 * total / t['_pages']:.0f} ms; page size {t['_kb_per_page']:.0f} kB")
    print("Note: the machine is shared with other jobs; these timings are pessimistic.")


if __name__ == "__main__":
    main()
