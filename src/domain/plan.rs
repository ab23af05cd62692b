//! A planning run's life, as its record keeps it: computed chunk by chunk (`running`), then a
//! dry run's proposal (`proposed`), or on to its transfers (`committing`, then `committed`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Its SKUs are being planned; a killed run resumes it.
    Running,
    /// Computed by a dry run: a proposal, committed only when asked.
    Proposed,
    /// Its lines are being turned into transfers, batch by batch.
    Committing,
    /// Every line has its transfer or was dropped.
    Committed,
}

impl PlanStatus {
    pub const ALL: [Self; 4] = [
        Self::Running,
        Self::Proposed,
        Self::Committing,
        Self::Committed,
    ];

    /// The night's plan to commit: at most one per (kind, night) is committing or committed.
    pub const COMMITTING_OR_COMMITTED: [Self; 2] = [Self::Committing, Self::Committed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Proposed => "proposed",
            Self::Committing => "committing",
            Self::Committed => "committed",
        }
    }

    /// The status a plan record stores as `raw` (its CHECK constraint names the same four).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_parses_back_from_its_text_and_serialises_as_it() {
        for status in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        assert_eq!(PlanStatus::parse("Committed"), None);
        assert_eq!(PlanStatus::parse("planned"), None);
    }
}
