//! A notification service spawned per test against the real Redis (over TLS, as the ACL user
//! `notification`, under a key prefix of its own) and the real broker (in a topic namespace of its own), with a notifier that records
//! what it is asked to deliver.

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use notification::configuration::Settings;
use notification::delivery::Notifier;
use notification::startup::build_with_notifier;
use notification::store::Keys;
use notification::store::Notification;
use redis::aio::ConnectionManager;
use saga_contracts::events::CustomerCreated;
use saga_contracts::services::NOTIFICATION;
use saga_contracts::{Envelope, Money};
use saga_kit::service::ServiceSettings;
use saga_kit::testing::TestService;
use saga_messaging::testing::{delete_keys_blocking, provisioned_kafka, redis_settings, wait_for};
use serde_json::Value;
use uuid::Uuid;

/// How long a test waits for an event to show through the API.
pub const WAIT: Duration = Duration::from_secs(60);

/// Records every delivery it is asked for: (notification id, kind, email).
#[derive(Default)]
pub struct Recorder(Mutex<Vec<(Uuid, String, Option<String>)>>);

#[async_trait]
impl Notifier for Recorder {
    async fn deliver(&self, n: &Notification, email: Option<&str>) -> anyhow::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push((n.id, n.kind.clone(), email.map(str::to_owned)));
        Ok(())
    }
}

impl Recorder {
    pub fn deliveries(&self) -> Vec<(Uuid, String, Option<String>)> {
        self.0.lock().unwrap().clone()
    }
}

pub struct TestApp {
    service: TestService<ConnectionManager>,
    /// The service's key names, under this test's prefix.
    pub keys: Keys,
    /// What the service was asked to deliver.
    pub recorder: Arc<Recorder>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        // Short, so that what a test leaves behind in Redis expires.
        TestApp::spawn_with_inbox_ttl(Duration::from_secs(600)).await
    }

    /// The service remembering handled events for `inbox_ttl` only.
    pub async fn spawn_with_inbox_ttl(inbox_ttl: Duration) -> TestApp {
        // Under `notification:`, the only keys the service's ACL user may touch.
        let prefix = format!("notification:test:{}:", Uuid::new_v4().simple());
        let settings = Settings {
            service: ServiceSettings::loopback(provisioned_kafka(&NOTIFICATION).await),
            redis: redis_settings(),
            key_prefix: prefix.clone(),
            inbox_ttl,
        };
        let kafka = settings.service.kafka.clone();
        let recorder = Arc::new(Recorder::default());
        let notifier = recorder.clone();
        let build = |shutdown| build_with_notifier(settings, shutdown, notifier);
        TestApp {
            service: TestService::start(kafka, build).await,
            keys: Keys::new(prefix),
            recorder,
        }
    }

    /// `POST /notify`.
    pub async fn post_notify(&self, body: Value) -> (u16, Value) {
        self.post("/notify", &body).await
    }

    /// The customer's notifications as the API lists them.
    pub async fn notifications(&self, customer_id: Uuid) -> Vec<Value> {
        let (status, body) = self
            .get(&format!(
                "/notifications?customer_id={customer_id}&limit=500"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Waits until the customer has `n` notifications, all delivered, and returns them.
    pub async fn wait_delivered(&self, customer_id: Uuid, n: usize) -> Vec<Value> {
        wait_for(
            &format!("{n} delivered notifications for {customer_id}"),
            WAIT,
            || async {
                let list = self.notifications(customer_id).await;
                (list.len() >= n && list.iter().all(|x| x["sent_at"].is_string())).then_some(list)
            },
        )
        .await
    }

    /// Whether the service's consumer has handled (applied) the event with this id.
    pub async fn handled(&self, event_id: Uuid) -> bool {
        let key = self.keys.inbox(event_id);
        let mut conn = self.store.clone();
        redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    pub async fn wait_handled(&self, event: &Envelope) {
        wait_for(
            &format!("{} {} to be handled", event.event_type(), event.event_id),
            WAIT,
            || async { self.handled(event.event_id).await.then_some(()) },
        )
        .await
    }
}

impl Deref for TestApp {
    type Target = TestService<ConnectionManager>;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}

impl Drop for TestApp {
    /// Stops the service and deletes this test's keys, also when the test failed, as the
    /// operator (the service's user may not scan or delete).
    fn drop(&mut self) {
        self.service.shutdown.cancel();
        if let Err(e) = delete_keys_blocking(self.keys.prefix()) {
            eprintln!(
                "could not delete the test's Redis keys {}*: {e}",
                self.keys.prefix()
            );
        }
    }
}

pub fn customer_created(name: &str) -> (Uuid, Envelope) {
    let id = Uuid::now_v7();
    let event = Envelope::new(
        "customer",
        CustomerCreated {
            customer_id: id,
            name: name.into(),
            email: format!("{}@example.com", name.to_lowercase()),
            credit_limit: "100.00".parse::<Money>().unwrap(),
        },
    );
    (id, event)
}

/// A copy of `event` with a new event id: the same fact delivered as a second event.
pub fn reissued(event: &Envelope) -> Envelope {
    Envelope::new(&event.producer, event.payload.clone())
}

pub fn money(s: &str) -> Money {
    s.parse().unwrap()
}
