//! Redrive: send dead letters back to the topic they came from, as they were, so the
//! consumers try them again (after the bug that rejected them is fixed, say).
//!
//! Each letter goes to its `dlq.original_topic` with its original key (so to the same
//! partition, and after what its key has had since), its payload, and its original headers
//! (`event_type`, `traceparent`, ...) without the `dlq.*` ones, plus `dlq.redriven_from`
//! naming the letter. The producer is the services' (acks=all, idempotent), and every send is
//! acknowledged before the report is returned. Consumers apply an event at most once (the
//! inbox, by `event_id`), so redriving a letter twice, or one whose event got through after
//! all, does no harm. Letters are refused, and reported, when redriving cannot be right: a
//! cut-down copy (its payload is not the event), one without a payload, and one whose original
//! topic is not an event topic of this namespace.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde::Serialize;

use super::letter::DeadLetter;
use super::read::{read_all, read_topic};
use super::select::Selection;
use super::{DlqToolError, BROKER_TIMEOUT, HEADER_REDRIVEN_FROM};
use crate::messaging::config::KafkaConfig;
use crate::messaging::consumer::HEADER_DLQ_PREFIX;

/// What a redrive did (or, for [`plan_redrive`], would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedriveReport {
    /// True when nothing was sent: the report is a plan.
    pub dry_run: bool,
    /// The letters sent (or to be sent), in the order they were sent.
    pub sent: Vec<Redriven>,
    /// The selected letters that were not sent, and why.
    pub skipped: Vec<Skipped>,
}

/// A letter sent back to its topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redriven {
    /// The letter's id, also in the new record's `dlq.redriven_from` header.
    pub id: String,
    /// Its event id, if its payload had one.
    pub event_id: Option<String>,
    /// The topic it was sent to.
    pub topic: String,
    /// Where the broker put the new record (`None` in a dry run).
    pub partition: Option<i32>,
    /// Its offset there (`None` in a dry run).
    pub offset: Option<i64>,
}

/// A selected letter that was not sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The letter's id.
    pub id: String,
    /// Its event id, if its payload had one.
    pub event_id: Option<String>,
    /// Why it was not sent.
    pub reason: SkipReason,
}

/// Why a letter cannot be redriven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// A cut-down copy (`dlq.payload_truncated`): its payload is only the start of the
    /// original, which is in the runtime's log alone.
    Truncated {
        /// The original payload's size in bytes.
        original_size: usize,
    },
    /// The record has no payload: there is no event to send.
    NoPayload,
    /// Its original topic is not an event topic of this namespace; sending there could feed
    /// another namespace's consumers.
    ForeignTopic {
        /// The topic it would have gone to.
        topic: String,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Truncated { original_size } => write!(
                f,
                "a cut-down copy (the original payload was {original_size} bytes)"
            ),
            SkipReason::NoPayload => f.write_str("no payload"),
            SkipReason::ForeignTopic { topic } => {
                write!(f, "its original topic {topic} is not of this namespace")
            }
        }
    }
}

/// Redrives the selected letters and waits for the broker to acknowledge each one.
pub async fn redrive(
    config: &KafkaConfig,
    selection: Selection,
) -> Result<RedriveReport, DlqToolError> {
    let (letters, skipped) = choose(config, &selection).await?;
    let producer: FutureProducer = config
        .producer_config()
        // Bounded, so a broker that goes away mid-redrive gives an error, not a hang. A send
        // that timed out may still have landed; redriving again is safe.
        .set(
            "message.timeout.ms",
            (2 * BROKER_TIMEOUT).as_millis().to_string(),
        )
        .create()
        .map_err(|source| DlqToolError::Client {
            what: "producer",
            source,
        })?;
    // Enqueue all in order (the idempotent producer keeps each partition's order), then wait.
    let mut pending: Vec<(Redriven, DeliveryFuture)> = Vec::with_capacity(letters.len());
    for letter in &letters {
        let topic = letter.target_topic();
        let headers = headers(letter);
        let delivery = loop {
            let mut record = FutureRecord::to(&topic)
                .headers(headers.clone())
                .payload(letter.payload.as_deref().unwrap_or_default());
            if let Some(key) = &letter.key {
                record = record.key(key.as_slice());
            }
            match producer.send_result(record) {
                Ok(delivery) => break delivery,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((source, _)) => {
                    return Err(DlqToolError::Delivery {
                        id: letter.id.clone(),
                        topic,
                        sent: 0,
                        source: Box::new(source),
                    })
                }
            }
        };
        pending.push((planned(letter), delivery));
    }
    let mut sent = Vec::with_capacity(pending.len());
    for (mut redriven, delivery) in pending {
        let result = match delivery.await {
            Ok(Ok(d)) => Ok((d.partition, d.offset)),
            Ok(Err((e, _))) => Err(e),
            Err(_) => Err(KafkaError::Canceled),
        };
        match result {
            Ok((partition, offset)) => {
                redriven.partition = Some(partition);
                redriven.offset = Some(offset);
                sent.push(redriven);
            }
            Err(source) => {
                return Err(DlqToolError::Delivery {
                    id: redriven.id,
                    topic: redriven.topic,
                    sent: sent.len(),
                    source: Box::new(source),
                })
            }
        }
    }
    Ok(RedriveReport {
        dry_run: false,
        sent,
        skipped,
    })
}

/// What [`redrive`] would do for `selection`, sending nothing.
pub async fn plan_redrive(
    config: &KafkaConfig,
    selection: Selection,
) -> Result<RedriveReport, DlqToolError> {
    let (letters, skipped) = choose(config, &selection).await?;
    Ok(RedriveReport {
        dry_run: true,
        sent: letters.iter().map(planned).collect(),
        skipped,
    })
}

/// The selected letters, split into those to send and those refused.
async fn choose(
    config: &KafkaConfig,
    selection: &Selection,
) -> Result<(Vec<DeadLetter>, Vec<Skipped>), DlqToolError> {
    let letters = match selection.dlq_topic(config)? {
        Some(topic) => read_topic(config, &topic).await?,
        None => read_all(config).await?,
    };
    let mut send = Vec::new();
    let mut skipped = Vec::new();
    for letter in letters.into_iter().filter(|l| selection.matches(l)) {
        match refusal(config, &letter) {
            None => send.push(letter),
            Some(reason) => skipped.push(Skipped {
                id: letter.id,
                event_id: letter.event_id,
                reason,
            }),
        }
    }
    Ok((send, skipped))
}

/// Why `letter` must not be redriven, if it must not.
fn refusal(config: &KafkaConfig, letter: &DeadLetter) -> Option<SkipReason> {
    if let Some(original_size) = letter.truncated_from {
        return Some(SkipReason::Truncated { original_size });
    }
    if letter.payload.is_none() {
        return Some(SkipReason::NoPayload);
    }
    let topic = letter.target_topic();
    if config.event_type_of(&topic).is_none() {
        return Some(SkipReason::ForeignTopic { topic });
    }
    None
}

fn planned(letter: &DeadLetter) -> Redriven {
    Redriven {
        id: letter.id.clone(),
        event_id: letter.event_id.clone(),
        topic: letter.target_topic(),
        partition: None,
        offset: None,
    }
}

/// The original's headers, in order, without the `dlq.*` ones, then `dlq.redriven_from`.
fn headers(letter: &DeadLetter) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    for (key, value) in &letter.headers {
        if !key.starts_with(HEADER_DLQ_PREFIX) {
            headers = headers.insert(Header {
                key,
                value: value.as_deref(),
            });
        }
    }
    headers.insert(Header {
        key: HEADER_REDRIVEN_FROM,
        value: Some(letter.id.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Headers;

    fn letter() -> DeadLetter {
        DeadLetter {
            id: "t1.order.paid.dlq:0:4".into(),
            dlq_topic: "t1.order.paid.dlq".into(),
            partition: 0,
            offset: 4,
            timestamp: None,
            original_topic: Some("t1.order.paid".into()),
            original_partition: Some(2),
            original_offset: Some(9),
            reason: Some("permanent".into()),
            error: Some("boom".into()),
            attempts: Some(1),
            consumer_group: Some("t1.billing".into()),
            truncated_from: None,
            event_id: None,
            event_type: None,
            key: Some(b"k".to_vec()),
            payload: Some(b"{}".to_vec()),
            headers: vec![
                ("event_type".into(), Some(b"order.paid".to_vec())),
                ("dlq.reason".into(), Some(b"permanent".to_vec())),
                ("traceparent".into(), None),
                ("dlq.redriven_from".into(), Some(b"older".to_vec())),
            ],
        }
    }

    #[test]
    fn redriven_headers_drop_every_dlq_header_and_name_the_letter() {
        let h = headers(&letter());
        let got: Vec<(&str, Option<&[u8]>)> = h.iter().map(|h| (h.key, h.value)).collect();
        assert_eq!(
            got,
            [
                ("event_type", Some(&b"order.paid"[..])),
                ("traceparent", None),
                ("dlq.redriven_from", Some(&b"t1.order.paid.dlq:0:4"[..])),
            ]
        );
    }

    #[test]
    fn cut_down_copies_empty_records_and_foreign_topics_are_refused() {
        let c = KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        assert_eq!(refusal(&c, &letter()), None);
        let cut = DeadLetter {
            truncated_from: Some(999_800),
            ..letter()
        };
        assert_eq!(
            refusal(&c, &cut),
            Some(SkipReason::Truncated {
                original_size: 999_800
            })
        );
        let empty = DeadLetter {
            payload: None,
            ..letter()
        };
        assert_eq!(refusal(&c, &empty), Some(SkipReason::NoPayload));
        let foreign = DeadLetter {
            original_topic: Some("t2.order.paid".into()),
            ..letter()
        };
        assert!(matches!(
            refusal(&c, &foreign),
            Some(SkipReason::ForeignTopic { topic }) if topic == "t2.order.paid"
        ));
        let unlabelled = DeadLetter {
            original_topic: None,
            ..letter()
        };
        assert_eq!(unlabelled.target_topic(), "t1.order.paid");
        assert_eq!(refusal(&c, &unlabelled), None);
    }
}
