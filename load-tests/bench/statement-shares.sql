-- Classifies the statements each workload sent (table `measured`, saved by
-- statement-shares.sh from pg_stat_statements) by what they would be on Citus with the SKU
-- tables distributed by sku_id (docs/SCALING.md). First match wins.
CREATE TEMP TABLE classes (rank int, class text, pattern text);
INSERT INTO classes VALUES
    -- The measurement's own statements.
    (0, 'measurement', '^(SELECT pg_stat_statements_reset|CREATE TABLE IF NOT EXISTS measured)'),
    (1, 'transaction control', '^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SET LOCAL|SELECT set_config)'),
    -- Foreign-key checks PostgreSQL runs inside the statement that writes the row: on Citus
    -- they run on the shard (balances, co-located) or against the node's copy (reference).
    (2, 'key check inside a shard', 'FROM ONLY "public"."balances" x'),
    (3, 'key check on a reference table', 'FROM ONLY "public"."(locations|skus|cost_models)" x'),
    (4, 'key check on a coordinator table', 'FROM ONLY "public"."(orders|transfers|plans)" x'),
    -- The relay and housekeeping: every shard's events, in one global order.
    (5, 'relay and housekeeping (all shards)', '(stock_events WHERE position|FROM stock_events WHERE position|max\(position\)|INSERT INTO chain_stock|WITH changes AS|pg_try_advisory|pg_advisory_unlock|FROM webhooks WHERE status|plan_runs|DELETE FROM idempotency_keys)'),
    -- Writes and reads of the SKU tables: as many shards as SKUs the call names.
    (6, 'SKU tables, by the SKUs of the call', '(JOIN balances b|UPDATE balances|INSERT INTO movements|INSERT INTO stock_events|FROM sales_velocity|LEFT JOIN balances b|INSERT INTO discrepancies|FROM movements)'),
    (7, 'coordinator tables only', '(INSERT INTO orders|INSERT INTO order_lines|UPDATE orders|FROM orders|INSERT INTO transfers|INSERT INTO idempotency_keys|FROM idempotency_keys)'),
    (8, 'reference tables only', '(FROM cost_models|FROM locations|FROM skus|FROM api_keys|api_keys k)');

CREATE TEMP VIEW classified AS
SELECT m.workload, m.toplevel, m.calls, m.total_exec_time, m.query,
       coalesce((SELECT c.class FROM classes c
                 WHERE regexp_replace(m.query, '\s+', ' ', 'g') ~ c.pattern
                 ORDER BY c.rank LIMIT 1), 'unclassified') AS class
FROM measured m
WHERE m.calls > 0;

-- Top level: what the service sends. Nested: what those statements run inside (foreign-key
-- checks, the stock-event trigger), which on Citus runs where the row is.
\echo Statements per class, share of the calls and of the execution time of each workload
SELECT workload, CASE WHEN toplevel THEN 'sent' ELSE 'nested' END AS level, class,
       sum(calls) AS calls,
       round(100.0 * sum(calls) / sum(sum(calls)) OVER (PARTITION BY workload, toplevel), 1) AS calls_pct,
       round((100.0 * sum(total_exec_time) / sum(sum(total_exec_time)) OVER (PARTITION BY workload, toplevel))::numeric, 1) AS time_pct
FROM classified WHERE class <> 'measurement'
GROUP BY workload, toplevel, class ORDER BY workload, toplevel DESC, calls DESC;

\echo Statements nothing above classified, to be none
SELECT workload, calls, left(regexp_replace(query, '\s+', ' ', 'g'), 120) FROM classified
WHERE class = 'unclassified';

-- How many SKUs one request's movements name, and how many of 32 hash shards (Citus's default
-- shard count, ranges of hashint8(sku_id)) they fall in: POS batches are sales and returns,
-- orders allocate.
\echo SKUs and shards (of 32) per request
SELECT CASE WHEN pos THEN 'pos batch' ELSE 'order' END AS request,
       count(*) AS requests,
       round(avg(skus), 1) AS skus_avg, max(skus) AS skus_max,
       round(avg(shards), 1) AS shards_avg, min(shards) AS shards_min,
       round(100.0 * count(*) FILTER (WHERE shards = 1) / count(*), 1) AS single_shard_pct
FROM (SELECT request_id, bool_or(kind IN ('sale', 'return')) AS pos,
             count(DISTINCT sku_id) AS skus,
             count(DISTINCT ((hashint8(sku_id)::int8 + 2147483648) * 32) / 4294967296) AS shards
      FROM movements WHERE kind IN ('sale', 'return', 'allocation')
      GROUP BY request_id) per_request
GROUP BY pos ORDER BY pos;
