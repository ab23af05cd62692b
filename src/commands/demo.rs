//! `allot seed-demo`: a chain to try Allot on — 30 stores around Taipei, one e-shop warehouse,
//! 300 SKUs, stock received through the ledger like any other stock. Running it again changes
//! nothing: every write is an upsert or an idempotent movement batch.

use crate::app::access::{self, KeyRequest, UserRequest};
use crate::app::{self, catalog, movements, App, Key, Line};
use crate::config::Settings;
use crate::domain::access::{Principal, Role};
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::geo::Point;
use crate::domain::ledger::Movement;
use crate::domain::location::{Location, LocationKind};
use crate::domain::quantity::Qty;
use crate::domain::sku::Sku;
use chrono::Utc;
use serde_json::{json, Map};

pub const STORES: usize = 30;
pub const SKUS: usize = 300;
pub const WAREHOUSE: &str = "WH-TPE";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error(transparent)]
    App(#[from] app::Error),
}

/// A small deterministic generator, so every demo chain is the same chain.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

pub fn locations() -> Vec<Location> {
    let mut random = Lcg(7);
    let mut locations = vec![Location {
        code: LocationCode::parse("code", WAREHOUSE).expect("constant code"),
        name: "E-shop warehouse, Taoyuan".into(),
        kind: LocationKind::Warehouse,
        point: Point {
            latitude: 25.0,
            longitude: 121.3,
        },
        pickup: false,
        ship: true,
        safety_stock: 0,
        handling_per_unit: None,
        pick_capacity_per_day: None,
        transfers_out: true,
        low_stock_below: 0,
    }];
    const DISTRICTS: [&str; 10] = [
        "Xinyi",
        "Da'an",
        "Zhongshan",
        "Songshan",
        "Neihu",
        "Shilin",
        "Wanhua",
        "Banqiao",
        "Xindian",
        "Tamsui",
    ];
    for index in 0..STORES {
        // Spread over greater Taipei: about ±15 km around the city centre.
        let latitude = 25.04 + (random.next(2_700) as f64 - 1_350.0) / 10_000.0;
        let longitude = 121.53 + (random.next(3_000) as f64 - 1_500.0) / 10_000.0;
        locations.push(Location {
            code: LocationCode::parse("code", &format!("TPE-{:03}", index + 1))
                .expect("constant code"),
            name: format!(
                "{} store {}",
                DISTRICTS[index % DISTRICTS.len()],
                index / DISTRICTS.len() + 1
            ),
            kind: LocationKind::Store,
            point: Point {
                latitude,
                longitude,
            },
            pickup: true,
            ship: index % 3 == 0,
            safety_stock: 1,
            handling_per_unit: None,
            pick_capacity_per_day: None,
            transfers_out: true,
            low_stock_below: 0,
        });
    }
    locations
}

pub fn skus() -> Vec<Sku> {
    const PRODUCTS: [&str; 10] = [
        "T-shirt", "Hoodie", "Jeans", "Sneakers", "Cap", "Jacket", "Dress", "Shorts", "Socks",
        "Backpack",
    ];
    const COLOURS: [&str; 5] = ["BLK", "WHT", "NVY", "RED", "GRY"];
    const SIZES: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];
    let mut skus = Vec::with_capacity(SKUS);
    'outer: for product in PRODUCTS {
        for colour in COLOURS {
            for size in SIZES {
                if skus.len() == SKUS {
                    break 'outer;
                }
                let code = format!(
                    "{}-{colour}-{size}",
                    product.to_uppercase().replace('-', "")
                );
                let mut attributes = Map::new();
                attributes.insert("colour".into(), json!(colour));
                attributes.insert("size".into(), json!(size));
                skus.push(Sku {
                    code: SkuCode::parse("code", &code).expect("constant code"),
                    name: format!("{product} {colour} {size}"),
                    attributes,
                });
            }
        }
    }
    skus
}

/// Receipts: the warehouse holds deep stock of everything, each store a patchy assortment.
pub fn receipts(locations: &[Location], skus: &[Sku]) -> Vec<Line> {
    let mut random = Lcg(11);
    let now = Utc::now();
    let mut lines = Vec::new();
    for location in locations {
        for sku in skus {
            let units = match location.kind {
                LocationKind::Warehouse => 50 + random.next(200),
                LocationKind::Store if random.next(100) < 35 => 1 + random.next(8),
                LocationKind::Store => 0,
            };
            if let Ok(qty) = Qty::parse("qty", units as i64) {
                lines.push(Line {
                    location: location.code.clone(),
                    sku: sku.code.clone(),
                    movement: Movement::Receipt(qty),
                    occurred_at: now,
                });
            }
        }
    }
    lines
}

/// Four weeks of trade for the first 60 SKUs, so the planners have demand to read: at every
/// fifth store a SKU sells 1–3 units a day and is nearly sold out; at another fifth it was
/// overstocked and has not sold. Receipts land 30 days ago, sales on each day since.
pub fn history(locations: &[Location], skus: &[Sku]) -> Vec<Line> {
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let stores: Vec<&Location> = locations
        .iter()
        .filter(|location| location.kind == LocationKind::Store)
        .collect();
    let (mut receipts, mut sales) = (Vec::new(), Vec::new());
    for (s, store) in stores.iter().enumerate() {
        for (k, sku) in skus.iter().take(60).enumerate() {
            let line = |movement, occurred_at| Line {
                location: store.code.clone(),
                sku: sku.code.clone(),
                movement,
                occurred_at,
            };
            let (received, per_day) = match (s + k) % 5 {
                0 => {
                    let per_day = 1 + (s + k) % 3;
                    (per_day * 28 + (s * k) % 3, per_day)
                }
                2 => (40, 0),
                _ => continue,
            };
            if let Ok(qty) = Qty::parse("qty", received as i64) {
                receipts.push(line(Movement::Receipt(qty), now - day * 30));
            }
            for age in 0..28 {
                if let Ok(qty) = Qty::parse("qty", per_day as i64) {
                    sales.push(line(Movement::Sale(qty), now - day * (28 - age)));
                }
            }
        }
    }
    sales.sort_by_key(|line| line.occurred_at);
    receipts.extend(sales);
    receipts
}

pub async fn seed(settings: &Settings) -> Result<(), DemoError> {
    let app = App::open(settings, 2).await?;
    let (locations, skus) = (locations(), skus());
    catalog::import_locations(&app, &locations, |_| ()).await?;
    catalog::import_skus(&app, &skus, |_| ()).await?;
    let history = history(&locations, &skus);
    let receipts = receipts(&locations, &skus);
    let batches = history
        .chunks(1000)
        .map(|batch| ("demo-history", batch))
        .chain(receipts.chunks(1000).map(|batch| ("demo-seed", batch)));
    let mut counts = std::collections::HashMap::new();
    for (name, batch) in batches {
        let index = counts.entry(name).or_insert(0);
        let key = Key::parse("movements", &format!("{name}-{index}"), &json!(*index))
            .map_err(app::Error::from)?;
        *index += 1;
        movements::record(
            &app,
            &Principal::system("demo"),
            Some(&key),
            "movements",
            batch,
        )
        .await?;
    }
    tracing::info!(
        locations = locations.len(),
        skus = skus.len(),
        receipt_lines = receipts.len(),
        history_lines = history.len(),
        "demo chain loaded"
    );
    demo_credentials(&app, &locations).await
}

/// Every demo person's password: the demo runs on loopback, for trying Allot out.
pub const DEMO_PASSWORD: &str = "allot-demo-password";
const DEMO_KEY_LABEL: &str = "demo e-shop";

/// The demo's people (an admin, a planner, a clerk per store) and a fresh e-shop key (the
/// previous demo key is revoked: a key is shown only once), printed for `make run`.
async fn demo_credentials(app: &App, locations: &[Location]) -> Result<(), DemoError> {
    let by = Principal::system("demo");
    let stores = locations
        .iter()
        .filter(|location| location.kind == LocationKind::Store);
    let mut people = vec![("admin".to_owned(), Role::Admin, vec![])];
    people.push(("planner".to_owned(), Role::Planner, vec![]));
    people.extend(stores.map(|store| {
        let name = format!("clerk-{}", store.code);
        (name, Role::Clerk, vec![store.code.clone()])
    }));
    for (name, role, locations) in people {
        let request = UserRequest {
            name,
            password: DEMO_PASSWORD.to_owned(),
            role,
            locations,
        };
        match access::create_user(app, &by, request).await {
            Ok(_) | Err(app::Error::Conflict(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    for key in access::keys(app, &by, 1000).await? {
        if key.label.as_deref() == Some(DEMO_KEY_LABEL) && key.revoked_at.is_none() {
            access::revoke_key(app, &by, &key.id).await?;
        }
    }
    let request = KeyRequest {
        role: Role::Eshop,
        locations: Vec::new(),
        label: Some(DEMO_KEY_LABEL.to_owned()),
        expires_at: None,
    };
    let key = access::create_key(app, &by, request).await?.key;
    println!("Sign in on the pages as admin, planner or clerk-TPE-001 (any store), password {DEMO_PASSWORD}");
    println!("The e-shop's API key (send it as 'Authorization: Bearer <key>'):");
    println!("{key}");
    Ok(())
}
