//! The billing service's calls: deposits and reading an account, typed or as raw JSON.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::service::Service;

use super::{Account, Api, ApiResult};

impl Api {
    pub async fn deposit(&self, customer_id: Uuid, amount: Decimal) -> ApiResult<Value> {
        self.post(
            Service::Billing,
            "/billing",
            &json!({"customer_id": customer_id, "amount": amount.to_string()}),
        )
        .await
    }

    pub async fn account(&self, customer_id: Uuid) -> ApiResult<Account> {
        self.get(Service::Billing, &format!("/billing/{customer_id}"))
            .await
    }

    /// The account as raw JSON (for before/after snapshots).
    pub async fn account_json(&self, customer_id: Uuid) -> ApiResult<Value> {
        self.get(Service::Billing, &format!("/billing/{customer_id}"))
            .await
    }
}
