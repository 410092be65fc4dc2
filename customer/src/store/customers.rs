//! The customer table: inserting a customer together with its `customer.created` event, and
//! reading one back.

use chrono::{DateTime, SubsecRound, Utc};
use saga_contracts::events::CustomerCreated;
use saga_contracts::{Envelope, Money, TraceParent};
use sqlx::PgPool;
use tracing::field::Empty;
use uuid::Uuid;

use super::StoreError;
use crate::domain::NewCustomer;

/// A registered customer, as stored and as the API returns it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Customer {
    /// Its id, chosen by the service (a UUIDv7, so ids sort by registration time).
    pub id: Uuid,
    /// The name as registered, trimmed.
    pub name: String,
    /// The address, lower-cased: unique among customers whatever its letter case.
    pub email: String,
    /// The balance billing opens the customer's account with.
    pub credit_limit: Money,
    /// When it was registered, to the microsecond (what PostgreSQL keeps).
    pub created_at: DateTime<Utc>,
}

/// Inserts the customer under `id` and enqueues its `customer.created` in one transaction: the
/// event is published if and only if the customer exists. A second customer with the id is
/// [`StoreError::Exists`], with the email [`StoreError::EmailTaken`].
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = Empty))]
pub async fn insert(
    pool: &PgPool,
    id: Uuid,
    new: NewCustomer,
    trace: Option<TraceParent>,
) -> Result<Customer, StoreError> {
    let customer = Customer {
        id,
        name: new.name.as_str().to_owned(),
        email: new.email.as_str().to_owned(),
        credit_limit: new.credit_limit,
        created_at: Utc::now().trunc_subsecs(6),
    };
    tracing::Span::current().record("customer_id", tracing::field::display(customer.id));
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO customers (id, name, email, credit_limit, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(customer.id)
    .bind(&customer.name)
    .bind(&customer.email)
    .bind(customer.credit_limit.amount())
    .bind(customer.created_at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            if db.constraint() == Some("customers_pkey") {
                StoreError::Exists(id)
            } else {
                StoreError::EmailTaken
            }
        }
        other => StoreError::Database(other),
    })?;
    // What billing needs to open the account (the credit limit) and what notification greets
    // (name, email), in the trace of the request; the customer's id is the event's key and
    // correlation id.
    let created = CustomerCreated {
        customer_id: customer.id,
        name: customer.name.clone(),
        email: customer.email.clone(),
        credit_limit: customer.credit_limit,
    };
    let event = Envelope::new(crate::SERVICE, created).in_trace(trace);
    saga_messaging::postgres::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(customer)
}

/// The customer with this id ([`StoreError::NotFound`] if there is none).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %id))]
pub async fn find(pool: &PgPool, id: Uuid) -> Result<Customer, StoreError> {
    let row: Option<(String, String, rust_decimal::Decimal, DateTime<Utc>)> =
        sqlx::query_as("SELECT name, email, credit_limit, created_at FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    let (name, email, credit_limit, created_at) = row.ok_or(StoreError::NotFound(id))?;
    Ok(Customer {
        id,
        name,
        email,
        credit_limit: Money::new(credit_limit).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at,
    })
}
