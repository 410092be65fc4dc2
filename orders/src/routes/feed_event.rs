//! [`FeedEvent`]: the schema of one Server-Sent Event of `GET /orders/stream` (the schema of
//! each event, not of the stream): first `ready`, then one `transition` per saga event. Its
//! `data` is a string of JSON, which JSON Schema says with `contentMediaType` and
//! `contentSchema`; utoipa has no builder for the latter, so it is added as a raw keyword.

use std::borrow::Cow;

use serde_json::{json, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// One Server-Sent Event of the saga feed (documentation only).
pub struct FeedEvent;

/// The pattern of a feed position, `<xid>-<seq>`.
const CURSOR: &str = "^[0-9]+-[0-9]+$";

/// A string property.
fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A `data` field: a string holding JSON of `content_schema`.
fn json_data(content_schema: Value) -> ObjectBuilder {
    string()
        .content_media_type("application/json")
        .extensions(Some(Extensions::from_iter([(
            "contentSchema",
            content_schema,
        )])))
}

/// One kind of event: its name, what its id means, and its data (plus `extra` properties).
fn event(name: &str, id: &str, data: ObjectBuilder, extra: Option<(&str, Schema)>) -> Schema {
    let mut event = ObjectBuilder::new()
        .schema_type(Type::Object)
        .required("event")
        .required("id")
        .required("data")
        .property("event", string().enum_values(Some([name])))
        .property("id", string().pattern(Some(CURSOR)).description(Some(id)));
    if let Some((name, schema)) = extra {
        event = event.property(name, schema);
    }
    event.property("data", data).into()
}

impl utoipa::PartialSchema for FeedEvent {
    fn schema() -> RefOr<Schema> {
        let retry = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("Milliseconds a browser waits before reconnecting"))
            .into();
        let ready = json_data(json!({
            "type": "object", "required": ["cursor"],
            "properties": { "cursor": { "type": "string", "pattern": CURSOR } }
        }));
        let transition = json_data(json!({ "$ref": "#/components/schemas/Transition" }));
        OneOfBuilder::new()
            .description(Some(
                "One Server-Sent Event of the feed (the schema of each event, not of the \
                 stream): first `ready`, then one `transition` per saga event.",
            ))
            .item(event(
                "ready",
                "Where the stream starts",
                ready,
                Some(("retry", retry)),
            ))
            .item(event(
                "transition",
                "The transition's id: the cursor to resume after it",
                transition,
                None,
            ))
            .into()
    }
}

impl utoipa::ToSchema for FeedEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FeedEvent")
    }
}
