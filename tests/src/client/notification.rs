//! The notification service's calls: a customer's notifications and the stock alerts.

use serde_json::Value;
use uuid::Uuid;

use crate::service::Service;

use super::{Api, ApiResult, Notification};

impl Api {
    /// At most 500 (the API's maximum page), newest first.
    pub async fn notifications(&self, customer_id: Uuid) -> ApiResult<Vec<Notification>> {
        self.get(
            Service::Notification,
            &format!("/notifications?customer_id={customer_id}&limit=500"),
        )
        .await
    }

    pub async fn stock_alerts(&self) -> ApiResult<Value> {
        self.get(Service::Notification, "/stock-alerts").await
    }
}
