//! The MongoDB adapter of the store port (what compose runs): collections `products` and
//! `reservations` (see [`documents`]), and the runtime's `inbox`, `outbox`, `outbox_keys` and
//! `outbox_lease`.
//!
//! Each step is one multi-document transaction (snapshot reads, majority commit), so the server
//! must be a replica set; a single-node one is enough. A saga step runs in the transaction
//! `MongoIdempotent` opens around its inbox document; an HTTP step in one of
//! [`transaction::run`], which runs it again after a write conflict.

mod documents;
mod steps;
mod transaction;

use anyhow::Context;
use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::{Client, ClientSession, Database, IndexModel};
use rdkafka::producer::FutureProducer;
use shared_events::mongo::{ensure_indexes, MongoHandler, MongoIdempotent, MongoOutboxStore};
use shared_events::{
    CancellationToken, Envelope, Handler, HandlerError, KafkaConfig, OutboxRelay, Outcome,
    TraceParent,
};
use uuid::Uuid;

use self::documents::{ProductDoc, ReservationDoc, OUTBOX, PRODUCTS, RESERVATIONS};
use self::transaction::{Step, StepError};
use super::{corrupt, Cause, InventoryStore, Release, StoreError};
use crate::domain::{Command, NewProduct, Product, Repeats, Reservation, ReservationRequest, Sku};
use crate::saga;

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "inventory";

/// The server's `NamespaceExists` error code.
const NAMESPACE_EXISTS: i32 = 48;

pub struct MongoStore {
    db: Database,
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

    /// Checks that the server is a replica-set member, then creates the collections and
    /// indexes that are missing. Idempotent, so several instances may run it at once.
    pub async fn open(db: Database) -> anyhow::Result<MongoStore> {
        let hello = db
            .run_command(doc! { "hello": 1 })
            .await
            .context("asking the MongoDB server `hello`")?;
        replica_set_of(&hello).map_err(anyhow::Error::msg)?;
        for name in [PRODUCTS, RESERVATIONS] {
            create_collection(&db, name).await?;
        }
        db.collection::<Document>(RESERVATIONS)
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "order_id": 1 })
                    .options(
                        IndexOptions::builder()
                            .name("reservations_order_id".to_owned())
                            .unique(true)
                            .build(),
                    )
                    .build(),
            )
            .await
            .context("creating the reservations index")?;
        ensure_indexes(&db).await?;
        Ok(MongoStore {
            saga: MongoIdempotent::new(db.clone(), crate::SERVICE, MongoSaga),
            db,
        })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// The replica set `hello` names, or why the server cannot run inventory's transactions.
///
/// A standalone `mongod` accepts connections and single writes, but refuses every
/// multi-document transaction (code 20, `IllegalOperation`). Without this check the service
/// would start, answer `/ready`, and then fail every saga step and every write request,
/// forever. A replica-set member's `hello` carries `setName`, also when the client connects
/// to it directly (`directConnection=true`).
fn replica_set_of(hello: &Document) -> Result<String, String> {
    match hello.get_str("setName") {
        Ok(name) => Ok(name.to_owned()),
        Err(_) if hello.get_str("msg") == Ok("isdbgrid") => Err(
            "the MongoDB server is a mongos router; point INVENTORY_STORE_URL at a replica set"
                .to_owned(),
        ),
        Err(_) => Err(
            "the MongoDB server is standalone: inventory's steps are multi-document transactions, \
             which MongoDB runs only on a replica set (start mongod with --replSet rs0 and run \
             rs.initiate() once; a single node is enough)"
                .to_owned(),
        ),
    }
}

async fn create_collection(db: &Database, name: &str) -> anyhow::Result<()> {
    match db.create_collection(name).await {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS) => {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("creating the `{name}` collection")),
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
        let command = saga::command_for(event)?;
        let cause = Cause::Event(Box::new(event.clone()));
        steps::apply(session, db, &command, &cause, Repeats::Announce)
            .await
            .map_err(StepError::into_handler_error)?;
        Ok(())
    }
}

struct CreateStep {
    product: Product,
    cause: Cause,
}

#[async_trait]
impl Step for CreateStep {
    type Output = ();
    async fn run(&self, session: &mut ClientSession, db: &Database) -> Result<(), StepError> {
        steps::create(session, db, &self.product, &self.cause).await
    }
}

struct RestockStep {
    sku: Sku,
    quantity: u64,
    cause: Cause,
}

#[async_trait]
impl Step for RestockStep {
    type Output = Product;
    async fn run(&self, session: &mut ClientSession, db: &Database) -> Result<Product, StepError> {
        steps::restock(session, db, &self.sku, self.quantity, &self.cause).await
    }
}

struct ReserveStep {
    command: Command,
    cause: Cause,
}

#[async_trait]
impl Step for ReserveStep {
    type Output = Option<Reservation>;
    async fn run(
        &self,
        session: &mut ClientSession,
        db: &Database,
    ) -> Result<Option<Reservation>, StepError> {
        let decision =
            steps::apply(session, db, &self.command, &self.cause, Repeats::Silent).await?;
        if decision.reservation_changed {
            // Made by this request (not an earlier answer): a release may give it back.
            steps::mark_manual(session, db, self.command.order_id()).await?;
        }
        Ok(decision.reservation)
    }
}

/// `DELETE /stock/reserve/{order_id}`: the check and the release in one transaction.
struct ReleaseStep {
    order_id: Uuid,
    cause: Cause,
}

#[async_trait]
impl Step for ReleaseStep {
    type Output = Release;
    async fn run(&self, session: &mut ClientSession, db: &Database) -> Result<Release, StepError> {
        match steps::is_manual(session, db, self.order_id).await? {
            None => return Ok(Release::NotFound),
            Some(false) => return Ok(Release::SagaOwned),
            Some(true) => {}
        }
        let command = Command::Cancel(self.order_id);
        let decision = steps::apply(session, db, &command, &self.cause, Repeats::Silent).await?;
        if decision.reservation_changed {
            // The released reservation's document was replaced whole: keep it releasable, so
            // that a repeated release answers the same.
            steps::mark_manual(session, db, self.order_id).await?;
        }
        decision.reservation.map(Release::Done).ok_or_else(|| {
            StepError::Store(StoreError::Backend(anyhow::anyhow!(
                "a release left no reservation"
            )))
        })
    }
}

#[async_trait]
impl InventoryStore for MongoStore {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    /// `hello` rather than `ping`: a server that answers but has left its replica set (or was
    /// restarted standalone) cannot run a step, so it is not ready either.
    async fn ping(&self) -> Result<(), String> {
        let hello = self
            .db
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(|e| e.to_string())?;
        replica_set_of(&hello).map(|_| ())
    }

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

    async fn product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let found = self
            .db
            .collection::<ProductDoc>(PRODUCTS)
            .find_one(doc! { "_id": sku.as_str() })
            .await?;
        Ok(found.map(ProductDoc::into_domain).transpose()?)
    }

    async fn reservation(&self, order_id: Uuid) -> Result<Option<Reservation>, StoreError> {
        let found = self
            .db
            .collection::<ReservationDoc>(RESERVATIONS)
            .find_one(doc! { "_id": order_id.to_string() })
            .await?;
        Ok(found.map(ReservationDoc::into_domain).transpose()?)
    }

    async fn reserve(
        &self,
        request: ReservationRequest,
        trace: Option<TraceParent>,
    ) -> Result<Reservation, StoreError> {
        let step = ReserveStep {
            command: Command::Reserve(request),
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step)
            .await?
            .ok_or_else(|| StoreError::Backend(anyhow::anyhow!("a reserve left no reservation")))
    }

    async fn release(
        &self,
        order_id: Uuid,
        trace: Option<TraceParent>,
    ) -> Result<Release, StoreError> {
        let step = ReleaseStep {
            order_id,
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await
    }

    async fn handle_event(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        self.saga.handle(event).await
    }

    async fn outbox_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let docs: Vec<Document> = self
            .db
            .collection::<Document>(OUTBOX)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await?;
        docs.into_iter()
            .map(|d| {
                let payload = d.get_str("payload").map_err(|e| corrupt("event", e))?;
                let mut e =
                    Envelope::decode(payload.as_bytes()).map_err(|e| corrupt("event", e))?;
                e.traceparent = d.get_str("traceparent").ok().and_then(|t| t.parse().ok());
                Ok(e)
            })
            .collect()
    }

    fn outbox_relay(
        &self,
        producer: FutureProducer,
        kafka: KafkaConfig,
        shutdown: CancellationToken,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        let relay = OutboxRelay::new(MongoOutboxStore::new(self.db.clone()), producer, kafka);
        Box::pin(relay.run(shutdown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_set_member_is_accepted() {
        // What a single-node set's primary answers (trimmed).
        let hello = doc! {
            "isWritablePrimary": true, "setName": "rs0", "hosts": ["mongodb:27017"],
            "primary": "mongodb:27017", "ok": 1.0,
        };
        assert_eq!(replica_set_of(&hello), Ok("rs0".to_owned()));
    }

    #[test]
    fn a_standalone_server_is_refused() {
        let hello = doc! { "isWritablePrimary": true, "maxWireVersion": 21, "ok": 1.0 };
        let refused = replica_set_of(&hello).unwrap_err();
        assert!(refused.contains("standalone"), "{refused}");
        assert!(refused.contains("--replSet"), "{refused}");
    }

    #[test]
    fn a_mongos_router_is_refused() {
        let hello = doc! { "isWritablePrimary": true, "msg": "isdbgrid", "ok": 1.0 };
        assert!(replica_set_of(&hello).unwrap_err().contains("mongos"));
    }
}
