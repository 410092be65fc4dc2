//! What inventory needs of its MongoDB server and database before it runs a step: a replica
//! set (its steps are multi-document transactions), the `products`, `reservations` and
//! `manual_reservations` collections (created up front, so that no transaction has to), the
//! unique index on a reservation's `order_id`, and the runtime's own collections and indexes.
//! Manual reservations that an earlier version kept among the saga's (`manual: true`) move to
//! their own collection.
//!
//! Idempotent, so several instances starting at once may all run it.

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};
use saga_messaging::mongo::ensure_indexes;

use super::documents::{MANUAL_RESERVATIONS, PRODUCTS, RESERVATIONS};
use super::transaction::is_duplicate_key;

/// The server's `NamespaceExists` error code.
const NAMESPACE_EXISTS: i32 = 48;

/// Checks that the server is a replica-set member, then creates the collections and indexes
/// that are missing.
pub async fn prepare(db: &Database) -> anyhow::Result<()> {
    let hello = db
        .run_command(doc! { "hello": 1 })
        .await
        .context("asking the MongoDB server `hello`")?;
    replica_set_of(&hello).map_err(anyhow::Error::msg)?;
    create_missing_collections(db).await?;
    let unique = IndexOptions::builder()
        .name("reservations_order_id".to_owned())
        .unique(true)
        .build();
    let by_order = IndexModel::builder()
        .keys(doc! { "order_id": 1 })
        .options(unique)
        .build();
    db.collection::<Document>(RESERVATIONS)
        .create_index(by_order)
        .await
        .context("creating the reservations index")?;
    move_manual_reservations(db).await?;
    Ok(ensure_indexes(db).await?)
}

/// Moves each manual reservation an earlier version kept in `reservations` (marked
/// `manual: true`) to `manual_reservations`: copied first (a copy already there is kept), then
/// removed, so an instance stopped in between finishes the move at its next start. The saga no
/// longer sees such a reservation, even one it had adopted; it stays the operator's to release.
async fn move_manual_reservations(db: &Database) -> anyhow::Result<()> {
    let saga = db.collection::<Document>(RESERVATIONS);
    let manual = db.collection::<Document>(MANUAL_RESERVATIONS);
    let mut legacy = saga
        .find(doc! { "manual": true })
        .await
        .context("finding manual reservations among the saga's")?;
    while let Some(mut reservation) = legacy.try_next().await? {
        let id = reservation
            .get("_id")
            .cloned()
            .context("a reservation with no _id")?;
        reservation.remove("manual");
        match manual.insert_one(&reservation).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e).context("copying a manual reservation"),
        }
        saga.delete_one(doc! { "_id": id, "manual": true })
            .await
            .context("removing a moved manual reservation")?;
    }
    Ok(())
}

/// Creates the collections where the database has not got them yet. One that
/// another instance creates in between (`NamespaceExists`) is there, which is all that counts.
async fn create_missing_collections(db: &Database) -> anyhow::Result<()> {
    let existing = db
        .list_collection_names()
        .await
        .context("listing the collections")?;
    for name in [PRODUCTS, RESERVATIONS, MANUAL_RESERVATIONS] {
        if existing.iter().any(|n| n == name) {
            continue;
        }
        if let Err(e) = db.create_collection(name).await {
            if !namespace_exists(&e) {
                return Err(e).with_context(|| format!("creating the `{name}` collection"));
            }
        }
    }
    Ok(())
}

fn namespace_exists(e: &mongodb::error::Error) -> bool {
    matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS)
}

/// The replica set `hello` names, or why the server cannot run inventory's transactions.
///
/// A standalone `mongod` accepts connections and single writes, but refuses every
/// multi-document transaction (code 20, `IllegalOperation`). Without this check the service
/// would start, answer `/ready`, and then fail every saga step and every write request,
/// forever. A replica-set member's `hello` carries `setName`, also when the client connects
/// to it directly (`directConnection=true`).
pub fn replica_set_of(hello: &Document) -> Result<String, String> {
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
