//! A typed HTTP client for the five public APIs (SPEC §4): [`Api`] with the request plumbing
//! and the probes every service answers (`/ready`, `/metrics`) here, each service's calls in a
//! file of its own (`customer`, `orders`, `inventory`, `billing`, `notification`), the response
//! bodies in `types` and the failed call in `error`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use saga_kit::testing::identity::token;

use crate::service::Service;

mod billing;
mod customer;
mod error;
mod inventory;
mod notification;
mod orders;
mod types;

pub use error::{ApiError, ApiResult};
pub use saga_kit::testing::identity::Account as Identity;
pub use types::{
    Account, Customer, HistoryEntry, Notification, Order, OrderLine, Payment, Product,
};

/// A client of the five services, each at its base URL, calling with the bearer token of one
/// identity (SPEC §7): the tools' client `saga-tools` (role operator) unless [`Api::as_identity`]
/// names another.
#[derive(Clone)]
pub struct Api {
    /// One client for every call: its connection pool is shared by the services' calls.
    http: reqwest::Client,
    /// Each service's base URL (`http://host:port`), which paths are appended to.
    base: BTreeMap<Service, String>,
    /// Whose token every call but the probes carries (renewed before it expires).
    identity: Identity,
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
            identity: Identity::Tools,
        }
    }

    /// The same services, called as `identity` (e.g. a customer, to check what it may do).
    pub fn as_identity(&self, identity: Identity) -> Api {
        Api {
            identity,
            ..self.clone()
        }
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        format!("{}{}", self.base[&service], path)
    }

    /// Sends `request` with the identity's bearer token.
    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> ApiResult<T> {
        let response = request
            .bearer_auth(token(self.identity).await)
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

    /// The sum of every series of the counter `name` in `GET /metrics` (0 if it has none; the
    /// metrics are an operator's).
    pub async fn counter(&self, service: Service, name: &str) -> ApiResult<f64> {
        let response = self
            .http
            .get(self.url(service, "/metrics"))
            .bearer_auth(token(self.identity).await)
            .send()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        if status != 200 {
            return Err(ApiError::Status {
                status,
                code: String::new(),
                body: text,
            });
        }
        Ok(text
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }
}
