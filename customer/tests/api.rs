//! The customer service's HTTP API and its event, against real PostgreSQL and the broker.

use std::time::Duration;

use customer::configuration::Settings;
use customer::startup::Application;
use rdkafka::Message;
use serde_json::{json, Value};
use shared_events::testing::{fresh_database_url, isolated_kafka, read_quiet, read_until, reader};
use shared_events::{CancellationToken, Envelope, EventPayload, EventType, KafkaConfig};

struct TestApp {
    url: String,
    http: reqwest::Client,
    kafka: KafkaConfig,
    shutdown: CancellationToken,
}

impl TestApp {
    async fn spawn() -> TestApp {
        let settings = Settings {
            http_host: "127.0.0.1".into(),
            http_port: 0,
            database_url: fresh_database_url().await,
            kafka: isolated_kafka(),
        };
        let kafka = settings.kafka.clone();
        let shutdown = CancellationToken::new();
        let app = Application::build(settings, shutdown.clone())
            .await
            .expect("the service starts");
        let url = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            url,
            http: reqwest::Client::new(),
            kafka,
            shutdown,
        }
    }

    async fn post_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}/customers", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, body: Value) -> (u16, Value) {
        let resp = self.post_raw(body.to_string()).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn ada(email: &str) -> Value {
    json!({ "name": "Ada Lovelace", "email": email, "credit_limit": "500.5" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_customer_returns_it_and_emits_customer_created() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post(ada("Ada@Example.com")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "Ada Lovelace");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["credit_limit"], "500.50");
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, fetched) = app.get(&format!("/customers/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, body);

    let topic = app.kafka.topic(EventType::CustomerCreated);
    let consumer = reader(&app.kafka, &[&topic]);
    let mut messages = read_until(&consumer, Duration::from_secs(30), |m| !m.is_empty()).await;
    messages.extend(read_quiet(&consumer, Duration::from_millis(500)).await);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].key(), Some(id.as_bytes()));
    let event = Envelope::decode(messages[0].payload().unwrap()).unwrap();
    assert_eq!(event.producer, "customer");
    assert_eq!(event.correlation_id, id);
    let EventPayload::CustomerCreated(c) = event.payload else {
        panic!("wrong payload")
    };
    assert_eq!(c.customer_id.to_string(), id);
    assert_eq!(c.email, "ada@example.com");
    assert_eq!(c.credit_limit.to_string(), "500.50");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_email_is_a_conflict_whatever_its_case_and_however_many_race() {
    let app = TestApp::spawn().await;
    let mut requests = Vec::new();
    for i in 0..10 {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        let body = ada(email).to_string();
        let app_url = app.url.clone();
        let http = app.http.clone();
        requests.push(tokio::spawn(async move {
            let resp = http
                .post(format!("{app_url}/customers"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (status, body)
        }));
    }
    let mut created = 0;
    for r in requests {
        let (status, body) = r.await.unwrap();
        match status {
            201 => created += 1,
            409 => assert_eq!(body["error"]["code"], "email_taken"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_gets_the_documented_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"name": "  ", "email": "a@b.co", "credit_limit": "1"}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": "A", "email": "not-an-email", "credit_limit": "1"}),
            422,
            "invalid_email",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "-1"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": -1}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "1.001"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "lots"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co"}),
            422,
            "invalid_request",
        ),
        (
            json!({"name": 5, "email": "a@b.co", "credit_limit": "1"}),
            422,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let (got, resp) = app.post(body.clone()).await;
        assert_eq!(
            (got, resp["error"]["code"].as_str().unwrap()),
            (status, code),
            "{body}"
        );
        assert!(resp["error"]["message"].as_str().unwrap().len() > 5);
    }

    let resp = app.post_raw("{\"name\": \"A\",").await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    let huge = json!({"name": "x".repeat(200_000), "email": "a@b.co", "credit_limit": "1"});
    let resp = app.post_raw(huge.to_string()).await;
    assert_eq!(resp.status().as_u16(), 413);

    for path in [
        "/customers/00000000-0000-0000-0000-000000000000",
        "/customers/nope",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error"]["code"]
            .as_str()
            .unwrap()
            .ends_with("not_found"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health").await.0, 200);
    let (status, ready) = app.get("/ready").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["postgres"], "ok");
    assert_eq!(ready["checks"]["kafka"], "ok");
    let (status, doc) = app.get("/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/customers",
        "/customers/{id}",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let metrics = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
}
