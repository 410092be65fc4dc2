//! `POST /customers` and `GET /customers/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use shared_events::http::{traceparent, ApiError, Json};
use shared_events::Money;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{CustomerName, Email, NewCustomer};
use crate::store::{self, StoreError};

/// The request as sent; fields are parsed into domain types below, each with its own code.
#[derive(Deserialize)]
pub struct CreateCustomer {
    name: String,
    email: String,
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

pub async fn create_customer(
    req: HttpRequest,
    body: Json<CreateCustomer>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let new = NewCustomer::try_from(body.into_inner())?;
    match store::insert(&pool, new, traceparent(&req)).await {
        Ok(customer) => {
            tracing::info!(customer_id = %customer.id, "customer registered");
            Ok(HttpResponse::Created().json(customer))
        }
        Err(StoreError::EmailTaken) => Err(ApiError::conflict(
            "email_taken",
            "a customer with this email already exists",
        )),
        Err(StoreError::Database(e)) => Err(ApiError::internal(e)),
    }
}

pub async fn get_customer(
    id: web::Path<Uuid>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    match store::find(&pool, *id).await {
        Ok(Some(customer)) => Ok(HttpResponse::Ok().json(customer)),
        Ok(None) => Err(ApiError::not_found(
            "customer_not_found",
            format!("no customer {id}"),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}
