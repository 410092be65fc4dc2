//! The OpenAPI document a service serves at `/openapi.json`: its own paths, generated from its
//! handlers by utoipa (`#[utoipa::path]` on each, gathered by a `#[derive(OpenApi)]` in its
//! `routes/mod.rs`), joined with the operational paths and the error schema that every service
//! shares ([`document`](super::document), in [`super::ops`]), then given the `bearer` security
//! scheme and rendered once ([`Document::new`]).

use actix_web::http::Method;

/// A service's whole document, and its JSON, rendered once.
#[derive(Clone)]
pub struct Document {
    /// The document, for [`super::RouteTable::undocumented`].
    doc: utoipa::openapi::OpenApi,
    /// What `/openapi.json` answers.
    json: String,
}

/// The name of the security scheme every closed operation lists: an OpenID Connect access
/// token (a JWT) as `Authorization: Bearer`. Each operation's requirement names the realm roles
/// that may call it (`security(("bearer" = ["operator", "customer"]))`), as OpenAPI 3.1 allows
/// for schemes other than OAuth.
pub const BEARER: &str = "bearer";

impl Document {
    /// `doc` (a service's paths joined with the operational ones) with the `bearer` security
    /// scheme, and its JSON.
    pub fn new(mut doc: utoipa::openapi::OpenApi) -> Document {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token of the OpenID Connect issuer (AUTH_ISSUER) for the audience \
                 AUTH_AUDIENCE (saga-api). Roles: operator may do everything; customer acts as \
                 itself (its token's sub is its customer id). Each operation lists the roles that \
                 may call it.",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        let json = doc
            .to_pretty_json()
            .expect("an OpenAPI document always serialises");
        Document { doc, json }
    }

    /// The document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The document itself.
    pub fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.doc
    }

    /// The roles the `bearer` requirement of the operation `method` `path` names, or `None`
    /// if it has no such requirement (or there is no such operation).
    pub fn bearer_roles(&self, method: &Method, path: &str) -> Option<Vec<String>> {
        let item = serde_json::to_value(self.doc.paths.paths.get(path)?).ok()?;
        let operation = item.get(method.as_str().to_ascii_lowercase())?;
        operation
            .get("security")?
            .as_array()?
            .iter()
            .find_map(|requirement| requirement.get(BEARER))
            .map(|roles| {
                roles
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            })
    }

    /// Every documented operation: its method and path template.
    pub fn operations(&self) -> Vec<(Method, String)> {
        let mut operations = Vec::new();
        for (path, item) in &self.doc.paths.paths {
            let methods = [
                (Method::GET, item.get.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::DELETE, item.delete.is_some()),
                (Method::OPTIONS, item.options.is_some()),
                (Method::HEAD, item.head.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::TRACE, item.trace.is_some()),
            ];
            for (method, present) in methods {
                if present {
                    operations.push((method, path.clone()));
                }
            }
        }
        operations
    }
}
