//! Who may do what, and where: roles, the scopes they grant, and the principal a request runs
//! as. Pure: credentials are verified by the application layer, which hands a [`Principal`] to
//! every use case; the use case asks it for the scope (and the location) it needs.
//!
//! Scopes are named like the platforms' (Shopify's `read_inventory`/`write_inventory`,
//! commercetools' `manage_orders:{store}`): a location-limited grant reads `scope:LOCATION`.

use super::codes::LocationCode;
use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How every API key starts; the key's id follows, then `_` and the secret.
pub const KEY_PREFIX: &str = "allot_live_";
/// Characters of a key's id and of its secret part (letters and digits).
pub const KEY_ID_LENGTH: usize = 12;
pub const KEY_SECRET_LENGTH: usize = 40;
/// Most locations one credential may be limited to.
pub const CREDENTIAL_LOCATIONS_MAX: usize = 100;
/// Longest user name (also the clerk id recorded on referred orders).
pub const USER_NAME_LENGTH_MAX: usize = 64;
/// Shortest and longest password accepted.
pub const PASSWORD_LENGTH_MIN: usize = 10;
pub const PASSWORD_LENGTH_MAX: usize = 200;
/// The characters a user name may have besides ASCII letters and digits.
const USER_NAME_PUNCTUATION: &[u8] = b"_.@-";

super::schema::schema_rule!(
    /// What a person signs in with.
    UserName = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(USER_NAME_LENGTH_MAX))
        .pattern(Some(format!(
            "^[A-Za-z0-9{}]+$",
            String::from_utf8_lossy(USER_NAME_PUNCTUATION)
        )))
);
super::schema::schema_rule!(
    /// A password, in characters.
    Password = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(PASSWORD_LENGTH_MIN))
        .max_length(Some(PASSWORD_LENGTH_MAX))
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Eshop,
    Pos,
    Clerk,
    Warehouse,
    Planner,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Eshop,
        Role::Pos,
        Role::Clerk,
        Role::Warehouse,
        Role::Planner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Eshop => "eshop",
            Self::Pos => "pos",
            Self::Clerk => "clerk",
            Self::Warehouse => "warehouse",
            Self::Planner => "planner",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    "must be admin, eshop, pos, clerk, warehouse or planner",
                )
            })
    }

    /// How many locations a credential of this role is limited to: (fewest, most).
    fn locations_range(self) -> (usize, usize) {
        match self {
            Self::Admin | Self::Eshop | Self::Planner => (0, 0),
            Self::Clerk => (1, 1),
            Self::Pos | Self::Warehouse => (1, CREDENTIAL_LOCATIONS_MAX),
        }
    }

    /// The scopes this role grants, each everywhere or only at the credential's locations.
    pub fn grants(self) -> &'static [(Scope, Reach)] {
        use Reach::{Everywhere as E, Own as O};
        use Scope::*;
        match self {
            Self::Admin => &ADMIN_GRANTS,
            Self::Eshop => &[
                (ReadInventory, E),
                (ReadEvents, E),
                (ReadHolds, E),
                (WriteHolds, E),
                (ReadOrders, E),
                (PlaceOrders, E),
                (WriteOrders, E),
            ],
            Self::Pos => &[(ReadInventory, E), (WriteInventory, O)],
            Self::Clerk => &[
                (ReadInventory, E),
                (PlaceOrders, O),
                (ReadTransfers, E),
                (RequestTransfers, O),
                (MoveTransfers, O),
            ],
            Self::Warehouse => &[
                (ReadInventory, E),
                (WriteInventory, O),
                (ReadTransfers, E),
                (MoveTransfers, O),
            ],
            Self::Planner => &[
                (ReadInventory, E),
                (ReadMovements, E),
                (ReadTransfers, E),
                (ReadPlans, E),
                (WritePlans, E),
                (ReadReports, E),
                (ReadEvents, E),
            ],
        }
    }
}

const ADMIN_GRANTS: [(Scope, Reach); Scope::ALL.len()] = {
    let mut grants = [(Scope::ReadInventory, Reach::Everywhere); Scope::ALL.len()];
    let mut index = 0;
    while index < Scope::ALL.len() {
        grants[index].0 = Scope::ALL[index];
        index += 1;
    }
    grants
};

/// Whether a grant holds everywhere or only at the credential's own locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Everywhere,
    Own,
}

/// One permission. Routes need one; location-limited use cases also name the location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Stock lookups, locations, SKUs, promises.
    ReadInventory,
    /// Movements (sales, receipts, returns, adjustments, counts) at a location.
    WriteInventory,
    /// The movement audit trail and discrepancies.
    ReadMovements,
    ReadHolds,
    WriteHolds,
    ReadOrders,
    /// Placing an order; limited to a store, the order is credited to it and to the clerk.
    PlaceOrders,
    /// Every later step of an order: cancel, fulfil, pick up, return.
    WriteOrders,
    ReadTransfers,
    /// Requesting (and cancelling) a transfer into a location.
    RequestTransfers,
    /// Shipping a transfer out of a location, receiving one into it.
    MoveTransfers,
    ReadPlans,
    WritePlans,
    ReadReports,
    /// Locations and SKUs.
    WriteCatalog,
    /// API keys and users.
    ManageAccess,
    /// `/metrics` and `/openapi.json` when they are not open.
    ReadMetrics,
    /// The stock events feed.
    ReadEvents,
    /// The chain's cost model (admins only).
    ManageCosts,
    /// Webhook subscriptions, their secrets and deliveries (admins only).
    ManageWebhooks,
}

impl Scope {
    pub const ALL: [Scope; 20] = [
        Scope::ReadInventory,
        Scope::WriteInventory,
        Scope::ReadMovements,
        Scope::ReadHolds,
        Scope::WriteHolds,
        Scope::ReadOrders,
        Scope::PlaceOrders,
        Scope::WriteOrders,
        Scope::ReadTransfers,
        Scope::RequestTransfers,
        Scope::MoveTransfers,
        Scope::ReadPlans,
        Scope::WritePlans,
        Scope::ReadReports,
        Scope::WriteCatalog,
        Scope::ManageAccess,
        Scope::ReadMetrics,
        Scope::ReadEvents,
        Scope::ManageCosts,
        Scope::ManageWebhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadInventory => "read_inventory",
            Self::WriteInventory => "write_inventory",
            Self::ReadMovements => "read_movements",
            Self::ReadHolds => "read_holds",
            Self::WriteHolds => "write_holds",
            Self::ReadOrders => "read_orders",
            Self::PlaceOrders => "place_orders",
            Self::WriteOrders => "write_orders",
            Self::ReadTransfers => "read_transfers",
            Self::RequestTransfers => "request_transfers",
            Self::MoveTransfers => "move_transfers",
            Self::ReadPlans => "read_plans",
            Self::WritePlans => "write_plans",
            Self::ReadReports => "read_reports",
            Self::WriteCatalog => "write_catalog",
            Self::ManageAccess => "manage_access",
            Self::ReadMetrics => "read_metrics",
            Self::ReadEvents => "read_events",
            Self::ManageCosts => "manage_costs",
            Self::ManageWebhooks => "manage_webhooks",
        }
    }
}

/// Who made a change, as recorded beside it: `key:<id>`, `user:<name>` or `system:<job>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Key(String),
    User(String),
    /// The CLI, the demo loader, the scheduler: trusted code on the server itself.
    System(&'static str),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(id) => write!(f, "key:{id}"),
            Self::User(name) => write!(f, "user:{name}"),
            Self::System(job) => write!(f, "system:{job}"),
        }
    }
}

/// The names trusted code on the server acts under (`Actor::System`).
pub const SYSTEM_JOBS: [&str; 3] = ["cli", "demo", "scheduler"];

impl Actor {
    /// An actor as [`fmt::Display`] wrote it (a queued run keeps who asked for it as text).
    pub fn parse(raw: &str) -> Option<Self> {
        let (kind, name) = raw.split_once(':')?;
        match kind {
            _ if name.is_empty() => None,
            "key" => Some(Self::Key(name.to_owned())),
            "user" => Some(Self::User(name.to_owned())),
            "system" => SYSTEM_JOBS
                .into_iter()
                .find(|job| *job == name)
                .map(Self::System),
            _ => None,
        }
    }
}

/// A scope the caller lacks, as `scope` or `scope:LOCATION`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this credential lacks the scope {scope}")]
pub struct Denied {
    pub scope: String,
}

/// A verified caller: who it is, its role, and the locations its role is limited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    pub role: Role,
    pub locations: Vec<LocationCode>,
}

impl Principal {
    /// Trusted code on the server (CLI, demo loader, scheduler): every scope everywhere.
    pub fn system(job: &'static str) -> Self {
        Self {
            actor: Actor::System(job),
            role: Role::Admin,
            locations: Vec::new(),
        }
    }

    fn reach(&self, scope: Scope) -> Option<Reach> {
        self.role
            .grants()
            .iter()
            .find(|(granted, _)| *granted == scope)
            .map(|(_, reach)| *reach)
    }

    /// Holds `scope` somewhere (a route's first check; the use case checks the location).
    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        match self.reach(scope) {
            Some(_) => Ok(()),
            None => Err(Denied {
                scope: scope.as_str().to_owned(),
            }),
        }
    }

    /// Holds `scope` at `location`.
    pub fn require_at(&self, scope: Scope, location: &LocationCode) -> Result<(), Denied> {
        match self.reach(scope) {
            Some(Reach::Everywhere) => Ok(()),
            Some(Reach::Own) if self.locations.contains(location) => Ok(()),
            _ => Err(Denied {
                scope: format!("{}:{location}", scope.as_str()),
            }),
        }
    }

    /// Holds `scope` everywhere, not only at some locations.
    pub fn is_everywhere(&self, scope: Scope) -> bool {
        self.reach(scope) == Some(Reach::Everywhere)
    }

    /// The clerk this principal is, with their one store: orders they place are credited to it.
    pub fn clerk(&self) -> Option<(&str, &LocationCode)> {
        match (&self.actor, self.role, self.locations.as_slice()) {
            (Actor::User(name), Role::Clerk, [store]) => Some((name, store)),
            _ => None,
        }
    }
}

/// Checks that `locations` fit `role` (a clerk has one store, a POS or warehouse credential at
/// least one location, the other roles none), sorted and without repeats.
pub fn parse_locations(
    field: &str,
    role: Role,
    mut locations: Vec<LocationCode>,
) -> Result<Vec<LocationCode>, Invalid> {
    locations.sort();
    locations.dedup();
    let (fewest, most) = role.locations_range();
    if locations.len() < fewest || locations.len() > most {
        let message = match (fewest, most) {
            (0, 0) => format!("a {} credential is not limited to locations", role.as_str()),
            (1, 1) => format!("a {} credential has exactly one location", role.as_str()),
            _ => format!("a {} credential has 1 to {most} locations", role.as_str()),
        };
        return Err(Invalid::new(field, message));
    }
    Ok(locations)
}

/// A user name: what a person signs in with, and the clerk id on referred orders.
pub fn parse_user_name(field: &str, raw: &str) -> Result<String, Invalid> {
    if raw.is_empty() || raw.len() > USER_NAME_LENGTH_MAX {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {USER_NAME_LENGTH_MAX} characters"),
        ));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || USER_NAME_PUNCTUATION.contains(&b))
    {
        return Err(Invalid::new(
            field,
            "may contain only letters, digits, '-', '_', '.' and '@'",
        ));
    }
    Ok(raw.to_owned())
}

/// A password within the length limits (its strength beyond that is the person's business).
pub fn check_password(field: &str, raw: &str) -> Result<(), Invalid> {
    let length = raw.chars().count();
    if !(PASSWORD_LENGTH_MIN..=PASSWORD_LENGTH_MAX).contains(&length) {
        return Err(Invalid::new(
            field,
            format!("must be {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_actor_parses_back_from_its_text() {
        for actor in [
            Actor::Key("0f3c".into()),
            Actor::User("mei".into()),
            Actor::System("scheduler"),
        ] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        for raw in ["", "key:", "system:nobody", "robot:x", "user"] {
            assert_eq!(Actor::parse(raw), None, "{raw}");
        }
    }

    use super::*;

    fn code(raw: &str) -> LocationCode {
        LocationCode::parse("location", raw).expect("a code")
    }

    fn principal(role: Role, locations: &[&str]) -> Principal {
        Principal {
            actor: Actor::Key("k".into()),
            role,
            locations: locations.iter().map(|raw| code(raw)).collect(),
        }
    }

    #[test]
    fn a_pos_key_writes_inventory_only_at_its_stores() {
        let pos = principal(Role::Pos, &["A"]);
        assert_eq!(pos.require_at(Scope::WriteInventory, &code("A")), Ok(()));
        let denied = pos.require_at(Scope::WriteInventory, &code("B"));
        assert_eq!(denied.unwrap_err().scope, "write_inventory:B");
        assert!(pos.require(Scope::WriteOrders).is_err());
    }

    #[test]
    fn admin_holds_every_scope_everywhere() {
        let admin = principal(Role::Admin, &[]);
        for scope in Scope::ALL {
            assert!(admin.is_everywhere(scope), "{scope:?}");
        }
    }

    #[test]
    fn only_the_admin_manages_access() {
        for role in Role::ALL {
            let granted = principal(role, &["A"]).require(Scope::ManageAccess).is_ok();
            assert_eq!(granted, role == Role::Admin, "{role:?}");
        }
    }

    #[test]
    fn locations_fit_the_role() {
        let two = vec![code("B"), code("A"), code("B")];
        assert_eq!(
            parse_locations("locations", Role::Pos, two.clone()),
            Ok(vec![code("A"), code("B")])
        );
        assert!(parse_locations("locations", Role::Clerk, two).is_err());
        assert!(parse_locations("locations", Role::Clerk, vec![]).is_err());
        assert!(parse_locations("locations", Role::Eshop, vec![code("A")]).is_err());
    }

    #[test]
    fn a_clerk_is_a_user_with_one_store() {
        let mut clerk = principal(Role::Clerk, &["A"]);
        assert_eq!(clerk.clerk(), None, "a key is not a person");
        clerk.actor = Actor::User("mei".into());
        assert_eq!(clerk.clerk(), Some(("mei", &code("A"))));
    }
}
