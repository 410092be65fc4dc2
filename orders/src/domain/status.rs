//! Where an order's saga stands: [`Status`], the three states the API and the database spell,
//! and [`SagaState`], which also knows what a pending order still waits for. The moves between
//! them are [`super::transition`]'s.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// An order's status as the API and the database spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Placed; stock and payment not both decided.
    Pending,
    /// Stock reserved and paid: `order.confirmed` was emitted.
    Confirmed,
    /// A step failed or the deadline passed: `order.cancelled` was emitted.
    Cancelled,
}

impl Status {
    /// Every status, in the order the API lists them.
    pub const ALL: [Status; 3] = [Status::Pending, Status::Confirmed, Status::Cancelled];

    /// `PENDING`, `CONFIRMED` or `CANCELLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Confirmed => "CONFIRMED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not one of the three statuses, exactly spelt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status must be PENDING, CONFIRMED or CANCELLED, not {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Status, UnknownStatus> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// What a pending order still waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Neither the reservation nor the payment has arrived.
    Both,
    /// The stock is reserved; the payment is missing.
    Payment,
    /// The order is paid; the reservation is missing.
    Stock,
}

/// An order's saga state: "both succeeded but still pending" cannot be represented, so
/// confirmation happens on the transition that completes the pair, exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SagaState {
    /// Still deciding; what it waits for.
    Pending(Awaiting),
    /// Confirmed, for good.
    Confirmed,
    /// Cancelled, for good, and why.
    Cancelled {
        /// The failure's code (`out_of_stock`, `insufficient_funds`, `timeout`...).
        reason: String,
    },
}

impl SagaState {
    /// The state of an order just placed.
    pub const NEW: SagaState = SagaState::Pending(Awaiting::Both);

    /// Whether the saga has decided (nothing changes it any more).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, SagaState::Pending(_))
    }

    /// The status as the API and the database spell it.
    pub fn status(&self) -> Status {
        match self {
            SagaState::Pending(_) => Status::Pending,
            SagaState::Confirmed => Status::Confirmed,
            SagaState::Cancelled { .. } => Status::Cancelled,
        }
    }

    /// The stored `stock_reserved` column: reserved, payment awaited.
    pub fn stock_reserved(&self) -> bool {
        matches!(self, SagaState::Pending(Awaiting::Payment))
    }

    /// The stored `paid` column: paid, reservation awaited.
    pub fn paid(&self) -> bool {
        matches!(self, SagaState::Pending(Awaiting::Stock))
    }

    /// Why the order was cancelled, once it is.
    pub fn reason(&self) -> Option<&str> {
        match self {
            SagaState::Cancelled { reason } => Some(reason),
            _ => None,
        }
    }

    /// Rebuilds a state from its stored columns; `None` for a combination that cannot exist.
    pub fn from_columns(
        status: &str,
        stock_reserved: bool,
        paid: bool,
        reason: Option<String>,
    ) -> Option<SagaState> {
        match (status, stock_reserved, paid, reason) {
            ("PENDING", false, false, None) => Some(SagaState::Pending(Awaiting::Both)),
            ("PENDING", true, false, None) => Some(SagaState::Pending(Awaiting::Payment)),
            ("PENDING", false, true, None) => Some(SagaState::Pending(Awaiting::Stock)),
            ("CONFIRMED", _, _, None) => Some(SagaState::Confirmed),
            ("CANCELLED", _, _, Some(reason)) => Some(SagaState::Cancelled { reason }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip_and_impossible_rows_are_refused() {
        let states = [
            SagaState::Pending(Awaiting::Both),
            SagaState::Pending(Awaiting::Payment),
            SagaState::Pending(Awaiting::Stock),
            SagaState::Confirmed,
            SagaState::Cancelled {
                reason: "out_of_stock".into(),
            },
        ];
        for state in states {
            let back = SagaState::from_columns(
                state.status().as_str(),
                state.stock_reserved(),
                state.paid(),
                state.reason().map(str::to_owned),
            );
            assert_eq!(back, Some(state));
        }
        assert_eq!(SagaState::from_columns("PENDING", true, true, None), None);
        assert_eq!(
            SagaState::from_columns("CANCELLED", false, false, None),
            None
        );
        assert_eq!(
            SagaState::from_columns("PENDING", false, false, Some("x".into())),
            None
        );
        assert_eq!(SagaState::from_columns("SHIPPED", false, false, None), None);
    }

    #[test]
    fn statuses_parse_exactly_as_spelt() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        for bad in ["pending", " PENDING", "SHIPPED", ""] {
            assert!(bad.parse::<Status>().is_err(), "{bad:?} parsed");
        }
    }
}
