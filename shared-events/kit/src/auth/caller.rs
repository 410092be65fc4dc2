//! [`Caller`]: who sent a request, as its verified token says, and the authorization checks of
//! SPEC §7 that handlers run with `?`:
//! - an `operator` may do everything;
//! - a `customer`'s `sub` is its customer id, and it acts on its own data only;
//! - a token with neither role may do nothing.
//!
//! The [`super::authenticate`] middleware puts the caller into the request; a handler takes it
//! as an argument (`caller: Caller`), and the extractor answers 401 if it is not there. An
//! operator-only handler takes [`Operator`] first instead, which also answers 403 for anyone
//! else before the body is read.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

use super::AuthError;

/// A realm role this system gives meaning to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs the system: everything is allowed.
    Operator,
    /// A customer, acting as itself.
    Customer,
}

impl Role {
    /// The realm role's name in a token.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Customer => "customer",
        }
    }
}

/// The verified sender of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`.
    subject: String,
    /// The roles of [`Role`] the token carries (others are ignored).
    roles: Vec<Role>,
}

impl Caller {
    /// The caller whose token has `sub` and the realm roles `roles`.
    pub fn new(subject: String, roles: &[String]) -> Caller {
        let roles = [Role::Operator, Role::Customer]
            .into_iter()
            .filter(|r| roles.iter().any(|name| name == r.name()))
            .collect();
        Caller { subject, roles }
    }

    /// The token's subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller is an operator.
    pub fn is_operator(&self) -> bool {
        self.has(Role::Operator)
    }

    /// The customer id of a customer caller (its `sub`, a UUID); `None` for anyone else.
    pub fn customer_id(&self) -> Option<Uuid> {
        if self.has(Role::Customer) {
            Uuid::parse_str(&self.subject).ok()
        } else {
            None
        }
    }

    /// Ok for an operator; 403 for anyone else. `action` says what was refused.
    pub fn require_operator(&self, action: &str) -> Result<(), AuthError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(AuthError::forbidden(format!(
                "only an operator may {action}"
            )))
        }
    }

    /// Ok for an operator, or for the customer `customer_id` itself; 403 for anyone else.
    pub fn require_customer(&self, customer_id: Uuid) -> Result<(), AuthError> {
        if self.is_operator() || self.customer_id() == Some(customer_id) {
            Ok(())
        } else {
            Err(AuthError::forbidden(
                "a customer may act on its own data only",
            ))
        }
    }

    /// The customer id a customer caller acts as; 403 for a caller that is not a customer.
    pub fn own_customer_id(&self) -> Result<Uuid, AuthError> {
        self.customer_id().ok_or_else(|| {
            AuthError::forbidden("only a customer (or an operator naming one) may do this")
        })
    }

    /// May the caller do anything at all: it holds one of the roles.
    pub fn require_any_role(&self) -> Result<(), AuthError> {
        if self.roles.is_empty() {
            Err(AuthError::forbidden(
                "the token carries neither the operator nor the customer role",
            ))
        } else {
            Ok(())
        }
    }
}

/// A caller that is an operator: as a handler's first argument, it answers 403 before the
/// body is read, so an operator-only operation refuses a customer whatever it sent.
#[derive(Debug, Clone)]
pub struct Operator(pub Caller);

impl FromRequest for Operator {
    type Error = AuthError;
    type Future = Ready<Result<Operator, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        ready(match caller {
            None => Err(AuthError::Missing),
            Some(c) if c.is_operator() => Ok(Operator(c)),
            Some(_) => Err(AuthError::forbidden(format!(
                "only an operator may {} {}",
                req.method(),
                req.match_pattern().unwrap_or_else(|| req.path().to_owned())
            ))),
        })
    }
}

impl FromRequest for Caller {
    type Error = AuthError;
    type Future = Ready<Result<Caller, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or(AuthError::Missing),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(sub: &str, roles: &[&str]) -> Caller {
        Caller::new(
            sub.into(),
            &roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn an_operator_may_act_for_any_customer() {
        let op = caller(
            "2c598215-9663-4012-bb19-9ac193d0f3e7",
            &["operator", "offline_access"],
        );
        assert!(op.require_operator("deposit").is_ok());
        assert!(op.require_customer(Uuid::now_v7()).is_ok());
        assert_eq!(op.customer_id(), None);
    }

    #[test]
    fn a_customer_acts_as_itself_only() {
        let id = Uuid::now_v7();
        let alice = caller(&id.to_string(), &["customer"]);
        assert_eq!(alice.customer_id(), Some(id));
        assert!(alice.require_customer(id).is_ok());
        assert!(matches!(
            alice.require_customer(Uuid::now_v7()),
            Err(AuthError::Forbidden(_))
        ));
        assert!(matches!(
            alice.require_operator("deposit"),
            Err(AuthError::Forbidden(_))
        ));
    }

    #[test]
    fn a_token_without_the_roles_may_do_nothing() {
        let id = Uuid::now_v7();
        let nobody = caller(&id.to_string(), &["default-roles-saga"]);
        assert_eq!(nobody.customer_id(), None);
        assert!(nobody.require_customer(id).is_err());
        assert!(nobody.require_any_role().is_err());
        assert!(nobody.own_customer_id().is_err());
    }
}
