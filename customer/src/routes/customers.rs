//! `POST /customers` (register) and `GET /customers/{id}`, and who may (SPEC §7): an operator
//! registers anyone, under a new id; a customer registers itself, under its token's `sub`, with
//! no credit (money is the operator's); each customer reads only itself.

use actix_web::{web, HttpRequest, HttpResponse};
use saga_contracts::Money;
use saga_kit::auth::Caller;
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{traceparent, ApiError, ErrorBody, Json};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{CustomerName, Email, NewCustomer};
use crate::store::{self, Customer};

/// A customer to register, as sent: each field is parsed into its domain type, with its own
/// error code.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewCustomer)]
pub struct CreateCustomer {
    /// The customer's name (`invalid_name` unless 1 to 200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// The customer's address (`invalid_email` unless `local@domain.tld`).
    #[schema(format = Email)]
    email: String,
    /// The balance billing opens the account with (`invalid_credit_limit` if not money).
    #[schema(schema_with = super::schema::credit_limit)]
    credit_limit: serde_json::Value,
}

impl TryFrom<CreateCustomer> for NewCustomer {
    type Error = ApiError;
    fn try_from(req: CreateCustomer) -> Result<Self, ApiError> {
        let name = CustomerName::parse(&req.name)
            .map_err(|m| ApiError::unprocessable("invalid_name", m))?;
        let email =
            Email::parse(&req.email).map_err(|m| ApiError::unprocessable("invalid_email", m))?;
        let credit_limit = serde_json::from_value::<Money>(req.credit_limit).map_err(|e| {
            ApiError::unprocessable("invalid_credit_limit", format!("credit_limit: {e}"))
        })?;
        Ok(NewCustomer {
            name,
            email,
            credit_limit,
        })
    }
}

/// The id a registration by `caller` gets: a new one for an operator; for a customer its own
/// (its token's `sub`), and only with a credit limit of zero.
fn registration_id(caller: &Caller, new: &NewCustomer) -> Result<Uuid, ApiError> {
    if caller.is_operator() {
        return Ok(Uuid::now_v7());
    }
    let id = caller.own_customer_id()?;
    if !new.credit_limit.amount().is_zero() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "forbidden",
            "a customer registering itself gets credit_limit \"0.00\"; only an operator gives credit",
        ));
    }
    Ok(id)
}

/// Register a customer
///
/// Stores the customer and emits `customer.created` in one transaction. An operator registers
/// anyone, under a new id. A customer registers itself: the id is its token's `sub`, and
/// `credit_limit` must be `"0.00"` (403 otherwise); a second time is 409 `customer_exists`.
#[utoipa::path(post, path = "/customers", tag = "customers",
    request_body = CreateCustomer,
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 201, description = "Registered", body = Customer),
        (status = 409, description = "email_taken: a customer has this email; customer_exists: the calling customer is already registered", body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_email, invalid_credit_limit or invalid_request", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_customer(
    req: HttpRequest,
    caller: Caller,
    body: Json<CreateCustomer>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let new = NewCustomer::try_from(body.into_inner())?;
    let id = registration_id(&caller, &new)?;
    let customer = store::customers::insert(&pool, id, new, traceparent(&req)).await?;
    tracing::info!(customer_id = %customer.id, "customer registered");
    Ok(HttpResponse::Created().json(customer))
}

/// A customer by id
///
/// An operator reads any customer; a customer reads only itself (403 for another id).
#[utoipa::path(get, path = "/customers/{id}", tag = "customers",
    params(("id" = Uuid, Path, description = "The customer's id")),
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = 404, description = "customer_not_found (or an id that is not a UUID)", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn get_customer(
    id: web::Path<Uuid>,
    caller: Caller,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    caller.require_customer(*id)?;
    let customer = store::customers::find(&pool, *id).await?;
    Ok(HttpResponse::Ok().json(customer))
}
