//! The MongoDB adapter of the store port (what compose runs): collections `products`,
//! `reservations` (the saga's) and `manual_reservations` (see [`documents`]), and the runtime's
//! `inbox`, `outbox`, `outbox_keys` and `outbox_lease`.
//!
//! Each step is one multi-document transaction (snapshot reads, majority commit), so the server
//! must be a replica set ([`schema`] checks); a single-node one is enough. A saga step runs in
//! the transaction the runtime's `MongoInbox` opens around its inbox document; an HTTP step
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
use mongodb::options::{ClientOptions, ServerAddress};
use mongodb::{Client, ClientSession, Database};
use rdkafka::producer::FutureProducer;
use saga_contracts::{Envelope, TraceParent};
use saga_messaging::mongo::{MongoHandler, MongoInbox, MongoOutboxStore};
use saga_messaging::secret::{self, LocalStack};
use saga_messaging::{HandlerError, KafkaConfig, Outcome};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use self::documents::{ProductDoc, ReservationDoc, OUTBOX, PRODUCTS, RESERVATIONS};
use self::requests::{ByHandStep, CreateStep, RestockStep};
use self::schema::replica_set_of;
use self::transaction::StepError;
use super::{corrupt, outbox_envelope, relay, Cause, InventoryStore, Relay, SagaStep, StoreError};
use crate::domain::{Command, NewProduct, Product, Repeats, Reservation, ReservationRequest, Sku};

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "inventory";

/// The variable (or, with `_FILE`, the file it names) of the password inventory logs in with
/// when `INVENTORY_STORE_URL` names a user and holds no password
/// (`mongodb://inventory@mongodb:27017/inventory?…&authSource=inventory`).
pub const PASSWORD_VARIABLE: &str = "INVENTORY_STORE_PASSWORD";

/// The driver's options for `url`, with `password` (from [`PASSWORD_VARIABLE`]) when the URL
/// names a user and has none. With neither, a URL whose user has no password and whose hosts
/// are all loopback logs in with the local stack's `mongodb-<user>` password, as the other
/// services do on the local stack.
pub async fn client_options(
    url: &str,
    mut password: Option<SecretString>,
) -> anyhow::Result<ClientOptions> {
    saga_messaging::tls::install_crypto_provider();
    let mut options = ClientOptions::parse(url)
        .await
        .context("INVENTORY_STORE_URL is not a valid MongoDB URL")?;
    if password.is_none() {
        password = local_stack_password(&options)?;
    }
    with_password(&mut options, password)?;
    Ok(options)
}

/// The local stack's password of the URL's user, when the URL gives a user and no password and
/// names only loopback hosts (a remote server is never sent a local password).
fn local_stack_password(options: &ClientOptions) -> anyhow::Result<Option<SecretString>> {
    let Some(user) = options
        .credential
        .as_ref()
        .filter(|c| c.password.is_none())
        .and_then(|c| c.username.as_deref())
    else {
        return Ok(None);
    };
    let hosts: Option<Vec<&str>> = options
        .hosts
        .iter()
        .map(|a| match a {
            ServerAddress::Tcp { host, .. } => Some(host.as_str()),
            _ => None,
        })
        .collect();
    let Some(host) = hosts
        .filter(|hs| hs.iter().all(|h| secret::is_loopback(h)))
        .and_then(|hs| hs.first().copied())
    else {
        return Ok(None);
    };
    Ok(LocalStack::default().password_for_host(host, &format!("mongodb-{user}"))?)
}

/// Sets `password` on the credential of `options` (parsed from `INVENTORY_STORE_URL`): only
/// for a URL with a user and no password. A password both in the URL and in the variables, or
/// a password for a URL with no user, is an error that shows neither.
fn with_password(
    options: &mut ClientOptions,
    password: Option<SecretString>,
) -> anyhow::Result<()> {
    let Some(password) = password else {
        return Ok(());
    };
    let user = options.credential.as_mut().filter(|c| c.username.is_some());
    match user {
        None => anyhow::bail!(
            "{PASSWORD_VARIABLE} is set, but INVENTORY_STORE_URL names no user \
             (mongodb://<user>@host/…)"
        ),
        Some(c) if c.password.is_some() => anyhow::bail!(
            "INVENTORY_STORE_URL holds a password and {PASSWORD_VARIABLE} is set too; give it once"
        ),
        Some(c) => {
            c.password = Some(password.expose_secret().to_owned());
            Ok(())
        }
    }
}

/// The store on one MongoDB database.
pub struct MongoStore {
    /// The database of every collection.
    db: Database,
    /// Where each saga event's step runs, once per event id.
    inbox: MongoInbox,
}

impl MongoStore {
    /// Connects to the database the URL names (`mongodb://host/inventory?replicaSet=rs0`), or
    /// [`DEFAULT_DATABASE`], and prepares its collections and indexes. A URL with a user and no
    /// password logs in with `password` ([`client_options`]).
    pub async fn connect(url: &str, password: Option<SecretString>) -> anyhow::Result<MongoStore> {
        let client = Client::with_options(client_options(url, password).await?)
            .context("INVENTORY_STORE_URL: cannot make a MongoDB client")?;
        let db = client
            .default_database()
            .unwrap_or_else(|| client.database(DEFAULT_DATABASE));
        MongoStore::open(db).await
    }

    /// Connects to database `name` on the server of `url` (tests use a fresh one each).
    pub async fn connect_database(url: &str, name: &str) -> anyhow::Result<MongoStore> {
        saga_messaging::tls::install_crypto_provider();
        let client = Client::with_uri_str(url)
            .await
            .context("not a valid MongoDB URL")?;
        MongoStore::open(client.database(name)).await
    }

    /// Checks the server and prepares the database ([`schema::prepare`]).
    pub async fn open(db: Database) -> anyhow::Result<MongoStore> {
        schema::prepare(&db).await?;
        Ok(MongoStore {
            inbox: MongoInbox::new(db.clone(), crate::SERVICE),
            db,
        })
    }

    /// The database, for tests that look inside it.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// The saga's step, run by [`MongoInbox::apply`] inside the transaction holding the inbox
/// document (and run again with it after a write conflict).
#[async_trait]
impl MongoHandler for SagaStep {
    async fn handle(
        &self,
        session: &mut ClientSession,
        db: &Database,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let cause = Cause::from(event);
        steps::apply(session, db, &self.command, &cause, Repeats::Announce)
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
        let step = ByHandStep {
            command: Command::ReserveByHand(request),
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
        let step = ByHandStep {
            command: Command::ReleaseByHand(order_id),
            cause: Cause::Request(trace),
        };
        transaction::run(&self.db, &step).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id))]
    async fn apply(&self, event: &Envelope, command: Command) -> Result<Outcome, HandlerError> {
        self.inbox.apply(&SagaStep::new(command)?, event).await
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

#[cfg(test)]
mod password_tests {
    use super::*;

    async fn parsed(url: &str) -> ClientOptions {
        ClientOptions::parse(url).await.expect("a valid URL")
    }

    fn secret(s: &str) -> Option<SecretString> {
        Some(SecretString::from(s.to_owned()))
    }

    #[tokio::test]
    async fn a_url_with_a_user_and_no_password_takes_the_variables_password() {
        let mut options = parsed(
            "mongodb://inventory@mongodb:27017/inventory?replicaSet=rs0&authSource=inventory",
        )
        .await;
        with_password(&mut options, secret("s3cret-from-file")).expect("accepted");
        let credential = options.credential.as_ref().expect("a credential");
        assert_eq!(credential.username.as_deref(), Some("inventory"));
        assert_eq!(credential.password.as_deref(), Some("s3cret-from-file"));
        assert_eq!(credential.source.as_deref(), Some("inventory"));
        assert_eq!(options.default_database.as_deref(), Some("inventory"));
    }

    #[tokio::test]
    async fn without_the_variable_the_url_is_left_as_it_is() {
        let mut options = parsed("mongodb://inventory:inline@mongodb:27017/inventory").await;
        with_password(&mut options, None).expect("nothing to do");
        let credential = options.credential.as_ref().expect("a credential");
        assert_eq!(credential.password.as_deref(), Some("inline"));

        let mut options = parsed("mongodb://mongodb:27017/inventory?replicaSet=rs0").await;
        with_password(&mut options, None).expect("nothing to do");
        assert!(options.credential.is_none());
    }

    #[tokio::test]
    async fn a_password_twice_or_for_no_user_is_refused_without_showing_it() {
        let mut options = parsed("mongodb://inventory:inline@mongodb:27017/inventory").await;
        let err = with_password(&mut options, secret("from-file")).expect_err("twice");
        let message = format!("{err:#}");
        assert!(message.contains("give it once"), "{message}");
        assert!(
            !message.contains("inline") && !message.contains("from-file"),
            "{message}"
        );

        let mut options = parsed("mongodb://mongodb:27017/inventory").await;
        let err = with_password(&mut options, secret("from-file")).expect_err("no user");
        let message = format!("{err:#}");
        assert!(message.contains("names no user"), "{message}");
        assert!(!message.contains("from-file"), "{message}");
    }

    #[tokio::test]
    async fn only_a_loopback_url_with_a_user_and_no_password_takes_the_local_stacks() {
        let remote = parsed("mongodb://inventory@mongodb:27017/inventory?replicaSet=rs0").await;
        assert!(local_stack_password(&remote).expect("no error").is_none());
        let mixed = parsed("mongodb://inventory@127.0.0.1:27017,mongodb:27017/inventory").await;
        assert!(local_stack_password(&mixed).expect("no error").is_none());
        let inline = parsed("mongodb://inventory:inline@127.0.0.1:27017/inventory").await;
        assert!(local_stack_password(&inline).expect("no error").is_none());
        let no_user = parsed("mongodb://127.0.0.1:27017/inventory").await;
        assert!(local_stack_password(&no_user).expect("no error").is_none());

        // The stack's file, when there is one (`scripts/stack up` writes it), is what is used.
        let local = parsed("mongodb://inventory@127.0.0.1:27017/inventory").await;
        let expected = LocalStack::default().password("mongodb-inventory").ok();
        let found = local_stack_password(&local).expect("a readable file or none");
        assert_eq!(
            found.as_ref().map(|s| s.expose_secret().to_owned()),
            expected.as_ref().map(|s| s.expose_secret().to_owned())
        );
    }
}
