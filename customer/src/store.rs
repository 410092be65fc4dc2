//! The customer table: inserting a customer together with its `customer.created` event.

use chrono::{DateTime, SubsecRound, Utc};
use shared_events::events::CustomerCreated;
use shared_events::{Envelope, Money, TraceParent};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::NewCustomer;

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, serde::Serialize)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub credit_limit: Money,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a customer with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Inserts the customer and enqueues `customer.created` in one transaction.
pub async fn insert(
    pool: &PgPool,
    new: NewCustomer,
    trace: Option<TraceParent>,
) -> Result<Customer, StoreError> {
    let customer = Customer {
        id: Uuid::now_v7(),
        name: new.name.as_str().to_owned(),
        email: new.email.as_str().to_owned(),
        credit_limit: new.credit_limit,
        created_at: Utc::now().trunc_subsecs(6),
    };
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO customers (id, name, email, credit_limit, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(customer.id)
    .bind(&customer.name)
    .bind(&customer.email)
    .bind(customer.credit_limit.amount())
    .bind(customer.created_at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::EmailTaken)
        }
        other => other?,
    };
    let event = Envelope::new(
        crate::SERVICE,
        CustomerCreated {
            customer_id: customer.id,
            name: customer.name.clone(),
            email: customer.email.clone(),
            credit_limit: customer.credit_limit,
        },
    )
    .in_trace(trace);
    shared_events::postgres::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(customer)
}

pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Customer>, sqlx::Error> {
    let row: Option<(Uuid, String, String, rust_decimal::Decimal, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, name, email, credit_limit, created_at FROM customers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|(id, name, email, credit_limit, created_at)| {
        Ok(Customer {
            id,
            name,
            email,
            credit_limit: Money::new(credit_limit).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            created_at,
        })
    })
    .transpose()
}
