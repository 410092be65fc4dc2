//! Notifications: the hash `n:{id}`, the customer's sorted set of ids, and the set of
//! notifications still to deliver. A notification is created with all three in one atomic
//! step; delivery later stamps `sent_at` and leaves the pending set in another.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use redis::aio::ConnectionManager;
use serde::Serialize;
use uuid::Uuid;

use super::{cmd, hashes, Command, Keys, StoreResult};
use crate::domain::{Kind, Message};

/// A notification as stored and as `GET /notifications` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Time-ordered (UUIDv7), so ids sort by creation.
    pub id: Uuid,
    /// Whom it is for.
    pub customer_id: Uuid,
    /// What it is about; one per order and kind.
    #[schema(value_type = Kind)]
    pub kind: String,
    /// Its subject line.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// The order it is about; null for `welcome` and `manual`.
    #[schema(required = true)]
    pub order_id: Option<Uuid>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When the notifier delivered it; null while pending.
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A new, undelivered notification created now, with a time-ordered id.
    pub fn new(customer_id: Uuid, message: Message) -> Notification {
        Notification {
            id: Uuid::now_v7(),
            customer_id,
            kind: message.kind.as_str().to_owned(),
            subject: message.subject,
            body: message.body,
            order_id: message.order_id,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    /// A manual notification (`POST /notify`), created now.
    pub fn manual(customer_id: Uuid, subject: &str, body: &str) -> Notification {
        Notification::new(
            customer_id,
            Message {
                kind: Kind::Manual,
                subject: subject.to_owned(),
                body: body.to_owned(),
                order_id: None,
            },
        )
    }

    /// The notification a hash holds, if it holds a whole one.
    fn from_hash(mut h: HashMap<String, String>) -> Option<Notification> {
        let mut take = |k: &str| h.remove(k);
        let time = |s: String| DateTime::parse_from_rfc3339(&s).ok().map(|t| t.to_utc());
        Some(Notification {
            id: take("id")?.parse().ok()?,
            customer_id: take("customer_id")?.parse().ok()?,
            kind: take("kind")?,
            subject: take("subject")?,
            body: take("body")?,
            order_id: take("order_id")
                .filter(|s| !s.is_empty())
                .and_then(|s| s.parse().ok()),
            created_at: time(take("created_at")?)?,
            sent_at: take("sent_at").and_then(time),
        })
    }
}

/// A time as stored: RFC 3339 in UTC, to the millisecond.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The writes that create `n`: its hash, its place in the customer's list and in the
/// pending deliveries.
pub fn create_commands(keys: &Keys, n: &Notification) -> Vec<Command> {
    let id = n.id.to_string();
    let score = n.created_at.timestamp_millis().to_string();
    let order_id = n.order_id.map(|o| o.to_string()).unwrap_or_default();
    vec![
        cmd([
            "HSET",
            &keys.notification(n.id),
            "id",
            &id,
            "customer_id",
            &n.customer_id.to_string(),
            "kind",
            &n.kind,
            "subject",
            &n.subject,
            "body",
            &n.body,
            "order_id",
            &order_id,
            "created_at",
            &timestamp(n.created_at),
        ]),
        cmd([
            "ZADD",
            &keys.customer_notifications(n.customer_id),
            &score,
            &id,
        ]),
        cmd(["ZADD", &keys.deliveries(), &score, &id]),
    ]
}

/// Runs `commands` in one `MULTI`/`EXEC`: all of them or (on a connection failure) none.
#[tracing::instrument(level = "debug", skip_all, fields(commands = commands.len()))]
pub async fn apply_atomically(
    conn: &mut ConnectionManager,
    commands: &[Command],
) -> StoreResult<()> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for c in commands {
        pipe.cmd(&c[0]).arg(&c[1..]).ignore();
    }
    Ok(pipe.query_async(conn).await?)
}

/// The notification `id`, if it exists (and reads back whole).
#[tracing::instrument(level = "debug", skip_all, fields(notification_id = %id))]
pub async fn find(
    conn: &mut ConnectionManager,
    keys: &Keys,
    id: Uuid,
) -> StoreResult<Option<Notification>> {
    let h: HashMap<String, String> = redis::cmd("HGETALL")
        .arg(keys.notification(id))
        .query_async(conn)
        .await?;
    Ok(if h.is_empty() {
        None
    } else {
        Notification::from_hash(h)
    })
}

/// A customer's newest `limit` notifications, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id, limit))]
pub async fn list_for_customer(
    conn: &mut ConnectionManager,
    keys: &Keys,
    customer_id: Uuid,
    limit: usize,
) -> StoreResult<Vec<Notification>> {
    let ids: Vec<String> = redis::cmd("ZREVRANGE")
        .arg(keys.customer_notifications(customer_id))
        .arg(0)
        .arg(limit.saturating_sub(1))
        .query_async(conn)
        .await?;
    let found = hashes(conn, ids.iter().map(|id| keys.notification(id))).await?;
    Ok(found
        .into_iter()
        .filter_map(Notification::from_hash)
        .collect())
}

/// Up to `n` ids of notifications not yet delivered, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(n))]
pub async fn pending(
    conn: &mut ConnectionManager,
    keys: &Keys,
    n: usize,
) -> StoreResult<Vec<Uuid>> {
    let ids: Vec<String> = redis::cmd("ZRANGE")
        .arg(keys.deliveries())
        .arg(0)
        .arg(n.saturating_sub(1))
        .query_async(conn)
        .await?;
    Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
}

/// Takes a lease on delivering `id` for `lease_ms`; false if another dispatcher holds one.
#[tracing::instrument(level = "debug", skip_all, fields(notification_id = %id))]
pub async fn claim(
    conn: &mut ConnectionManager,
    keys: &Keys,
    id: Uuid,
    lease_ms: u64,
) -> StoreResult<bool> {
    let set: Option<String> = redis::cmd("SET")
        .arg(keys.claim(id))
        .arg("1")
        .arg("NX")
        .arg("PX")
        .arg(lease_ms)
        .query_async(conn)
        .await?;
    Ok(set.is_some())
}

const MARK_SENT: &str = r#"
-- KEYS[1]: the notification hash; KEYS[2]: pending deliveries; ARGV[1]: id; ARGV[2]: sent_at
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSETNX', KEYS[1], 'sent_at', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"#;

/// Records that `id` was delivered (the first delivery time is kept) and no longer pending.
#[tracing::instrument(level = "debug", skip_all, fields(notification_id = %id))]
pub async fn mark_sent(
    conn: &mut ConnectionManager,
    keys: &Keys,
    id: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let _: i64 = redis::Script::new(MARK_SENT)
        .key(keys.notification(id))
        .key(keys.deliveries())
        .arg(id.to_string())
        .arg(timestamp(at))
        .invoke_async(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_survives_its_hash_form() {
        let mut n = Notification::manual(Uuid::now_v7(), "Hi", "Hello there");
        n.created_at = DateTime::parse_from_rfc3339("2025-01-02T03:04:05.678Z")
            .unwrap()
            .to_utc();
        let keys = Keys::new("p:");
        let hset = &create_commands(&keys, &n)[0];
        let hash: HashMap<String, String> = hset[2..]
            .chunks(2)
            .map(|kv| (kv[0].clone(), kv[1].clone()))
            .collect();
        assert_eq!(Notification::from_hash(hash), Some(n));
    }
}
