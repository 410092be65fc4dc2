//! The customer service's calls: creating a customer and reading one back.

use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::service::Service;

use super::{Api, ApiResult, Customer};

impl Api {
    pub async fn create_customer(
        &self,
        name: &str,
        email: &str,
        credit_limit: Decimal,
    ) -> ApiResult<Customer> {
        self.post(
            Service::Customer,
            "/customers",
            &json!({"name": name, "email": email, "credit_limit": credit_limit.to_string()}),
        )
        .await
    }

    #[allow(dead_code)]
    pub async fn customer(&self, id: Uuid) -> ApiResult<Customer> {
        self.get(Service::Customer, &format!("/customers/{id}"))
            .await
    }
}
