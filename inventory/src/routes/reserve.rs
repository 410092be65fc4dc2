//! `POST /stock/reserve`: the saga's all-or-nothing, idempotent-per-order reservation, by hand,
//! and `DELETE /stock/reserve/{order_id}`, which gives such a reservation back.
//!
//! The first answer for an order id is its answer for good: a repeat returns the same
//! reservation (200) or the same refusal, and reserves nothing again. A refused order id stays
//! refused; reserve under a new order id after restocking. A released order id stays released.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared_events::events::StockLine;
use shared_events::http::{traceparent, ApiError, Json};
use uuid::Uuid;

use super::input::{count, sku};
use crate::domain::{
    stock_lines, Line, RejectReason, RequestError, Reservation, ReservationRequest,
    ReservationStatus,
};
use crate::store::{InventoryStore, Release};

/// Most lines in one request (as for an order).
pub const MAX_ITEMS: usize = 100;

#[derive(Deserialize)]
pub struct ReserveBody {
    order_id: Value,
    items: Vec<ItemBody>,
}

#[derive(Deserialize)]
pub struct ItemBody {
    sku: Value,
    quantity: Value,
}

#[derive(Serialize)]
struct ReservationView {
    order_id: Uuid,
    status: &'static str,
    items: Vec<StockLine>,
}

impl TryFrom<ReserveBody> for ReservationRequest {
    type Error = ApiError;
    fn try_from(body: ReserveBody) -> Result<Self, ApiError> {
        let order_id = body
            .order_id
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                ApiError::unprocessable("invalid_order_id", "order_id must be a UUID")
            })?;
        if body.items.len() > MAX_ITEMS {
            return Err(ApiError::unprocessable(
                "too_many_items",
                format!("at most {MAX_ITEMS} items per reservation"),
            ));
        }
        let lines = body
            .items
            .iter()
            .map(|item| {
                let quantity = count(&item.quantity, "quantity", 1, "invalid_quantity")?;
                Ok(Line {
                    sku: sku(&item.sku)?,
                    quantity: u32::try_from(quantity).expect("bounded below u32::MAX"),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        ReservationRequest::new(order_id, lines).map_err(|e| match e {
            RequestError::NoItems => ApiError::unprocessable("invalid_items", e.to_string()),
            RequestError::InvalidQuantity { .. } => {
                ApiError::unprocessable("invalid_quantity", e.to_string())
            }
        })
    }
}

pub async fn reserve(
    req: HttpRequest,
    body: Json<ReserveBody>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let request = ReservationRequest::try_from(body.into_inner())?;
    let reservation = store
        .reserve(request, traceparent(&req))
        .await
        .map_err(ApiError::store)?;
    Ok(answer(&reservation))
}

/// Gives back what a reservation made by `POST /stock/reserve` holds (`stock.released`).
/// Idempotent: a released (or rejected) reservation answers 200 as it stands. 404 for an
/// order id with no reservation; 409 for the saga's own reservations, which end with their
/// order.
pub async fn release(
    req: HttpRequest,
    order_id: web::Path<Uuid>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let order_id = order_id.into_inner();
    let released = store
        .release(order_id, traceparent(&req))
        .await
        .map_err(ApiError::store)?;
    match released {
        Release::Done(r) => Ok(HttpResponse::Ok().json(ReservationView {
            order_id: r.order_id,
            status: r.status.as_str(),
            items: stock_lines(&r.lines),
        })),
        Release::NotFound => Err(ApiError::not_found(
            "reservation_not_found",
            format!("no reservation for order {order_id}"),
        )),
        Release::SagaOwned => Err(ApiError::conflict(
            "reservation_owned_by_saga",
            format!(
                "the reservation of order {order_id} was made by the order saga; \
                 it is released when the order is cancelled"
            ),
        )),
    }
}

/// The HTTP answer for an order's reservation as it stands.
fn answer(r: &Reservation) -> HttpResponse {
    match (r.status, &r.rejection) {
        (ReservationStatus::Reserved | ReservationStatus::Sold, _) => {
            HttpResponse::Ok().json(ReservationView {
                order_id: r.order_id,
                status: r.status.as_str(),
                items: stock_lines(&r.lines),
            })
        }
        (ReservationStatus::Rejected, Some(rejection)) => {
            let skus = rejection.short_skus.join(", ");
            let (status, code, message) = match rejection.reason {
                RejectReason::OutOfStock => (
                    StatusCode::CONFLICT,
                    "insufficient_stock",
                    format!("not enough stock of {skus} for order {}", r.order_id),
                ),
                RejectReason::UnknownSku => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_sku",
                    format!("no product with sku {skus}"),
                ),
            };
            HttpResponse::build(status).json(json!({
                "error": { "code": code, "message": message, "short_skus": rejection.short_skus }
            }))
        }
        _ => HttpResponse::Conflict().json(json!({
            "error": {
                "code": "order_cancelled",
                "message": format!("order {} was cancelled; nothing can be reserved for it", r.order_id),
            }
        })),
    }
}
