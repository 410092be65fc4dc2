//! The order saga as a pure state machine: no I/O, no clock. The store loads an order's state,
//! calls [`apply`] with what just happened, and persists the result in the same transaction.
//!
//! ```text
//! PENDING(awaiting both) --stock.reserved--> PENDING(awaiting payment) --order.paid-----> CONFIRMED
//! PENDING(awaiting both) --order.paid-----> PENDING(awaiting stock)    --stock.reserved-> CONFIRMED
//! PENDING(any) --stock.rejected | payment.failed | deadline--> CANCELLED(reason)
//! CONFIRMED / CANCELLED --anything--> unchanged, nothing emitted
//! ```

use super::status::{Awaiting, SagaState};

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SagaInput {
    /// `stock.reserved`: inventory holds every line.
    StockReserved,
    /// `order.paid`: billing charged the account.
    Paid,
    /// `stock.rejected`, with inventory's reason.
    StockRejected {
        /// Why (`out_of_stock`, `unknown_sku`); empty becomes `stock_rejected`.
        reason: String,
    },
    /// `payment.failed`, with billing's reason.
    PaymentFailed {
        /// Why (`insufficient_funds`, `unknown_customer`); empty becomes `payment_failed`.
        reason: String,
    },
    /// The saga deadline passed while the order was pending.
    DeadlinePassed,
}

/// The terminal decision a transition takes; the caller emits the matching event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Emit `order.confirmed`.
    Confirm,
    /// Emit `order.cancelled` with this reason.
    Cancel {
        /// The cancellation's reason, as the event and the order carry it.
        reason: String,
    },
}

/// The reason of a cancellation by the saga deadline.
pub const TIMEOUT_REASON: &str = "timeout";

/// The next state and, when this input ends the saga, the decision to announce.
///
/// A terminal state absorbs every input and decides nothing; an input that repeats what a
/// pending order already knows changes nothing. So whatever the order, duplication or
/// interleaving of inputs, an order takes exactly one decision.
pub fn apply(state: &SagaState, input: &SagaInput) -> (SagaState, Option<Decision>) {
    use Awaiting::*;
    let SagaState::Pending(awaiting) = state else {
        return (state.clone(), None);
    };
    let cancel = |reason: &str| {
        let reason = reason.to_owned();
        (
            SagaState::Cancelled {
                reason: reason.clone(),
            },
            Some(Decision::Cancel { reason }),
        )
    };
    match (awaiting, input) {
        (Both, SagaInput::StockReserved) => (SagaState::Pending(Payment), None),
        (Both, SagaInput::Paid) => (SagaState::Pending(Stock), None),
        (Payment, SagaInput::Paid) | (Stock, SagaInput::StockReserved) => {
            (SagaState::Confirmed, Some(Decision::Confirm))
        }
        (Payment, SagaInput::StockReserved) | (Stock, SagaInput::Paid) => (state.clone(), None),
        (_, SagaInput::StockRejected { reason }) => cancel(non_empty(reason, "stock_rejected")),
        (_, SagaInput::PaymentFailed { reason }) => cancel(non_empty(reason, "payment_failed")),
        (_, SagaInput::DeadlinePassed) => cancel(TIMEOUT_REASON),
    }
}

fn non_empty<'a>(reason: &'a str, fallback: &'a str) -> &'a str {
    if reason.trim().is_empty() {
        fallback
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(reason: &str) -> SagaState {
        SagaState::Cancelled {
            reason: reason.into(),
        }
    }

    fn cancel(reason: &str) -> Option<Decision> {
        Some(Decision::Cancel {
            reason: reason.into(),
        })
    }

    fn states() -> Vec<SagaState> {
        vec![
            SagaState::Pending(Awaiting::Both),
            SagaState::Pending(Awaiting::Payment),
            SagaState::Pending(Awaiting::Stock),
            SagaState::Confirmed,
            cancelled("out_of_stock"),
        ]
    }

    fn inputs() -> Vec<SagaInput> {
        vec![
            SagaInput::StockReserved,
            SagaInput::Paid,
            SagaInput::StockRejected {
                reason: "out_of_stock".into(),
            },
            SagaInput::PaymentFailed {
                reason: "insufficient_funds".into(),
            },
            SagaInput::DeadlinePassed,
        ]
    }

    /// A state and what each input of [`inputs`] does to it.
    type Row = (SagaState, Vec<(SagaState, Option<Decision>)>);

    /// The whole transition table: every state against every input.
    #[test]
    fn every_state_and_input() {
        use Awaiting::*;
        use SagaState::*;
        let p = Pending;
        #[rustfmt::skip]
        let expected: Vec<Row> = vec![
            (p(Both), vec![
                (p(Payment), None),
                (p(Stock), None),
                (cancelled("out_of_stock"), cancel("out_of_stock")),
                (cancelled("insufficient_funds"), cancel("insufficient_funds")),
                (cancelled("timeout"), cancel("timeout")),
            ]),
            (p(Payment), vec![
                (p(Payment), None),
                (Confirmed, Some(Decision::Confirm)),
                (cancelled("out_of_stock"), cancel("out_of_stock")),
                (cancelled("insufficient_funds"), cancel("insufficient_funds")),
                (cancelled("timeout"), cancel("timeout")),
            ]),
            (p(Stock), vec![
                (Confirmed, Some(Decision::Confirm)),
                (p(Stock), None),
                (cancelled("out_of_stock"), cancel("out_of_stock")),
                (cancelled("insufficient_funds"), cancel("insufficient_funds")),
                (cancelled("timeout"), cancel("timeout")),
            ]),
            (Confirmed, vec![(Confirmed, None); 5]),
            (cancelled("out_of_stock"), vec![(cancelled("out_of_stock"), None); 5]),
        ];
        assert_eq!(expected.len(), states().len());
        for ((state, row), listed) in expected.iter().zip(states()) {
            assert_eq!(*state, listed);
            assert_eq!(row.len(), inputs().len());
            for (input, want) in inputs().iter().zip(row) {
                assert_eq!(&apply(state, input), want, "{state:?} × {input:?}");
            }
        }
    }

    #[test]
    fn an_empty_failure_reason_gets_a_stable_code() {
        let new = SagaState::NEW;
        let (_, d) = apply(&new, &SagaInput::StockRejected { reason: " ".into() });
        assert_eq!(d, cancel("stock_rejected"));
        let (_, d) = apply(&new, &SagaInput::PaymentFailed { reason: "".into() });
        assert_eq!(d, cancel("payment_failed"));
    }

    /// Every sequence of up to six inputs (with repeats, in every order) from a new order:
    /// at most one decision; it is taken exactly when the state becomes terminal; confirmation
    /// only after both successes and before any failure; the first failure names the reason.
    #[test]
    fn every_sequence_decides_at_most_once_and_rightly() {
        let inputs = inputs();
        let n = inputs.len();
        for len in 0..=6u32 {
            for mut code in 0..n.pow(len) {
                let mut seq = Vec::new();
                for _ in 0..len {
                    seq.push(&inputs[code % n]);
                    code /= n;
                }
                let mut state = SagaState::NEW;
                let mut decisions = Vec::new();
                for input in &seq {
                    let was_terminal = state.is_terminal();
                    let (next, decision) = apply(&state, input);
                    assert_eq!(
                        decision.is_some(),
                        !was_terminal && next.is_terminal(),
                        "{seq:?}"
                    );
                    if was_terminal {
                        assert_eq!(next, state, "{seq:?}");
                    }
                    decisions.extend(decision);
                    state = next;
                }
                assert!(decisions.len() <= 1, "{seq:?}: {decisions:?}");
                let first_failure = seq
                    .iter()
                    .position(|i| !matches!(i, SagaInput::StockReserved | SagaInput::Paid));
                let before = &seq[..first_failure.unwrap_or(seq.len())];
                let both = before.contains(&&SagaInput::StockReserved)
                    && before.contains(&&SagaInput::Paid);
                let expected = match (both, first_failure) {
                    (true, _) => Some(Decision::Confirm),
                    (false, Some(i)) => Some(match seq[i] {
                        SagaInput::StockRejected { reason }
                        | SagaInput::PaymentFailed { reason } => Decision::Cancel {
                            reason: reason.clone(),
                        },
                        _ => Decision::Cancel {
                            reason: TIMEOUT_REASON.into(),
                        },
                    }),
                    (false, None) => None,
                };
                assert_eq!(decisions.first(), expected.as_ref(), "{seq:?}");
            }
        }
    }
}
