//! `GET /stock-alerts`: low-stock alerts newest first, and the latest numbers per SKU.

use actix_web::{web, HttpResponse};
use saga_kit::auth::Operator;
use saga_kit::http::responses::{Forbidden, Unauthorized, Unavailable};
use saga_kit::http::ApiError;
use serde::Serialize;

use super::state::AppState;
use crate::store::{self, StockAlert, StockNumbers};

/// What operations sees of stock.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StockAlerts {
    /// Low-stock alerts, newest first (the newest 1000 are kept).
    alerts: Vec<StockAlert>,
    /// Every SKU's latest numbers, by SKU.
    stock: Vec<StockNumbers>,
}

/// Low-stock alerts (newest first) and the latest stock numbers per SKU
///
/// Operators only.
#[utoipa::path(get, path = "/stock-alerts", tag = "stock alerts",
    security(("bearer" = ["operator"])),
    responses(
        (status = 200, description = "Alerts and numbers", body = StockAlerts),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all)]
pub async fn stock_alerts(
    _operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn.clone();
    let alerts = store::list_alerts(&mut conn, &state.keys).await?;
    let stock = store::list_stock(&mut conn, &state.keys).await?;
    Ok(HttpResponse::Ok().json(StockAlerts { alerts, stock }))
}
