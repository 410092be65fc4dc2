//! An HTTP client for a service under test: a method per verb the services serve, each
//! answering with the status and the JSON body. Every response of the services is JSON
//! (SPEC §4), so a body that is not JSON fails the test.

use serde_json::Value;

/// Requests to one service, by path.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// `http://127.0.0.1:<port>`: where the service listens.
    pub base_url: String,
    /// The underlying client, for what the helpers do not cover (headers, raw responses);
    /// cloning it is cheap, so concurrent requests can each take one.
    pub http: reqwest::Client,
}

impl TestClient {
    /// A client of the service listening on `port` of the loopback interface.
    pub fn new(port: u16) -> TestClient {
        TestClient {
            base_url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    /// The URL of `path` (which starts with `/`) on the service.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::send(self.http.get(self.url(path))).await
    }

    /// DELETEs `path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::send(self.http.delete(self.url(path))).await
    }

    /// POSTs `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    /// POSTs `body` as it is (malformed or oversized JSON, say), labelled as JSON.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        Self::send(self.post_request(path).body(body)).await
    }

    /// A POST to `path` labelled as JSON, for requests with headers of their own.
    pub fn post_request(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header("content-type", "application/json")
    }

    /// GETs `path` as text (`/metrics`).
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
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
