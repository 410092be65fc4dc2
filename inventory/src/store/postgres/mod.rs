//! The PostgreSQL adapter of the store port: tables `products` and `reservations` (see
//! `migrations/`), and the runtime's shared `inbox` and `outbox`. A reservation's key is its
//! order id and its book (`manual`): the saga's and the manual one of an order id are two rows.
//!
//! Concurrency: a step on an order first takes a transaction-scoped advisory lock on the order
//! id, whatever its book (so a create and a cancel of one order never interleave, and a manual
//! reserve sees the saga's record as of the saga's last step), then row-locks the products it
//! needs with `SELECT … FOR UPDATE` in SKU order (so two reservations never both take the last
//! unit, and never deadlock), decides, writes, and enqueues its events, all in one transaction.

mod rows;

use anyhow::Context;
use async_trait::async_trait;
use rdkafka::producer::FutureProducer;
use saga_contracts::{Envelope, TraceParent};
use saga_messaging::postgres::{
    enqueue_all, outbox_ready, peek_outbox, PgHandler, PgInbox, PgOutboxStore, PgSettings,
};
use saga_messaging::{HandlerError, KafkaConfig, Outcome};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    corrupt, left_by, outbox_envelope, relay, Cause, InventoryStore, Relay, SagaStep, SagaSteps,
    StoreError,
};
use crate::domain::{
    change_events, decide, skus_to_load, Book, Command, Decision, NewProduct, Product,
    ProductChange, Repeats, Reservation, ReservationRequest, SagaRecord, Sku,
};

/// Advisory-lock class of the per-order lock (two-key form; the runtime uses `0x5345_xxxx`).
const LOCK_CLASS_ORDER: i32 = 0x494E_0001;

pub struct PgStore {
    pool: PgPool,
    /// Where each saga event's step runs, once per event id.
    inbox: PgInbox,
}

impl PgStore {
    /// Connects (as the URL's role, to a database that must exist) and migrates.
    pub async fn connect(database: &PgSettings) -> anyhow::Result<PgStore> {
        let pool = saga_messaging::postgres::connect(database).await?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("migrating the inventory database")?;
        saga_messaging::postgres::migrate(&pool)
            .await
            .context("creating the inbox and outbox")?;
        Ok(PgStore::new(pool))
    }

    /// On a pool whose database is already migrated.
    pub fn new(pool: PgPool) -> PgStore {
        PgStore {
            inbox: PgInbox::new(pool.clone(), crate::SERVICE),
            pool,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A manual step (`POST /stock/reserve`, `DELETE /stock/reserve/{order_id}`) in its own
    /// transaction; returns the manual reservation it leaves.
    async fn by_hand(
        &self,
        command: Command,
        trace: Option<TraceParent>,
        step: &'static str,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.pool.begin().await?;
        let decision =
            order_step(&mut tx, &command, &Cause::Request(trace), Repeats::Silent).await?;
        tx.commit().await?;
        left_by(step, decision.reservation)
    }
}

/// Takes the order's lock until the transaction ends.
async fn lock_order(conn: &mut PgConnection, order_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(LOCK_CLASS_ORDER)
        .bind(order_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// One order's step: lock the order, load, decide, write, enqueue; on the caller's transaction.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %command.order_id()))]
async fn order_step(
    conn: &mut PgConnection,
    command: &Command,
    cause: &Cause,
    repeats: Repeats,
) -> Result<Decision, StoreError> {
    let order_id = command.order_id();
    let book = command.book();
    lock_order(conn, order_id).await?;
    let existing = rows::reservation(conn, order_id, book).await?;
    let saga = match book {
        Book::Saga => SagaRecord::of(existing.as_ref()),
        Book::Manual => rows::saga_record(conn, order_id).await?,
    };
    let skus = skus_to_load(command, existing.as_ref());
    let products = rows::lock_products(conn, &skus).await?;
    let decision = decide(command, existing.as_ref(), saga, &products, repeats)?;
    let changed = decision
        .reservation
        .as_ref()
        .filter(|_| decision.reservation_changed)
        .map(|reservation| rows::ReservationWrite {
            book,
            reservation,
            existed: existing.is_some(),
        });
    rows::write_step(conn, &decision.products, changed).await?;
    enqueue_all(conn, &cause.envelopes(decision.events.clone())).await?;
    tracing::info!(%order_id, note = decision.note, "reservation step");
    Ok(decision)
}

/// The saga's step, run by [`PgInbox::apply`] inside the transaction holding the inbox row.
#[async_trait]
impl PgHandler for SagaStep {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let cause = Cause::from(event);
        order_step(tx, &self.command, &cause, Repeats::Announce).await?;
        Ok(())
    }
}

/// A batch's steps, run by [`PgInbox::apply_batch`] in one transaction, each event's in turn.
/// Each step locks its order and products as a single one does; a batch holds them all until
/// it commits, so it may deadlock with another transaction, which PostgreSQL breaks by failing
/// one of them, and the batch is then applied one event at a time.
#[async_trait]
impl PgHandler for SagaSteps {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        self.of(event)?.handle(tx, event).await
    }
}

#[async_trait]
impl InventoryStore for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn ping(&self) -> Result<(), String> {
        outbox_ready(&self.pool).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %new.sku))]
    async fn create_product(
        &self,
        new: NewProduct,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError> {
        let product = Product::new(new);
        let mut tx = self.pool.begin().await?;
        if !rows::insert_product(&mut tx, &product).await? {
            return Err(StoreError::SkuExists(product.sku));
        }
        let events = Cause::Request(trace).envelopes(change_events(None, &product));
        enqueue_all(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(product)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %sku, quantity))]
    async fn restock(
        &self,
        sku: &Sku,
        quantity: u64,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut locked = rows::lock_products(&mut tx, std::slice::from_ref(sku)).await?;
        let before = locked
            .remove(sku)
            .ok_or_else(|| StoreError::SkuNotFound(sku.clone()))?;
        let change = ProductChange {
            after: before.restock(quantity)?,
            before,
        };
        rows::write_step(&mut tx, std::slice::from_ref(&change), None).await?;
        let events =
            Cause::Request(trace).envelopes(change_events(Some(&change.before), &change.after));
        enqueue_all(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(change.after)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(sku = %sku))]
    async fn product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        rows::product(&mut conn, sku).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id))]
    async fn reservation(&self, order_id: Uuid) -> Result<Option<Reservation>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        rows::reservation(&mut conn, order_id, Book::Saga).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %request.order_id))]
    async fn reserve(
        &self,
        request: ReservationRequest,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError> {
        self.by_hand(Command::ReserveByHand(request), trace, "reserve")
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id))]
    async fn release(
        &self,
        order_id: Uuid,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError> {
        self.by_hand(Command::ReleaseByHand(order_id), trace, "release")
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id))]
    async fn apply(&self, event: &Envelope, command: Command) -> Result<Outcome, HandlerError> {
        self.inbox.apply(&SagaStep::new(command)?, event).await
    }

    async fn apply_batch(&self, steps: Vec<(Envelope, Command)>) -> Option<Vec<Outcome>> {
        let (steps, events) = SagaSteps::new(steps)?;
        self.inbox.apply_batch(&steps, &events).await
    }

    fn batches(&self) -> bool {
        true
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn outbox_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        peek_outbox(&mut conn)
            .await
            .map_err(StoreError::Backend)?
            .iter()
            .map(|r| {
                let payload = std::str::from_utf8(&r.payload).map_err(|e| corrupt("event", e))?;
                outbox_envelope(payload, r.traceparent.as_deref())
            })
            .collect()
    }

    fn outbox_relay(&self, producer: FutureProducer, kafka: KafkaConfig) -> Relay {
        relay(PgOutboxStore::new(self.pool.clone()), producer, kafka)
    }
}
