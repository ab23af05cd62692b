//! Batch work run from the CLI: bulk import, demo data.

pub mod demo;
pub mod import;
