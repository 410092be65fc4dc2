//! A typed HTTP client for the five public APIs (SPEC §4).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::service::Service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub credit_limit: Decimal,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub event_type: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub items: Vec<OrderLine>,
    pub total: Decimal,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

impl Order {
    pub fn is_terminal(&self) -> bool {
        self.status == "CONFIRMED" || self.status == "CANCELLED"
    }

    /// When the order reached its terminal state, from its history.
    pub fn terminal_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|h| h.event_type == "order.confirmed" || h.event_type == "order.cancelled")
            .map(|h| h.at)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub price: Decimal,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub low_stock_threshold: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub order_id: Uuid,
    pub amount: Decimal,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub customer_id: Uuid,
    pub balance: Decimal,
    #[serde(default)]
    pub payments: Vec<Payment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A failed call: an HTTP error status with the SPEC's error body, or no answer at all.
#[derive(Debug, Clone)]
pub enum ApiError {
    Status {
        status: u16,
        code: String,
        body: String,
    },
    Transport(String),
}

impl ApiError {
    pub fn is(&self, status: u16, code: &str) -> bool {
        matches!(self, ApiError::Status { status: s, code: c, .. } if *s == status && c == code)
    }

    /// Worth retrying: no answer (the service is down or restarting) or a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) => true,
            ApiError::Status { status, .. } => *status >= 500,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            ApiError::Transport(e) => write!(f, "no answer: {e}"),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: BTreeMap<Service, String>,
}

impl Api {
    pub fn new(base: BTreeMap<Service, String>) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .pool_max_idle_per_host(16)
                .build()
                .expect("an HTTP client"),
            base,
        }
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        format!("{}{}", self.base[&service], path)
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> ApiResult<T> {
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            let code = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(ApiError::Status { status, code, body });
        }
        serde_json::from_str(&body).map_err(|e| ApiError::Status {
            status,
            code: "e2e_unexpected_body".into(),
            body: format!("{e}: {body}"),
        })
    }

    async fn get<T: DeserializeOwned>(&self, service: Service, path: &str) -> ApiResult<T> {
        self.send(self.http.get(self.url(service, path))).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &Value,
    ) -> ApiResult<T> {
        self.send(self.http.post(self.url(service, path)).json(body))
            .await
    }

    /// `GET /ready` answers 200.
    pub async fn ready(&self, service: Service) -> bool {
        matches!(
            self.http
                .get(self.url(service, "/ready"))
                .timeout(Duration::from_secs(2))
                .send()
                .await,
            Ok(r) if r.status().as_u16() == 200
        )
    }

    /// `GET /ready`: its status and body, or `None` if the service did not answer.
    pub async fn readiness(&self, service: Service) -> Option<(u16, Value)> {
        let response = self
            .http
            .get(self.url(service, "/ready"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.ok()?))
    }

    /// The sum of every series of the counter `name` in `GET /metrics` (0 if it has none).
    pub async fn counter(&self, service: Service, name: &str) -> ApiResult<f64> {
        let text = self
            .http
            .get(self.url(service, "/metrics"))
            .send()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        Ok(text
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }

    // customer

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

    // orders

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

    pub async fn orders_of(&self, customer_id: Uuid) -> ApiResult<Vec<Order>> {
        self.get(
            Service::Orders,
            &format!("/orders?customer_id={customer_id}"),
        )
        .await
    }

    // inventory

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

    // billing

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

    // notification

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
