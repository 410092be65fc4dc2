//! The shared HTTP plumbing: SPEC §4's error bodies and status codes for bad input, the
//! operational endpoints, and which routes the authentication middleware lets through without a
//! token, on an in-process actix app. (Tokens of the real issuer: `tests/auth.rs`.)

use actix_web::http::Method;
use actix_web::HttpMessage;
use actix_web::{middleware::from_fn, test, web, App, HttpResponse};
use saga_contracts::Money;
use saga_kit::auth::{authenticate, AuthSettings, Caller, Verifier};
use saga_kit::http::{configure_app, document, observe, ApiError, Readiness, Routes, Site};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct Body {
    #[allow(dead_code)]
    amount: Money,
}

async fn create(_body: web::Json<Body>) -> HttpResponse {
    HttpResponse::Created().finish()
}

async fn get(id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "thing_not_found",
        format!("no thing {id}"),
    ))
}

async fn empty() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// The test app's routes (`/things/first` is also a `/things/{id}`, as `/stock/reserve` is a
/// `/stock/{sku}`).
fn routes(routes: &mut Routes) {
    routes
        .post("/things", create)
        .put("/things/first", empty)
        .get("/things/{id}", get);
}

/// Their document, as utoipa generates one from a service's handlers.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create_doc, first_doc, get_doc))]
struct ThingsDoc;

#[utoipa::path(post, path = "/things", security(("bearer" = ["operator"])), responses((status = 201, description = "Created")))]
#[allow(dead_code)]
fn create_doc() {}

#[utoipa::path(put, path = "/things/first", security(("bearer" = ["operator"])), responses((status = 200, description = "Done")))]
#[allow(dead_code)]
fn first_doc() {}

#[utoipa::path(get, path = "/things/{id}", security(("bearer" = ["operator"])), responses((status = 404, description = "None")))]
#[allow(dead_code)]
fn get_doc() {}

/// A verifier that knows no key: no token passes it.
fn verifier() -> Verifier {
    Verifier::with_fixed_keys(&AuthSettings::local(), &serde_json::json!({ "keys": [] }))
}

fn site(readiness: Readiness) -> Site<fn(&mut Routes)> {
    use utoipa::OpenApi;
    Site::new(
        readiness,
        document(ThingsDoc::openapi()),
        verifier(),
        routes,
    )
}

macro_rules! app {
    ($readiness:expr) => {{
        let site = site($readiness);
        test::init_service(
            App::new()
                .wrap(from_fn(observe))
                .configure(|cfg| configure_app(cfg, &site)),
        )
        .await
    }};
}

async fn error_of<B: actix_web::body::MessageBody>(
    resp: actix_web::dev::ServiceResponse<B>,
) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = test::read_body_json(resp).await;
    (status, body["error"]["code"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn bad_bodies_get_the_documented_status_and_code() {
    let app = app!(Readiness::new());
    let post = |body: &str| {
        test::TestRequest::post()
            .uri("/things")
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_owned())
            .to_request()
    };
    let ok = test::call_service(&app, post(r#"{"amount": "1.50"}"#)).await;
    assert_eq!(ok.status().as_u16(), 201);
    let cases = [
        (r#"{"amount": "#.to_owned(), 400, "malformed_json"),
        ("not json".to_owned(), 400, "malformed_json"),
        (r#"{"amount": "1.234"}"#.to_owned(), 422, "invalid_request"),
        (r#"{"amount": -1}"#.to_owned(), 422, "invalid_request"),
        (r#"{}"#.to_owned(), 422, "invalid_request"),
        (
            format!(r#"{{"amount": "1", "pad": "{}"}}"#, "x".repeat(100_000)),
            413,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let resp = test::call_service(&app, post(&body)).await;
        assert_eq!(
            error_of(resp).await,
            (status, code.to_owned()),
            "{:.40}",
            body
        );
    }
    // No content type at all is still read as JSON.
    let resp = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/things")
            .set_payload(r#"{"amount": 2}"#)
            .to_request(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 201);
}

#[actix_web::test]
async fn unknown_paths_and_bad_ids_are_json_404s() {
    let app = app!(Readiness::new());
    for uri in ["/nowhere", "/things/not-a-uuid"] {
        let resp = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(error_of(resp).await, (404, "not_found".to_owned()), "{uri}");
    }
    let uri = format!("/things/{}", Uuid::new_v4());
    let resp = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
    assert_eq!(error_of(resp).await, (404, "thing_not_found".to_owned()));
}

#[actix_web::test]
async fn a_method_a_documented_path_does_not_serve_is_a_json_405_with_allow() {
    let app = app!(Readiness::new());
    let id = Uuid::new_v4().to_string();
    let cases = [
        (Method::DELETE, "/things", "POST"),
        (Method::GET, "/things", "POST"),
        (Method::TRACE, "/health", "GET"),
        (Method::POST, &format!("/things/{id}") as &str, "GET"),
        (Method::PATCH, "/things/first", "GET, PUT"),
        (Method::HEAD, "/things/first", "GET, PUT"),
    ];
    for (method, uri, allow) in cases {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .to_request();
        let resp = test::call_service(&app, req).await;
        let allowed = resp
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {uri}");
        assert_eq!(
            error_of(resp).await,
            (405, "method_not_allowed".to_owned()),
            "{method} {uri}"
        );
    }
    // The routes themselves still answer, `/things/first` with both of its methods.
    for (method, uri, status) in [
        (Method::PUT, "/things/first", 200),
        (Method::GET, "/things/first", 404),
        (Method::GET, "/health", 200),
    ] {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status().as_u16(), status, "{method} {uri}");
    }
    // A path the document does not have is 404 whatever the method.
    for method in [Method::GET, Method::DELETE] {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri("/things/a/b")
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert!(resp.headers().get("allow").is_none());
        assert_eq!(
            error_of(resp).await,
            (404, "not_found".to_owned()),
            "{method}"
        );
    }
}

#[actix_web::test]
async fn operational_endpoints() {
    let readiness = Readiness::new()
        .check("store", || async { Ok(()) })
        .check("broker", || async { Err("connection refused".to_owned()) });
    let app = app!(readiness);
    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();

    let resp = test::call_service(&app, get("/health")).await;
    assert_eq!(resp.status().as_u16(), 200);

    let resp = test::call_service(&app, get("/ready")).await;
    assert_eq!(resp.status().as_u16(), 503);
    let body: serde_json::Value = test::read_body_json(resp).await;
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["broker"], "error: connection refused");

    let resp = test::call_service(&app, get("/openapi.json")).await;
    let doc: serde_json::Value = test::read_body_json(resp).await;
    for path in [
        "/things",
        "/things/{id}",
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented: {doc}");
    }
    assert!(doc["components"]["schemas"]["Error"].is_object(), "{doc}");

    let as_caller = |roles: &[&str]| {
        let req = test::TestRequest::get().uri("/metrics").to_request();
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        req.extensions_mut()
            .insert(Caller::new(Uuid::now_v7().to_string(), &roles));
        req
    };
    let resp = test::call_service(&app, as_caller(&["customer"])).await;
    assert_eq!(error_of(resp).await, (403, "forbidden".to_owned()));
    let resp = test::call_service(&app, as_caller(&["operator"])).await;
    assert_eq!(resp.status().as_u16(), 200);
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/ready\",status=\"503\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("outbox_published_total 0"),
        "runtime metrics are registered"
    );
}

#[actix_web::test]
async fn the_route_table_and_the_document_must_agree() {
    let site = site(Readiness::new());
    let doc = document(<ThingsDoc as utoipa::OpenApi>::openapi());
    assert_eq!(site.table().undocumented(&doc), Vec::<String>::new());

    // A route registered without its documentation, and a documented one never registered.
    let fewer = Site::new(
        Readiness::new(),
        doc.clone(),
        verifier(),
        |r: &mut Routes| {
            r.post("/things", create).get("/other", empty);
        },
    );
    assert_eq!(
        fewer.table().undocumented(&doc),
        vec![
            "GET /other is served but not documented".to_owned(),
            "PUT /things/first is documented but not served".to_owned(),
            "GET /things/{id} is documented but not served".to_owned(),
        ]
    );
}

/// The app with [`authenticate`] in front, as every service runs it.
macro_rules! closed_app {
    () => {{
        let site = site(Readiness::new().check("store", || async { Ok(()) }));
        test::init_service(
            App::new()
                .wrap(from_fn(authenticate))
                .wrap(from_fn(observe))
                .configure(|cfg| configure_app(cfg, &site)),
        )
        .await
    }};
}

#[actix_web::test]
async fn only_health_readiness_and_the_document_are_open() {
    let app = closed_app!();
    for path in ["/health", "/ready", "/openapi.json"] {
        let resp = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    let requests = [
        test::TestRequest::get().uri("/metrics"),
        test::TestRequest::post().uri("/things"),
        test::TestRequest::put().uri("/things/first"),
        test::TestRequest::get().uri(&format!("/things/{}", Uuid::now_v7())),
        // Neither a route nor a public one: closed too, rather than telling what exists.
        test::TestRequest::get().uri("/nothing/here"),
    ];
    for request in requests {
        let req = request.to_request();
        let what = format!("{} {}", req.method(), req.path());
        let resp = test::call_service(&app, req).await;
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            error_of(resp).await,
            (401, "unauthorized".to_owned()),
            "{what}"
        );
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"saga\""),
            "{what}"
        );
    }
}

#[actix_web::test]
async fn a_token_that_does_not_verify_is_an_invalid_token_challenge() {
    let app = closed_app!();
    for authorization in [
        "Bearer not.a.jwt",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vLXN1Y2gta2V5In0.eyJzdWIiOiJ4In0.c2ln",
    ] {
        let req = test::TestRequest::get()
            .uri("/metrics")
            .insert_header(("authorization", authorization))
            .to_request();
        let resp = test::call_service(&app, req).await;
        let challenge = resp.headers().get("www-authenticate").cloned();
        assert_eq!(
            error_of(resp).await,
            (401, "unauthorized".to_owned()),
            "{authorization}"
        );
        assert_eq!(
            challenge.unwrap().to_str().unwrap(),
            "Bearer realm=\"saga\", error=\"invalid_token\"",
            "{authorization}"
        );
    }
    // Another scheme is no bearer token at all.
    let req = test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("authorization", "Basic b3BlcmF0b3I6b3BlcmF0b3I="))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(error_of(resp).await, (401, "unauthorized".to_owned()));
}

#[actix_web::test]
async fn the_document_declares_the_bearer_scheme_and_each_closed_operation_its_roles() {
    let doc = document(<ThingsDoc as utoipa::OpenApi>::openapi());
    let json: serde_json::Value = serde_json::from_str(doc.json()).unwrap();
    let scheme = &json["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert_eq!(
        json["paths"]["/metrics"]["get"]["security"][0]["bearer"][0],
        "operator"
    );
    assert!(json["paths"]["/health"]["get"].get("security").is_none());

    // A closed route documented without its requirement, and a public one with one, are told.
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(create_doc, first_doc, open_get_doc))]
    struct Unsecured;
    #[utoipa::path(get, path = "/things/{id}", responses((status = 200, description = "Ok")))]
    #[allow(dead_code)]
    fn open_get_doc() {}
    let unsecured = document(<Unsecured as utoipa::OpenApi>::openapi());
    assert_eq!(
        site(Readiness::new()).table().undocumented(&unsecured),
        vec![
            "GET /things/{id} needs a bearer token but its document does not say so \
              (security((\"bearer\" = [roles])))"
                .to_owned()
        ]
    );
}
