//! `GET /stock-alerts`: low-stock alerts newest first, and the latest numbers per SKU.

use actix_web::{web, HttpResponse};
use serde_json::json;
use shared_events::http::ApiError;

use super::{store_error, AppState};
use crate::store;

pub async fn stock_alerts(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn.clone();
    let alerts = store::list_alerts(&mut conn, &state.keys)
        .await
        .map_err(store_error)?;
    let stock = store::list_stock(&mut conn, &state.keys)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(json!({ "alerts": alerts, "stock": stock })))
}
