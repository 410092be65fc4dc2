//! `GET /notifications?customer_id=&limit=`: a customer's notifications, newest first.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use shared_events::http::ApiError;

use super::{parse_customer_id, store_error, AppState};
use crate::store;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// Taken as text so that each parameter gets its own error code.
#[derive(Deserialize)]
pub struct ListQuery {
    customer_id: Option<String>,
    limit: Option<String>,
}

fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::unprocessable(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {MAX_LIMIT}, not {raw:?}"),
        )),
    }
}

pub async fn list_notifications(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let customer_id = parse_customer_id(query.customer_id.as_deref())?;
    let limit = parse_limit(query.limit.as_deref())?;
    let mut conn = state.conn.clone();
    let notifications = store::list_for_customer(&mut conn, &state.keys, customer_id, limit)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(notifications))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_stay_in_range() {
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("500")).unwrap(), 500);
        for bad in ["0", "501", "-1", "ten", "", "1.5"] {
            assert_eq!(parse_limit(Some(bad)).unwrap_err().code, "invalid_limit");
        }
    }
}
