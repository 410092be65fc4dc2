//! `dlq`: list, show and redrive the dead letters of a namespace (the library is
//! [`saga_dlq`]; `dlq --help` for usage). Settings come from the `KAFKA_*` variables, as the
//! operator; `KAFKA_TOPIC_PREFIX` names the namespace.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    saga_dlq::cli::main().await
}
