use super::locations::Upserted;
use super::{Cached, Result};
use crate::domain::codes::SkuCode;
use crate::domain::sku::Sku;
use deadpool_postgres::GenericClient;
use serde_json::Value;

const UPSERT: &str = "
    INSERT INTO skus (code, name, attributes)
    SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
    ON CONFLICT (code) DO UPDATE SET
        name = excluded.name, attributes = excluded.attributes, updated_at = now()
    RETURNING (xmax = 0) AS created";

/// Creates or updates SKUs by code, in one statement.
pub async fn upsert_many(client: &impl GenericClient, skus: &[Sku]) -> Result<Vec<Upserted>> {
    let codes: Vec<&str> = skus.iter().map(|s| s.code.as_str()).collect();
    let names: Vec<&str> = skus.iter().map(|s| s.name.as_str()).collect();
    let attributes: Vec<Value> = skus
        .iter()
        .map(|s| Value::Object(s.attributes.clone()))
        .collect();
    let rows = client
        .cached_query(UPSERT, &[&codes, &names, &attributes])
        .await?;
    Ok(super::locations::upserted(&rows))
}

pub async fn get(client: &impl GenericClient, code: &SkuCode) -> Result<Option<(i64, Sku)>> {
    let row = client
        .cached_query_opt(
            "SELECT id, code, name, attributes FROM skus WHERE code = $1",
            &[&code.as_str()],
        )
        .await?;
    Ok(row.map(|row| {
        let attributes = match row.get::<_, Value>(3) {
            Value::Object(map) => map,
            _ => Default::default(),
        };
        let sku = Sku {
            code: SkuCode::parse("code", row.get(1)).expect("database CHECK keeps codes valid"),
            name: row.get(2),
            attributes,
        };
        (row.get(0), sku)
    }))
}
