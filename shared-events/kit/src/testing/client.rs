//! An HTTP client for a service under test: a method per verb the services serve, each
//! answering with the status and the JSON body. Every response of the services is JSON
//! (SPEC §4), so a body that is not JSON fails the test.
//!
//! Every request carries a bearer token (SPEC §7): the operator's unless the client was made
//! for another [`Account`], for a raw token, or anonymous.

use serde_json::Value;

use super::identity::{self, Account};

/// Who a [`TestClient`]'s requests claim to be.
#[derive(Debug, Clone)]
pub enum Bearer {
    /// No `Authorization` header.
    Anonymous,
    /// A fresh token of a development account, fetched (and renewed) from the provider.
    Account(Account),
    /// This token, as it is (expired, forged, for another audience…).
    Token(String),
}

/// Requests to one service, by path.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// `http://127.0.0.1:<port>`: where the service listens.
    pub base_url: String,
    /// The underlying client, for what the helpers do not cover (raw responses); cloning it is
    /// cheap, so concurrent requests can each take one. Requests made on it directly carry no
    /// token: start them with [`TestClient::request`].
    pub http: reqwest::Client,
    /// Who the requests claim to be.
    pub bearer: Bearer,
}

impl TestClient {
    /// A client of the service listening on `port` of the loopback interface, as the operator.
    pub fn new(port: u16) -> TestClient {
        TestClient {
            base_url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            bearer: Bearer::Account(Account::Operator),
        }
    }

    /// The same service, as `account`.
    pub fn as_account(&self, account: Account) -> TestClient {
        self.with_bearer(Bearer::Account(account))
    }

    /// The same service, with no token.
    pub fn anonymous(&self) -> TestClient {
        self.with_bearer(Bearer::Anonymous)
    }

    /// The same service, sending `token` as it is.
    pub fn with_token(&self, token: impl Into<String>) -> TestClient {
        self.with_bearer(Bearer::Token(token.into()))
    }

    /// The same service, as `bearer`.
    fn with_bearer(&self, bearer: Bearer) -> TestClient {
        TestClient {
            bearer,
            ..self.clone()
        }
    }

    /// The URL of `path` (which starts with `/`) on the service.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A `method` request to `path` with the client's token, for requests with headers of
    /// their own.
    pub async fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match &self.bearer {
            Bearer::Anonymous => request,
            Bearer::Account(account) => request.bearer_auth(identity::token(*account).await),
            Bearer::Token(token) => request.bearer_auth(token),
        }
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::GET, path).await).await
    }

    /// DELETEs `path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::DELETE, path).await).await
    }

    /// POSTs `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    /// POSTs `body` as it is (malformed or oversized JSON, say), labelled as JSON.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        Self::send(self.post_request(path).await.body(body)).await
    }

    /// A POST to `path` labelled as JSON, with the client's token, for requests with headers
    /// of their own.
    pub async fn post_request(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
            .await
            .header("content-type", "application/json")
    }

    /// GETs `path` as text (`/metrics`).
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .request(reqwest::Method::GET, path)
            .await
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Sends `request`; the status and the JSON body of the response.
    pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("reading the response body");
        let body = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("a {status} response whose body is not JSON ({e}): {text:?}")
        });
        (status, body)
    }
}
