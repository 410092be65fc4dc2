//! `GET /orders/stream`: the saga feed as Server-Sent Events, one `transition` event per saga
//! event an order sees or emits, resumable with `Last-Event-ID`. Each event's schema is
//! [`FeedEvent`]'s (`routes/feed_event.rs`).
//!
//! Each stream reads the feed ([`crate::store::feed`]) from its own cursor, polling while it is
//! at the end. That costs one indexed query per open stream every [`POLL`], nothing when no
//! console is open, and no state shared between instances of the service: any instance can
//! resume any stream.
//!
//! A stream takes its permit ([`super::stream_permits`]) before it reads anything: a request
//! beyond the instance's limit, or beyond one client's share of it, is refused with 503
//! `too_many_streams` at no cost to the database.
//!
//! Only operators follow the feed (SPEC §7), proving it in one of two ways, checked here first:
//! an operator's bearer token in `Authorization` (curl, tools), or, from a browser, whose
//! `EventSource` sends no headers, a ticket of `POST /console/ticket` ([`super::tickets`]) as
//! `?ticket=`, good for one stream. The route is public to the kit's middleware only so that a
//! request with a ticket and no header reaches this check; anything else is the kit's 401 with
//! its `WWW-Authenticate` challenge (or 403 for a token without the role). A stream ends after
//! the feed's `max_age` (`STREAM_MAX_AGE_SECS`, 5 minutes), so that it never outlives by long
//! the token or ticket that opened it; the client opens another from its last id and misses
//! nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use saga_kit::auth::{AuthError, Verifier};
use saga_kit::http::responses::{Forbidden, Unauthorized};
use saga_kit::http::{ApiError, ErrorBody};
use saga_kit::CancellationToken;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use super::feed_event::FeedEvent;
use super::stream_permits::{StreamPermit, StreamPermits};
use super::tickets::Tickets;
use crate::store::feed::{self, Cursor};

/// How often a stream at the end of the feed looks again.
const POLL: Duration = Duration::from_millis(200);
/// Transitions read (and sent as one chunk) at a time.
const BATCH: i64 = 500;
/// A comment line this often on a quiet stream, so that proxies and the browser see it alive.
/// It is also how a stream learns that its client has gone: nothing tells a streaming
/// response so until a write to the closed connection fails, the second one after the close.
/// Short, so that a closed stream gives its permit back within a few seconds.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a stream waits before reading again after the database failed.
const STORE_RETRY: Duration = Duration::from_secs(1);
/// How long the browser waits before reconnecting (SSE `retry:`).
const CLIENT_RETRY_MS: u64 = 1000;

/// How long a stream lasts unless told otherwise: the lifetime of the realm's access tokens.
pub const DEFAULT_STREAM_MAX_AGE: Duration = Duration::from_secs(300);

/// The feed's shared state: app data of the orders routes.
pub struct Feed {
    /// The service's shutdown: every stream ends with it, so a graceful stop does not wait
    /// for the browsers to hang up.
    shutdown: CancellationToken,
    /// Bounds the streams open at once, in all and per client.
    streams: StreamPermits,
    /// How long a stream lasts before it ends and its client must prove itself again.
    max_age: Duration,
}

impl Feed {
    /// The feed of a service that stops with `shutdown`, whose streams last `max_age`.
    pub fn new(shutdown: CancellationToken, max_age: Duration) -> Feed {
        Feed {
            shutdown,
            streams: StreamPermits::new(),
            max_age,
        }
    }
}

/// Whether the request may open a stream: with an `Authorization` header, only if it is an
/// operator's bearer token (the ticket is then not looked at, nor spent); without one, only
/// with a ticket issued here, unused and unexpired.
async fn admit(
    req: &HttpRequest,
    ticket: Option<&str>,
    verifier: &Verifier,
    tickets: &Tickets,
) -> Result<(), AuthError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = bearer(value).ok_or(AuthError::Missing)?;
        return verifier
            .verify(token)
            .await?
            .require_operator("follow the saga feed");
    }
    match ticket.filter(|t| !t.is_empty()) {
        None => Err(AuthError::Missing),
        Some(ticket) if tickets.redeem(ticket) => Ok(()),
        Some(_) => Err(AuthError::Invalid(
            "the ticket is unknown, used or expired; ask POST /console/ticket for another".into(),
        )),
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case), as the
/// kit's middleware reads it.
fn bearer(value: &HeaderValue) -> Option<&str> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `GET /orders/stream`'s ticket, read leniently so that admission ([`admit`]) comes before any
/// judgement of the rest of the query: a caller without a credential hears 401, whatever else
/// it sent.
#[derive(Deserialize)]
pub struct TicketQuery {
    /// A ticket of `POST /console/ticket`.
    ticket: Option<String>,
}

/// `GET /orders/stream`'s query, read once the caller is admitted. A parameter it does not
/// name is 422 `invalid_query`, as on every listing, rather than ignored.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The ticket, already spent by [`admit`]; named here so that it is not an unknown
    /// parameter, and left out of the document's parameters, which give it as the `ticket`
    /// security scheme.
    #[param(ignore)]
    #[allow(dead_code)]
    ticket: Option<String>,
    /// Where to resume, as `Last-Event-ID` would say it, for a client that cannot set headers
    /// on its first connection. Empty is none; the header wins when both are given.
    #[param(nullable = false, pattern = "^([0-9]+-[0-9]+)?$")]
    last_event_id: Option<String>,
}

/// `GET /orders/stream`: for an operator ([`admit`]: its bearer token, or a ticket), from the
/// `Last-Event-ID` cursor if one is given, else from now. An empty one is none (what a
/// browser's `EventSource` means by it); any other that is not a cursor, a header of bytes
/// that are not text included, is 422 rather than ignored. The stream's permit comes before any
/// read (503 `too_many_streams` without one).
#[utoipa::path(get, path = "/orders/stream", tag = "saga feed",
    summary = "The saga feed: Server-Sent Events, one per saga transition",
    description = "text/event-stream, for operators. Either an operator's bearer token in Authorization, or, for a client that cannot send headers (a browser's EventSource), a ticket of POST /console/ticket as the ticket parameter (the `ticket` security scheme): it opens one stream, within 30 s, on the instance that issued it. Without either, or with a used, expired or unknown ticket, 401 with WWW-Authenticate; a token without the operator role is 403. First an event `ready` (data {cursor}), whose id is where the stream starts; then one event `transition` per saga event an order sees or emits, in feed order, with id <xid>-<seq>. A client that reconnects with Last-Event-ID (the header, or the last_event_id parameter) gets every transition after it, once; without one the stream starts at the current end. Comment lines keep a quiet stream alive. A stream ends after 5 minutes (STREAM_MAX_AGE_SECS), so that it never outlives by long the token or ticket that opened it: reconnect with the last id and a token or a new ticket. 422 invalid_last_event_id for an id not of the form <xid>-<seq>; 503 too_many_streams when 64 streams are open on the instance, or 8 from the client's address (or unavailable when the store is).",
    security(("ticket" = [])),
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "Empty is none", nullable = false, pattern = "^([0-9]+-[0-9]+)?$"),
        StreamQuery,
    ),
    responses(
        (status = 200, description = "The stream; each transition event's data is a Transition", content_type = "text/event-stream", body = FeedEvent),
        Unauthorized, Forbidden,
        (status = 422, description = "invalid_last_event_id, or invalid_query (a parameter not named here)", body = ErrorBody),
        (status = 503, description = "too_many_streams, or the store is unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn stream(
    req: HttpRequest,
    ticket: web::Query<TicketQuery>,
    pool: web::Data<PgPool>,
    feed: web::Data<Feed>,
    tickets: web::Data<Tickets>,
    verifier: web::Data<Verifier>,
) -> Result<HttpResponse, ApiError> {
    let ticket = ticket.into_inner().ticket;
    if let Err(refused) = admit(&req, ticket.as_deref(), &verifier, &tickets).await {
        tracing::info!(reason = %refused, "saga feed stream refused");
        return Ok(refused.error_response());
    }
    let query = web::Query::<StreamQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::unprocessable("invalid_query", e.to_string()))?;
    let header = match req.headers().get("last-event-id") {
        None => None,
        Some(v) => Some(v.to_str().map(str::to_owned).map_err(|_| {
            ApiError::unprocessable(
                "invalid_last_event_id",
                "Last-Event-ID is not text; expected <xid>-<seq>",
            )
        })?),
    };
    // Both places are checked, so a bad cursor is 422 wherever it is; the header wins.
    let parse = |id: String| {
        id.parse::<Cursor>().map_err(|e| {
            ApiError::unprocessable(
                "invalid_last_event_id",
                format!("Last-Event-ID {id:?}: {e}"),
            )
        })
    };
    let from_query = query
        .into_inner()
        .last_event_id
        .filter(|v| !v.is_empty())
        .map(parse)
        .transpose()?;
    let from_header = header.filter(|v| !v.is_empty()).map(parse).transpose()?;
    // The permit before any read: a refused request costs the database nothing.
    let client = req.peer_addr().map(|a| a.ip());
    let permit = feed.streams.try_take(client).map_err(|refused| {
        ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            refused.to_string(),
        )
    })?;
    let cursor = match from_header.or(from_query) {
        Some(cursor) => cursor,
        None => feed::tail(&pool).await?,
    };
    tracing::info!(%cursor, "saga feed stream opened");
    let state = StreamState {
        pool: pool.into_inner(),
        cursor,
        shutdown: feed.shutdown.clone(),
        ends_at: Instant::now() + feed.max_age,
        first: true,
        quiet_since: Instant::now(),
        _permit: permit,
    };
    let body = futures::stream::unfold(state, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<Bytes, actix_web::Error>(chunk), s))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// One stream's reader.
struct StreamState {
    pool: Arc<PgPool>,
    /// The last transition sent (or the start).
    cursor: Cursor,
    shutdown: CancellationToken,
    /// When the stream ends, so that its client proves itself again.
    ends_at: Instant,
    /// Whether the opening chunk is still to be sent.
    first: bool,
    /// When the last chunk was sent, for the heartbeat.
    quiet_since: Instant,
    /// Held for as long as the stream is open.
    _permit: StreamPermit,
}

impl StreamState {
    /// The next chunk to send, or `None` at shutdown or when the stream has lasted its time.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.first {
            self.first = false;
            // The opening event carries the start cursor as its id, so that a reconnection
            // before any transition resumes from here rather than from a later "now".
            let ready = json!({ "cursor": self.cursor.to_string() });
            return Some(Bytes::from(format!(
                "retry: {CLIENT_RETRY_MS}\nid: {}\nevent: ready\ndata: {ready}\n\n",
                self.cursor
            )));
        }
        loop {
            if self.shutdown.is_cancelled() || Instant::now() >= self.ends_at {
                return None;
            }
            let pause = match feed::after(&self.pool, self.cursor, BATCH).await {
                Ok(batch) if !batch.is_empty() => {
                    let mut text = String::new();
                    for t in &batch {
                        let data = serde_json::to_string(t).expect("a transition serializes");
                        text.push_str(&format!(
                            "id: {}\nevent: transition\ndata: {data}\n\n",
                            t.id
                        ));
                    }
                    self.cursor = batch.last().expect("not empty").cursor;
                    self.quiet_since = Instant::now();
                    return Some(Bytes::from(text));
                }
                Ok(_) => POLL,
                Err(e) => {
                    let error = anyhow::Error::new(e);
                    tracing::warn!(error = %format!("{error:#}"), "saga feed: reading the history failed; retrying");
                    STORE_RETRY
                }
            };
            if self.quiet_since.elapsed() >= HEARTBEAT {
                self.quiet_since = Instant::now();
                return Some(Bytes::from_static(b": keep-alive\n\n"));
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.shutdown.cancelled() => return None,
            }
        }
    }
}
