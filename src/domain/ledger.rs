//! The ledger's arithmetic. A movement applied to a (location, SKU) balance yields the entries the
//! ledger appends and the balance after them; the balance is always the fold of the entries.
//!
//! Rules:
//! - receipts and returns add to on hand;
//! - adjustments and counts change on hand but are refused when it would go below zero;
//! - a POS sale is a fact and is never refused. When it sells more than the ledger believed was
//!   there, the units evidently existed: an adjustment for the shortfall is recorded before the
//!   sale (so on hand stays ≥ 0 and the fold stays exact) and a discrepancy is raised for a
//!   person to look at;
//! - whenever on hand ends below what is already allocated to orders, a discrepancy is raised:
//!   promises stand, available shows 0, a person decides;
//! - an allocation (a confirmed hold, a placed order) promises units and is refused unless they
//!   are there: on hand − allocated − safety stock must cover it. This is the guard that keeps
//!   the ledger from promising more than it has, whatever Redis believed.

use super::quantity::{Counted, Delta, Qty};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;

/// The figures of one (location, SKU) that follow from the ledger.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub on_hand: i64,
    pub allocated: i64,
    pub in_transit: i64,
}

impl Balance {
    /// Available to promise: never negative, whatever went wrong elsewhere.
    pub fn available(self, held: i64, safety_stock: i64) -> i64 {
        (self.on_hand - self.allocated - held - safety_stock).max(0)
    }

    pub fn after(self, entry: &Entry) -> Balance {
        Balance {
            on_hand: self.on_hand + entry.on_hand_delta,
            allocated: self.allocated + entry.allocated_delta,
            in_transit: self.in_transit + entry.in_transit_delta,
        }
    }

    pub fn fold<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Balance {
        entries
            .into_iter()
            .fold(Balance::default(), |balance, entry| balance.after(entry))
    }

    pub fn is_valid(self) -> bool {
        self.on_hand >= 0 && self.allocated >= 0 && self.in_transit >= 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Receipt,
    Sale,
    Return,
    Adjustment,
    Count,
    Allocation,
    Deallocation,
    Fulfilment,
    TransferOut,
    InTransit,
    TransferIn,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Sale => "sale",
            Self::Return => "return",
            Self::Adjustment => "adjustment",
            Self::Count => "count",
            Self::Allocation => "allocation",
            Self::Deallocation => "deallocation",
            Self::Fulfilment => "fulfilment",
            Self::TransferOut => "transfer_out",
            Self::InTransit => "in_transit",
            Self::TransferIn => "transfer_in",
        }
    }

    pub fn from_db(raw: &str) -> Option<Self> {
        [
            Self::Receipt,
            Self::Sale,
            Self::Return,
            Self::Adjustment,
            Self::Count,
            Self::Allocation,
            Self::Deallocation,
            Self::Fulfilment,
            Self::TransferOut,
            Self::InTransit,
            Self::TransferIn,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }
}

/// A movement as accepted from outside, already parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Movement {
    Receipt(Qty),
    Sale(Qty),
    Return(Qty),
    Adjustment {
        delta: Delta,
        reason: String,
    },
    Count {
        counted: Counted,
        reason: Option<String>,
    },
    /// Promise units to an order or a confirmed hold; safety stock is kept back.
    Allocate(Qty),
    /// Promise units that arrived for an order by transfer: they were bought for it, so the
    /// store's safety stock does not apply.
    AllocateArrived(Qty),
    /// Withdraw a promise (an order or transfer cancelled).
    Deallocate(Qty),
    /// Promised units leave with the customer (shipped or picked up).
    Fulfil(Qty),
    /// Promised units leave for another location.
    TransferOut(Qty),
    /// Units on their way here.
    InTransit(Qty),
    /// A transfer arrives: `received` of the `expected` units are here.
    TransferIn {
        expected: Qty,
        received: Counted,
    },
}

impl Movement {
    /// The kind of ledger entry it is recorded as.
    pub fn kind(&self) -> EntryKind {
        match self {
            Self::Receipt(_) => EntryKind::Receipt,
            Self::Sale(_) => EntryKind::Sale,
            Self::Return(_) => EntryKind::Return,
            Self::Adjustment { .. } => EntryKind::Adjustment,
            Self::Count { .. } => EntryKind::Count,
            Self::Allocate(_) | Self::AllocateArrived(_) => EntryKind::Allocation,
            Self::Deallocate(_) => EntryKind::Deallocation,
            Self::Fulfil(_) => EntryKind::Fulfilment,
            Self::TransferOut(_) => EntryKind::TransferOut,
            Self::InTransit(_) => EntryKind::InTransit,
            Self::TransferIn { .. } => EntryKind::TransferIn,
        }
    }
}

/// One row of the ledger. `qty` is what the movement said (units received, sold, counted, or
/// the size of an adjustment); the deltas are what it did to the balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub qty: i64,
    pub on_hand_delta: i64,
    pub allocated_delta: i64,
    pub in_transit_delta: i64,
    pub reason: Option<String>,
}

impl Entry {
    fn on_hand(kind: EntryKind, qty: i64, on_hand_delta: i64, reason: Option<String>) -> Self {
        Self {
            kind,
            qty,
            on_hand_delta,
            allocated_delta: 0,
            in_transit_delta: 0,
            reason,
        }
    }
}

pub const REASON_SALE_EXCEEDED_ON_HAND: &str = "sale exceeded recorded on hand";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// A sale took more units than the ledger had on hand.
    SaleExceededOnHand,
    /// On hand fell below the units already promised to orders.
    OnHandBelowAllocated,
    /// A transfer arrived with fewer units than were sent.
    TransferShort,
}

impl DiscrepancyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SaleExceededOnHand => "sale_exceeded_on_hand",
            Self::OnHandBelowAllocated => "on_hand_below_allocated",
            Self::TransferShort => "transfer_short",
        }
    }
}

/// A conflict between reality and the ledger's promises, for a person to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    pub kind: DiscrepancyKind,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
    pub allocated: i64,
    /// Units the ledger could not account for: sold but not on hand, or promised but not there.
    pub shortfall: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub entries: Vec<Entry>,
    pub after: Balance,
    pub discrepancy: Option<Discrepancy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("on hand is {on_hand}; a change of {change} would make it negative")]
    WouldGoNegative { on_hand: i64, change: i64 },
    #[error("{available} available to promise; {requested} requested")]
    NotAvailable { available: i64, requested: i64 },
    #[error("{allocated} allocated; {requested} requested")]
    NotAllocated { allocated: i64, requested: i64 },
    #[error("{in_transit} in transit; {requested} expected")]
    NotInTransit { in_transit: i64, requested: i64 },
}

fn entry(kind: EntryKind, qty: i64, on_hand: i64, allocated: i64, in_transit: i64) -> Entry {
    Entry {
        kind,
        qty,
        on_hand_delta: on_hand,
        allocated_delta: allocated,
        in_transit_delta: in_transit,
        reason: None,
    }
}

fn refuse_unallocated(before: Balance, qty: i64) -> Result<(), Refusal> {
    if before.allocated < qty {
        return Err(Refusal::NotAllocated {
            allocated: before.allocated,
            requested: qty,
        });
    }
    Ok(())
}

pub fn apply(before: Balance, safety_stock: i64, movement: &Movement) -> Result<Outcome, Refusal> {
    debug_assert!(before.is_valid(), "stored balance broken: {before:?}");
    let (entries, discrepancy) = entries_for(before, safety_stock, movement)?;
    let after = entries
        .iter()
        .fold(before, |balance, entry| balance.after(entry));
    assert!(after.is_valid(), "ledger rule broke a balance: {after:?}");
    let discrepancy = discrepancy.or_else(|| on_hand_fell_below_allocated(before, after));
    Ok(Outcome {
        entries,
        after,
        discrepancy,
    })
}

/// The entries a movement writes and the conflict it reveals by itself, or why it is refused.
fn entries_for(
    before: Balance,
    safety_stock: i64,
    movement: &Movement,
) -> Result<(Vec<Entry>, Option<Discrepancy>), Refusal> {
    let written = match movement {
        Movement::Receipt(qty) => Entry::on_hand(EntryKind::Receipt, qty.get(), qty.get(), None),
        Movement::Return(qty) => Entry::on_hand(EntryKind::Return, qty.get(), qty.get(), None),
        Movement::Sale(qty) => return Ok(sale(before, qty.get())),
        Movement::Adjustment { delta, reason } => {
            refuse_negative(before, delta.get())?;
            Entry::on_hand(
                EntryKind::Adjustment,
                delta.get().abs(),
                delta.get(),
                Some(reason.clone()),
            )
        }
        Movement::Count { counted, reason } => Entry::on_hand(
            EntryKind::Count,
            counted.get(),
            counted.get() - before.on_hand,
            reason.clone(),
        ),
        Movement::Allocate(qty) => allocation(before.available(0, safety_stock), qty.get())?,
        Movement::AllocateArrived(qty) => allocation(before.available(0, 0), qty.get())?,
        Movement::Deallocate(qty) => {
            refuse_unallocated(before, qty.get())?;
            entry(EntryKind::Deallocation, qty.get(), 0, -qty.get(), 0)
        }
        Movement::Fulfil(qty) | Movement::TransferOut(qty) => {
            refuse_unallocated(before, qty.get())?;
            refuse_negative(before, -qty.get())?;
            let kind = match movement {
                Movement::Fulfil(_) => EntryKind::Fulfilment,
                _ => EntryKind::TransferOut,
            };
            entry(kind, qty.get(), -qty.get(), -qty.get(), 0)
        }
        Movement::InTransit(qty) => entry(EntryKind::InTransit, qty.get(), 0, 0, qty.get()),
        Movement::TransferIn { expected, received } => {
            return transfer_arrival(before, expected.get(), received.get());
        }
    };
    Ok((vec![written], None))
}

/// A sale of more than is on hand first records the missing units as found (an adjustment), so
/// on hand never goes negative, and reports what the ledger could not account for.
fn sale(before: Balance, qty: i64) -> (Vec<Entry>, Option<Discrepancy>) {
    let mut entries = Vec::with_capacity(2);
    let mut discrepancy = None;
    let shortfall = qty - before.on_hand;
    if shortfall > 0 {
        entries.push(Entry::on_hand(
            EntryKind::Adjustment,
            shortfall,
            shortfall,
            Some(REASON_SALE_EXCEEDED_ON_HAND.to_owned()),
        ));
        discrepancy = Some(Discrepancy {
            kind: DiscrepancyKind::SaleExceededOnHand,
            on_hand_before: before.on_hand,
            on_hand_after: 0,
            allocated: before.allocated,
            shortfall: shortfall + before.allocated,
        });
    }
    entries.push(Entry::on_hand(EntryKind::Sale, qty, -qty, None));
    (entries, discrepancy)
}

/// Promises `qty` units if that many are available to promise.
fn allocation(available: i64, qty: i64) -> Result<Entry, Refusal> {
    if available < qty {
        return Err(Refusal::NotAvailable {
            available,
            requested: qty,
        });
    }
    Ok(entry(EntryKind::Allocation, qty, 0, qty, 0))
}

/// A transfer arriving: `expected` units leave in transit, `received` go on hand, and fewer
/// received than sent is a discrepancy.
fn transfer_arrival(
    before: Balance,
    expected: i64,
    received: i64,
) -> Result<(Vec<Entry>, Option<Discrepancy>), Refusal> {
    if before.in_transit < expected {
        return Err(Refusal::NotInTransit {
            in_transit: before.in_transit,
            requested: expected,
        });
    }
    let arrival = entry(EntryKind::TransferIn, received, received, 0, -expected);
    let short = (received < expected).then(|| Discrepancy {
        kind: DiscrepancyKind::TransferShort,
        on_hand_before: before.on_hand,
        on_hand_after: before.on_hand + received,
        allocated: before.allocated,
        shortfall: expected - received,
    });
    Ok((vec![arrival], short))
}

/// On hand falling below the units already promised to orders, when the movement made it fall.
fn on_hand_fell_below_allocated(before: Balance, after: Balance) -> Option<Discrepancy> {
    (after.on_hand < after.allocated && after.on_hand < before.on_hand).then(|| Discrepancy {
        kind: DiscrepancyKind::OnHandBelowAllocated,
        on_hand_before: before.on_hand,
        on_hand_after: after.on_hand,
        allocated: after.allocated,
        shortfall: after.allocated - after.on_hand,
    })
}

fn refuse_negative(before: Balance, change: i64) -> Result<(), Refusal> {
    if before.on_hand + change < 0 {
        return Err(Refusal::WouldGoNegative {
            on_hand: before.on_hand,
            change,
        });
    }
    Ok(())
}

/// Applies lines in order to the balances they touch, all or nothing: the first refusal names its
/// line and leaves `balances` as they were.
pub fn apply_batch<K: Eq + Hash + Clone>(
    balances: &mut HashMap<K, Balance>,
    safety_stock: impl Fn(&K) -> i64,
    lines: &[(K, Movement)],
) -> Result<Vec<Outcome>, (usize, Refusal)> {
    let mut working = balances.clone();
    let mut outcomes = Vec::with_capacity(lines.len());
    for (index, (key, movement)) in lines.iter().enumerate() {
        let balance = working.entry(key.clone()).or_default();
        let outcome =
            apply(*balance, safety_stock(key), movement).map_err(|refusal| (index, refusal))?;
        *balance = outcome.after;
        outcomes.push(outcome);
    }
    *balances = working;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn qty(n: i64) -> Qty {
        Qty::parse("qty", n).unwrap()
    }

    #[test]
    fn a_sale_beyond_on_hand_is_recorded_with_a_discrepancy_and_never_goes_negative() {
        let before = Balance {
            on_hand: 1,
            allocated: 1,
            in_transit: 0,
        };
        let outcome = apply(before, 0, &Movement::Sale(qty(3))).unwrap();
        assert_eq!(outcome.after.on_hand, 0);
        assert_eq!(outcome.entries.len(), 2);
        assert_eq!(outcome.entries[0].kind, EntryKind::Adjustment);
        assert_eq!(outcome.entries[0].on_hand_delta, 2);
        assert_eq!(outcome.entries[1].on_hand_delta, -3);
        let discrepancy = outcome.discrepancy.unwrap();
        assert_eq!(discrepancy.kind, DiscrepancyKind::SaleExceededOnHand);
        assert_eq!(
            discrepancy.shortfall, 3,
            "2 unrecorded units plus 1 promised"
        );
        assert_eq!(outcome.after.available(0, 0), 0);
    }

    #[test]
    fn a_sale_into_promised_units_is_flagged() {
        let before = Balance {
            on_hand: 5,
            allocated: 4,
            in_transit: 0,
        };
        let outcome = apply(before, 0, &Movement::Sale(qty(3))).unwrap();
        assert_eq!(outcome.after.on_hand, 2);
        let discrepancy = outcome.discrepancy.unwrap();
        assert_eq!(discrepancy.kind, DiscrepancyKind::OnHandBelowAllocated);
        assert_eq!(discrepancy.shortfall, 2);
    }

    #[test]
    fn a_count_records_the_difference() {
        let before = Balance {
            on_hand: 10,
            ..Balance::default()
        };
        let counted = Counted::parse("qty", 7).unwrap();
        let outcome = apply(
            before,
            0,
            &Movement::Count {
                counted,
                reason: Some("damaged".into()),
            },
        )
        .unwrap();
        assert_eq!(outcome.entries[0].on_hand_delta, -3);
        assert_eq!(outcome.entries[0].qty, 7);
        assert_eq!(outcome.after.on_hand, 7);
    }

    #[test]
    fn a_negative_adjustment_below_zero_is_refused() {
        let delta = Delta::parse("qty", -2).unwrap();
        let refusal = apply(
            Balance::default(),
            0,
            &Movement::Adjustment {
                delta,
                reason: "damaged".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            refusal,
            Refusal::WouldGoNegative {
                on_hand: 0,
                change: -2
            }
        );
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        let mut balances = HashMap::from([("a", Balance::default())]);
        let lines = vec![
            ("a", Movement::Receipt(qty(5))),
            (
                "a",
                Movement::Adjustment {
                    delta: Delta::parse("qty", -6).unwrap(),
                    reason: "lost".into(),
                },
            ),
        ];
        assert_eq!(apply_batch(&mut balances, |_| 0, &lines).unwrap_err().0, 1);
        assert_eq!(balances["a"], Balance::default());
    }

    fn movement() -> impl Strategy<Value = Movement> {
        prop_oneof![
            (1..50i64).prop_map(|n| Movement::Receipt(qty(n))),
            (1..50i64).prop_map(|n| Movement::Sale(qty(n))),
            (1..50i64).prop_map(|n| Movement::Return(qty(n))),
            (-50..50i64)
                .prop_filter("non-zero", |n| *n != 0)
                .prop_map(|n| Movement::Adjustment {
                    delta: Delta::parse("qty", n).unwrap(),
                    reason: "test".into()
                }),
            (0..80i64).prop_map(|n| Movement::Count {
                counted: Counted::parse("qty", n).unwrap(),
                reason: None
            }),
            (1..20i64).prop_map(|n| Movement::Allocate(qty(n))),
            (1..20i64).prop_map(|n| Movement::AllocateArrived(qty(n))),
            (1..20i64).prop_map(|n| Movement::Deallocate(qty(n))),
            (1..20i64).prop_map(|n| Movement::Fulfil(qty(n))),
            (1..20i64).prop_map(|n| Movement::TransferOut(qty(n))),
            (1..20i64).prop_map(|n| Movement::InTransit(qty(n))),
            (1..20i64, 0..20i64).prop_map(|(n, r)| Movement::TransferIn {
                expected: qty(n),
                received: Counted::parse("qty", r.min(n)).unwrap()
            }),
        ]
    }

    const SAFETY_STOCK: i64 = 2;

    #[test]
    fn an_allocation_is_refused_beyond_what_is_there_after_safety_stock() {
        let before = Balance {
            on_hand: 5,
            allocated: 2,
            in_transit: 0,
        };
        assert_eq!(
            apply(before, 0, &Movement::Allocate(qty(3)))
                .unwrap()
                .after
                .allocated,
            5
        );
        assert_eq!(
            apply(before, 0, &Movement::Allocate(qty(3)))
                .unwrap()
                .entries[0]
                .on_hand_delta,
            0
        );
        assert_eq!(
            apply(before, 2, &Movement::Allocate(qty(2))).unwrap_err(),
            Refusal::NotAvailable {
                available: 1,
                requested: 2
            }
        );
    }

    proptest! {
        /// For any sequence of movements, the balance equals the fold of the accepted entries,
        /// never goes negative, refused movements change nothing, and sales are never refused.
        #[test]
        fn balances_equal_the_fold_of_the_ledger(
            allocated in 0..20i64,
            movements in proptest::collection::vec(movement(), 0..60),
        ) {
            let opening = Entry { kind: EntryKind::Adjustment, qty: allocated, on_hand_delta: 0,
                allocated_delta: allocated, in_transit_delta: 0, reason: None };
            let mut ledger = vec![opening];
            let mut balance = Balance::fold(&ledger);
            for movement in &movements {
                match apply(balance, SAFETY_STOCK, movement) {
                    Ok(outcome) => {
                        if let Movement::Allocate(_) = movement {
                            // An accepted promise is covered by stock beyond safety stock.
                            prop_assert!(outcome.after.allocated + SAFETY_STOCK <= outcome.after.on_hand);
                        }
                        ledger.extend(outcome.entries);
                        balance = outcome.after;
                    }
                    Err(Refusal::WouldGoNegative { on_hand, change }) => {
                        prop_assert!(!matches!(movement, Movement::Sale(_)));
                        prop_assert_eq!(on_hand, balance.on_hand);
                        prop_assert!(on_hand + change < 0);
                    }
                    Err(Refusal::NotAvailable { available, requested }) => {
                        prop_assert!(matches!(movement, Movement::Allocate(_) | Movement::AllocateArrived(_)));
                        prop_assert!(available < requested);
                    }
                    Err(Refusal::NotAllocated { allocated, requested }) => {
                        prop_assert_eq!(allocated, balance.allocated);
                        prop_assert!(allocated < requested);
                    }
                    Err(Refusal::NotInTransit { in_transit, requested }) => {
                        prop_assert_eq!(in_transit, balance.in_transit);
                        prop_assert!(in_transit < requested);
                    }
                }
                prop_assert!(balance.is_valid());
                prop_assert_eq!(balance, Balance::fold(&ledger));
                prop_assert!(balance.available(0, 3) >= 0);
            }
        }
    }
}
