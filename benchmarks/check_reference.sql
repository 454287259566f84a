-- Hand-written DuckDB SQL of the row checks intake does on invoice lines before the features.
--
-- The benchmark's fair reference is this file followed by feature_reference.sql reading the
-- lines it keeps: the same work kamlib does (every line checked, every line accounted for,
-- as_of found from the valid lines), written the way a careful DuckDB user would write it by
-- hand. bench_features.py fills in {transactions} (a scan whose rows carry file_row_number,
-- counting from 0), {accounts} and {today} ('YYYY-MM-DD'), and runs the statements in order:
--
--   1. repeated: the (invoice_id, line_no) keys held by more than one line, with the first row
--      holding each (a small table, computed once and kept)
--   2. checked_lines: every line with the reason it is set aside (NULL = used), as a view
--   3. the row accounting: lines, dates and the report's counts per reason (as_of is the last
--      date of the used lines)
--
-- The checks are those a Parquet ledger can fail (its values are typed, so no parse errors):
-- the first that applies is the reason, in the order kamlib.intake.line_checks.transaction_checks uses.
CREATE OR REPLACE TEMP TABLE repeated AS
SELECT invoice_id, line_no, min(file_row_number) AS first_row
FROM {transactions}
GROUP BY invoice_id, line_no
HAVING count(*) > 1;

CREATE OR REPLACE TEMP VIEW checked_lines AS
SELECT
    t.* EXCLUDE (file_row_number, category, product_id),
    coalesce(t.category, '(none)') AS category,
    coalesce(t.product_id, '(none)') AS product_id,
    t.file_row_number + 1 AS row_no,
    CASE
        WHEN t.account_id IS NULL THEN 'account_id: missing'
        WHEN t.date IS NULL THEN 'date: missing'
        WHEN t.date > DATE '{today}' THEN 'date: in the future'
        WHEN t.net_revenue IS NULL THEN 'net_revenue: missing'
        WHEN t.quantity IS NULL THEN 'quantity: missing'
        WHEN t.cost IS NULL THEN 'cost: missing (give cost or margin)'
        WHEN t.invoice_id IS NULL THEN 'invoice_id: missing'
        WHEN t.account_id NOT IN (SELECT account_id FROM {accounts}) THEN 'account_id: unknown account'
        WHEN t.file_row_number > r.first_row THEN 'invoice_id+line_no: duplicate invoice line'
    END AS reason
FROM {transactions} AS t
LEFT JOIN repeated AS r
    ON t.invoice_id IS NOT DISTINCT FROM r.invoice_id AND t.line_no IS NOT DISTINCT FROM r.line_no;

SELECT
    reason,
    count(*) AS n,
    min(date) AS first_date,
    max(date) AS last_date,
    count(*) FILTER (WHERE net_revenue < 0) AS return_lines,
    count(*) FILTER (WHERE net_revenue = 0) AS zero_lines,
    count(*) FILTER (WHERE category = '(none)' OR product_id = '(none)') AS no_category,
    count(DISTINCT currency) AS currencies,
    count(DISTINCT account_id) AS accounts_buying
FROM checked_lines
GROUP BY reason
ORDER BY reason NULLS FIRST;
