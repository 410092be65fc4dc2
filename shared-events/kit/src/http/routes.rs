//! [`Routes`]: how a service registers its routes (`routes::configure(routes: &mut Routes)`),
//! and the [`RouteTable`] they make.
//!
//! Registering through [`Routes`] records each method and path as it goes to actix. The table
//! is what the server knows it serves: [`super::unrouted`] answers a wrong method on a known
//! path with 405 and `Allow` from it, and [`RouteTable::undocumented`] compares it with the
//! OpenAPI document, so a route added without its documentation (or documented but never
//! registered) fails a test rather than reaching a user.
//!
//! Every route needs a bearer token ([`crate::auth::authenticate`]) unless it is
//! registered with [`Routes::public_get`]; the document must say so the same way (a `bearer`
//! security requirement on each closed operation, none on a public one).

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder};

use super::Document;

/// A service's routes being registered: actix's `ServiceConfig`, and the table of what was
/// registered so far.
pub struct Routes<'a> {
    /// Where the routes go.
    cfg: &'a mut web::ServiceConfig,
    /// Every method and path registered, in order.
    table: &'a mut RouteTable,
}

impl<'a> Routes<'a> {
    /// Registers into `cfg`, recording each route in `table`.
    pub fn new(cfg: &'a mut web::ServiceConfig, table: &'a mut RouteTable) -> Self {
        Routes { cfg, table }
    }

    /// Registers `handler` for `method` requests to `path` (an actix pattern, which is also
    /// OpenAPI's path template: `/orders/{id}`).
    pub fn route<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.table.routes.push((method.clone(), path));
        self.cfg.route(path, web::method(method).to(handler));
        self
    }

    /// A `GET` route that needs no token: health, readiness, the document, the console's
    /// page and assets. Everything else is closed.
    pub fn public_get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.table.public.push(self.table.routes.len());
        self.route(Method::GET, path, handler)
    }

    /// A `GET` route.
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, path, handler)
    }

    /// A `POST` route.
    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, path, handler)
    }

    /// A `PUT` route.
    pub fn put<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, path, handler)
    }

    /// A `DELETE` route.
    pub fn delete<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::DELETE, path, handler)
    }

    /// App data the handlers extract (`web::Data<T>`, or an extractor's config).
    pub fn app_data<U: 'static>(&mut self, data: U) -> &mut Self {
        self.cfg.app_data(data);
        self
    }
}

/// The methods and paths a service serves, as registered through [`Routes`].
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Each registered route, in registration order (which is actix's matching order).
    routes: Vec<(Method, &'static str)>,
    /// The indices in `routes` of the public ones.
    public: Vec<usize>,
}

/// The methods a path can be given, in the order an `Allow` header lists them.
const METHODS: [Method; 8] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
    Method::TRACE,
];

impl RouteTable {
    /// The table `routes` makes when registered (on a throwaway app: nothing is served).
    pub fn of<F>(routes: F) -> RouteTable
    where
        F: FnOnce(&mut Routes),
    {
        let mut table = RouteTable::default();
        let _ = actix_web::App::new().configure(|cfg| routes(&mut Routes::new(cfg, &mut table)));
        table
    }

    /// Each registered method and path.
    pub fn routes(&self) -> impl Iterator<Item = (&Method, &'static str)> {
        self.routes.iter().map(|(m, p)| (m, *p))
    }

    /// Whether `method` on `path` reaches a public route: the first registered route that
    /// matches (as actix would pick it) was registered with [`Routes::public_get`].
    pub fn is_public(&self, method: &Method, path: &str) -> bool {
        self.routes
            .iter()
            .position(|(m, pattern)| m == method && ResourceDef::new(*pattern).is_match(path))
            .is_some_and(|i| self.public.contains(&i))
    }

    /// The methods of every registered path that `path` matches, in `Allow` order (every
    /// pattern that matches counts: `/stock/reserve` is also a `/stock/{sku}`).
    pub fn methods_for(&self, path: &str) -> Vec<Method> {
        let matching: Vec<&Method> = self
            .routes
            .iter()
            .filter(|(_, pattern)| ResourceDef::new(*pattern).is_match(path))
            .map(|(m, _)| m)
            .collect();
        METHODS
            .iter()
            .filter(|m| matching.contains(m))
            .cloned()
            .collect()
    }

    /// Where the table and `doc` disagree, one sentence each: a route served but not
    /// documented, or documented but not served, or whose access the document states
    /// otherwise than it is served (a closed route without a `bearer` requirement, a public
    /// one with one). Empty when they agree exactly.
    pub fn undocumented(&self, doc: &Document) -> Vec<String> {
        let documented = doc.operations();
        let mut problems = Vec::new();
        for (i, (method, path)) in self.routes.iter().enumerate() {
            if !documented.iter().any(|(m, p)| m == method && p == path) {
                problems.push(format!("{method} {path} is served but not documented"));
                continue;
            }
            let public = self.public.contains(&i);
            match (public, doc.bearer_roles(method, path)) {
                (true, Some(_)) => problems.push(format!(
                    "{method} {path} is public but documented as needing a bearer token"
                )),
                (false, None) => problems.push(format!(
                    "{method} {path} needs a bearer token but its document does not say so \
                     (security((\"bearer\" = [roles])))"
                )),
                _ => {}
            }
        }
        for (method, path) in &documented {
            if !self.routes.iter().any(|(m, p)| m == method && p == path) {
                problems.push(format!("{method} {path} is documented but not served"));
            }
        }
        problems
    }
}
