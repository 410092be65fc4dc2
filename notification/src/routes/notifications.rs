//! `GET /notifications?customer_id=&limit=`: a customer's notifications, newest first; an
//! operator's for anyone, a customer's for itself only (without `customer_id`, its own).

use actix_web::{web, HttpResponse};
use saga_kit::auth::Caller;
use saga_kit::http::responses::{Forbidden, Unauthorized, Unavailable};
use saga_kit::http::{ApiError, ErrorBody};
use serde::Deserialize;

use super::input::parse_customer_id;
use super::state::AppState;
use crate::store::{self, Notification};

/// How many notifications a list has when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;
/// The most notifications one list may ask for.
pub const MAX_LIMIT: usize = 500;

/// Taken as text so that each parameter gets its own error code. A parameter not named here
/// is 422 `invalid_query`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Whose notifications: required of an operator; a customer may leave it out (its own) or
    /// name itself.
    #[param(required = false, value_type = String, format = Uuid)]
    customer_id: Option<String>,
    /// How many, newest first.
    #[param(required = false, value_type = i64, minimum = 1, maximum = 500, default = 50)]
    limit: Option<String>,
}

/// `limit` as given, or the default: 422 `invalid_limit` outside 1..=[`MAX_LIMIT`].
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

/// A customer's notifications, newest first
///
/// An operator names the customer; a customer reads only its own (403 for another), and
/// without `customer_id` gets its own.
#[utoipa::path(get, path = "/notifications", tag = "notifications",
    params(ListQuery),
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 200, description = "Newest first; an unknown customer has none", body = Vec<Notification>),
        (status = 422, description = "invalid_customer_id (an operator must name a customer), invalid_limit, or invalid_query (a parameter not named here)", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id))]
pub async fn list_notifications(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let customer_id = match (query.customer_id.as_deref(), caller.customer_id()) {
        (None, Some(own)) => own,
        (named, _) => parse_customer_id(named)?,
    };
    caller.require_customer(customer_id)?;
    tracing::Span::current().record("customer_id", tracing::field::display(customer_id));
    let limit = parse_limit(query.limit.as_deref())?;
    let mut conn = state.conn.clone();
    let notifications =
        store::list_for_customer(&mut conn, &state.keys, customer_id, limit).await?;
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
