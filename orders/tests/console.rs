//! The saga console's endpoints: the feed (`GET /orders/stream`, Server-Sent Events, resumed
//! with `Last-Event-ID`), its cursor under concurrent commits, the paged `GET /orders`, the
//! summary, and the page itself.

mod common;

use common::*;
use orders::store::feed;
use serde_json::{json, Value};
use shared_events::kit::testing::wait_for;
use uuid::Uuid;

/// An open SSE response, read event by event.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Event {
    id: Option<String>,
    kind: String,
    data: Value,
}

impl Sse {
    async fn open(app: &TestApp, last_event_id: Option<&str>) -> Sse {
        let mut request = reqwest::Client::new().get(app.url("/orders/stream"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("GET /orders/stream");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Sse {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), waiting at most `PATIENCE`.
    async fn next(&mut self) -> Event {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, "message".to_owned(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        kind = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue; // a comment or `retry:` only
                }
                let data = serde_json::from_str(&data).expect("an event's data is JSON");
                return Event { id, kind, data };
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("an event within PATIENCE")
                .expect("reading the stream")
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `transition` event about `order`.
    async fn next_about(&mut self, order: Uuid) -> Event {
        loop {
            let e = self.next().await;
            if e.kind == "transition" && e.data["order_id"] == order.to_string() {
                return e;
            }
        }
    }
}

fn cursor(e: &Event) -> feed::Cursor {
    e.id.as_deref().expect("an id").parse().expect("a cursor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_every_transition_and_resumes_after_last_event_id() {
    let app = TestApp::spawn().await;
    let mut sse = Sse::open(&app, None).await;
    let ready = sse.next().await;
    assert_eq!(ready.kind, "ready");
    assert_eq!(ready.data["cursor"], ready.id.clone().unwrap());

    let (_, placed) = app.seed(&unique_sku(), "3.00").await;
    let id = order_id_of(&placed);
    app.publish(&stock_rejected(id)).await;
    app.wait_status(id, "CANCELLED").await;

    let created = sse.next_about(id).await;
    let rejected = sse.next_about(id).await;
    let cancelled = sse.next_about(id).await;
    let seen: Vec<(&str, &str)> = [&created, &rejected, &cancelled]
        .iter()
        .map(|e| {
            (
                e.data["event_type"].as_str().unwrap(),
                e.data["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("order.created", "PENDING"),
            ("stock.rejected", "CANCELLED"),
            ("order.cancelled", "CANCELLED"),
        ]
    );
    assert_eq!(cancelled.data["reason"], "out_of_stock");
    assert_eq!(created.data["total"], placed["total"]);
    assert_eq!(created.data["created_at"], created.data["at"]);
    assert!(cursor(&created) > cursor(&ready));
    assert!(cursor(&rejected) > cursor(&created) && cursor(&cancelled) > cursor(&rejected));

    // A client that reconnects with the id of the first gets exactly the rest, once.
    let mut resumed = Sse::open(&app, created.id.as_deref()).await;
    assert_eq!(resumed.next().await.kind, "ready");
    let again = resumed.next().await;
    assert_eq!(again.id, rejected.id);
    assert_eq!(resumed.next().await.id, cancelled.id);

    // What happens after a resumption comes live on the same stream.
    let (_, later) = app.seed(&unique_sku(), "1.00").await;
    let later_created = resumed.next_about(order_id_of(&later)).await;
    assert_eq!(later_created.data["event_type"], "order.created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_last_event_id_is_refused() {
    let app = TestApp::spawn().await;
    let header = |value: reqwest::header::HeaderValue| {
        reqwest::Client::new()
            .get(app.url("/orders/stream"))
            .header("Last-Event-ID", value)
    };
    let query = |value: &str| {
        reqwest::Client::new()
            .get(app.url("/orders/stream"))
            .query(&[("last_event_id", value)])
    };
    let mut requests = Vec::new();
    // `+1-2` and ` 1-2` parsed as 1-2, and a header that is not text was ignored (the stream
    // started from now).
    for bad in ["yesterday", "12", "-1-3", "+1-2", "1-+2", "1-"] {
        requests.push((bad.to_owned(), header(bad.parse().unwrap())));
        requests.push((format!("?{bad}"), query(bad)));
    }
    requests.push(("? 1-2".to_owned(), query(" 1-2")));
    let not_text = reqwest::header::HeaderValue::from_bytes(b"1-2\xe9").unwrap();
    requests.push(("1-2\\xe9".to_owned(), header(not_text)));
    for (what, request) in requests {
        // The status first: a stream that opened by mistake would never end.
        let response = request.send().await.expect("GET /orders/stream");
        assert_eq!(response.status(), 422, "{what:?}");
        let body: Value = response.json().await.expect("a JSON error body");
        assert_eq!(body["error"]["code"], "invalid_last_event_id", "{what:?}");
    }
    // An empty one is none: the stream starts from now.
    let response = header(reqwest::header::HeaderValue::from_static(""))
        .send()
        .await
        .expect("GET /orders/stream");
    assert_eq!(response.status(), 200);
}

/// A history row whose transaction commits after a later one's must not be passed by a
/// reader's cursor. The feed holds the later row back until the earlier one commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_never_passes_a_row_that_commits_late() {
    let app = TestApp::spawn().await;
    let (_, a) = app.seed(&unique_sku(), "2.00").await;
    let (_, b) = app.seed(&unique_sku(), "2.00").await;
    let (a, b) = (order_id_of(&a), order_id_of(&b));
    let pool = &app.store;
    let start = feed::tail(pool).await.unwrap();

    let insert = "INSERT INTO order_history (order_id, event_type, at, status) \
                  VALUES ($1, 'stock.reserved', clock_timestamp(), 'PENDING')";
    // The slow transaction takes its id (and its row's seq) first, and commits last.
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind(a)
        .execute(&mut *slow)
        .await
        .unwrap();
    sqlx::query(insert).bind(b).execute(pool).await.unwrap();

    // Only the two rows written here: the seeding's own may still be ahead of `start`.
    let ours = |rows: Vec<feed::Transition>| -> Vec<feed::Transition> {
        rows.into_iter()
            .filter(|t| t.event_type == "stock.reserved")
            .collect()
    };
    let early = ours(feed::after(pool, start, 100).await.unwrap());
    assert!(
        early.is_empty(),
        "a row was sent while an older transaction was still open: {early:?}"
    );
    slow.commit().await.unwrap();
    let rows = wait_for("both rows in the feed", PATIENCE, || async {
        let rows = ours(feed::after(pool, start, 100).await.unwrap());
        (rows.len() == 2).then_some(rows)
    })
    .await;
    let orders: Vec<Uuid> = rows.iter().map(|t| t.order_id).collect();
    assert_eq!(orders, [a, b], "in the order of their transactions");
    assert!(ours(feed::after(pool, rows[1].cursor, 100).await.unwrap()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_listed_newest_first_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let (customer, first) = app.seed(&unique_sku(), "1.00").await;
    let sku = first["items"][0]["sku"].as_str().unwrap().to_owned();
    let order = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]});
    let second = app.place_when_ready(&order).await;
    let third = app.place_when_ready(&order).await;
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("a list")
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |o: &Value| o["id"].as_str().unwrap().to_owned();

    let (status, page) = app.get("/orders?limit=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [id(&third), id(&second)]);
    let (_, next) = app
        .get(&format!("/orders?limit=2&before={}", id(&second)))
        .await;
    assert_eq!(ids(&next), [id(&first)]);
    let (_, all) = app.get("/orders").await;
    assert_eq!(ids(&all).len(), 3);

    app.publish(&stock_rejected(order_id_of(&second))).await;
    app.wait_status(order_id_of(&second), "CANCELLED").await;
    let (_, cancelled) = app.get("/orders?status=CANCELLED").await;
    assert_eq!(ids(&cancelled), [id(&second)]);
    let (_, pending) = app
        .get(&format!("/orders?status=PENDING&customer_id={customer}"))
        .await;
    assert_eq!(ids(&pending), [id(&third), id(&first)]);

    let (status, summary) = app.get("/orders/summary").await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary["counts"],
        json!({"PENDING": 2, "CONFIRMED": 0, "CANCELLED": 1})
    );
    assert_eq!(summary["completed_last_minute"], 1);

    for (query, code) in [
        ("status=LOST", "invalid_status"),
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        (
            &format!("before={}", Uuid::now_v7()) as &str,
            "unknown_order",
        ),
    ] {
        let (status, body) = app.get(&format!("/orders?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], code, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_one_page_with_its_script_and_style() {
    let app = TestApp::spawn().await;
    for (path, content_type, needle) in [
        ("/console", "text/html", "/console/console.js"),
        (
            "/console/console.js",
            "text/javascript",
            "EventSource(\"/orders/stream\")",
        ),
        ("/console/console.css", "text/css", "#timeline"),
    ] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}: {headers:?}"
        );
        assert!(headers.contains_key("content-security-policy"), "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains(needle), "{path} lacks {needle:?}");
        // Nothing from another origin (the machines reach no CDN); SVG's namespace is a name.
        let text = text.replace("\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{path}"
        );
    }
}
