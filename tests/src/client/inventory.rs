//! The inventory service's calls: creating a SKU's stock, restocking it, reading it.

use rust_decimal::Decimal;
use serde_json::json;

use crate::service::Service;

use super::{Api, ApiResult, Product};

impl Api {
    pub async fn create_product(
        &self,
        sku: &str,
        price: Decimal,
        quantity: u64,
        low_stock_threshold: u64,
    ) -> ApiResult<Product> {
        self.post(
            Service::Inventory,
            "/stock",
            &json!({"sku": sku, "name": format!("product {sku}"), "price": price.to_string(),
                    "quantity": quantity, "low_stock_threshold": low_stock_threshold}),
        )
        .await
    }

    pub async fn restock(&self, sku: &str, quantity: u64) -> ApiResult<Product> {
        self.post(
            Service::Inventory,
            &format!("/stock/{sku}/restock"),
            &json!({ "quantity": quantity }),
        )
        .await
    }

    pub async fn product(&self, sku: &str) -> ApiResult<Product> {
        self.get(Service::Inventory, &format!("/stock/{sku}")).await
    }
}
