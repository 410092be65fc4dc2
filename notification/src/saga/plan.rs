//! What planning one event's writes gives ([`Plan`]), and writes that always run ([`always`]):
//! shared by the handler's dispatch and the files of the events that plan more than one call.

use saga_messaging::redis_store::RedisEffect;
use saga_messaging::HandlerError;

use crate::store::Command;

/// What planning one event's writes gives: the writes, or why not (yet).
pub type Plan = Result<RedisEffect, HandlerError>;

/// An effect of `commands` that always run (no guard).
pub fn always(commands: Vec<Command>) -> RedisEffect {
    commands
        .into_iter()
        .fold(RedisEffect::new(), RedisEffect::command)
}
