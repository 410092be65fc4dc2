//! A fresh MongoDB database per test, on the server of `MONGODB_URL` (default the local stack's
//! SecantusDB, `mongodb://127.0.0.1:27017/?replicaSet=secantus`). A server that is not there
//! fails the test: the MongoDB cases never pass by skipping.

use mongodb::{Client, Database};
use uuid::Uuid;

use super::database::TEST_DATABASE_PREFIX;

/// The server the tests create their databases on (`MONGODB_URL`, default the local one).
pub fn mongodb_url() -> String {
    std::env::var("MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/?replicaSet=secantus".into())
}

/// A client of [`mongodb_url`]'s server, checked with a `ping`.
pub async fn mongodb_client() -> Client {
    let url = mongodb_url();
    let client = Client::with_uri_str(&url)
        .await
        .unwrap_or_else(|e| panic!("MONGODB_URL {url:?} is not a MongoDB URL: {e}"));
    client
        .database("admin")
        .run_command(mongodb::bson::doc! { "ping": 1 })
        .await
        .unwrap_or_else(|e| {
            panic!("no MongoDB server at {url:?}; is the stack up? (scripts/stack up): {e}")
        });
    client
}

/// A database of its own (`t_<uuid>`, so leftovers are recognisable), empty until used.
pub async fn fresh_mongo_database() -> Database {
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    mongodb_client().await.database(&name)
}
