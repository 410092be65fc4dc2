//! The help text of `dlq --help`, also printed after a usage error: the one place the
//! commands, options, settings and exit codes are described to the operator.

/// The help text, also printed after a usage error.
pub const USAGE: &str = "\
dlq: inspect and redrive the dead-letter topics (<topic>.dlq) of a namespace

usage:
  dlq list [--topic T] [--json]
  dlq show <id|event-id> [--json]
  dlq redrive (--all | --topic T | --event-id E | --id ID) [--dry-run] [--json]
  dlq --help

  list     every letter, oldest first per partition, then a count per topic
  show     every field of a letter (by its id, <dlq topic>:<partition>:<offset>, or by
           its event id), its headers and its payload
  redrive  send letters back to their original topic with their original key and
           headers (without dlq.*, with dlq.redriven_from = the letter's id); consumers
           are idempotent by event id, so a redrive is safe to repeat. Cut-down copies
           (dlq.payload_truncated) are skipped. The letters stay in the DLQ topic.

  --topic T   an event topic, with or without the prefix (order.created), or a DLQ
              topic (order.created.dlq)
  --dry-run   say what would be sent, send nothing
  --json      machine-readable output: key, payload and header values are strings
              when UTF-8, else {\"base64\": \"...\"}

environment: KAFKA_BROKERS (127.0.0.1:9092), KAFKA_TOPIC_PREFIX (the namespace, empty)
exit codes: 0 done, 1 failed, 2 bad usage
";
