//! `check`: the ledger's own audit after a run — every stored balance equals the fold of its
//! movements and nothing is negative (allot::ledger::stock::invariant_violations).

/// Violations printed; the rest are counted.
pub const VIOLATIONS_SHOWN_MAX: usize = 20;

pub struct Audit {
    pub movements: i64,
    pub balances: i64,
    pub discrepancies: i64,
    pub violations: Vec<String>,
}

pub async fn audit(database_url: &str) -> Result<Audit, String> {
    // The audit reads the whole ledger: a batch's statement timeout, not a request's.
    let timeout = std::time::Duration::from_secs(30 * 60);
    let pool = allot::ledger::pool(database_url, 1, timeout).map_err(|error| error.to_string())?;
    let client = pool.get().await.map_err(|error| error.to_string())?;
    let violations = allot::ledger::stock::invariant_violations(&client)
        .await
        .map_err(|error| format!("{error}: {:?}", std::error::Error::source(&error)))?;
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM movements), (SELECT count(*) FROM balances),
                    (SELECT count(*) FROM discrepancies)",
            &[],
        )
        .await
        .map_err(|error| error.to_string())?;
    Ok(Audit {
        movements: counts.get(0),
        balances: counts.get(1),
        discrepancies: counts.get(2),
        violations,
    })
}
