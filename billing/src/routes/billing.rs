//! `POST /billing` (a deposit) and `GET /billing/{customer_id}` (the account's statement).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use shared_events::http::{ApiError, Json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Balance, DepositAmount};
use crate::store::accounts::{self, DepositError};
use crate::store::statement;

/// The request as sent; fields are parsed into domain types below, each with its own code.
#[derive(Deserialize)]
pub struct DepositRequest {
    customer_id: serde_json::Value,
    amount: serde_json::Value,
}

#[derive(Serialize)]
struct DepositResponse {
    customer_id: Uuid,
    balance: Balance,
}

fn account_not_found(customer_id: Uuid) -> ApiError {
    ApiError::not_found(
        "account_not_found",
        format!("billing has no account for customer {customer_id}"),
    )
}

pub async fn deposit(
    body: Json<DepositRequest>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let customer_id = serde_json::from_value::<Uuid>(body.customer_id)
        .map_err(|e| ApiError::unprocessable("invalid_customer_id", format!("customer_id: {e}")))?;
    let amount = DepositAmount::parse(body.amount)
        .map_err(|m| ApiError::unprocessable("invalid_amount", m))?;
    match accounts::deposit(&pool, customer_id, amount).await {
        Ok(balance) => {
            tracing::info!(%customer_id, amount = %amount.money(), %balance, "deposit");
            Ok(HttpResponse::Ok().json(DepositResponse {
                customer_id,
                balance,
            }))
        }
        Err(DepositError::NoAccount) => Err(account_not_found(customer_id)),
        Err(e @ DepositError::LimitExceeded) => Err(ApiError::unprocessable(
            "balance_limit_exceeded",
            e.to_string(),
        )),
        Err(DepositError::Database(e)) => Err(ApiError::internal(e)),
    }
}

pub async fn statement(
    customer_id: web::Path<Uuid>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    match statement::find(&pool, *customer_id).await {
        Ok(Some(statement)) => Ok(HttpResponse::Ok().json(statement)),
        Ok(None) => Err(account_not_found(*customer_id)),
        Err(e) => Err(ApiError::internal(e)),
    }
}
