//! A fresh MongoDB database per test, on the server of `MONGODB_URL` (default the local stack's
//! SecantusDB: TLS against the stack's CA, logged in as the stack's operator). A server that is
//! not there fails the test: the MongoDB cases never pass by skipping.

use mongodb::options::{ClientOptions, Credential};
use mongodb::{Client, Database};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::database::TEST_DATABASE_PREFIX;
use crate::secret::LocalStack;

/// The local stack's MongoDB-protocol server with no TLS option: `scripts/stack up` serves it
/// over TLS only, so [`mongodb_url`] adds the stack's CA.
pub const LOCAL_SERVER: &str = "mongodb://127.0.0.1:27017/?replicaSet=secantus";

/// The server the tests create their databases on: `MONGODB_URL`, or [`LOCAL_SERVER`] over TLS
/// checked against the local stack's CA.
pub fn mongodb_url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| {
        let ca = LocalStack::default().ca_file();
        format!("{LOCAL_SERVER}&tls=true&tlsCAFile={}", ca.display())
    })
}

/// A client of [`mongodb_url`]'s server, checked with a `ping`.
pub async fn mongodb_client() -> Client {
    operator_client(&mongodb_url()).await
}

/// The options of a client of `url` that may create and drop databases and users: the URL's
/// own credential, or else the local stack's operator (`mongodb-operator`, in `admin`).
pub async fn operator_options(url: &str) -> ClientOptions {
    crate::tls::install_crypto_provider();
    let mut options = ClientOptions::parse(url)
        .await
        .unwrap_or_else(|e| panic!("{url:?} is not a MongoDB URL: {e}"));
    if options.credential.is_none() {
        let password = LocalStack::default()
            .password("mongodb-operator")
            .unwrap_or_else(|e| {
                panic!("the local stack's MongoDB operator: {e}; run scripts/stack up")
            });
        options.credential = Some(
            Credential::builder()
                .username("operator".to_owned())
                .password(password.expose_secret().to_owned())
                .source("admin".to_owned())
                .build(),
        );
    }
    options
}

/// A client of `url` with [`operator_options`], checked with a `ping`.
pub async fn operator_client(url: &str) -> Client {
    let options = operator_options(url).await;
    let client = Client::with_options(options).expect("a MongoDB client");
    client
        .database("admin")
        .run_command(mongodb::bson::doc! { "ping": 1 })
        .await
        .unwrap_or_else(|e| {
            panic!("no MongoDB server at {url:?} for the operator; is the stack up? (scripts/stack up): {e}")
        });
    client
}

/// A database of its own (`t_<uuid>`, so leftovers are recognisable), empty until used.
pub async fn fresh_mongo_database() -> Database {
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    mongodb_client().await.database(&name)
}
