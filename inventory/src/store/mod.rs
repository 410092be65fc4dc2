//! The store port: everything the service keeps (products, reservations, the inbox of events
//! applied and the outbox of events to publish), behind one trait with two adapters, chosen
//! by the URL's scheme (`INVENTORY_STORE_URL`, [`crate::startup::open_store`]):
//!
//! - [`postgres::PgStore`] for `postgres://…`,
//! - [`mongo::MongoStore`] for `mongodb://…`.
//!
//! The adapters import this port; the port names neither of them.
//!
//! Every method that changes stock is one atomic step of the store: the change, the events it
//! emits (outbox) and, for a saga event, its inbox record, all commit together or not at all.
//! The adapters only load and write; what changes is decided by [`crate::domain::decide`], on
//! the reservation and products the step read (and locked) in its transaction. For a saga
//! event, the saga says what the event asks ([`InventoryStore::apply`] takes its [`Command`]);
//! the store never asks the saga.
//!
//! Each adapter keeps the saga's reservations and the manual ones apart ([`crate::domain::Book`]):
//! PostgreSQL by a `manual` column in the key, MongoDB in two collections. A step reads and
//! writes its own book only, and a manual step also asks whether the saga's book has the order
//! id, under the same per-order serialisation as the saga's steps.

pub mod mongo;
pub mod postgres;

use async_trait::async_trait;
use futures::future::BoxFuture;
use rdkafka::producer::FutureProducer;
use saga_contracts::{Envelope, EventPayload, TraceParent};
use saga_kit::CancellationToken;
use saga_messaging::OutboxStore;
use saga_messaging::{HandlerError, KafkaConfig, OutboxRelay, Outcome};
use uuid::Uuid;

use crate::domain::{
    Book, Command, NewProduct, Product, Refusal, Reservation, ReservationRequest, Sku, StockError,
};

/// Why a store operation did not do what was asked: a domain refusal (each mapped to its
/// status and code at the HTTP boundary, `routes::error`), or the store itself failing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `create_product`: the SKU is taken (the unique key decides, not a read).
    #[error("a product with sku {0} already exists")]
    SkuExists(Sku),
    /// `restock`: no product has this SKU.
    #[error("no product with sku {0}")]
    SkuNotFound(Sku),
    /// `reserve`: the saga has seen this order id, which is then the saga's alone (SPEC §7).
    #[error(
        "order {0} belongs to the order saga, which has seen it; a manual reservation needs an \
         order id of its own"
    )]
    OrderBelongsToSaga(Uuid),
    /// `release`: no reservation for this order id.
    #[error("no reservation for order {0}")]
    ReservationNotFound(Uuid),
    /// `release`: the reservation was made by the order saga, and ends with its order.
    #[error(
        "the reservation of order {0} was made by the order saga; it is released when the \
         order is cancelled"
    )]
    ReservationOwnedBySaga(Uuid),
    /// A change the domain refuses (a total too large) or stored numbers that contradict
    /// themselves.
    #[error(transparent)]
    Stock(#[from] StockError),
    /// The store failed: unreachable, busy, or a step that could not complete.
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::OrderBelongsToSaga(id) => StoreError::OrderBelongsToSaga(id),
            Refusal::ReservationNotFound(id) => StoreError::ReservationNotFound(id),
            Refusal::ReservationOwnedBySaga(id) => StoreError::ReservationOwnedBySaga(id),
            Refusal::Stock(e) => StoreError::Stock(e),
        }
    }
}

/// A store failure inside a saga step, for the consumer runner: the store being unreachable or
/// busy may pass (the runner runs the event again); stored data that contradicts itself, or a
/// change the domain refuses, will not.
impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(e) => HandlerError::transient(e),
            other => HandlerError::Permanent(other.into()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

impl From<mongodb::error::Error> for StoreError {
    fn from(e: mongodb::error::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

/// What caused a change, for the events it emits: an incoming event (`caused_by`) or an HTTP
/// request (its trace context, if it sent one).
#[derive(Debug, Clone)]
pub enum Cause {
    Event(Box<Envelope>),
    Request(Option<TraceParent>),
}

/// An incoming event as the cause of what its step emits.
impl From<&Envelope> for Cause {
    fn from(event: &Envelope) -> Self {
        Cause::Event(Box::new(event.clone()))
    }
}

impl Cause {
    /// The envelopes of `payloads`, linked to this cause.
    pub fn envelopes(&self, payloads: Vec<EventPayload>) -> Vec<Envelope> {
        payloads
            .into_iter()
            .map(|p| {
                let e = Envelope::new(crate::SERVICE, p);
                match self {
                    Cause::Event(cause) => e.caused_by(cause),
                    Cause::Request(trace) => e.in_trace(*trace),
                }
            })
            .collect()
    }
}

#[async_trait]
pub trait InventoryStore: Send + Sync + 'static {
    /// `postgres` or `mongodb`: the name of the `/ready` check.
    fn kind(&self) -> &'static str;

    /// Whether the store answers.
    async fn ping(&self) -> Result<(), String>;

    /// Creates a product, emitting `stock.updated` (and `low.stock` if it starts below its
    /// threshold). [`StoreError::SkuExists`] if the SKU is taken.
    async fn create_product(
        &self,
        new: NewProduct,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError>;

    /// Adds `quantity` to a product's available stock, emitting `stock.updated`.
    async fn restock(
        &self,
        sku: &Sku,
        quantity: u64,
        trace: Option<TraceParent>,
    ) -> Result<Product, StoreError>;

    async fn product(&self, sku: &Sku) -> Result<Option<Product>, StoreError>;

    /// The saga's reservation of an order (never a manual one).
    async fn reservation(&self, order_id: Uuid) -> Result<Option<Reservation>, StoreError>;

    /// The reservation of `POST /stock/reserve`: the saga's all-or-nothing reservation with the
    /// same events, idempotent per order, kept apart from the saga's. Returns the manual
    /// reservation as it now stands (possibly rejected, or an earlier answer).
    /// [`StoreError::OrderBelongsToSaga`] for a new one under an order id the saga has seen.
    async fn reserve(
        &self,
        request: ReservationRequest,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError>;

    /// `DELETE /stock/reserve/{order_id}`: gives back what a reservation made with
    /// [`reserve`](Self::reserve) holds, emitting `stock.released` as a cancellation does.
    /// Idempotent: returns the manual reservation as it now stands, `RELEASED` (or `REJECTED`,
    /// which holds nothing to give back). The saga's reservation of the same order id, if any,
    /// is never touched. [`StoreError::ReservationNotFound`] for an order id with no
    /// reservation; [`StoreError::ReservationOwnedBySaga`] for one with the saga's only, which
    /// ends with its order.
    async fn release(
        &self,
        order_id: Uuid,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError>;

    /// Applies `command`, what the saga made of `event` (`order.created`, `order.confirmed`,
    /// `order.cancelled`), once per `event_id`: inbox record, effect and the events it emits
    /// (caused by `event`) in one transaction, the effect decided on the stock read in it.
    /// `Duplicate` if the event was applied before. A manual command is a permanent error.
    async fn apply(&self, event: &Envelope, command: Command) -> Result<Outcome, HandlerError>;

    /// Applies several events' commands, in order, as one transaction, if the store can:
    /// each as [`apply`](Self::apply) would, the later ones deciding on what the earlier ones
    /// wrote. `None` means nothing changed (one failed, or the store does not batch): the
    /// caller applies them one by one. The default does not batch.
    async fn apply_batch(&self, _steps: Vec<(Envelope, Command)>) -> Option<Vec<Outcome>> {
        None
    }

    /// Whether [`apply_batch`](Self::apply_batch) can do anything.
    fn batches(&self) -> bool {
        false
    }

    /// The events written to the outbox that no relay has published yet, oldest first
    /// (MongoDB keeps published ones for the relay's retention). For inspection and tests; on
    /// PostgreSQL, while no relay streams the outbox.
    async fn outbox_events(&self) -> Result<Vec<Envelope>, StoreError>;

    /// The relay that publishes this store's outbox, running until `shutdown`.
    fn outbox_relay(&self, producer: FutureProducer, kafka: KafkaConfig) -> Relay;
}

/// The relay of a store's outbox, ready to run until the shutdown token it is given.
pub type Relay =
    Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// The relay that publishes the records of `outbox` (either adapter's).
pub(crate) fn relay<S: OutboxStore>(
    outbox: S,
    producer: FutureProducer,
    kafka: KafkaConfig,
) -> Relay {
    let relay = OutboxRelay::new(outbox, producer, kafka);
    Box::new(move |shutdown| Box::pin(async move { Ok(relay.run(shutdown).await?) }))
}

/// A saga event's step, as both adapters hand it to the runtime's inbox (`PgInbox::apply`,
/// `MongoInbox::apply`: inbox record, effect, outbox in one transaction) for that one event:
/// the command the saga made of it ([`InventoryStore::apply`]). Each adapter makes it a handler
/// of its inbox (`PgHandler`, `MongoHandler`), which applies the command on the stock read in
/// the transaction, with the event as the cause of what it emits.
pub(crate) struct SagaStep {
    /// What the saga made of the event.
    pub(crate) command: Command,
}

impl SagaStep {
    /// The step of `command`; a manual command is a permanent error, never a saga event's.
    pub(crate) fn new(command: Command) -> Result<SagaStep, HandlerError> {
        if command.book() != Book::Saga {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "{command:?} is a manual command, not a saga event's"
            )));
        }
        Ok(SagaStep { command })
    }
}

/// The steps of a batch of saga events, each found by its event's id.
pub(crate) struct SagaSteps {
    /// Each event's step.
    steps: std::collections::HashMap<Uuid, SagaStep>,
}

impl SagaSteps {
    /// The steps of `batch`, and its events in order; `None` if some command is a manual one
    /// (which [`SagaStep::new`] refuses, and the one-by-one path dead-letters).
    pub(crate) fn new(batch: Vec<(Envelope, Command)>) -> Option<(SagaSteps, Vec<Envelope>)> {
        let mut steps = std::collections::HashMap::with_capacity(batch.len());
        let mut events = Vec::with_capacity(batch.len());
        for (event, command) in batch {
            steps.insert(event.event_id, SagaStep::new(command).ok()?);
            events.push(event);
        }
        Some((SagaSteps { steps }, events))
    }

    /// The step of `event`.
    pub(crate) fn of(&self, event: &Envelope) -> Result<&SagaStep, HandlerError> {
        self.steps.get(&event.event_id).ok_or_else(|| {
            HandlerError::permanent(anyhow::anyhow!(
                "event {} is not in the batch",
                event.event_id
            ))
        })
    }
}

/// A stored value that does not decode: a corrupted row or document.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("stored {what} is invalid: {detail}")
}

/// An outbox record as both adapters keep it (the encoded envelope and its trace context,
/// apart), back as the envelope.
pub(crate) fn outbox_envelope(
    payload: &str,
    traceparent: Option<&str>,
) -> Result<Envelope, StoreError> {
    let mut e = Envelope::decode(payload.as_bytes()).map_err(|e| corrupt("event", e))?;
    e.traceparent = traceparent.and_then(|t| t.parse().ok());
    Ok(e)
}

/// The reservation a step on an order leaves: every reserve and release leaves one, so none
/// is the store failing.
pub(crate) fn left_by(
    step: &'static str,
    reservation: Option<Reservation>,
) -> Result<Reservation, StoreError> {
    reservation.ok_or_else(|| StoreError::Backend(anyhow::anyhow!("a {step} left no reservation")))
}
