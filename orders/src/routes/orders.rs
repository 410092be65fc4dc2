//! `POST /orders`, `GET /orders/{id}` and `GET /orders` (a page of a customer's orders with
//! `?customer_id=`, or of everyone's; `?status=&limit=&before=` either way).
//!
//! Who may (SPEC §7): an operator does all of it for any customer; a customer (its token's
//! `sub` is its customer id) places orders for itself only, reads its own orders only, and
//! lists its own orders only (without `customer_id`, its own). Anything else is 403
//! `forbidden`; no token is 401 before any handler runs.

use actix_web::{web, HttpRequest, HttpResponse};
use saga_kit::auth::{AuthError, Caller};
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{traceparent, ApiError, ErrorBody, Json};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{NewOrder, OrderRequestError, Status};
use crate::store::list::Listing;
use crate::store::place::Placed;
use crate::store::read::Order;
use crate::store::{self, replicas};

/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// An order as requested (parsed into the domain's `NewOrder`, each rule failing with its
/// own code).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewOrder)]
pub struct CreateOrder {
    /// Who orders: a customer `customer.created` announced (else 422 unknown_customer).
    #[schema(format = Uuid)]
    customer_id: String,
    /// The lines, each SKU on one line only.
    #[schema(min_items = 1, max_items = 100, inline)]
    items: Vec<Item>,
}

/// One requested line.
#[derive(Deserialize, utoipa::ToSchema)]
struct Item {
    /// Any other text names no product: 422 unknown_sku.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    sku: String,
    /// How many, a whole number (`3.0` is 3).
    #[schema(value_type = i64, minimum = 1, maximum = 1000)]
    quantity: Value,
}

/// The `Idempotency-Key` header, if sent: 1 to 255 characters once trimmed.
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

/// Whether `caller` may place an order for `customer_id` as the request gives it: an operator
/// for anyone (a `customer_id` that names nobody is then the order's 422), a customer for
/// itself only (another id, or one that is no id at all, is 403).
fn may_order_for(caller: &Caller, customer_id: &str) -> Result<(), AuthError> {
    if caller.is_operator() {
        return Ok(());
    }
    match Uuid::parse_str(customer_id.trim()) {
        Ok(id) => caller.require_customer(id),
        Err(_) => Err(AuthError::forbidden(
            "a customer may place orders for itself only (customer_id = its own id)",
        )),
    }
}

/// Place an order.
///
/// Stores the order as PENDING, priced from the service's catalogue replica (client prices are
/// never used), and emits order.created in the same transaction. Validation errors (422):
/// unknown_customer (customer_id unknown to the replica, or not a UUID), empty_order (no
/// lines), too_many_items (more than 100 lines), invalid_quantity (not a whole number in
/// 1..=1000), duplicate_sku (a SKU on two lines; put its whole quantity on one line),
/// unknown_sku (a SKU not in the catalogue; the message lists them all), order_too_large (total
/// above 1000000000), invalid_idempotency_key (empty or over 255 characters), invalid_request
/// (wrong JSON types or missing fields). With an Idempotency-Key header, a repeat of the same
/// request returns the first order (202, same body, no new order or event); the same key with
/// a different request is 409 idempotency_key_reused.
///
/// An operator places orders for any customer; a customer only for itself (customer_id = its
/// token's sub), else 403 forbidden, which comes before the order is validated.
#[utoipa::path(post, path = "/orders", tag = "orders",
    security(("bearer" = ["operator", "customer"])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255)),
    request_body = CreateOrder,
    responses(
        (status = 202, description = "Accepted as PENDING (or the first order of this Idempotency-Key)", body = Order),
        (status = 409, description = "idempotency_key_reused", body = ErrorBody),
        (status = 422, description = "The request is not a valid order", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id = tracing::field::Empty, order_id = tracing::field::Empty))]
pub async fn create_order(
    caller: Caller,
    req: HttpRequest,
    body: Json<CreateOrder>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    may_order_for(&caller, &body.customer_id)?;
    let key = idempotency_key(&req)?;
    let items = body
        .items
        .into_iter()
        .map(|i| (i.sku, i.quantity))
        .collect();
    let order = NewOrder::parse(&body.customer_id, items)?;
    tracing::Span::current().record("customer_id", tracing::field::display(order.customer_id));
    if !replicas::customer_exists(&pool, order.customer_id).await? {
        let id = order.customer_id.to_string();
        return Err(OrderRequestError::UnknownCustomer(id).into());
    }
    let skus: Vec<String> = order.items.iter().map(|l| l.sku.clone()).collect();
    let catalogue = replicas::prices(&pool, &skus).await?;
    let priced = order.price(&catalogue)?;
    let trace = traceparent(&req);
    let order = match store::place::place(&pool, &order, priced, key.as_deref(), trace).await? {
        Placed::Created(order) => {
            tracing::info!(order_id = %order.id, total = %order.total, "order placed");
            order
        }
        Placed::Replayed(order) => {
            tracing::info!(order_id = %order.id, "order request replayed by idempotency key");
            order
        }
    };
    tracing::Span::current().record("order_id", tracing::field::display(order.id));
    Ok(HttpResponse::Accepted().json(order))
}

/// An order by id, with its saga status, reason and history.
///
/// An operator reads any order; a customer its own only: another customer's order is 403
/// forbidden, an id that names no order 404 for anyone.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    security(("bearer" = ["operator", "customer"])),
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 404, description = "order_not_found (or an id that is not a UUID)", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn get_order(
    caller: Caller,
    id: web::Path<Uuid>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let order = store::read::find(&pool, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("order_not_found", format!("no order {id}")))?;
    caller.require_customer(order.customer_id)?;
    Ok(HttpResponse::Ok().json(order))
}

/// The most orders one `GET /orders` page holds.
const MAX_PAGE: u32 = 500;
/// How many orders a `GET /orders` page holds when not told.
const DEFAULT_PAGE: u32 = 50;

/// `GET /orders`'s query; every parameter is optional, and one it does not name is 422
/// `invalid_query` (a misspelt `customer_id` must not list everyone's orders).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this customer's orders (SPEC §4), a page at a time like any listing. A customer
    /// may name itself only; without it, a customer lists its own orders and an operator
    /// everyone's.
    #[param(nullable = false)]
    customer_id: Option<Uuid>,
    /// Only orders in this status.
    #[param(value_type = Option<Status>, inline, nullable = false)]
    status: Option<String>,
    /// Page size, 1..=500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, default = 50, nullable = false)]
    limit: Option<u32>,
    /// An order's id: only orders placed before it (the last id of the previous page).
    #[param(nullable = false)]
    before: Option<Uuid>,
}

/// Orders newest first, a page at a time: a customer's, or everyone's.
///
/// A page of at most limit orders (50 if not given), filtered by customer_id and status when
/// given: with customer_id, that customer's orders (an empty array for a customer without
/// orders). The next page is before=<the last id of this one>; a page shorter than limit is
/// the last. Errors (422): invalid_status, invalid_limit (not 1..=500), unknown_order (before
/// names no order), invalid_query (a parameter of the wrong type, or one not named here).
///
/// An operator lists anyone's orders, and everyone's without customer_id. A customer lists its
/// own: customer_id may name itself only (another customer is 403 forbidden), and without it
/// the listing is of its own orders.
#[utoipa::path(get, path = "/orders", tag = "orders", params(ListQuery),
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 200, description = "The orders, newest first", body = Vec<Order>),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id = tracing::field::Empty))]
pub async fn list_orders(
    caller: Caller,
    query: web::Query<ListQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let customer_id = listed_customer(&caller, query.customer_id)?;
    if let Some(id) = customer_id {
        tracing::Span::current().record("customer_id", tracing::field::display(id));
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| ApiError::unprocessable("invalid_status", e.to_string()))?,
        ),
    };
    let limit = match query.limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => i64::from(n),
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_limit",
                format!("limit must be 1 to {MAX_PAGE}"),
            ))
        }
    };
    let before = match query.before {
        None => None,
        Some(id) => Some(store::list::position(&pool, id).await?.ok_or_else(|| {
            ApiError::unprocessable("unknown_order", format!("before: no order {id}"))
        })?),
    };
    let listing = Listing {
        customer_id,
        status,
        before,
        limit,
    };
    let orders = store::list::list(&pool, &listing).await?;
    Ok(HttpResponse::Ok().json(orders))
}

/// Whose orders `caller` lists when it asks for `requested`'s: that customer's if it may read
/// them (an operator, or the customer itself; 403 otherwise); without one, everyone's for an
/// operator and its own for a customer (403 for a token with neither role).
fn listed_customer(caller: &Caller, requested: Option<Uuid>) -> Result<Option<Uuid>, AuthError> {
    match requested {
        Some(id) => caller.require_customer(id).map(|()| Some(id)),
        None if caller.is_operator() => Ok(None),
        None => caller.own_customer_id().map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(sub: Uuid, role: &str) -> Caller {
        Caller::new(sub.to_string(), &[role.to_owned()])
    }

    #[test]
    fn a_customer_orders_for_itself_only() {
        let alice = Uuid::now_v7();
        let as_alice = caller(alice, "customer");
        assert!(may_order_for(&as_alice, &alice.to_string()).is_ok());
        assert!(may_order_for(&as_alice, &format!(" {alice} ")).is_ok());
        for other in [
            Uuid::now_v7().to_string(),
            "not-an-id".to_owned(),
            String::new(),
        ] {
            assert!(
                matches!(
                    may_order_for(&as_alice, &other),
                    Err(AuthError::Forbidden(_))
                ),
                "{other:?}"
            );
        }
        let operator = caller(Uuid::now_v7(), "operator");
        assert!(may_order_for(&operator, &alice.to_string()).is_ok());
        assert!(
            may_order_for(&operator, "not-an-id").is_ok(),
            "the order's 422 tells"
        );
        let nobody = caller(alice, "default-roles-saga");
        assert!(may_order_for(&nobody, &alice.to_string()).is_err());
    }

    #[test]
    fn a_listing_is_of_the_callers_own_orders_unless_an_operator_asks() {
        let alice = Uuid::now_v7();
        let as_alice = caller(alice, "customer");
        assert_eq!(listed_customer(&as_alice, None).unwrap(), Some(alice));
        assert_eq!(
            listed_customer(&as_alice, Some(alice)).unwrap(),
            Some(alice)
        );
        assert!(listed_customer(&as_alice, Some(Uuid::now_v7())).is_err());
        let operator = caller(Uuid::now_v7(), "operator");
        assert_eq!(listed_customer(&operator, None).unwrap(), None);
        assert_eq!(
            listed_customer(&operator, Some(alice)).unwrap(),
            Some(alice)
        );
        let nobody = caller(alice, "default-roles-saga");
        assert!(listed_customer(&nobody, None).is_err());
        assert!(listed_customer(&nobody, Some(alice)).is_err());
    }
}
