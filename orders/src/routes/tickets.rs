//! `POST /console/ticket`: a ticket that opens the saga feed once. A browser's `EventSource`
//! cannot send an `Authorization` header, and an access token must never travel in a URL, so
//! the console first asks for a ticket with its bearer token (operators only), then opens
//! `GET /orders/stream?ticket=…` ([`super::feed`]). A ticket
//! - is 32 bytes of the operating system's randomness by way of a CSPRNG, written in hex, and
//!   derived from nothing: it says nothing about the token that asked for it;
//! - opens one stream: it is gone once presented, whether the stream then opens or not;
//! - expires [`TICKET_TTL`] after it was issued, used or not;
//! - lives in this process's memory only, so it opens a stream on the instance that issued it
//!   and no other (README, "Saga console"), and none after a restart;
//! - is one of at most [`MAX_TICKETS`] outstanding; beyond that, 503 `too_many_tickets` until
//!   some are used or expire.
//!
//! Tickets are never logged. They are kept as issued: a lookup goes through the map's keyed
//! hash, so its time says nothing about how close a guess was.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use saga_kit::auth::Caller;
use saga_kit::http::responses::{Forbidden, Unauthorized};
use saga_kit::http::{ApiError, ErrorBody};
use serde::Serialize;

/// How long a ticket may wait for its stream: enough for a page to open the stream it asked
/// for, little enough that a ticket seen in a log or a history is worth nothing.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// The most tickets outstanding (issued, neither used nor expired) at once.
pub const MAX_TICKETS: usize = 1024;

/// The random bytes of a ticket.
const TICKET_BYTES: usize = 32;

/// The tickets issued and not yet used, each with when it expires: app data of the orders
/// routes, shared by `POST /console/ticket`, which issues them, and the feed, which redeems
/// them.
#[derive(Debug, Default)]
pub struct Tickets {
    /// Ticket → its expiry.
    outstanding: Mutex<HashMap<String, Instant>>,
}

/// There are [`MAX_TICKETS`] outstanding already.
#[derive(Debug, thiserror::Error)]
#[error("{MAX_TICKETS} tickets are outstanding; try again once some are used or expired")]
pub struct TooManyTickets;

impl Tickets {
    /// No tickets.
    pub fn new() -> Tickets {
        Tickets::default()
    }

    /// A new ticket, valid for [`TICKET_TTL`].
    pub fn issue(&self) -> Result<String, TooManyTickets> {
        self.issue_at(Instant::now())
    }

    /// Whether `ticket` was issued here, is unused and has not expired; it is used up either
    /// way.
    pub fn redeem(&self, ticket: &str) -> bool {
        self.redeem_at(ticket, Instant::now())
    }

    /// [`Tickets::issue`] at `now`.
    fn issue_at(&self, now: Instant) -> Result<String, TooManyTickets> {
        let mut outstanding = self.outstanding.lock().expect("the tickets' lock");
        outstanding.retain(|_, expires| *expires > now);
        if outstanding.len() >= MAX_TICKETS {
            return Err(TooManyTickets);
        }
        let bytes: [u8; TICKET_BYTES] = rand::random();
        let ticket = bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        outstanding.insert(ticket.clone(), now + TICKET_TTL);
        Ok(ticket)
    }

    /// [`Tickets::redeem`] at `now`.
    fn redeem_at(&self, ticket: &str, now: Instant) -> bool {
        let mut outstanding = self.outstanding.lock().expect("the tickets' lock");
        outstanding
            .remove(ticket)
            .is_some_and(|expires| expires > now)
    }
}

/// A ticket for the saga feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Opaque; give it once as `GET /orders/stream?ticket=`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    ticket: String,
    /// Seconds it stays valid if unused.
    #[schema(minimum = 1)]
    expires_in: u64,
}

/// A ticket that opens the saga feed once.
///
/// For clients that cannot send an Authorization header on the stream (a browser's
/// EventSource): a random value that opens one GET /orders/stream?ticket=<ticket> on this
/// instance within expires_in seconds (30), and is gone once presented. Operators only. 503
/// too_many_tickets when 1024 are outstanding.
#[utoipa::path(post, path = "/console/ticket", tag = "console",
    security(("bearer" = ["operator"])),
    responses(
        (status = 200, description = "The ticket (Cache-Control: no-store)", body = Ticket),
        Unauthorized, Forbidden,
        (status = 503, description = "too_many_tickets, or unavailable when the identity provider's keys cannot be had", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn issue(caller: Caller, tickets: web::Data<Tickets>) -> Result<HttpResponse, ApiError> {
    caller.require_operator("follow the saga feed")?;
    let ticket = tickets.issue().map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_tickets",
            e.to_string(),
        )
    })?;
    tracing::info!("saga feed ticket issued");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Ticket {
            ticket,
            expires_in: TICKET_TTL.as_secs(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once() {
        let tickets = Tickets::new();
        let ticket = tickets.issue().unwrap();
        assert_eq!(ticket.len(), 2 * TICKET_BYTES);
        assert!(ticket.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(tickets.redeem(&ticket));
        assert!(!tickets.redeem(&ticket), "used twice");
    }

    #[test]
    fn a_ticket_expires_used_or_not() {
        let tickets = Tickets::new();
        let now = Instant::now();
        let late = tickets.issue_at(now).unwrap();
        let in_time = tickets.issue_at(now).unwrap();
        assert!(tickets.redeem_at(&in_time, now + TICKET_TTL - Duration::from_millis(1)));
        assert!(!tickets.redeem_at(&late, now + TICKET_TTL));
        assert!(
            !tickets.redeem_at(&late, now),
            "an expired ticket was presented: it is gone"
        );
    }

    #[test]
    fn only_issued_tickets_open() {
        let tickets = Tickets::new();
        let ticket = tickets.issue().unwrap();
        assert_ne!(
            tickets.issue().unwrap(),
            ticket,
            "two tickets are different"
        );
        let (upper, zeros) = (ticket.to_uppercase(), "0".repeat(64));
        for wrong in ["", "0", &ticket[1..], upper.as_str(), zeros.as_str()] {
            assert!(!tickets.redeem(wrong), "{wrong:?}");
        }
        assert!(
            tickets.redeem(&ticket),
            "a wrong guess does not spend a good ticket"
        );
    }

    #[test]
    fn outstanding_tickets_are_bounded_and_expired_ones_make_room() {
        let tickets = Tickets::new();
        let now = Instant::now();
        for _ in 0..MAX_TICKETS {
            tickets.issue_at(now).unwrap();
        }
        assert!(tickets.issue_at(now).is_err());
        assert!(tickets
            .issue_at(now + TICKET_TTL - Duration::from_millis(1))
            .is_err());
        assert!(tickets.issue_at(now + TICKET_TTL).is_ok());
        assert_eq!(tickets.outstanding.lock().unwrap().len(), 1);
    }
}
