//! The customer service under test, on a fresh database and topic namespace (the shared kit,
//! [`saga_kit::testing`]), with a method per route.

#![allow(dead_code)]

use std::ops::Deref;

use customer::configuration::Settings;
use saga_contracts::services::CUSTOMER;
use saga_kit::testing::TestService;
use saga_messaging::testing::{fresh_database_url, provisioned_kafka};
use serde_json::Value;
use sqlx::PgPool;

pub struct TestApp(TestService<PgPool>);

pub async fn spawn_app() -> TestApp {
    let settings = Settings::loopback(
        provisioned_kafka(&CUSTOMER).await,
        fresh_database_url("customer").await,
    );
    let kafka = settings.service.kafka.clone();
    TestApp(
        TestService::start(kafka, |shutdown| {
            customer::startup::build(settings, shutdown)
        })
        .await,
    )
}

impl TestApp {
    pub async fn post_customer(&self, body: &Value) -> (u16, Value) {
        self.post("/customers", body).await
    }

    pub async fn post_customer_raw(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        self.post_raw("/customers", body).await
    }

    pub async fn get_customer(&self, id: &str) -> (u16, Value) {
        self.get(&format!("/customers/{id}")).await
    }
}

impl Deref for TestApp {
    type Target = TestService<PgPool>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
