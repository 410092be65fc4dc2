//! Creating [`AclRule`]s on the broker, through librdkafka's admin API.
//!
//! rust-rdkafka wraps topic and configuration administration but not ACLs, so this calls
//! librdkafka's `rd_kafka_CreateAcls` through the bindings rdkafka re-exports: the request is
//! Kafka's CreateAcls, sent with the client's own security settings (the operator's principal).
//! Creating a rule that exists is not an error, so provisioning can run again.

use std::ffi::{c_char, CStr, CString};
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::bindings as rd;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;

use crate::acl::{AclRule, Operation, Resource};
use crate::config::KafkaConfig;

/// Why rules could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    /// The admin client could not be created from the configuration; nothing was sent.
    #[error("creating the Kafka admin client")]
    Client(#[source] KafkaError),
    /// librdkafka refused to build a rule (a name with a NUL byte, say); nothing was sent.
    #[error("invalid ACL rule {rule}: {message}")]
    Invalid {
        /// The rule.
        rule: String,
        /// librdkafka's reason.
        message: String,
    },
    /// The request as a whole failed: no broker answered in time, or the broker refused the
    /// client (authentication failed, or the principal may not create ACLs).
    #[error("the CreateAcls request failed: {message}")]
    Request {
        /// librdkafka's or the broker's reason.
        message: String,
    },
    /// The broker answered but refused some rules.
    #[error("the broker refused {} ACL rule(s), first {}: {}", .refused.len(), .refused[0].0, .refused[0].1)]
    Refused {
        /// Each refused rule (as text) and the broker's reason.
        refused: Vec<(String, String)>,
    },
}

/// Creates `rules` on the broker `config` names, waiting up to `timeout` for its answer.
pub async fn create_acls(
    config: &KafkaConfig,
    rules: &[AclRule],
    timeout: Duration,
) -> Result<(), AclError> {
    if rules.is_empty() {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> =
        config.admin_config().create().map_err(AclError::Client)?;
    let rules = rules.to_vec();
    tokio::task::spawn_blocking(move || create_blocking(&admin, &rules, timeout))
        .await
        .map_err(|e| AclError::Request {
            message: format!("the admin task ended: {e}"),
        })?
}

/// The librdkafka objects of one request, destroyed when dropped.
struct Request {
    queue: *mut rd::rd_kafka_queue_t,
    options: *mut rd::rd_kafka_AdminOptions_t,
    bindings: Vec<*mut rd::rd_kafka_AclBinding_t>,
    event: *mut rd::rd_kafka_event_t,
}

impl Drop for Request {
    fn drop(&mut self) {
        // SAFETY: each pointer was returned by librdkafka's constructor for it, is destroyed
        // once, here, and is not used after.
        unsafe {
            if !self.event.is_null() {
                rd::rd_kafka_event_destroy(self.event);
            }
            for &b in &self.bindings {
                rd::rd_kafka_AclBinding_destroy(b);
            }
            if !self.options.is_null() {
                rd::rd_kafka_AdminOptions_destroy(self.options);
            }
            if !self.queue.is_null() {
                rd::rd_kafka_queue_destroy(self.queue);
            }
        }
    }
}

fn c_string(s: &str, rule: &AclRule) -> Result<CString, AclError> {
    CString::new(s).map_err(|_| AclError::Invalid {
        rule: rule.to_string(),
        message: "contains a NUL byte".into(),
    })
}

/// # Safety
/// `p` is null or a NUL-terminated string that outlives the call.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn create_blocking(
    admin: &AdminClient<DefaultClientContext>,
    rules: &[AclRule],
    timeout: Duration,
) -> Result<(), AclError> {
    let rk = admin.inner().native_ptr();
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let mut errstr = [0 as c_char; 512];
    // SAFETY: `rk` is the live handle of `admin`, which outlives this function; every object
    // made here is owned by `request` and destroyed by its Drop; the strings passed to
    // librdkafka live until the call that copies them returns.
    unsafe {
        let mut request = Request {
            queue: rd::rd_kafka_queue_new(rk),
            options: rd::rd_kafka_AdminOptions_new(
                rk,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS,
            ),
            bindings: Vec::with_capacity(rules.len()),
            event: std::ptr::null_mut(),
        };
        rd::rd_kafka_AdminOptions_set_request_timeout(
            request.options,
            timeout_ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        let any_host = CString::new("*").expect("no NUL");
        for rule in rules {
            let name = c_string(&rule.name, rule)?;
            let principal = c_string(&rule.principal, rule)?;
            let binding = rd::rd_kafka_AclBinding_new(
                resource_type(rule.resource),
                name.as_ptr(),
                rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                principal.as_ptr(),
                any_host.as_ptr(),
                operation(rule.operation),
                rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
            if binding.is_null() {
                return Err(AclError::Invalid {
                    rule: rule.to_string(),
                    message: text(errstr.as_ptr()),
                });
            }
            request.bindings.push(binding);
        }
        rd::rd_kafka_CreateAcls(
            rk,
            request.bindings.as_mut_ptr(),
            request.bindings.len(),
            request.options,
            request.queue,
        );
        request.event = rd::rd_kafka_queue_poll(request.queue, timeout_ms.saturating_add(5_000));
        if request.event.is_null() {
            return Err(AclError::Request {
                message: format!("no answer within {timeout:?}"),
            });
        }
        if rd::rd_kafka_event_error(request.event)
            != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        {
            return Err(AclError::Request {
                message: text(rd::rd_kafka_event_error_string(request.event)),
            });
        }
        let result = rd::rd_kafka_event_CreateAcls_result(request.event);
        let mut count = 0usize;
        let results = rd::rd_kafka_CreateAcls_result_acls(result, &mut count);
        let mut refused = Vec::new();
        for (i, rule) in rules.iter().enumerate().take(count) {
            let error = rd::rd_kafka_acl_result_error(*results.add(i));
            if !error.is_null() {
                refused.push((rule.to_string(), text(rd::rd_kafka_error_string(error))));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(AclError::Refused { refused })
        }
    }
}

fn resource_type(resource: Resource) -> rd::rd_kafka_ResourceType_t {
    use rd::rd_kafka_ResourceType_t::*;
    match resource {
        Resource::Topic => RD_KAFKA_RESOURCE_TOPIC,
        Resource::Group => RD_KAFKA_RESOURCE_GROUP,
        // Kafka's CLUSTER resource type is librdkafka's BROKER (both 4).
        Resource::Cluster => RD_KAFKA_RESOURCE_BROKER,
    }
}

fn operation(operation: Operation) -> rd::rd_kafka_AclOperation_t {
    use rd::rd_kafka_AclOperation_t::*;
    match operation {
        Operation::Read => RD_KAFKA_ACL_OPERATION_READ,
        Operation::Write => RD_KAFKA_ACL_OPERATION_WRITE,
        Operation::Describe => RD_KAFKA_ACL_OPERATION_DESCRIBE,
        Operation::IdempotentWrite => RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE,
    }
}
