//! `provision`: the operator's step that creates, on the broker, the topics of every event (and
//! their dead-letter topics) and each service's access rules, derived from the saga's table
//! ([`saga_contracts::services`]). Idempotent.
//!
//! It connects with the `KAFKA_*` settings as the principal `operator` (by default the local
//! stack's); `KAFKA_TOPIC_PREFIX` names the namespace.

use std::process::ExitCode;

use clap::Parser;
use saga_contracts::services::{service, ServiceEvents, SERVICES};
use saga_messaging::env::Env;
use saga_messaging::provision::{plan, provision, settings};

/// Create the saga's topics and each service's ACLs on the broker (as the operator).
#[derive(Debug, Parser)]
#[command(name = "provision", version)]
struct Args {
    /// Only these services (default: all five).
    #[arg(long = "service", value_name = "NAME", value_parser = parse_service)]
    services: Vec<ServiceEvents>,
    /// Print the topics and rules without touching the broker.
    #[arg(long)]
    dry_run: bool,
}

fn parse_service(name: &str) -> Result<ServiceEvents, String> {
    service(name).ok_or_else(|| {
        let names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
        format!("no service {name:?}; one of {}", names.join(", "))
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let services = if args.services.is_empty() {
        SERVICES.to_vec()
    } else {
        args.services
    };
    let config = match settings(&Env::process()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "provision: {}",
                anyhow::Error::new(e)
                    .chain()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(": ")
            );
            return ExitCode::from(2);
        }
    };
    if args.dry_run {
        let planned = plan(&config, &services);
        for t in &planned.topics {
            println!("topic {t}");
        }
        for r in &planned.rules {
            println!("allow {r}");
        }
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "provision: {} topics and the ACLs of {} service(s) on {} as {} ...",
        plan(&config, &services).topics.len(),
        services.len(),
        config.brokers,
        config.security.username.as_deref().unwrap_or("(anonymous)")
    );
    match provision(&config, &services).await {
        Ok(done) => {
            println!(
                "provision: {} topics and {} ACL rules in place (namespace {:?})",
                done.topics.len(),
                done.rules.len(),
                config.topic_prefix
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let chain: Vec<String> = anyhow::Error::new(e)
                .chain()
                .map(|c| c.to_string())
                .collect();
            eprintln!("provision: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
