//! `POST /notify`: a manual notification to a customer, delivered like the others.

use actix_web::{web, HttpResponse};
use saga_kit::auth::Operator;
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{ApiError, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::input::parse_customer_id;
use super::state::AppState;
use crate::domain::{Body, Subject};
use crate::store::{self, Notification};

/// A manual notification. Its fields are taken as text so that each gets its own error code.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NotifyRequest {
    /// Whom it is for; a customer not heard of yet is accepted (its `customer.created` may
    /// not have arrived).
    #[schema(format = Uuid)]
    customer_id: String,
    /// One line; trimmed
    #[schema(min_length = 1, max_length = 200)]
    subject: String,
    /// Trimmed
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
}

/// The answer to `POST /notify`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// The stored notification's id.
    id: Uuid,
}

/// Send a manual notification to a customer
///
/// Stored at once (kind manual) and delivered asynchronously through the notifier. Operators
/// only.
#[utoipa::path(post, path = "/notify", tag = "notifications",
    security(("bearer" = ["operator"])),
    request_body = NotifyRequest,
    responses(
        (status = 202, description = "Accepted for delivery", body = Accepted),
        (status = 422, description = "invalid_customer_id, invalid_subject, invalid_body or invalid_request", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(customer_id, notification_id))]
pub async fn notify(
    _operator: Operator,
    request: Json<NotifyRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request = request.into_inner();
    let customer_id = parse_customer_id(Some(&request.customer_id))?;
    let span = tracing::Span::current();
    span.record("customer_id", tracing::field::display(customer_id));
    let subject = Subject::parse(&request.subject)
        .map_err(|m| ApiError::unprocessable("invalid_subject", m))?;
    let body =
        Body::parse(&request.body).map_err(|m| ApiError::unprocessable("invalid_body", m))?;
    let notification = Notification::manual(customer_id, subject.as_str(), body.as_str());
    span.record("notification_id", tracing::field::display(notification.id));
    let commands = store::create_commands(&state.keys, &notification);
    store::apply_atomically(&mut state.conn.clone(), &commands).await?;
    state.kick.notify_one();
    tracing::info!("manual notification stored");
    Ok(HttpResponse::Accepted().json(Accepted {
        id: notification.id,
    }))
}
