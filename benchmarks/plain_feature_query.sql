-- The plain feature query: the yardstick of bench_features.py (issue 15).
--
-- What a peer who needs per-account features writes first: one scan of the invoice lines and
-- one GROUP BY account with revenue, margin, quantity, lines, orders and the first and last
-- date. It checks nothing, sets nothing aside, keeps no accounting, has no time windows and
-- builds none of intake's further tables: the least work any feature build must do, so the
-- ratio to it says what everything else costs. bench_features.py fills in {transactions}
-- (a table expression such as read_parquet('...')).
SELECT
    account_id,
    sum(net_revenue) AS revenue,
    sum(net_revenue - cost) AS margin,
    sum(quantity) AS quantity,
    count(*) AS n_lines,
    count(DISTINCT invoice_id) AS n_orders,
    min(date) AS first_date,
    max(date) AS last_date
FROM {transactions}
GROUP BY account_id
