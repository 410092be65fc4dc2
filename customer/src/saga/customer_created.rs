//! `customer.created`: the event that announces a registered customer, with what billing needs
//! to open the account (the credit limit) and what notification greets (name, email).

use saga_contracts::events::CustomerCreated;
use saga_contracts::{Envelope, TraceParent};

use crate::store::Customer;

/// The envelope announcing `customer`, in the trace of the request that registered it (the
/// customer's id is the event's key and correlation id).
pub fn envelope(customer: &Customer, trace: Option<TraceParent>) -> Envelope {
    let created = CustomerCreated {
        customer_id: customer.id,
        name: customer.name.clone(),
        email: customer.email.clone(),
        credit_limit: customer.credit_limit,
    };
    Envelope::new(crate::SERVICE, created).in_trace(trace)
}
