//! How an order's units reach the customer.

use serde::Serialize;

/// The way units of one order line travel from their source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Shipped from the source to the customer.
    Ship,
    /// On the pickup store's shelf.
    Pickup,
    /// Transferred into the pickup store, then picked up.
    Transfer,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ship => "ship",
            Self::Pickup => "pickup",
            Self::Transfer => "transfer",
        }
    }
}
