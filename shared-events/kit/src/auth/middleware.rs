//! [`authenticate`]: the middleware that closes every route by default. A request to a route
//! registered as public ([`crate::http::Routes::public_get`]: `/health`, `/ready`,
//! `/openapi.json`, the console's page) passes as it is; any other needs
//! `Authorization: Bearer <token>` that the app's [`Verifier`] accepts, and then carries its
//! [`Caller`] for the handler. A route added without thinking about access is closed, not open.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use super::{AuthError, Verifier};
use crate::http::RouteTable;

/// Middleware (use with `actix_web::middleware::from_fn(authenticate)`): public routes pass;
/// every other request is verified, or answered 401 (503 if the issuer's keys cannot be had).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let public = req
        .app_data::<web::Data<RouteTable>>()
        .is_some_and(|table| table.is_public(req.method(), req.path()));
    if public {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let verified = match (bearer(&req), req.app_data::<web::Data<Verifier>>()) {
        (Some(token), Some(verifier)) => verifier.verify(token).await,
        (None, _) => Err(AuthError::Missing),
        (Some(_), None) => Err(AuthError::KeysUnavailable(
            "the service was built without a verifier".into(),
        )),
    };
    match verified {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(error) => {
            tracing::info!(reason = %error, "request refused at authentication");
            Ok(req.into_response(error.error_response()))
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(req: &ServiceRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
