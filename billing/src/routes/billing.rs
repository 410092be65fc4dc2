//! `POST /billing` (a deposit: money is the operator's) and `GET /billing/{customer_id}` (the
//! account's statement: an operator's, or the customer's own).

use actix_web::{web, HttpResponse};
use saga_kit::auth::{Caller, Operator};
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{ApiError, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Balance, DepositAmount};
use crate::store::accounts;
use crate::store::statement::{self, Statement};

/// A deposit as sent: each field is parsed into its domain type, with its own error code.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Deposit)]
pub struct DepositRequest {
    /// Whose account to deposit into (`invalid_customer_id` unless a UUID).
    #[schema(value_type = Uuid)]
    customer_id: serde_json::Value,
    /// How much (`invalid_amount` unless a positive amount with at most two places).
    #[schema(schema_with = super::schema::deposit_amount)]
    amount: serde_json::Value,
}

/// The account after a deposit.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DepositResult)]
pub struct DepositResponse {
    /// Whose account it is.
    customer_id: Uuid,
    /// The balance the deposit left.
    balance: Balance,
}

/// Deposit into a customer's account
///
/// Operators only.
#[utoipa::path(post, path = "/billing", tag = "billing",
    request_body = DepositRequest,
    security(("bearer" = ["operator"])),
    responses(
        (status = 200, description = "Deposited; the new balance", body = DepositResponse),
        (status = 404, description = "account_not_found: billing has no account for this customer", body = ErrorBody),
        (status = 422, description = "invalid_amount (not a positive amount with at most two places), invalid_customer_id, invalid_request, balance_limit_exceeded", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id = tracing::field::Empty))]
pub async fn deposit(
    _operator: Operator,
    body: Json<DepositRequest>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let customer_id = serde_json::from_value::<Uuid>(body.customer_id)
        .map_err(|e| ApiError::unprocessable("invalid_customer_id", format!("customer_id: {e}")))?;
    tracing::Span::current().record("customer_id", tracing::field::display(customer_id));
    let amount = DepositAmount::parse(body.amount)
        .map_err(|m| ApiError::unprocessable("invalid_amount", m))?;
    let balance = accounts::deposit(&pool, customer_id, amount).await?;
    tracing::info!(amount = %amount.money(), %balance, "deposit");
    Ok(HttpResponse::Ok().json(DepositResponse {
        customer_id,
        balance,
    }))
}

/// A customer's account: balance and one payment entry per order, newest first
///
/// An operator reads any account; a customer only its own (403 for another).
#[utoipa::path(get, path = "/billing/{customer_id}", tag = "billing",
    params(("customer_id" = Uuid, Path, description = "Whose account")),
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 200, description = "The account", body = Statement),
        (status = 404, description = "account_not_found (or an id that is not a UUID)", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn statement(
    customer_id: web::Path<Uuid>,
    caller: Caller,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    caller.require_customer(*customer_id)?;
    Ok(HttpResponse::Ok().json(statement::find(&pool, *customer_id).await?))
}
