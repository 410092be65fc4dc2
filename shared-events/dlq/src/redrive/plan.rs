//! Choosing what to redrive: read the letters the selection can be in, keep those it
//! selects, and refuse, with a reason, those redriving cannot be right for. A dry run stops
//! here and reports the plan.

use super::report::{RedriveReport, Redriven, SkipReason, Skipped};
use crate::letter::DeadLetter;
use crate::read::{read_all, read_topic};
use crate::select::Selection;
use crate::DlqToolError;
use saga_messaging::config::KafkaConfig;

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
pub(super) async fn choose(
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

/// The report line for `letter` before it is sent: where it goes, not yet where it landed.
pub(super) fn planned(letter: &DeadLetter) -> Redriven {
    Redriven {
        id: letter.id.clone(),
        event_id: letter.event_id.clone(),
        topic: letter.target_topic(),
        partition: None,
        offset: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::redrivable;

    #[test]
    fn cut_down_copies_empty_records_and_foreign_topics_are_refused() {
        let c = KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        assert_eq!(refusal(&c, &redrivable()), None);
        let cut = DeadLetter {
            truncated_from: Some(999_800),
            ..redrivable()
        };
        assert_eq!(
            refusal(&c, &cut),
            Some(SkipReason::Truncated {
                original_size: 999_800
            })
        );
        let empty = DeadLetter {
            payload: None,
            ..redrivable()
        };
        assert_eq!(refusal(&c, &empty), Some(SkipReason::NoPayload));
        let foreign = DeadLetter {
            original_topic: Some("t2.order.paid".into()),
            ..redrivable()
        };
        assert!(matches!(
            refusal(&c, &foreign),
            Some(SkipReason::ForeignTopic { topic }) if topic == "t2.order.paid"
        ));
        let unlabelled = DeadLetter {
            original_topic: None,
            ..redrivable()
        };
        assert_eq!(unlabelled.target_topic(), "t1.order.paid");
        assert_eq!(refusal(&c, &unlabelled), None);
    }
}
