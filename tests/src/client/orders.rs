//! The orders service's calls: placing an order (with an idempotency key or not) and reading
//! orders back, one or a customer's all.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::service::Service;

use super::{Api, ApiResult, Order};

impl Api {
    pub async fn place_order(
        &self,
        customer_id: Uuid,
        items: &[(String, u32)],
        idempotency_key: Option<&str>,
    ) -> ApiResult<Order> {
        let items: Vec<Value> = items
            .iter()
            .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
            .collect();
        let mut request = self
            .http
            .post(self.url(Service::Orders, "/orders"))
            .json(&json!({"customer_id": customer_id, "items": items}));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    pub async fn order(&self, id: Uuid) -> ApiResult<Order> {
        self.get(Service::Orders, &format!("/orders/{id}")).await
    }

    /// Every order of `customer_id`, newest first: the pages of `GET /orders?customer_id=`
    /// read one after the other (`before=` the last id of the previous page) until a page
    /// shorter than the limit.
    pub async fn orders_of(&self, customer_id: Uuid) -> ApiResult<Vec<Order>> {
        const PAGE: usize = 500;
        let mut all: Vec<Order> = Vec::new();
        loop {
            let mut path = format!("/orders?customer_id={customer_id}&limit={PAGE}");
            if let Some(last) = all.last() {
                path.push_str(&format!("&before={}", last.id));
            }
            let page: Vec<Order> = self.get(Service::Orders, &path).await?;
            let done = page.len() < PAGE;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }
}
