//! The five services, by name: the key of every URL the client and the checker use.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Customer,
    Orders,
    Inventory,
    Billing,
    Notification,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Customer,
        Service::Orders,
        Service::Inventory,
        Service::Billing,
        Service::Notification,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Customer => "customer",
            Service::Orders => "orders",
            Service::Inventory => "inventory",
            Service::Billing => "billing",
            Service::Notification => "notification",
        }
    }
}
