//! Who publishes and who consumes each event (SPEC §1 and §2): the one table of the saga's
//! routes.
//!
//! Each service's `saga::PUBLISHES` and `saga::CONSUMES` are read from here, and so are the
//! broker's access rules for it (`saga_messaging::acl`): a service's Kafka principal may
//! write only what this table says it publishes and read only what it consumes.

use crate::events::EventType::{self, *};

/// One service's place in the saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceEvents {
    /// The service's name: also its Kafka principal and its consumer group (in a namespace).
    pub name: &'static str,
    /// The events it publishes, through its outbox.
    pub publishes: &'static [EventType],
    /// The events it consumes, in its one consumer group.
    pub consumes: &'static [EventType],
}

/// The customer service: registers customers.
pub const CUSTOMER: ServiceEvents = ServiceEvents {
    name: "customer",
    publishes: &[CustomerCreated],
    consumes: &[],
};

/// The orders service: starts the saga and ends it.
pub const ORDERS: ServiceEvents = ServiceEvents {
    name: "orders",
    publishes: &[OrderCreated, OrderConfirmed, OrderCancelled],
    consumes: &[
        CustomerCreated,
        StockUpdated,
        StockReserved,
        StockRejected,
        OrderPaid,
        PaymentFailed,
    ],
};

/// The inventory service: reserves, sells and releases stock.
pub const INVENTORY: ServiceEvents = ServiceEvents {
    name: "inventory",
    publishes: &[
        StockUpdated,
        LowStock,
        StockReserved,
        StockRejected,
        StockReleased,
    ],
    consumes: &[OrderCreated, OrderConfirmed, OrderCancelled],
};

/// The billing service: charges and refunds.
pub const BILLING: ServiceEvents = ServiceEvents {
    name: "billing",
    publishes: &[OrderPaid, PaymentFailed, PaymentRefunded],
    consumes: &[CustomerCreated, OrderCreated, OrderCancelled],
};

/// The notification service: tells customers and operators; publishes nothing.
pub const NOTIFICATION: ServiceEvents = ServiceEvents {
    name: "notification",
    publishes: &[],
    consumes: &[
        CustomerCreated,
        OrderPaid,
        OrderConfirmed,
        OrderCancelled,
        PaymentRefunded,
        StockUpdated,
        LowStock,
    ],
};

/// The five services, in SPEC §1's order.
pub const SERVICES: [ServiceEvents; 5] = [CUSTOMER, ORDERS, INVENTORY, BILLING, NOTIFICATION];

/// The service named `name`, if there is one.
pub fn service(name: &str) -> Option<ServiceEvents> {
    SERVICES.into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_exactly_one_publisher() {
        for &event in EventType::ALL {
            let publishers: Vec<&str> = SERVICES
                .iter()
                .filter(|s| s.publishes.contains(&event))
                .map(|s| s.name)
                .collect();
            assert_eq!(publishers.len(), 1, "{event}: published by {publishers:?}");
        }
    }

    #[test]
    fn no_service_consumes_what_it_publishes_or_names_an_event_twice() {
        for s in SERVICES {
            for list in [s.publishes, s.consumes] {
                let mut sorted = list.to_vec();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), list.len(), "{}: a duplicate", s.name);
            }
            assert!(
                !s.consumes.iter().any(|e| s.publishes.contains(e)),
                "{} consumes its own event",
                s.name
            );
        }
    }

    #[test]
    fn services_are_found_by_name() {
        assert_eq!(service("billing"), Some(BILLING));
        assert_eq!(service("payments"), None);
    }
}
