//! End-to-end tests: the real service over HTTP, a fresh PostgreSQL database and its own Redis
//! key prefix per test, so tests run in parallel.

mod access;
mod cluster;
mod costs;
mod events;
mod expected_failures;
mod helpers;
mod holds;
mod import;
mod input_errors;
mod instances;
mod ledger;
mod limits;
mod nats;
mod operations;
mod orders;
mod plans;
mod redis_keys;
mod retention;
mod search;
mod shutdown;
mod stock;
mod webhooks;
