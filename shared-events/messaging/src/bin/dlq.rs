//! `dlq`: list, show and redrive the dead letters of a namespace (see
//! [`saga_messaging::dlq_tool`]; `dlq --help` for usage). Settings come from `KAFKA_BROKERS`
//! and `KAFKA_TOPIC_PREFIX`.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    saga_messaging::dlq_tool::cli::main(std::env::args().skip(1)).await
}
