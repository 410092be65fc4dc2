//! The OpenAPI document a service serves at `/openapi.json`: its own paths, generated from its
//! handlers by utoipa (`#[utoipa::path]` on each, gathered by a `#[derive(OpenApi)]` in its
//! `routes/mod.rs`), joined here with the operational paths and the error schema that every
//! service shares ([`super::ops`]).

use actix_web::http::Method;
use utoipa::OpenApi;

use super::ops::OpsDoc;

/// A service's whole document, and its JSON, rendered once.
#[derive(Clone)]
pub struct Document {
    /// The document, for [`super::RouteTable::undocumented`].
    doc: utoipa::openapi::OpenApi,
    /// What `/openapi.json` answers.
    json: String,
}

/// The document of a service whose own paths are `service`'s: the operational paths and the
/// shared `Error` schema are added.
pub fn document(service: utoipa::openapi::OpenApi) -> Document {
    let mut doc = service;
    doc.merge(OpsDoc::openapi());
    let json = doc
        .to_pretty_json()
        .expect("an OpenAPI document always serialises");
    Document { doc, json }
}

impl Document {
    /// The document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The document itself.
    pub fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.doc
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
