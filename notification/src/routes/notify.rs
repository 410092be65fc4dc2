//! `POST /notify`: a manual notification to a customer, delivered like the others.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use shared_events::http::{ApiError, Json};

use super::{parse_customer_id, store_error, AppState};
use crate::domain::{Body, Subject};
use crate::store::{self, Notification};

#[derive(Deserialize)]
pub struct NotifyRequest {
    customer_id: String,
    subject: String,
    body: String,
}

/// Stores the notification with its pending delivery in one `MULTI`/`EXEC`, wakes the
/// dispatcher and answers 202: delivery happens after the response.
pub async fn notify(
    request: Json<NotifyRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request = request.into_inner();
    let customer_id = parse_customer_id(Some(&request.customer_id))?;
    let subject = Subject::parse(&request.subject)
        .map_err(|m| ApiError::unprocessable("invalid_subject", m))?;
    let body =
        Body::parse(&request.body).map_err(|m| ApiError::unprocessable("invalid_body", m))?;
    let notification = Notification::manual(customer_id, subject.as_str(), body.as_str());
    let mut conn = state.conn.clone();
    store::apply_atomically(
        &mut conn,
        &store::create_commands(&state.keys, &notification),
    )
    .await
    .map_err(store_error)?;
    state.kick.notify_one();
    tracing::info!(notification_id = %notification.id, %customer_id, "manual notification stored");
    Ok(HttpResponse::Accepted().json(json!({ "id": notification.id })))
}
