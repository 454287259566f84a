-- Hand-written DuckDB SQL of the account features (the benchmark's reference).
--
-- The same features as kamlib.intake.features builds with Ibis, written the way a DuckDB user would
-- write them by hand: one scan, one GROUP BY account with FILTERed aggregates per trailing
-- 12-month window, then the account master and contacts joined on. bench_features.py fills
-- in {transactions}, {accounts}, {contacts} (table expressions such as read_parquet('...'))
-- and {as_of} (the last day of the analysis, 'YYYY-MM-DD').
--
-- Windows: w0 = (as_of - 12 months, as_of], w1 the 12 months before, w2 the 12 before that.
-- margin = net_revenue - cost. Lines after as_of are ignored. A purchase is a line with
-- positive net revenue: orders, first/last purchase, categories, products, sites and months
-- count purchase lines only (credit notes are not orders). Definitions: docs/data_contract.md.
WITH lines AS (
    SELECT
        account_id, invoice_id, date, product_id, category, site_id, quantity, net_revenue,
        net_revenue - cost AS margin,
        net_revenue > 0 AS buy,
        CASE
            WHEN date > DATE '{as_of}' - INTERVAL 12 MONTH THEN 0
            WHEN date > DATE '{as_of}' - INTERVAL 24 MONTH THEN 1
            WHEN date > DATE '{as_of}' - INTERVAL 36 MONTH THEN 2
        END AS w
    FROM {transactions}
    WHERE date <= DATE '{as_of}'
),
per_account AS (
    SELECT
        account_id,
        coalesce(sum(net_revenue) FILTER (WHERE w = 0), 0) AS revenue_12m,
        coalesce(sum(net_revenue) FILTER (WHERE w = 1), 0) AS revenue_prev_12m,
        coalesce(sum(net_revenue) FILTER (WHERE w = 2), 0) AS revenue_prev2_12m,
        coalesce(sum(margin) FILTER (WHERE w = 0), 0) AS margin_12m,
        coalesce(sum(margin) FILTER (WHERE w = 1), 0) AS margin_prev_12m,
        coalesce(sum(margin) FILTER (WHERE w = 2), 0) AS margin_prev2_12m,
        sum(net_revenue) AS revenue_total,
        sum(margin) AS margin_total,
        coalesce(sum(quantity) FILTER (WHERE w = 0), 0) AS quantity_12m,
        coalesce(sum(net_revenue) FILTER (WHERE buy), 0) AS gross_sales,
        coalesce(sum(-net_revenue) FILTER (WHERE net_revenue < 0), 0) AS returned,
        count(DISTINCT invoice_id) FILTER (WHERE buy) AS n_orders,
        count(DISTINCT invoice_id) FILTER (WHERE buy AND w = 0) AS n_orders_12m,
        min(date) FILTER (WHERE buy) AS first_purchase,
        max(date) FILTER (WHERE buy) AS last_purchase,
        count(DISTINCT category) FILTER (WHERE buy) AS n_categories,
        count(DISTINCT product_id) FILTER (WHERE buy) AS n_products,
        count(DISTINCT site_id) FILTER (WHERE buy AND w = 0) AS n_active_sites_12m,
        count(DISTINCT year(date) * 12 + month(date)) FILTER (WHERE buy) AS months_active
    FROM lines
    GROUP BY account_id
),
per_contact AS (
    SELECT account_id, count(*) AS n_contacts, count(DISTINCT function) AS n_functions
    FROM {contacts}
    GROUP BY account_id
),
joined AS (
    SELECT
        a.*,
        coalesce(f.revenue_12m, 0) AS rev0,
        coalesce(f.revenue_prev_12m, 0) AS rev1,
        coalesce(f.revenue_prev2_12m, 0) AS rev2,
        f.* EXCLUDE (account_id),
        coalesce(c.n_contacts, 0) AS n_contacts_,
        coalesce(c.n_functions, 0) AS n_functions_
    FROM {accounts} AS a
    LEFT JOIN per_account AS f USING (account_id)
    LEFT JOIN per_contact AS c USING (account_id)
)
SELECT
    account_id, name, industry, region, country, n_sites, employees, wallet, cost_to_serve,
    account_manager, parent_id,
    DATE '{as_of}' AS as_of,
    rev0 AS revenue_12m,
    rev1 AS revenue_prev_12m,
    rev2 AS revenue_prev2_12m,
    coalesce(margin_12m, 0) AS margin_12m,
    coalesce(margin_prev_12m, 0) AS margin_prev_12m,
    coalesce(margin_prev2_12m, 0) AS margin_prev2_12m,
    coalesce(revenue_total, 0) AS revenue_total,
    coalesce(margin_total, 0) AS margin_total,
    coalesce(quantity_12m, 0) AS quantity_12m,
    CASE WHEN rev0 <> 0 THEN margin_12m / rev0 END AS margin_pct_12m,
    CASE WHEN rev0 = 0 AND rev1 = 0 THEN 0
         ELSE greatest(-2, least(2, (rev0 - rev1) / ((abs(rev0) + abs(rev1)) / 2))) END AS growth_12m,
    CASE WHEN rev1 = 0 AND rev2 = 0 THEN 0
         ELSE greatest(-2, least(2, (rev1 - rev2) / ((abs(rev1) + abs(rev2)) / 2))) END AS growth_prev_12m,
    coalesce(rev0 / nullif(sum(rev0) OVER (), 0), 0) AS share_of_sales_12m,
    coalesce(n_orders, 0) AS n_orders,
    coalesce(n_orders_12m, 0) AS n_orders_12m,
    first_purchase,
    last_purchase,
    CAST(date_diff('day', last_purchase, DATE '{as_of}') AS DOUBLE) AS recency_days,
    CAST(date_diff('day', first_purchase, DATE '{as_of}') AS DOUBLE) AS tenure_days,
    CASE WHEN n_orders > 0 THEN gross_sales / n_orders END AS avg_order_value,
    coalesce(n_categories, 0) AS n_categories,
    coalesce(n_products, 0) AS n_products,
    coalesce(n_active_sites_12m, 0) AS n_active_sites_12m,
    coalesce(months_active, 0) AS months_active,
    CASE WHEN gross_sales > 0 THEN returned / gross_sales END AS returns_share,
    n_contacts_ AS n_contacts,
    n_functions_ AS n_functions
FROM joined
ORDER BY account_id
