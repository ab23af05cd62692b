//! How an order's units reach the customer, and the statuses of orders and transfers.

use super::Invalid;
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

impl Route {
    pub fn from_stored(raw: &str) -> Option<Self> {
        [Self::Ship, Self::Pickup, Self::Transfer]
            .into_iter()
            .find(|route| route.as_str() == raw)
    }
}

/// An order's life: open until every line is fulfilled or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        [Self::Open, Self::Completed, Self::Cancelled]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

/// A transfer's life: planned (units allocated at the source) → shipped → received, or
/// cancelled while planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Planned,
    Shipped,
    Received,
    Cancelled,
}

impl TransferStatus {
    const ALL: [Self; 4] = [
        Self::Planned,
        Self::Shipped,
        Self::Received,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Shipped => "shipped",
            Self::Received => "received",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        Self::from_stored(raw)
            .ok_or_else(|| Invalid::new(field, "must be planned, shipped, received or cancelled"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for route in [Route::Ship, Route::Pickup, Route::Transfer] {
            assert_eq!(Route::from_stored(route.as_str()), Some(route));
        }
        for status in [
            OrderStatus::Open,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(OrderStatus::from_stored(status.as_str()), Some(status));
        }
        for status in TransferStatus::ALL {
            assert_eq!(TransferStatus::parse("status", status.as_str()), Ok(status));
        }
        assert_eq!(
            TransferStatus::parse("status", "lost").unwrap_err().field,
            "status"
        );
    }
}
