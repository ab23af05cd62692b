-- An event's `at` is when its balance changed, not when the transaction that changed it began.
-- `now()` is the transaction's start: a POS batch waits for its balances' row locks behind the
-- batches before it, so under full ingest its events were stamped up to a batch's whole
-- latency before they were written, and every consumer (and the lag to NATS measured from
-- `at`) saw them as that much older. The time of the write is at most the commit's.
ALTER TABLE stock_events ALTER COLUMN at SET DEFAULT clock_timestamp();
