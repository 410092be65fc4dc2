//! `POST /stock/reserve`: the saga's all-or-nothing, idempotent-per-order reservation, by hand,
//! and `DELETE /stock/reserve/{order_id}`, which gives such a reservation back.
//!
//! A manual reservation is kept apart from the saga's (SPEC §7): the saga never adopts, sells
//! or releases it, and an order id the saga has seen (an order, or a cancel's tombstone) is
//! the saga's alone: reserving under it is refused, 409 `order_belongs_to_saga`.
//!
//! The first answer for an order id is its answer for good: a repeat returns the same
//! reservation (200) or the same refusal, and reserves nothing again. A refused order id stays
//! refused; reserve under a new order id after restocking. A released order id stays released.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use saga_contracts::events::StockLine;
use saga_kit::auth::Operator;
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{traceparent, ApiError, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::{count, sku};
use super::schema::StockLineBody;
use crate::domain::{
    stock_lines, Line, RejectReason, RequestError, Reservation, ReservationRequest,
    ReservationStatus,
};
use crate::store::InventoryStore;

/// Most lines in one request (as for an order).
pub const MAX_ITEMS: usize = 100;

/// A reservation asked for by hand. As sent: each field is parsed by hand, for its own code.
#[derive(Deserialize, ToSchema)]
#[schema(as = ReserveRequest)]
pub struct ReserveBody {
    /// An order id of the caller's own: one manual reservation per order id, ever. An order id
    /// the order saga has seen is refused (409 order_belongs_to_saga).
    #[schema(value_type = Uuid)]
    order_id: Value,
    /// What to reserve; a SKU named twice is reserved once, summed.
    #[schema(min_items = 1, max_items = 100)]
    items: Vec<StockLineBody>,
}

/// What a reservation that holds stock answers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Held {
    Reserved,
}

/// A reservation as `POST /stock/reserve` answers it.
#[derive(Serialize, ToSchema)]
#[schema(as = Reservation)]
struct ReservationView {
    /// The order it is for.
    order_id: Uuid,
    /// `RESERVED` (a manual reservation is never sold: it holds stock until released).
    #[schema(inline)]
    status: Held,
    /// One line per SKU (repeated SKUs are summed), sorted by SKU.
    #[schema(value_type = Vec<StockLineBody>)]
    items: Vec<StockLine>,
}

/// What a release answers: `RELEASED`, or `REJECTED`, which holds nothing to give back.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum AfterRelease {
    Released,
    Rejected,
}

/// A reservation as `DELETE /stock/reserve/{order_id}` leaves it.
#[derive(Serialize, ToSchema)]
#[schema(as = Released)]
struct ReleasedView {
    /// The order it was for.
    order_id: Uuid,
    /// `RELEASED`; `REJECTED` when there was nothing to give back.
    #[schema(inline)]
    status: AfterRelease,
    /// The lines the reservation was for, one per SKU, sorted by SKU.
    #[schema(value_type = Vec<StockLineBody>)]
    items: Vec<StockLine>,
}

/// A refused reservation: the error body, with the SKUs that could not be covered.
#[derive(Serialize, ToSchema)]
#[schema(as = StockError)]
struct RefusalBody {
    /// What went wrong.
    #[schema(inline)]
    error: Refusal,
}

/// The inside of a refusal's body: `Error`'s fields, and the SKUs.
#[derive(Serialize, ToSchema)]
struct Refusal {
    /// `insufficient_stock`, `unknown_sku`, `order_belongs_to_saga` or `reservation_released`
    /// (or any code of `Error`).
    code: &'static str,
    /// A human sentence.
    message: String,
    /// The SKUs short of stock, or not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    short_skus: Option<Vec<String>>,
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

/// Reserve every line for an order, or nothing
///
/// The same all-or-nothing reservation the saga makes on order.created, emitting the same
/// events (stock.reserved or stock.rejected caused by no event, which the orders service
/// ignores), but kept apart from the saga's: the saga never adopts, sells or releases it.
/// Idempotent per order_id: a repeat returns the first answer and reserves nothing again; a
/// refused order_id stays refused. An order_id the order saga has seen (an order, or a
/// cancellation) is the saga's alone: 409 order_belongs_to_saga, and nothing changes.
#[utoipa::path(post, path = "/stock/reserve", tag = "reservations",
    security(("bearer" = ["operator"])),
    request_body = ReserveBody,
    responses(
        (status = 200, description = "Reserved (status RESERVED)",
            body = ReservationView,
            links(("Release" = (operation_id = "release", parameters(("order_id" = "$response.body#/order_id")))))),
        (status = 409, description = "insufficient_stock (error.short_skus lists the short SKUs); order_belongs_to_saga (the order saga has seen this order_id, which is then its alone: nothing reserved, nothing emitted); or reservation_released (this order_id's manual reservation was released)", body = RefusalBody),
        (status = 422, description = "unknown_sku (error.short_skus lists them), invalid_order_id, invalid_sku, invalid_quantity, invalid_items, too_many_items, invalid_request", body = RefusalBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(order_id = tracing::field::Empty))]
pub async fn reserve(
    _operator: Operator,
    req: HttpRequest,
    body: Json<ReserveBody>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let request = ReservationRequest::try_from(body.into_inner())?;
    tracing::Span::current().record("order_id", tracing::field::display(request.order_id));
    let reservation = store.reserve(request, traceparent(&req)).await?;
    Ok(answer(&reservation))
}

/// Release a reservation made with POST /stock/reserve
///
/// Gives back the stock the manual reservation holds and emits stock.released, as an order's
/// cancellation does. Idempotent: a released reservation (or a rejected one, which holds
/// nothing) answers 200 as it stands. The saga's reservation of the same order_id, if any, is
/// never touched; an order_id with the saga's reservation only is refused: it ends with its
/// order.
#[utoipa::path(delete, path = "/stock/reserve/{order_id}", tag = "reservations", operation_id = "release",
    security(("bearer" = ["operator"])),
    params(("order_id" = Uuid, Path, description = "The order whose reservation is released")),
    responses(
        (status = 200, description = "Released (status RELEASED; REJECTED when there was nothing to give back)", body = ReleasedView),
        (status = 404, description = "reservation_not_found, or not_found for an order_id that is not a UUID", body = ErrorBody),
        (status = 409, description = "reservation_owned_by_saga", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(order_id = %order_id.as_ref()))]
pub async fn release(
    _operator: Operator,
    req: HttpRequest,
    order_id: web::Path<Uuid>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let r = store.release(*order_id, traceparent(&req)).await?;
    let status = match r.status {
        ReservationStatus::Released => AfterRelease::Released,
        ReservationStatus::Rejected => AfterRelease::Rejected,
        other => {
            return Err(ApiError::internal(anyhow::anyhow!(
                "a release left the reservation of order {} {}",
                r.order_id,
                other.as_str()
            )))
        }
    };
    Ok(HttpResponse::Ok().json(ReleasedView {
        order_id: r.order_id,
        status,
        items: stock_lines(&r.lines),
    }))
}

/// The HTTP answer for an order's manual reservation as it stands.
fn answer(r: &Reservation) -> HttpResponse {
    if r.status == ReservationStatus::Reserved {
        return HttpResponse::Ok().json(ReservationView {
            order_id: r.order_id,
            status: Held::Reserved,
            items: stock_lines(&r.lines),
        });
    }
    let (status, error) = match (r.status, &r.rejection) {
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
            let short_skus = Some(rejection.short_skus.clone());
            (
                status,
                Refusal {
                    code,
                    message,
                    short_skus,
                },
            )
        }
        // Released by hand (a manual reservation is never sold nor a tombstone).
        _ => (
            StatusCode::CONFLICT,
            Refusal {
                code: "reservation_released",
                message: format!(
                    "the reservation of order {} was released; reserve under a new order id",
                    r.order_id
                ),
                short_skus: None,
            },
        ),
    };
    HttpResponse::build(status).json(RefusalBody { error })
}
