//! `dlq`: list, show and redrive the dead letters of a namespace (see
//! [`shared_events::messaging::dlq_tool`]; `dlq --help` for usage). Settings come from `KAFKA_BROKERS`
//! and `KAFKA_TOPIC_PREFIX`.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    shared_events::messaging::dlq_tool::cli::main(std::env::args().skip(1)).await
}
