//! The one set of size limits, shared by the API, the domain and the solver. The solver's own
//! constants are the source of truth: whatever the API accepts, the solver can take, so an
//! oversized request is a 422 naming its field, never a solver refusal (a 500).

/// Most units one line may carry: a movement, a transfer, an order or hold line (and lines of
/// one SKU summed). Also bounds counts and safety stock.
pub const QTY_MAX: i64 = allot_solver::LINE_QTY_MAX as i64;

/// Most lines one order or promise may have (`src/api/orders.rs` keeps a copy of the same value
/// until it reads this one).
pub const ORDER_LINES_MAX: usize = allot_solver::ORDER_LINES_MAX;

/// Most units one location may offer the solver for one SKU. More can be on hand (receipts add
/// up); routing offers at most this, which changes no plan since no order asks for that many.
pub const STOCK_UNITS_MAX: i64 = allot_solver::STOCK_UNITS_MAX as i64;
