//! The MongoDB adapter of the store port (what compose runs): collections `products` and
//! `reservations` (see [`documents`]), and the runtime's `inbox`, `outbox`, `outbox_keys` and
//! `outbox_lease`.
//!
//! Each step is one multi-document transaction (snapshot reads, majority commit), so the server
//! must be a replica set ([`schema`] checks); a single-node one is enough. A saga step runs in
//! the transaction `MongoIdempotent` opens around its inbox document; an HTTP step
//! ([`requests`]) in one of [`transaction::run`], which runs it again after a write conflict.
//! Either way the work inside is [`steps`]'s.

mod documents;
mod requests;
mod schema;
mod steps;
mod transaction;

use anyhow::Context;
use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::{Client, ClientSession, Database};
use rdkafka::producer::FutureProducer;
use shared_events::messaging::mongo::{MongoHandler, MongoIdempotent, MongoOutboxStore};
use shared_events::{Envelope, Handler, HandlerError, KafkaConfig, Outcome, TraceParent};
use uuid::Uuid;

use self::documents::{ProductDoc, ReservationDoc, OUTBOX, PRODUCTS, RESERVATIONS};
use self::requests::{CreateStep, ReleaseStep, ReserveStep, RestockStep};
use self::schema::replica_set_of;
use self::transaction::StepError;
use super::{corrupt, outbox_envelope, relay, Cause, InventoryStore, Relay, StoreError};
use crate::domain::{Command, NewProduct, Product, Repeats, Reservation, ReservationRequest, Sku};
use crate::saga;

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "inventory";

/// The store on one MongoDB database.
pub struct MongoStore {
    /// The database of every collection.
    db: Database,
    /// The saga's step, once per event id.
    saga: MongoIdempotent<MongoSaga>,
}

impl MongoStore {
    /// Connects to the database the URL names (`mongodb://host/inventory?replicaSet=rs0`), or
    /// [`DEFAULT_DATABASE`], and prepares its collections and indexes.
    pub async fn connect(url: &str) -> anyhow::Result<MongoStore> {
        let client = Client::with_uri_str(url)
            .await
            .context("INVENTORY_STORE_URL is not a valid MongoDB URL")?;
        let db = client
            .default_database()
            .unwrap_or_else(|| client.database(DEFAULT_DATABASE));
        MongoStore::open(db).await
    }

    /// Connects to database `name` on the server of `url` (tests use a fresh one each).
    pub async fn connect_database(url: &str, name: &str) -> anyhow::Result<MongoStore> {
        let client = Client::with_uri_str(url)
            .await
            .context("not a valid MongoDB URL")?;
        MongoStore::open(client.database(name)).await
    }

    /// Checks the server and prepares the database ([`schema::prepare`]).
    pub async fn open(db: Database) -> anyhow::Result<MongoStore> {
        schema::prepare(&db).await?;
        Ok(MongoStore {
            saga: MongoIdempotent::new(db.clone(), crate::SERVICE, MongoSaga),
            db,
        })
    }

    /// The database, for tests that look inside it.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// The saga step, run by [`MongoIdempotent`] inside the transaction holding the inbox document.
struct MongoSaga;

#[async_trait]
impl MongoHandler for MongoSaga {
    async fn handle(
        &self,
        session: &mut ClientSession,
        db: &Database,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let command = saga::command(event)?;
        let cause = Cause::Event(Box::new(event.clone()));
        steps::apply(session, db, &command, &cause, Repeats::Announce)
            .await
            .map_err(StepError::into_handler_error)?;
        Ok(())
    }
}

#[async_trait]
impl InventoryStore for MongoStore {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    /// `hello` rather than `ping`: a server that answers but has left its replica set (or was
    /// restarted standalone) cannot run a step, so it is not ready either.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn ping(&self) -> Result<(), String> {
        let hello = self
            .db
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(|e| e.to_string())?;
        replica_set_of(&hello).map(|_| ())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %new.sku))]
    async fn create_product(
        &self,
        new: NewProduct,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError> {
        let step = CreateStep {
            product: Product::new(new),
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await?;
        Ok(step.product)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %sku, quantity))]
    async fn restock(
        &self,
        sku: &Sku,
        quantity: u64,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError> {
        let step = RestockStep {
            sku: sku.clone(),
            quantity,
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %sku))]
    async fn product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let found = self
            .db
            .collection::<ProductDoc>(PRODUCTS)
            .find_one(doc! { "_id": sku.as_str() })
            .await?;
        Ok(found.map(ProductDoc::into_domain).transpose()?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id))]
    async fn reservation(&self, order_id: Uuid) -> Result<Option<Reservation>, StoreError> {
        let found = self
            .db
            .collection::<ReservationDoc>(RESERVATIONS)
            .find_one(doc! { "_id": order_id.to_string() })
            .await?;
        Ok(found.map(ReservationDoc::into_domain).transpose()?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %request.order_id))]
    async fn reserve(
        &self,
        request: ReservationRequest,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError> {
        let step = ReserveStep {
            command: Command::Reserve(request),
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id))]
    async fn release(
        &self,
        order_id: Uuid,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError> {
        let step = ReleaseStep {
            order_id,
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id))]
    async fn handle_event(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        self.saga.handle(event).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn outbox_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let docs: Vec<Document> = self
            .db
            .collection::<Document>(OUTBOX)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await?;
        docs.iter()
            .map(|d| {
                let payload = d.get_str("payload").map_err(|e| corrupt("event", e))?;
                outbox_envelope(payload, d.get_str("traceparent").ok())
            })
            .collect()
    }

    fn outbox_relay(&self, producer: FutureProducer, kafka: KafkaConfig) -> Relay {
        relay(MongoOutboxStore::new(self.db.clone()), producer, kafka)
    }
}
