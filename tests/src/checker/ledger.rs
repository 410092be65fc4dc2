//! What the scenario did through the public APIs, as the checker's expectations: the customers
//! it created (credit limit, deposits), the SKUs (initial stock, restocks) and the orders it
//! placed. The actions record into it as they go; the checker reads a snapshot.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rust_decimal::Decimal;
use uuid::Uuid;

/// One customer of the scenario: what its balance must come to (SPEC §5.4).
#[derive(Debug, Clone, Default)]
pub struct CustomerBook {
    /// The credit limit it was created with: its starting balance.
    pub credit_limit: Decimal,
    /// The sum of the deposits made to its account since.
    pub deposits: Decimal,
}

/// One SKU of the scenario: how many units exist in all (SPEC §5.2).
#[derive(Debug, Clone, Default)]
pub struct SkuBook {
    /// The quantity it was created with.
    pub initial: i64,
    /// The sum of the restocks since.
    pub restocked: i64,
}

/// What the scenario did through the public APIs.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The record, behind a lock: concurrent actors record into one ledger.
    inner: Mutex<LedgerInner>,
}

/// The ledger's record, as one snapshot the checker reads without the lock.
#[derive(Debug, Default, Clone)]
pub struct LedgerInner {
    /// Every customer created, by id: whose balances, orders and notifications to check.
    pub customers: BTreeMap<Uuid, CustomerBook>,
    /// Every SKU created, by SKU: whose stock to check.
    pub skus: BTreeMap<String, SkuBook>,
    /// order id → customer id
    pub orders: BTreeMap<Uuid, Uuid>,
}

impl Ledger {
    pub fn customer(&self, id: Uuid, credit_limit: Decimal) {
        self.inner.lock().unwrap().customers.insert(
            id,
            CustomerBook {
                credit_limit,
                deposits: Decimal::ZERO,
            },
        );
    }

    pub fn deposit(&self, id: Uuid, amount: Decimal) {
        self.inner
            .lock()
            .unwrap()
            .customers
            .get_mut(&id)
            .expect("a deposit for a customer of this test")
            .deposits += amount;
    }

    pub fn sku(&self, sku: &str, initial: i64) {
        self.inner.lock().unwrap().skus.insert(
            sku.to_owned(),
            SkuBook {
                initial,
                restocked: 0,
            },
        );
    }

    pub fn restock(&self, sku: &str, quantity: i64) {
        self.inner
            .lock()
            .unwrap()
            .skus
            .get_mut(sku)
            .expect("a restock of a SKU of this test")
            .restocked += quantity;
    }

    pub fn order(&self, id: Uuid, customer_id: Uuid) {
        self.inner.lock().unwrap().orders.insert(id, customer_id);
    }

    pub fn snapshot(&self) -> LedgerInner {
        self.inner.lock().unwrap().clone()
    }
}
