-- SKU search (`GET /v1/skus?q=`) as a prepared statement's generic plan, on the planning
-- benchmark's 100,000 SKUs: the query before and after reading each index in its own order
-- (`USING ~<~`). Usage: psql -X -f sku-search.sql postgres://postgres@127.0.0.1:5432/allot_plans_bench
SET plan_cache_mode = force_generic_plan;
PREPARE old_search(text, text, int8) AS
(SELECT code, name FROM skus WHERE code ~>=~ $1 AND code ~<~ ($1 || chr(1114111)) ORDER BY code LIMIT $3)
UNION
(SELECT code, name FROM skus WHERE lower(name) ~>=~ $2 AND lower(name) ~<~ ($2 || chr(1114111)) ORDER BY lower(name) LIMIT $3)
ORDER BY code LIMIT $3;
PREPARE new_search(text, text, int8) AS
(SELECT code, name FROM skus WHERE code ~>=~ $1 AND code ~<~ ($1 || chr(1114111)) ORDER BY code USING ~<~ LIMIT $3)
UNION
(SELECT code, name FROM skus WHERE lower(name) ~>=~ $2 AND lower(name) ~<~ ($2 || chr(1114111)) ORDER BY lower(name) USING ~<~ LIMIT $3)
ORDER BY code LIMIT $3;
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE old_search('P01', 'p01', 10);
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE new_search('P01', 'p01', 10);
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE old_search('P0999', 'p0999', 10);
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE new_search('P0999', 'p0999', 10);
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE old_search('item 12', 'item 12', 10);
EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) EXECUTE new_search('item 12', 'item 12', 10);
