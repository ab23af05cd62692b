//! Recording batches of movements: all lines or none, balances updated under row locks in the
//! same transaction, the response stored with the idempotency key.

use super::idempotency::{self, Key};
use super::{in_transaction, Cached, Error, Result};
use crate::domain::access::Actor;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::ledger::{
    apply_batch, Balance, Discrepancy, EntryKind, Movement, Outcome, Refusal,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// A movement line parsed from outside.
#[derive(Debug, Clone)]
pub struct Line {
    pub location: LocationCode,
    pub sku: SkuCode,
    pub movement: Movement,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub request_id: Uuid,
    /// Ledger rows written, in order; a line may write two (see the ledger rules).
    pub movements: Vec<RecordedMovement>,
    /// The balance of every (location, SKU) touched, after the batch.
    pub balances: Vec<TouchedBalance>,
    pub discrepancies: Vec<RecordedDiscrepancy>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedMovement {
    pub id: i64,
    pub line: usize,
    pub location: String,
    pub sku: String,
    #[schema(value_type = String)]
    pub kind: EntryKind,
    pub qty: i64,
    pub on_hand_delta: i64,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TouchedBalance {
    pub location: String,
    pub sku: String,
    pub on_hand: i64,
    pub allocated: i64,
    pub in_transit: i64,
    pub safety_stock: i64,
    /// Increases with every change of this balance; caches keep the newest.
    pub version: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedDiscrepancy {
    pub line: usize,
    pub location: String,
    pub sku: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub discrepancy: Discrepancy,
}

/// The result of a write that may have been a replay.
pub enum Reply<T> {
    Fresh(T),
    Replayed(Value),
}

type Ids = (i64, i64);

/// Records `lines` (named `{lines_field}[i]` in refusals) in one transaction.
pub async fn record(
    pool: &Pool,
    actor: &Actor,
    key: Option<&Key>,
    lines_field: &str,
    lines: &[Line],
) -> Result<Reply<Recorded>> {
    let mut kinds: Vec<&'static str> = lines.iter().map(|l| l.movement.kind().as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let cause = super::Cause::Movements {
        kinds: &kinds,
        key: key.map(Key::key),
    };
    in_transaction(pool, actor, &cause, async |transaction| {
        if let Some(key) = key {
            if let Some(response) = idempotency::claim(transaction, key).await? {
                return Ok(Reply::Replayed(response));
            }
        }
        let recorded = record_in(transaction, lines_field, lines).await?;
        if let Some(key) = key {
            let response = serde_json::to_value(&recorded).expect("a response serialises");
            idempotency::store(transaction, key, 201, &response).await?;
        }
        Ok(Reply::Fresh(recorded))
    })
    .await
}

/// Records `lines` inside a transaction the caller owns (and commits).
pub async fn record_in(
    transaction: &impl GenericClient,
    lines_field: &str,
    lines: &[Line],
) -> Result<Recorded> {
    if lines.is_empty() {
        return Ok(Recorded {
            request_id: Uuid::new_v4(),
            movements: Vec::new(),
            balances: Vec::new(),
            discrepancies: Vec::new(),
        });
    }
    let (ids, mut balances, safety_stock) = lock_lines(transaction, lines).await?;
    let outcomes = apply_lines(lines_field, lines, &ids, &mut balances, &safety_stock)?;
    let request_id = Uuid::new_v4();
    let Entries {
        rows,
        mut movements,
        discrepancies,
        discrepancy_entries,
    } = entries(lines, &outcomes, &ids, request_id);
    let (inserted, written) = tokio::join!(
        rows.insert(transaction),
        write_balances(transaction, &balances, &safety_stock, &ids, lines)
    );
    // Pipelined: when a constraint refuses the insert (a detached month's `occurred_at`), the
    // update reports only the aborted transaction; the insert's error is the cause.
    let (movement_ids, touched) = (inserted?, written?);
    for (movement, id) in movements.iter_mut().zip(&movement_ids) {
        movement.id = *id;
    }
    let discrepancy_rows: Vec<(Ids, i64, Discrepancy)> = discrepancy_entries
        .into_iter()
        .map(|(ids, entry, discrepancy)| (ids, movement_ids[entry], discrepancy))
        .collect();
    insert_discrepancies(transaction, &discrepancy_rows).await?;

    Ok(Recorded {
        request_id,
        movements,
        balances: touched,
        discrepancies,
    })
}

/// Each line's (SKU, location) ids, with the balances they touch locked, and their safety
/// stock: in one round trip when every balance row exists, else by the longer way.
async fn lock_lines(transaction: &impl GenericClient, lines: &[Line]) -> Result<Locked> {
    // Statements that do not wait for each other go out together (pipelined on the connection).
    let ((), known) = tokio::try_join!(
        super::generic_plans(transaction),
        lock_known(transaction, lines)
    )?;
    if let Some(locked) = known {
        return Ok(locked);
    }
    let ids = resolve(transaction, lines).await?;
    let (balances, safety_stock) = lock_balances(transaction, &ids).await?;
    Ok((ids, balances, safety_stock))
}

/// The ledger rules over the batch, all lines or none: a refusal names its line.
fn apply_lines(
    lines_field: &str,
    lines: &[Line],
    ids: &[Ids],
    balances: &mut HashMap<Ids, Balance>,
    safety_stock: &HashMap<Ids, i64>,
) -> Result<Vec<Outcome>> {
    let keyed: Vec<(Ids, Movement)> = ids
        .iter()
        .zip(lines)
        .map(|(ids, line)| (*ids, line.movement.clone()))
        .collect();
    apply_batch(
        balances,
        |key| safety_stock.get(key).copied().unwrap_or(0),
        &keyed,
    )
    .map_err(|(index, refusal): (usize, Refusal)| Error::Shortage {
        field: format!("{lines_field}[{index}]"),
        message: format!(
            "{} at {}: {refusal}",
            lines[index].sku, lines[index].location
        ),
    })
}

/// The ledger entries a batch writes: as rows to insert, and as the response shows them.
struct Entries {
    rows: MovementRows,
    /// Without their ids, known once the rows are inserted.
    movements: Vec<RecordedMovement>,
    discrepancies: Vec<RecordedDiscrepancy>,
    /// (line ids, index of the line's last entry, discrepancy): the entry's id is known once
    /// the rows are inserted.
    discrepancy_entries: Vec<(Ids, usize, Discrepancy)>,
}

fn entries(lines: &[Line], outcomes: &[Outcome], ids: &[Ids], request_id: Uuid) -> Entries {
    let mut written = Entries {
        rows: MovementRows::default(),
        movements: Vec::new(),
        discrepancies: Vec::new(),
        discrepancy_entries: Vec::new(),
    };
    for (index, ((line, outcome), line_ids)) in lines.iter().zip(outcomes).zip(ids).enumerate() {
        for entry in &outcome.entries {
            written
                .rows
                .push(*line_ids, entry, request_id, line.occurred_at);
            written.movements.push(RecordedMovement {
                id: 0,
                line: index,
                location: line.location.to_string(),
                sku: line.sku.to_string(),
                kind: entry.kind,
                qty: entry.qty,
                on_hand_delta: entry.on_hand_delta,
                reason: entry.reason.clone(),
                occurred_at: line.occurred_at,
            });
        }
        if let Some(discrepancy) = &outcome.discrepancy {
            let last_entry = written.movements.len() - 1;
            written
                .discrepancy_entries
                .push((*line_ids, last_entry, discrepancy.clone()));
            written.discrepancies.push(RecordedDiscrepancy {
                line: index,
                location: line.location.to_string(),
                sku: line.sku.to_string(),
                discrepancy: discrepancy.clone(),
            });
        }
    }
    written
}

type Locked = (Vec<Ids>, HashMap<Ids, Balance>, HashMap<Ids, i64>);

/// The common case in one round trip: every line's balance row exists, so codes are resolved
/// and the rows locked (in key order, as [`lock_balances`] does) by one statement. `None` when
/// a code is unknown or a row is missing: the caller takes the longer way, which names the line
/// or creates the row.
async fn lock_known(client: &impl GenericClient, lines: &[Line]) -> Result<Option<Locked>> {
    let sku_codes: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let location_codes: Vec<&str> = lines.iter().map(|l| l.location.as_str()).collect();
    let rows = client
        .cached_query(
            "SELECT b.sku_id, b.location_id, b.on_hand, b.allocated, b.in_transit,
                    l.safety_stock, k.sku, k.location
             FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(sku, location)
             JOIN skus s ON s.code = k.sku
             JOIN locations l ON l.code = k.location
             JOIN balances b ON b.sku_id = s.id AND b.location_id = l.id
             ORDER BY b.sku_id, b.location_id
             FOR UPDATE OF b",
            &[&sku_codes, &location_codes],
        )
        .await?;
    let mut by_codes: HashMap<(&str, &str), Ids> = HashMap::with_capacity(rows.len());
    let mut balances = HashMap::with_capacity(rows.len());
    let mut safety_stock = HashMap::with_capacity(rows.len());
    for row in &rows {
        let (key, balance, safety) = locked_balance(row);
        by_codes.insert((row.get(6), row.get(7)), key);
        balances.insert(key, balance);
        safety_stock.insert(key, safety);
    }
    let ids: Option<Vec<Ids>> = lines
        .iter()
        .map(|line| {
            by_codes
                .get(&(line.sku.as_str(), line.location.as_str()))
                .copied()
        })
        .collect();
    Ok(ids.map(|ids| (ids, balances, safety_stock)))
}

/// Codes to ids; an unknown code names the first line that uses it.
async fn resolve(client: &impl GenericClient, lines: &[Line]) -> Result<Vec<Ids>> {
    let mut sku_codes: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let mut location_codes: Vec<&str> = lines.iter().map(|l| l.location.as_str()).collect();
    sku_codes.sort_unstable();
    sku_codes.dedup();
    location_codes.sort_unstable();
    location_codes.dedup();
    let (sku_params, location_params) = ([&sku_codes as _], [&location_codes as _]);
    // Both lookups go out pipelined on the one connection.
    let (sku_rows, location_rows) = tokio::try_join!(
        client.cached_query(
            "SELECT code, id FROM skus WHERE code = ANY($1)",
            &sku_params
        ),
        client.cached_query(
            "SELECT code, id FROM locations WHERE code = ANY($1)",
            &location_params
        ),
    )?;
    let as_map = |rows: Vec<tokio_postgres::Row>| -> HashMap<String, i64> {
        rows.iter().map(|row| (row.get(0), row.get(1))).collect()
    };
    let (sku_ids, location_ids) = (as_map(sku_rows), as_map(location_rows));
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let sku = sku_ids
                .get(line.sku.as_str())
                .ok_or_else(|| Error::UnknownSku {
                    field: format!("movements[{index}].sku"),
                    code: line.sku.to_string(),
                })?;
            let location =
                location_ids
                    .get(line.location.as_str())
                    .ok_or_else(|| Error::UnknownLocation {
                        field: format!("movements[{index}].location"),
                        code: line.location.to_string(),
                    })?;
            Ok((*sku, *location))
        })
        .collect()
}

/// Locks the balance rows of every (SKU, location) in the batch, creating missing ones first.
/// Rows are locked in key order, so concurrent batches cannot deadlock on each other.
async fn lock_balances(
    client: &impl GenericClient,
    ids: &[Ids],
) -> Result<(HashMap<Ids, Balance>, HashMap<Ids, i64>)> {
    let mut keys: Vec<Ids> = ids.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let (sku_ids, location_ids): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
    let select = "
        SELECT b.sku_id, b.location_id, b.on_hand, b.allocated, b.in_transit, l.safety_stock
        FROM balances b JOIN unnest($1::int8[], $2::int8[]) AS k(sku_id, location_id)
          USING (sku_id, location_id)
        JOIN locations l ON l.id = b.location_id
        ORDER BY b.sku_id, b.location_id
        FOR UPDATE OF b";
    let mut rows = client
        .cached_query(select, &[&sku_ids, &location_ids])
        .await?;
    if rows.len() < keys.len() {
        client
            .cached_execute(
                "INSERT INTO balances (sku_id, location_id)
                 SELECT * FROM unnest($1::int8[], $2::int8[]) ORDER BY 1, 2
                 ON CONFLICT DO NOTHING",
                &[&sku_ids, &location_ids],
            )
            .await?;
        rows = client
            .cached_query(select, &[&sku_ids, &location_ids])
            .await?;
    }
    assert_eq!(
        rows.len(),
        keys.len(),
        "every balance row exists after the insert"
    );
    let mut balances = HashMap::with_capacity(rows.len());
    let mut safety_stock = HashMap::with_capacity(rows.len());
    for row in &rows {
        let (key, balance, safety) = locked_balance(row);
        balances.insert(key, balance);
        safety_stock.insert(key, safety);
    }
    Ok((balances, safety_stock))
}

/// A locked balance row, as both lock statements return it first: sku_id, location_id,
/// on_hand, allocated, in_transit, safety_stock.
fn locked_balance(row: &tokio_postgres::Row) -> (Ids, Balance, i64) {
    let balance = Balance {
        on_hand: row.get(2),
        allocated: row.get(3),
        in_transit: row.get(4),
    };
    assert!(balance.is_valid(), "database CHECKs keep balances valid");
    ((row.get(0), row.get(1)), balance, row.get(5))
}

#[derive(Default)]
struct MovementRows {
    sku_ids: Vec<i64>,
    location_ids: Vec<i64>,
    kinds: Vec<&'static str>,
    quantities: Vec<i64>,
    on_hand_deltas: Vec<i64>,
    allocated_deltas: Vec<i64>,
    in_transit_deltas: Vec<i64>,
    reasons: Vec<Option<String>>,
    request_ids: Vec<Uuid>,
    occurred_at: Vec<DateTime<Utc>>,
}

impl MovementRows {
    fn push(
        &mut self,
        (sku_id, location_id): Ids,
        entry: &crate::domain::ledger::Entry,
        request_id: Uuid,
        occurred_at: DateTime<Utc>,
    ) {
        self.sku_ids.push(sku_id);
        self.location_ids.push(location_id);
        self.kinds.push(entry.kind.as_str());
        self.quantities.push(entry.qty);
        self.on_hand_deltas.push(entry.on_hand_delta);
        self.allocated_deltas.push(entry.allocated_delta);
        self.in_transit_deltas.push(entry.in_transit_delta);
        self.reasons.push(entry.reason.clone());
        self.request_ids.push(request_id);
        self.occurred_at.push(occurred_at);
    }

    /// Inserts the rows in order and returns their ids, in the same order: ids come from the
    /// identity sequence as rows are inserted, so they ascend in insertion order.
    async fn insert(&self, client: &impl GenericClient) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = client
            .cached_query(
                "INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta,
                     allocated_delta, in_transit_delta, reason, request_id, occurred_at)
                 SELECT sku_id, location_id, kind, qty, on_hand_delta, allocated_delta,
                        in_transit_delta, reason, request_id, occurred_at
                 FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int8[], $5::int8[],
                     $6::int8[], $7::int8[], $8::text[], $9::uuid[], $10::timestamptz[])
                     WITH ORDINALITY AS u(sku_id, location_id, kind, qty, on_hand_delta,
                         allocated_delta, in_transit_delta, reason, request_id, occurred_at, n)
                 ORDER BY n
                 RETURNING id",
                &[
                    &self.sku_ids,
                    &self.location_ids,
                    &self.kinds,
                    &self.quantities,
                    &self.on_hand_deltas,
                    &self.allocated_deltas,
                    &self.in_transit_deltas,
                    &self.reasons,
                    &self.request_ids,
                    &self.occurred_at,
                ],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

/// Writes the new figures of every touched balance, and returns them keyed by codes.
async fn write_balances(
    client: &impl GenericClient,
    balances: &HashMap<Ids, Balance>,
    safety_stock: &HashMap<Ids, i64>,
    ids: &[Ids],
    lines: &[Line],
) -> Result<Vec<TouchedBalance>> {
    let mut touched = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let (mut sku_ids, mut location_ids, mut on_hand, mut allocated, mut in_transit) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (key, line) in ids.iter().zip(lines) {
        if !seen.insert(*key) {
            continue;
        }
        let balance = balances[key];
        sku_ids.push(key.0);
        location_ids.push(key.1);
        on_hand.push(balance.on_hand);
        allocated.push(balance.allocated);
        in_transit.push(balance.in_transit);
        touched.push(TouchedBalance {
            location: line.location.to_string(),
            sku: line.sku.to_string(),
            on_hand: balance.on_hand,
            allocated: balance.allocated,
            in_transit: balance.in_transit,
            safety_stock: safety_stock.get(key).copied().unwrap_or(0),
            version: 0,
        });
    }
    let versions: HashMap<Ids, i64> = client
        .cached_query(
            "UPDATE balances b SET on_hand = v.on_hand, allocated = v.allocated,
                 in_transit = v.in_transit, version = b.version + 1, updated_at = now()
             FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[])
                 AS v(sku_id, location_id, on_hand, allocated, in_transit)
             WHERE b.sku_id = v.sku_id AND b.location_id = v.location_id
             RETURNING b.sku_id, b.location_id, b.version",
            &[&sku_ids, &location_ids, &on_hand, &allocated, &in_transit],
        )
        .await?
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();
    for (balance, key) in touched.iter_mut().zip(sku_ids.iter().zip(&location_ids)) {
        balance.version = versions[&(*key.0, *key.1)];
    }
    Ok(touched)
}

async fn insert_discrepancies(
    client: &impl GenericClient,
    rows: &[(Ids, i64, Discrepancy)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&(Ids, i64, Discrepancy)) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let kinds: Vec<&str> = rows.iter().map(|r| r.2.kind.as_str()).collect();
    client
        .cached_execute(
            "INSERT INTO discrepancies (sku_id, location_id, movement_id, kind, on_hand_before,
                 on_hand_after, allocated, shortfall)
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::int8[],
                 $6::int8[], $7::int8[], $8::int8[])",
            &[
                &column(|r| r.0 .0),
                &column(|r| r.0 .1),
                &column(|r| r.1),
                &kinds,
                &column(|r| r.2.on_hand_before),
                &column(|r| r.2.on_hand_after),
                &column(|r| r.2.allocated),
                &column(|r| r.2.shortfall),
            ],
        )
        .await?;
    Ok(())
}
