//! Sending the chosen letters back: one producer with the services' settings (acks=all,
//! idempotent) and a bounded delivery timeout, every record enqueued in order and then every
//! acknowledgement awaited, each record carrying the original's headers without `dlq.*` and
//! with `dlq.redriven_from`.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use super::plan::{choose, planned};
use super::report::{RedriveReport, Redriven};
use crate::letter::DeadLetter;
use crate::select::Selection;
use crate::{DlqToolError, BROKER_TIMEOUT, HEADER_REDRIVEN_FROM};
use saga_messaging::config::KafkaConfig;
use saga_messaging::consumer::HEADER_DLQ_PREFIX;

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
    use crate::fixture::redrivable;
    use rdkafka::message::Headers;

    #[test]
    fn redriven_headers_drop_every_dlq_header_and_name_the_redrivable() {
        let h = headers(&redrivable());
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
}
