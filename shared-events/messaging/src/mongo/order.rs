//! Which unsent outbox records the relay may publish now, and in what order.
//!
//! Within one key only the run of consecutive numbers starting at the key's head (its lowest
//! unsent number) is publishable, in number order. Across keys, records keep the order of the
//! read (oldest `_id` first): each key's records are put, in number order, in the places its
//! records held in the read.

use std::collections::{HashMap, VecDeque};

use super::outbox::OutboxDoc;

/// Records of `key` numbered `from..to` that the first read did not reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gap {
    pub key: String,
    pub from: i64,
    pub to: i64,
}

/// The keys whose head is not among `read`: the numbers from the head up to the lowest one read.
pub(super) fn missing_heads(read: &[OutboxDoc], heads: &HashMap<String, i64>) -> Vec<Gap> {
    let mut lowest: HashMap<&str, i64> = HashMap::new();
    for doc in read {
        lowest
            .entry(doc.key.as_str())
            .and_modify(|seq| *seq = (*seq).min(doc.seq))
            .or_insert(doc.seq);
    }
    let mut gaps: Vec<Gap> = lowest
        .into_iter()
        .filter_map(|(key, lowest)| {
            let head = *heads.get(key)?;
            (lowest > head).then(|| Gap {
                key: key.to_owned(),
                from: head,
                to: lowest,
            })
        })
        .collect();
    gaps.sort_by(|a, b| a.key.cmp(&b.key));
    gaps
}

/// Up to `limit` of `read`, ordered for publishing: for each key, the run of consecutive numbers
/// from its head in `heads`; records after a missing number, and keys without a head, wait.
pub(super) fn publishable(
    read: Vec<OutboxDoc>,
    heads: &HashMap<String, i64>,
    limit: usize,
) -> Vec<OutboxDoc> {
    let places: Vec<String> = read.iter().map(|doc| doc.key.clone()).collect();
    let mut by_key: HashMap<String, Vec<OutboxDoc>> = HashMap::new();
    for doc in read {
        by_key.entry(doc.key.clone()).or_default().push(doc);
    }
    let mut runs: HashMap<String, VecDeque<OutboxDoc>> = by_key
        .into_iter()
        .map(|(key, docs)| {
            let run = match heads.get(&key) {
                Some(&head) => run_from(docs, head),
                None => VecDeque::new(),
            };
            (key, run)
        })
        .collect();
    let mut batch = Vec::with_capacity(places.len().min(limit));
    for key in &places {
        if batch.len() >= limit {
            break;
        }
        if let Some(doc) = runs.get_mut(key).and_then(VecDeque::pop_front) {
            batch.push(doc);
        }
    }
    batch
}

/// The records numbered `head`, `head + 1`, ... up to the first number missing from `docs`.
fn run_from(mut docs: Vec<OutboxDoc>, head: i64) -> VecDeque<OutboxDoc> {
    docs.sort_by_key(|doc| doc.seq);
    let mut run = VecDeque::with_capacity(docs.len());
    let mut next = head;
    for doc in docs {
        if doc.seq == next {
            run.push_back(doc);
            next += 1;
        } else if doc.seq > next {
            break;
        }
        // Below `next`: already in the run (read twice) or already sent; skip it.
    }
    run
}

#[cfg(test)]
mod tests {
    use mongodb::bson::oid::ObjectId;
    use mongodb::bson::DateTime;

    use super::*;

    fn rec(key: &str, seq: i64) -> OutboxDoc {
        OutboxDoc {
            id: ObjectId::new(),
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: "order.cancelled".into(),
            key: key.into(),
            payload: "{}".into(),
            traceparent: None,
            created_at: DateTime::now(),
            seq,
        }
    }

    fn heads(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
        pairs.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    fn order(batch: &[OutboxDoc]) -> Vec<(String, i64)> {
        batch.iter().map(|d| (d.key.clone(), d.seq)).collect()
    }

    fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    #[test]
    fn an_ordered_read_passes_through() {
        let read = vec![rec("a", 1), rec("b", 4), rec("a", 2), rec("b", 5)];
        let batch = publishable(read, &heads(&[("a", 1), ("b", 4)]), 10);
        assert_eq!(
            order(&batch),
            pairs(&[("a", 1), ("b", 4), ("a", 2), ("b", 5)])
        );
    }

    #[test]
    fn a_key_read_out_of_number_order_is_put_back_in_order_in_its_places() {
        // `_id` order disagrees with commit order, as with ObjectIds from two hosts.
        let read = vec![rec("a", 3), rec("b", 1), rec("a", 1), rec("a", 2)];
        let batch = publishable(read, &heads(&[("a", 1), ("b", 1)]), 10);
        assert_eq!(
            order(&batch),
            pairs(&[("a", 1), ("b", 1), ("a", 2), ("a", 3)])
        );
    }

    #[test]
    fn a_key_whose_head_was_not_read_waits_and_its_gap_is_reported() {
        let read = vec![rec("a", 2), rec("a", 3), rec("b", 7)];
        let h = heads(&[("a", 1), ("b", 7)]);
        assert_eq!(
            missing_heads(&read, &h),
            vec![Gap {
                key: "a".into(),
                from: 1,
                to: 2
            }]
        );
        let batch = publishable(read.clone(), &h, 10);
        assert_eq!(order(&batch), pairs(&[("b", 7)]));

        // Once the gap is fetched (appended after the first read), the whole key goes, in order.
        let mut filled = read;
        filled.push(rec("a", 1));
        assert!(missing_heads(&filled, &h).is_empty());
        let batch = publishable(filled, &h, 10);
        assert_eq!(
            order(&batch),
            pairs(&[("a", 1), ("a", 2), ("b", 7), ("a", 3)])
        );
    }

    #[test]
    fn a_run_stops_at_the_first_missing_number() {
        let read = vec![rec("a", 1), rec("a", 2), rec("a", 4), rec("a", 5)];
        let batch = publishable(read, &heads(&[("a", 1)]), 10);
        assert_eq!(order(&batch), pairs(&[("a", 1), ("a", 2)]));
    }

    #[test]
    fn the_limit_keeps_a_prefix_of_each_key() {
        let read = vec![
            rec("a", 2),
            rec("b", 1),
            rec("a", 1),
            rec("b", 2),
            rec("a", 3),
        ];
        let batch = publishable(read, &heads(&[("a", 1), ("b", 1)]), 3);
        assert_eq!(order(&batch), pairs(&[("a", 1), ("b", 1), ("a", 2)]));
    }

    #[test]
    fn records_read_twice_and_keys_without_a_head_are_skipped() {
        let read = vec![rec("a", 1), rec("a", 1), rec("a", 2), rec("z", 1)];
        let batch = publishable(read, &heads(&[("a", 1)]), 10);
        assert_eq!(order(&batch), pairs(&[("a", 1), ("a", 2)]));
        assert!(missing_heads(&[rec("z", 3)], &heads(&[])).is_empty());
    }

    #[test]
    fn nothing_read_nothing_published() {
        assert!(publishable(Vec::new(), &heads(&[("a", 1)]), 10).is_empty());
        assert!(missing_heads(&[], &heads(&[("a", 1)])).is_empty());
    }
}
