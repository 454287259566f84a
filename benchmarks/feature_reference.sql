-- Hand-written DuckDB SQL of the account features (the benchmark's reference).
--
-- The same features as kamlib.features builds with Ibis, written the way a DuckDB user would
-- write them by hand: one scan, one GROUP BY account with FILTERed aggregates per trailing
-- 12-month window, then the account master and contacts joined on. bench_features.py fills
-- in {transactions}, {accounts}, {contacts} (table expressions such as read_parquet('...'))
-- and {as_of} (the last day of the analysis, 'YYYY-MM-DD').
--
-- Windows: w0 = (as_of - 12 months, as_of], w1 the 12 months before, w2 the 12 before that.
-- margin = net_revenue - cost. Lines after as_of are ignored.
WITH lines AS (
    SELECT
        account_id, invoice_id, date, product_id, category, site_id, quantity, net_revenue,
        net_revenue - cost AS margin,
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
        count(DISTINCT invoice_id) AS n_orders,
        count(DISTINCT invoice_id) FILTER (WHERE w = 0) AS n_orders_12m,
        min(date) AS first_purchase,
        max(date) AS last_purchase,
        count(DISTINCT category) AS n_categories,
        count(DISTINCT product_id) AS n_products,
        count(DISTINCT site_id) FILTER (WHERE w = 0) AS n_active_sites_12m,
        count(DISTINCT date_trunc('month', date)) AS months_active,
        coalesce(sum(-net_revenue) FILTER (WHERE net_revenue < 0), 0) AS returned,
        coalesce(sum(net_revenue) FILTER (WHERE net_revenue > 0), 0) AS gross_sales
    FROM lines
    GROUP BY account_id
),
per_contact AS (
    SELECT account_id, count(*) AS n_contacts, count(DISTINCT function) AS n_functions
    FROM {contacts}
    GROUP BY account_id
)
SELECT
    a.account_id, a.name, a.industry, a.region, a.country, a.n_sites, a.employees, a.wallet,
    a.cost_to_serve, a.account_manager,
    DATE '{as_of}' AS as_of,
    coalesce(f.revenue_12m, 0) AS revenue_12m,
    coalesce(f.revenue_prev_12m, 0) AS revenue_prev_12m,
    coalesce(f.revenue_prev2_12m, 0) AS revenue_prev2_12m,
    coalesce(f.margin_12m, 0) AS margin_12m,
    coalesce(f.margin_prev_12m, 0) AS margin_prev_12m,
    coalesce(f.margin_prev2_12m, 0) AS margin_prev2_12m,
    coalesce(f.revenue_total, 0) AS revenue_total,
    coalesce(f.margin_total, 0) AS margin_total,
    coalesce(f.quantity_12m, 0) AS quantity_12m,
    CASE WHEN f.revenue_12m <> 0 THEN f.margin_12m / f.revenue_12m END AS margin_pct_12m,
    CASE WHEN coalesce(f.revenue_12m, 0) = 0 AND coalesce(f.revenue_prev_12m, 0) = 0 THEN 0
         ELSE (coalesce(f.revenue_12m, 0) - coalesce(f.revenue_prev_12m, 0))
              / ((abs(coalesce(f.revenue_12m, 0)) + abs(coalesce(f.revenue_prev_12m, 0))) / 2)
    END AS growth_12m,
    CASE WHEN coalesce(f.revenue_prev_12m, 0) = 0 AND coalesce(f.revenue_prev2_12m, 0) = 0 THEN 0
         ELSE (coalesce(f.revenue_prev_12m, 0) - coalesce(f.revenue_prev2_12m, 0))
              / ((abs(coalesce(f.revenue_prev_12m, 0)) + abs(coalesce(f.revenue_prev2_12m, 0))) / 2)
    END AS growth_prev_12m,
    coalesce(f.revenue_12m, 0) / nullif(sum(f.revenue_12m) OVER (), 0) AS share_of_sales_12m,
    coalesce(f.n_orders, 0) AS n_orders,
    coalesce(f.n_orders_12m, 0) AS n_orders_12m,
    f.first_purchase,
    f.last_purchase,
    date_diff('day', f.last_purchase, DATE '{as_of}') AS recency_days,
    date_diff('day', f.first_purchase, DATE '{as_of}') AS tenure_days,
    CASE WHEN f.n_orders_12m > 0 THEN f.revenue_12m / f.n_orders_12m END AS avg_order_value,
    coalesce(f.n_categories, 0) AS n_categories,
    coalesce(f.n_products, 0) AS n_products,
    coalesce(f.n_active_sites_12m, 0) AS n_active_sites_12m,
    coalesce(f.months_active, 0) AS months_active,
    CASE WHEN f.gross_sales > 0 THEN f.returned / f.gross_sales ELSE 0 END AS returns_share,
    coalesce(c.n_contacts, 0) AS n_contacts,
    coalesce(c.n_functions, 0) AS n_functions
FROM {accounts} AS a
LEFT JOIN per_account AS f USING (account_id)
LEFT JOIN per_contact AS c USING (account_id)
ORDER BY a.account_id
