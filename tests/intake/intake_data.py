"""Tiny hand-checkable inputs shared by the intake tests (not a test module itself)."""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = """account_id,name,industry,region,country,n_sites,account_manager
001,Alpha Metals,Metals,North,DE,3,Jane Roe
002,Beta Foods,Food,South,FR,1,John Doe
003,Gamma Tools,Tools,North,DE,2,Jane Roe
"""

# account, invoice, line, date, product, category, quantity, revenue, cost, site
LINES = """account_id,invoice_id,line_no,date,product_id,category,quantity,net_revenue,cost,site_id
001,INV1,1,2025-06-10,P1,CatA,10,1000,600,S1
001,INV1,2,2025-06-10,P2,CatB,5,500,200,S2
001,INV2,1,2025-06-10,P1,CatA,2,200,120,S1
001,CN1,1,2025-07-01,P1,CatA,-1,-100,-60,S1
001,INV3,1,2024-03-15,P1,CatA,8,800,480,S1
001,INV4,1,2023-02-01,P3,CatC,1,300,100,S3
002,INV5,1,2025-11-30,P2,CatB,0,0,0,S9
002,INV6,1,2024-12-31,P2,CatB,4,400,300,S9
002,INV7,1,2022-06-01,P2,CatB,1,100,50,S9
002,INV8,1,2025-03-03,P2,CatB,2,400,200,S9
"""

CONTACTS = """contact_id,account_id,name,function,owner,dmu_roles,power,last_contact
C1,001,Ann Buyer,purchasing,Jane Roe,buyer;decider,4,2025-10-01
C2,001,Bob Money,finance,Jane Roe,influencer,3,2025-09-01
C3,001,Cid Buyer,purchasing,Max Moe,user,2,
C4,002,Dee Chef,operations,John Doe,user,2,2025-01-01
"""

ASSESSMENTS = """manager,account_id,future_potential,strategic_fit,top_rank
Jane Roe,001,8,7,1
Jane Roe,002,5,4,
Max Moe,001,9,9,1
"""

AHP = """manager,criterion_a,criterion_b,value
Jane Roe,billing,growth,3
Jane Roe,billing,profitability,1/3
Max Moe,growth,profitability,0.5
"""


def write_engagement(folder: Path, **overrides: str) -> dict[str, Path]:
    """Write the five tables as CSV into ``folder``; ``overrides`` replace a table's text."""
    texts = {"accounts": ACCOUNTS, "transactions": LINES, "contacts": CONTACTS,
             "assessments": ASSESSMENTS, "ahp_judgements": AHP}
    texts.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        path = folder / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths
