//! The customer replica, from `customer.created`: what a message needs to address someone.

use redis::aio::ConnectionManager;
use saga_contracts::events::CustomerCreated;
use uuid::Uuid;

use super::{Command, Keys, StoreResult};
use crate::domain::Recipient;

/// Writes (or rewrites, identically) the replica of a customer.
pub fn customer_commands(keys: &Keys, c: &CustomerCreated) -> Vec<Command> {
    vec![vec![
        "HSET".into(),
        keys.customer(c.customer_id),
        "id".into(),
        c.customer_id.to_string(),
        "name".into(),
        c.name.clone(),
        "email".into(),
        c.email.clone(),
    ]]
}

/// The customer's name and email, if `customer.created` has been seen.
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn find_recipient(
    conn: &mut ConnectionManager,
    keys: &Keys,
    customer_id: Uuid,
) -> StoreResult<Option<Recipient>> {
    let (name, email): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(keys.customer(customer_id))
        .arg("name")
        .arg("email")
        .query_async(conn)
        .await?;
    Ok(match (name, email) {
        (Some(name), Some(email)) => Some(Recipient { name, email }),
        _ => None,
    })
}
