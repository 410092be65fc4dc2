//! `GET /console`: the saga console, a static page (HTML, CSS and plain JavaScript, no build
//! step, nothing fetched from elsewhere) compiled into the binary. The page and its assets load
//! without a token; nothing they show does. The page signs its user in at the identity
//! provider that `GET /console/config.json` names (the authorization code flow with PKCE, in
//! `console.js`), then, with the operator's token, asks `POST /console/ticket` for a ticket to
//! follow `GET /orders/stream`, and loads with `GET /orders?limit=` and `GET /orders/summary`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use saga_kit::auth::AuthSettings;
use serde::Serialize;

const PAGE: &str = include_str!("../console/index.html");
const SCRIPT: &str = include_str!("../console/console.js");
const STYLE: &str = include_str!("../console/console.css");

/// The public client of the realm that the console signs in with (the authorization code flow
/// with PKCE; its redirect URIs are `/console` on any loopback port).
pub const CLIENT_ID: &str = "saga-cli";

/// What the console needs to know about its identity provider: app data of the orders routes.
#[derive(Debug, Clone)]
pub struct Console {
    /// What `GET /console/config.json` answers.
    config: ConsoleConfig,
    /// The pages' `Content-Security-Policy`.
    policy: String,
}

/// Where the console signs in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsoleConfig {
    /// The OpenID Connect issuer whose tokens the service accepts (`AUTH_ISSUER`); the page
    /// reads its discovery document, so the issuer must be reachable from the browser.
    issuer: String,
    /// The public client the page signs in as.
    client_id: String,
}

impl Console {
    /// The console of a service that trusts the issuer of `auth`.
    pub fn new(auth: &AuthSettings) -> Console {
        // The page talks to this origin, and to the issuer's for discovery and tokens; it loads
        // nothing from anywhere else, and no other page may frame it.
        let policy = format!(
            "default-src 'self'; connect-src 'self' {}; img-src 'self' data:; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
            origin(&auth.issuer)
        );
        Console {
            config: ConsoleConfig {
                issuer: auth.issuer.clone(),
                client_id: CLIENT_ID.to_owned(),
            },
            policy,
        }
    }

    /// A static asset, with headers that keep the page to its own origin and its provider's.
    fn asset(&self, content_type: &'static str, body: &'static str) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::CONTENT_SECURITY_POLICY, self.policy.as_str()))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .body(body)
    }
}

/// The origin (`scheme://host[:port]`) of `url`, an `http` or `https` URL ([`AuthSettings`]
/// checks that the issuer is one).
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// The saga console: a page that shows every saga live (HTML, no external resources). It
/// loads without a token; it signs its user in, and shows data to operators only.
#[utoipa::path(get, path = "/console", tag = "console", responses(
    (status = 200, description = "The page", content_type = "text/html", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn page(console: web::Data<Console>) -> HttpResponse {
    console.asset("text/html; charset=utf-8", PAGE)
}

/// The console's script.
#[utoipa::path(get, path = "/console/console.js", tag = "console", responses(
    (status = 200, description = "JavaScript", content_type = "text/javascript", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn script(console: web::Data<Console>) -> HttpResponse {
    console.asset("text/javascript; charset=utf-8", SCRIPT)
}

/// The console's style sheet.
#[utoipa::path(get, path = "/console/console.css", tag = "console", responses(
    (status = 200, description = "CSS", content_type = "text/css", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn style(console: web::Data<Console>) -> HttpResponse {
    console.asset("text/css; charset=utf-8", STYLE)
}

/// Where the console signs in: the issuer and the public client.
///
/// The page reads the issuer's discovery document (issuer/.well-known/openid-configuration)
/// and signs in with the authorization code flow and PKCE (S256) as client_id.
#[utoipa::path(get, path = "/console/config.json", tag = "console", responses(
    (status = 200, description = "The issuer and the client", body = ConsoleConfig)))]
#[tracing::instrument(skip_all)]
pub async fn config(console: web::Data<Console>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(&console.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lets_the_page_reach_its_issuers_origin_only() {
        for (issuer, expected) in [
            ("http://127.0.0.1:8080/realms/saga", "http://127.0.0.1:8080"),
            ("https://id.example.com", "https://id.example.com"),
            ("https://id.example.com/?x#y", "https://id.example.com"),
        ] {
            assert_eq!(origin(issuer), expected, "{issuer}");
        }
        let console = Console::new(&AuthSettings::for_issuer(
            "http://127.0.0.1:8080/realms/saga",
        ));
        assert!(console
            .policy
            .contains("connect-src 'self' http://127.0.0.1:8080;"));
        assert!(console.policy.starts_with("default-src 'self';"));
        assert_eq!(console.config.client_id, "saga-cli");
        assert_eq!(console.config.issuer, "http://127.0.0.1:8080/realms/saga");
    }
}
