//! The order in which records read from the outbox collection (rather than from its change
//! stream) are published: each key's records by their number, which follows commit order (see
//! the module documentation of [`super`]). Across keys the records keep the order of the read:
//! each key's records are put, in number order, in the places its records held.

use std::collections::{HashMap, VecDeque};

use super::outbox::OutboxDoc;

/// `read`, with each key's records in number order.
pub(super) fn in_key_order(read: Vec<OutboxDoc>) -> Vec<OutboxDoc> {
    let places: Vec<String> = read.iter().map(|doc| doc.key.clone()).collect();
    let mut by_key: HashMap<String, Vec<OutboxDoc>> = HashMap::new();
    for doc in read {
        by_key.entry(doc.key.clone()).or_default().push(doc);
    }
    let mut runs: HashMap<String, VecDeque<OutboxDoc>> = by_key
        .into_iter()
        .map(|(key, mut docs)| {
            docs.sort_by_key(|doc| doc.seq);
            (key, docs.into())
        })
        .collect();
    places
        .iter()
        .filter_map(|key| runs.get_mut(key).and_then(VecDeque::pop_front))
        .collect()
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

    fn order(batch: &[OutboxDoc]) -> Vec<(String, i64)> {
        batch.iter().map(|d| (d.key.clone(), d.seq)).collect()
    }

    fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    #[test]
    fn an_ordered_read_passes_through() {
        let read = vec![rec("a", 1), rec("b", 4), rec("a", 2), rec("b", 5)];
        assert_eq!(
            order(&in_key_order(read)),
            pairs(&[("a", 1), ("b", 4), ("a", 2), ("b", 5)])
        );
    }

    #[test]
    fn a_key_read_out_of_number_order_is_put_back_in_order_in_its_places() {
        // `_id` order disagrees with commit order, as with ObjectIds from two hosts.
        let read = vec![rec("a", 3), rec("b", 1), rec("a", 1), rec("a", 2)];
        assert_eq!(
            order(&in_key_order(read)),
            pairs(&[("a", 1), ("b", 1), ("a", 2), ("a", 3)])
        );
    }

    #[test]
    fn gaps_in_a_keys_numbers_do_not_hold_it_back() {
        // Records before the window read, or published and deleted, leave gaps.
        let read = vec![rec("a", 7), rec("a", 4), rec("b", 2)];
        assert_eq!(
            order(&in_key_order(read)),
            pairs(&[("a", 4), ("a", 7), ("b", 2)])
        );
    }

    #[test]
    fn nothing_read_nothing_published() {
        assert!(in_key_order(Vec::new()).is_empty());
    }
}
