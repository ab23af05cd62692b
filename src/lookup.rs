//! Clerk lookups, served from this process's copy of each SKU's ledger figures.
//!
//! A lookup asks Redis once, for the SKU's live holds and its stamp (which moves after every
//! committed change of the SKU's balances, see `holds::scripts`). A copy taken under the same
//! stamp, with no failed Redis call since, still equals the ledger, so PostgreSQL is not asked.
//! Without Redis every lookup reads PostgreSQL. Copies are also dropped after [`COPY_TTL`], which
//! bounds how long a change can go unseen when its stamp never reached Redis (Redis failing just
//! after the commit, seen only by the process that wrote). Locations, a small table, are copied
//! whole and read again after [`LOCATIONS_TTL`] or when this process changes one.

use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::ledger::Balance;
use crate::domain::location::Location;
use crate::holds::{lifecycle, Redis};
use crate::ledger::{self, locations, stock, stock::SkuFigures};
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Longest a SKU's copy is used, whatever its stamp says.
pub const COPY_TTL: Duration = Duration::from_secs(60);
// A stamp expiring before its copies would drop them early (see `holds::STAMP_TTL_S`).
const _: () = assert!(crate::holds::STAMP_TTL_S as u64 > COPY_TTL.as_secs());
/// Longest a copy of the locations is used before it is read again.
pub const LOCATIONS_TTL: Duration = Duration::from_secs(5);

type Result<T> = std::result::Result<T, ledger::Error>;

/// One location's figures in an answer.
pub struct Row {
    pub location: Arc<Location>,
    pub balance: Balance,
    /// Units in live holds (0 when holds are unknown or the answer is historical).
    pub held: i64,
}

pub struct Answer {
    pub name: String,
    pub rows: Vec<Row>,
    /// Redis could not be asked: `held` is 0 and availability may be overstated.
    pub holds_unavailable: bool,
}

/// Which holds an answer subtracts.
#[derive(Clone, Copy)]
enum Holds<'a> {
    Live(&'a lifecycle::Live),
    /// The ledger as of a past instant: holds are not historical.
    Historical,
}

struct Copy {
    stamp: i64,
    failures: u64,
    taken: Instant,
    figures: SkuFigures,
}

#[derive(Clone)]
struct RowsWeight;

impl quick_cache::Weighter<String, Arc<Copy>> for RowsWeight {
    fn weight(&self, _: &String, copy: &Arc<Copy>) -> u64 {
        1 + copy.figures.balances.len() as u64
    }
}

#[derive(Default)]
struct Locations {
    loaded: Option<Instant>,
    by_id: HashMap<i64, Arc<Location>>,
    by_code: HashMap<String, Arc<Location>>,
}

pub struct StockCache {
    copies: quick_cache::sync::Cache<String, Arc<Copy>, RowsWeight>,
    locations: RwLock<Arc<Locations>>,
    reloading: tokio::sync::Mutex<()>,
    /// When this process last changed a location.
    changed: std::sync::Mutex<Instant>,
}

impl StockCache {
    /// Keeps copies of at most about `rows_max` balance rows.
    pub fn new(rows_max: u64) -> Self {
        let rows_max = rows_max.max(1);
        Self {
            copies: quick_cache::sync::Cache::with_weighter(
                (rows_max / 16).clamp(16, 1 << 20) as usize,
                rows_max,
                RowsWeight,
            ),
            locations: RwLock::default(),
            reloading: tokio::sync::Mutex::new(()),
            changed: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// After this process changed a location: a copy read before now is stale, even one a
    /// reload still in flight is about to store.
    pub fn forget_locations(&self) {
        *self.changed.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    pub async fn location(
        &self,
        pool: &Pool,
        code: &LocationCode,
    ) -> Result<Option<Arc<Location>>> {
        if let Some(location) = self
            .current_locations(pool)
            .await?
            .by_code
            .get(code.as_str())
        {
            return Ok(Some(location.clone()));
        }
        // Unknown here: perhaps created since the copy was taken (asked alone, so that requests
        // for codes that do not exist cost one point query, not a reload).
        let client = pool.get().await?;
        if locations::get(&client, code).await?.is_none() {
            return Ok(None);
        }
        drop(client);
        Ok(self
            .reload_locations(pool)
            .await?
            .by_code
            .get(code.as_str())
            .cloned())
    }

    /// The SKU's figures now, live holds included; `None` for an unknown SKU.
    pub async fn now(&self, pool: &Pool, redis: &Redis, sku: &SkuCode) -> Result<Option<Answer>> {
        let failures = redis.failures();
        let live = match lifecycle::live(redis, sku.as_str()).await {
            Ok(live) => live,
            Err(error) => {
                tracing::warn!(%error, "lookup without live holds");
                let Some(figures) = read(pool, sku, None).await? else {
                    return Ok(None);
                };
                return self.answer(pool, &figures, None).await.map(Some);
            }
        };
        let Some(stamp) = live.stamp else {
            // No stamp to tag a copy with: one created after this read could hide a write made
            // in between. Answer uncopied, and stamp only a SKU that exists.
            let Some(figures) = read(pool, sku, None).await? else {
                return Ok(None);
            };
            if let Err(error) = lifecycle::stamp(redis, sku.as_str()).await {
                tracing::warn!(%error, "no stamp created; the next lookup reads the ledger again");
            }
            return self
                .answer(pool, &figures, Some(Holds::Live(&live)))
                .await
                .map(Some);
        };
        let copy = match self.copies.get(sku.as_str()) {
            Some(copy)
                if copy.stamp == stamp
                    && copy.failures == failures
                    && copy.taken.elapsed() < COPY_TTL =>
            {
                copy
            }
            _ => {
                let taken = Instant::now();
                let Some(figures) = read(pool, sku, None).await? else {
                    return Ok(None);
                };
                let copy = Arc::new(Copy {
                    stamp,
                    failures,
                    taken,
                    figures,
                });
                self.copies.insert(sku.to_string(), copy.clone());
                copy
            }
        };
        self.answer(pool, &copy.figures, Some(Holds::Live(&live)))
            .await
            .map(Some)
    }

    /// The SKU's figures as the ledger stood at `instant` (holds are not historical).
    pub async fn as_of(
        &self,
        pool: &Pool,
        sku: &SkuCode,
        instant: DateTime<Utc>,
    ) -> Result<Option<Answer>> {
        let Some(figures) = read(pool, sku, Some(instant)).await? else {
            return Ok(None);
        };
        self.answer(pool, &figures, Some(Holds::Historical))
            .await
            .map(Some)
    }

    /// `holds`: `None` when Redis could not be asked.
    async fn answer(
        &self,
        pool: &Pool,
        figures: &SkuFigures,
        holds: Option<Holds<'_>>,
    ) -> Result<Answer> {
        let mut locations = self.current_locations(pool).await?;
        if figures
            .balances
            .iter()
            .any(|(id, _)| !locations.by_id.contains_key(id))
        {
            locations = self.reload_locations(pool).await?;
        }
        let rows = figures
            .balances
            .iter()
            .filter_map(|(id, balance)| {
                let location = locations.by_id.get(id)?.clone();
                let held = match holds {
                    Some(Holds::Live(live)) => live.held_at(location.code.as_str()),
                    _ => 0,
                };
                Some(Row {
                    location,
                    balance: *balance,
                    held,
                })
            })
            .collect();
        Ok(Answer {
            name: figures.name.clone(),
            rows,
            holds_unavailable: holds.is_none(),
        })
    }

    fn snapshot(&self) -> Arc<Locations> {
        self.locations
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn current_locations(&self, pool: &Pool) -> Result<Arc<Locations>> {
        let current = self.snapshot();
        let changed = *self.changed.lock().unwrap_or_else(|e| e.into_inner());
        match current.loaded {
            Some(at) if at <= changed => self.reload_locations(pool).await,
            Some(at) if at.elapsed() < LOCATIONS_TTL => Ok(current),
            // Another request is reading them: this one goes on with the copy it has.
            Some(_) if self.reloading.try_lock().is_err() => Ok(current),
            _ => self.reload_locations(pool).await,
        }
    }

    async fn reload_locations(&self, pool: &Pool) -> Result<Arc<Locations>> {
        let asked = Instant::now();
        let _reading = self.reloading.lock().await;
        let current = self.snapshot();
        if current.loaded.is_some_and(|at| at >= asked) {
            return Ok(current);
        }
        let client = pool.get().await?;
        let mut fresh = Locations {
            loaded: Some(Instant::now()),
            ..Locations::default()
        };
        for (id, location) in locations::all_with_ids(&client).await? {
            let location = Arc::new(location);
            fresh
                .by_code
                .insert(location.code.to_string(), location.clone());
            fresh.by_id.insert(id, location);
        }
        let fresh = Arc::new(fresh);
        *self.locations.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }
}

async fn read(
    pool: &Pool,
    sku: &SkuCode,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<SkuFigures>> {
    let client = pool.get().await?;
    stock::sku_figures(&client, sku.as_str(), as_of).await
}
