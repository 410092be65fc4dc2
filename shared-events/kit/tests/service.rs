//! The service kit end to end: a service started by the shared start-up sequence
//! ([`saga_kit::service::Startup`]) on a fresh database and topic namespace, checked with
//! the shared test kit.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use rdkafka::consumer::{BaseConsumer, Consumer};
use saga_contracts::EventType;
use saga_kit::http::{ApiError, Routes};
use saga_kit::service::PgServiceSettings;
use saga_kit::service::{Application, Startup};
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops, TestService};
use saga_kit::CancellationToken;
use saga_messaging::postgres;
use saga_messaging::testing::{fresh_database_url, isolated_kafka, provisioned_kafka};
use saga_messaging::KafkaConfig;
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// The service's own document, as utoipa generates it from its handlers.
#[derive(utoipa::OpenApi)]
#[openapi(paths(inbox))]
struct OutboxDoc;

#[utoipa::path(get, path = "/inbox", responses((status = 200, description = "Its rows")))]
async fn inbox(pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(pool.get_ref())
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({ "rows": rows })))
}

fn routes(routes: &mut Routes) {
    routes.get("/inbox", inbox);
}

/// A service as the five build theirs: store, topics, routes, tasks.
async fn build(
    settings: PgServiceSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application<PgPool>> {
    let pool = postgres::open(&settings.database, &Migrator::DEFAULT).await?;
    let data = web::Data::new(pool.clone());
    let mut app = Startup::postgres(settings.service, shutdown, pool)
        .topics(&[EventType::CustomerCreated], &[])
        .await?
        .bind(<OutboxDoc as utoipa::OpenApi>::openapi(), data, routes)?;
    app.spawn_outbox_relay()?;
    Ok(app)
}

async fn settings() -> PgServiceSettings {
    // It publishes what the customer service does: it runs as that principal.
    PgServiceSettings::loopback(
        provisioned_kafka(&saga_contracts::services::CUSTOMER).await,
        fresh_database_url("customer").await,
    )
}

fn partitions(kafka: &KafkaConfig, topic: &str) -> usize {
    let client: BaseConsumer = kafka.admin_config().create().unwrap();
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0].partitions().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_service_serves_its_routes_the_operational_endpoints_and_json_404s() {
    let settings = settings().await;
    let kafka = settings.service.kafka.clone();
    let app = TestService::start(kafka, |shutdown| build(settings, shutdown)).await;
    let ops = Ops {
        ready: &["postgres", "kafka"],
        ..Ops::default()
    };
    assert_ops_endpoints(&app.client, ops).await;
    assert_eq!(app.get("/inbox").await, (200, json!({ "rows": 0 })));
    assert_error(&app.get("/nowhere").await, 404, "not_found", "/nowhere");

    // Its topics and their dead-letter topics exist, with the configured partitions.
    let topic = app.topic(EventType::CustomerCreated);
    let expected = app.kafka.partitions as usize;
    assert_eq!(partitions(&app.kafka, &topic), expected);
    assert_eq!(partitions(&app.kafka, &format!("{topic}.dlq")), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_task_stops_the_others_and_the_service_exits_with_its_error() {
    let mut app = build(settings().await, CancellationToken::new())
        .await
        .unwrap();
    app.spawn("doomed", |_shutdown| async { anyhow::bail!("out of luck") });
    let stopped = tokio::time::timeout(Duration::from_secs(30), app.run_until_stopped())
        .await
        .expect("the other tasks stop too");
    let error = stopped.unwrap_err();
    assert_eq!(error.to_string(), "doomed failed");
    match error {
        saga_kit::service::RunError::Task { name, source } => {
            assert_eq!(name, "doomed");
            assert_eq!(source.to_string(), "out of luck");
        }
        other => panic!("not the task's error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_shutdown_token_stops_every_task_gracefully() {
    let shutdown = CancellationToken::new();
    let app = build(settings().await, shutdown.clone()).await.unwrap();
    let port = app.port();
    assert_ne!(
        port, 0,
        "port 0 picks a free port and the application tells which"
    );
    let running = tokio::spawn(app.run_until_stopped());
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("every task stops")
        .unwrap();
    assert!(stopped.is_ok(), "{stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_whose_topics_are_not_provisioned_fails_naming_them() {
    // A namespace nobody provisioned, and the service's own principal, which may not create
    // topics: it must not start, and must say which topics are missing.
    let operator = isolated_kafka();
    let settings = PgServiceSettings::loopback(
        operator.as_local_principal("customer"),
        fresh_database_url("customer").await,
    );
    let Err(error) = build(settings, CancellationToken::new()).await else {
        panic!("the service started without its topics");
    };
    let text = format!("{error:#}");
    assert!(text.contains("topics missing"), "{text}");
    assert!(
        text.contains(&operator.topic(EventType::CustomerCreated)),
        "names the topic: {text}"
    );
}
