//! Allot: one stock ledger for every store and warehouse, fast reservations, optimal fulfilment.
//!
//! - [`domain`]: pure types and rules; no I/O.
//! - [`ledger`]: PostgreSQL, the only place with SQL.
//! - [`holds`]: Redis holds.
//! - [`broker`]: NATS JetStream, where stock events are published.
//! - [`lookup`]: clerk lookups from copies of the ledger's figures that Redis keeps honest.
//! - [`app`]: the application layer: one function per use case, the one place writes run.
//! - [`api`]: HTTP only: parse, call `app`, shape the answer.
//! - [`routing`]: the optimiser's shell for orders (candidates in, domain-typed plan out).
//! - [`planning`]: pure planning rules (demand, surplus and shortfall, plan economics, charts).
//! - [`jobs`]: the replenishment and nightly rebalance runs around them.
//! - [`commands`]: the CLI's batch work (import, demo data).

#![warn(clippy::too_many_lines)]

pub mod api;
pub mod app;
pub mod broker;
pub mod commands;
pub mod config;
pub mod domain;
pub mod holds;
pub mod jobs;
pub mod ledger;
pub mod lookup;
pub mod planning;
pub mod routing;
pub mod startup;
pub mod telemetry;
