-- Hand-written DuckDB SQL of intake's further tables (the benchmark's `sqlall` reference).
--
-- What kamlib.intake builds from the invoice lines besides the account features, written the
-- way a DuckDB user would: one GROUP BY per table over the lines, nothing checked, nothing
-- set aside, no row accounting. Together with feature_reference.sql it is every table intake
-- writes from the lines, by hand: the least a build of those tables does, so the ratio of
-- intake to it says what the checks and the accounting cost. bench_features.py fills in
-- {transactions} and {as_of} and runs the statements one by one (they are separated by
-- semicolons). Definitions: kamlib.intake.features.
--
-- purchase occasions: one row per account and day with a purchase (positive net revenue)
SELECT account_id, date, sum(net_revenue) AS revenue, sum(net_revenue - cost) AS margin,
       count(*) AS n_lines
FROM {transactions}
WHERE date <= DATE '{as_of}'
GROUP BY account_id, date
HAVING count(*) FILTER (WHERE net_revenue > 0) > 0;
-- account x trailing year (0 = the last 12 months, 1, 2) x category
SELECT account_id, year, category, sum(net_revenue) AS revenue,
       sum(net_revenue - cost) AS margin, sum(quantity) AS quantity
FROM (
    SELECT *, CASE
        WHEN date > DATE '{as_of}' - INTERVAL 12 MONTH THEN 0
        WHEN date > DATE '{as_of}' - INTERVAL 24 MONTH THEN 1
        WHEN date > DATE '{as_of}' - INTERVAL 36 MONTH THEN 2
    END AS year
    FROM {transactions}
    WHERE date <= DATE '{as_of}'
)
WHERE year IS NOT NULL
GROUP BY account_id, year, category;
-- monthly revenue
SELECT date_trunc('month', date) AS month, sum(net_revenue) AS revenue,
       sum(net_revenue - cost) AS margin, count(*) AS n_lines,
       count(DISTINCT account_id) AS n_accounts
FROM {transactions}
WHERE date <= DATE '{as_of}'
GROUP BY 1
