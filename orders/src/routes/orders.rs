//! `POST /orders`, `GET /orders/{id}` and `GET /orders` (`?customer_id=`, or a page of
//! everyone's with `?status=&limit=&before=`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use shared_events::http::{traceparent, ApiError, Json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{NewOrder, OrderRequestError};
use crate::store::{self, replicas, PlaceError, Placed};

/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// The request as sent; it is parsed into a [`NewOrder`] with a code for each rule.
#[derive(Deserialize)]
pub struct CreateOrder {
    customer_id: String,
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    sku: String,
    quantity: Value,
}

fn rejected(e: OrderRequestError) -> ApiError {
    ApiError::unprocessable(e.code(), e.to_string())
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::unprocessable(
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(Some(key.to_owned()))
}

pub async fn create_order(
    req: HttpRequest,
    body: Json<CreateOrder>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let body = body.into_inner();
    let items = body
        .items
        .into_iter()
        .map(|i| (i.sku, i.quantity))
        .collect();
    let order = NewOrder::parse(&body.customer_id, items).map_err(rejected)?;
    if !replicas::customer_exists(&pool, order.customer_id)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(rejected(OrderRequestError::UnknownCustomer(
            order.customer_id.to_string(),
        )));
    }
    let skus: Vec<String> = order.items.iter().map(|l| l.sku.clone()).collect();
    let catalogue = replicas::prices(&pool, &skus)
        .await
        .map_err(ApiError::internal)?;
    let priced = order.price(&catalogue).map_err(rejected)?;
    match store::orders::place(&pool, &order, priced, key.as_deref(), traceparent(&req)).await {
        Ok(Placed::Created(order)) => {
            tracing::info!(order_id = %order.id, customer_id = %order.customer_id, total = %order.total, "order placed");
            Ok(HttpResponse::Accepted().json(order))
        }
        Ok(Placed::Replayed(order)) => {
            tracing::info!(order_id = %order.id, "order request replayed by idempotency key");
            Ok(HttpResponse::Accepted().json(order))
        }
        Err(PlaceError::KeyReused) => Err(ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request",
        )),
        Err(PlaceError::Database(e)) => Err(ApiError::internal(e)),
    }
}

pub async fn get_order(
    id: web::Path<Uuid>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    match store::orders::find(&pool, *id).await {
        Ok(Some(order)) => Ok(HttpResponse::Ok().json(order)),
        Ok(None) => Err(ApiError::not_found(
            "order_not_found",
            format!("no order {id}"),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The most orders one `GET /orders` page holds, and how many it holds when not told.
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    /// One customer's orders (SPEC §4); without a `limit`, all of them.
    customer_id: Option<Uuid>,
    /// Only orders in this status.
    status: Option<String>,
    /// Page size, 1..=500; 50 when neither this nor `customer_id` is given.
    limit: Option<u32>,
    /// Only orders placed before this order: the last id of the previous page.
    before: Option<Uuid>,
}

/// Orders newest first: a customer's (`?customer_id=`), or everyone's a page at a time
/// (`?status=&limit=&before=`), which is how the console loads.
pub async fn list_orders(
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            ["PENDING", "CONFIRMED", "CANCELLED"]
                .into_iter()
                .find(|known| *known == s)
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "invalid_status",
                        format!("status must be PENDING, CONFIRMED or CANCELLED, not {s:?}"),
                    )
                })?,
        ),
    };
    let limit = match (query.limit, query.customer_id) {
        (Some(n), _) if n == 0 || n > MAX_PAGE => {
            return Err(ApiError::unprocessable(
                "invalid_limit",
                format!("limit must be 1 to {MAX_PAGE}"),
            ))
        }
        (Some(n), _) => Some(i64::from(n)),
        (None, Some(_)) => None,
        (None, None) => Some(i64::from(DEFAULT_PAGE)),
    };
    let before = match query.before {
        None => None,
        Some(id) => Some(
            store::orders::position(&pool, id)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| {
                    ApiError::unprocessable("unknown_order", format!("before: no order {id}"))
                })?,
        ),
    };
    let listing = store::orders::Listing {
        customer_id: query.customer_id,
        status,
        before,
        limit,
    };
    let orders = store::orders::list(&pool, &listing)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(orders))
}
