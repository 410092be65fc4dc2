//! Contract tests: every event type has a golden JSON file under `tests/golden/`, and the
//! current code must write exactly that JSON and read it back to the same value. A change to a
//! payload's shape fails here until the golden file is regenerated on purpose with
//! `UPDATE_GOLDEN=1 cargo test -p saga-contracts --test contracts`.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use saga_contracts::events::*;
use saga_contracts::{DecodeError, Envelope, EventPayload, EventType, Money};
use uuid::Uuid;

fn money(s: &str) -> Money {
    s.parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

/// One fixed sample per event type; the `match` makes a new event type a compile error here.
fn sample(t: EventType) -> EventPayload {
    let order = id(1);
    let customer = id(2);
    let lines = vec![
        OrderLine {
            sku: "SKU-APPLE".into(),
            quantity: 3,
            unit_price: money("1.25"),
        },
        OrderLine {
            sku: "SKU-PEAR".into(),
            quantity: 1,
            unit_price: money("10"),
        },
    ];
    let stock_lines = vec![
        StockLine {
            sku: "SKU-APPLE".into(),
            quantity: 3,
        },
        StockLine {
            sku: "SKU-PEAR".into(),
            quantity: 1,
        },
    ];
    match t {
        EventType::CustomerCreated => CustomerCreated {
            customer_id: customer,
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            credit_limit: money("500.00"),
        }
        .into(),
        EventType::OrderCreated => OrderCreated {
            order_id: order,
            customer_id: customer,
            items: lines,
            total: money("13.75"),
        }
        .into(),
        EventType::OrderPaid => OrderPaid {
            order_id: order,
            customer_id: customer,
            amount: money("13.75"),
        }
        .into(),
        EventType::PaymentFailed => PaymentFailed {
            order_id: order,
            customer_id: customer,
            amount: money("13.75"),
            reason: "insufficient_funds".into(),
        }
        .into(),
        EventType::PaymentRefunded => PaymentRefunded {
            order_id: order,
            customer_id: customer,
            amount: money("13.75"),
        }
        .into(),
        EventType::StockUpdated => StockUpdated {
            sku: "SKU-APPLE".into(),
            name: "Apple".into(),
            price: money("1.25"),
            available: 97,
            reserved: 3,
            sold: 20,
            low_stock_threshold: 10,
        }
        .into(),
        EventType::LowStock => LowStock {
            sku: "SKU-APPLE".into(),
            name: "Apple".into(),
            available: 9,
            low_stock_threshold: 10,
        }
        .into(),
        EventType::StockReserved => StockReserved {
            order_id: order,
            items: stock_lines,
        }
        .into(),
        EventType::StockRejected => StockRejected {
            order_id: order,
            reason: "out_of_stock".into(),
            short_skus: vec!["SKU-PEAR".into()],
        }
        .into(),
        EventType::StockReleased => StockReleased {
            order_id: order,
            items: stock_lines,
        }
        .into(),
        EventType::OrderConfirmed => OrderConfirmed {
            order_id: order,
            customer_id: customer,
            items: lines,
            total: money("13.75"),
        }
        .into(),
        EventType::OrderCancelled => OrderCancelled {
            order_id: order,
            customer_id: customer,
            reason: "out_of_stock".into(),
        }
        .into(),
    }
}

fn envelope(t: EventType) -> Envelope {
    let mut e = Envelope::new("golden", sample(t));
    e.event_id = id(100);
    e.causation_id = Some(id(99));
    e.occurred_at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    e.traceparent = None;
    e
}

fn golden_path(t: EventType) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{}.json", t.as_str()))
}

#[test]
fn every_event_type_matches_its_golden_file_both_ways() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut mismatches = Vec::new();
    for &t in EventType::ALL {
        let event = envelope(t);
        let written = event.to_json_value();
        let path = golden_path(t);
        if update {
            let text = serde_json::to_string_pretty(&written).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let golden_text = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
        let golden: serde_json::Value = serde_json::from_str(&golden_text).unwrap();
        if written != golden {
            mismatches.push(format!(
                "{t}: code writes\n{}\nbut {} holds\n{}",
                serde_json::to_string_pretty(&written).unwrap(),
                path.display(),
                golden_text
            ));
            continue;
        }
        let read = Envelope::decode(golden_text.as_bytes())
            .unwrap_or_else(|e| panic!("{t}: golden file does not decode: {e}"));
        assert_eq!(read, event, "{t}: golden file decodes to a different event");
        assert_eq!(read.event_type(), t);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn golden_files_have_the_envelope_fields_of_the_spec() {
    for &t in EventType::ALL {
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(golden_path(t)).unwrap()).unwrap();
        let mut keys: Vec<&str> = golden
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "causation_id",
                "correlation_id",
                "data",
                "event_id",
                "event_type",
                "occurred_at",
                "producer",
                "schema_version"
            ],
            "{t}"
        );
        assert_eq!(golden["event_type"], t.as_str());
        assert_eq!(golden["occurred_at"], "2026-01-02T03:04:05Z");
    }
}

#[test]
fn money_is_a_two_place_string_in_every_payload() {
    let event = envelope(EventType::OrderCreated).to_json_value();
    assert_eq!(event["data"]["total"], "13.75");
    assert_eq!(event["data"]["items"][1]["unit_price"], "10.00");
}

#[test]
fn keys_follow_the_spec() {
    let order = id(1).to_string();
    for &t in EventType::ALL {
        let expected = match t {
            EventType::CustomerCreated => id(2).to_string(),
            EventType::StockUpdated | EventType::LowStock => "SKU-APPLE".into(),
            _ => order.clone(),
        };
        assert_eq!(envelope(t).key(), expected, "{t}");
    }
}

#[test]
fn an_unknown_type_or_version_is_a_clean_error() {
    let good = std::fs::read_to_string(golden_path(EventType::OrderPaid)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();

    v["schema_version"] = 2.into();
    match Envelope::decode(&serde_json::to_vec(&v).unwrap()) {
        Err(DecodeError::UnsupportedSchemaVersion {
            event_type,
            version,
        }) => {
            assert_eq!((event_type.as_str(), version), ("order.paid", 2));
        }
        other => panic!("expected UnsupportedSchemaVersion, got {other:?}"),
    }

    v["schema_version"] = 1.into();
    v["event_type"] = "order.teleported".into();
    let err = Envelope::decode(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(matches!(&err, DecodeError::UnknownEventType(t) if t == "order.teleported"));
    assert_eq!(err.to_string(), "unknown event type `order.teleported`");

    v["event_type"] = "order.paid".into();
    v["data"]["amount"] = "1.234".into();
    assert!(matches!(
        Envelope::decode(&serde_json::to_vec(&v).unwrap()),
        Err(DecodeError::InvalidPayload {
            event_type: EventType::OrderPaid,
            ..
        })
    ));

    for garbage in [
        &b""[..],
        b"null",
        b"{}",
        b"\xff\xfe",
        b"{\"event_type\": 5}",
    ] {
        assert!(matches!(
            Envelope::decode(garbage),
            Err(DecodeError::Malformed(_))
        ));
    }
}
