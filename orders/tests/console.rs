//! The saga console's endpoints: the feed (`GET /orders/stream`, Server-Sent Events, resumed
//! with `Last-Event-ID`), its cursor under concurrent commits, who may open it (an operator's
//! token, or a single-use ticket of `POST /console/ticket`) and how long it lasts, the paged
//! `GET /orders`, the summary, and the page itself with its configuration.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use orders::routes::{MAX_STREAMS, MAX_STREAMS_PER_CLIENT, TICKET_TTL};
use orders::store::feed;
use saga_contracts::services::ORDERS;
use saga_kit::testing::identity::token;
use saga_kit::testing::Account;
use saga_messaging::testing::{fresh_database_url, provisioned_kafka, wait_for};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
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
    /// A stream opened with the operator's token.
    async fn open(app: &TestApp, last_event_id: Option<&str>) -> Sse {
        let mut request = app.request(reqwest::Method::GET, "/orders/stream").await;
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        Sse::opened(request).await
    }

    /// A stream opened with `ticket` and no token, as a browser's `EventSource` opens it.
    async fn open_with_ticket(app: &TestApp, ticket: &str, last_event_id: Option<&str>) -> Sse {
        let mut query = vec![("ticket", ticket)];
        query.extend(last_event_id.map(|id| ("last_event_id", id)));
        Sse::opened(
            reqwest::Client::new()
                .get(app.url("/orders/stream"))
                .query(&query),
        )
        .await
    }

    /// A stream opened by a client at `address` (any of 127.0.0.0/8 reaches the service).
    async fn open_from(app: &TestApp, address: IpAddr) -> Sse {
        let mut sse = Sse::opened(stream_from(address, app).await).await;
        assert_eq!(sse.next().await.kind, "ready");
        sse
    }

    async fn opened(request: reqwest::RequestBuilder) -> Sse {
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

    /// Reads until the service ends the stream, which it must within `PATIENCE`; the events
    /// read on the way.
    async fn until_ended(&mut self) -> String {
        loop {
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream ends within PATIENCE")
                .expect("reading the stream");
            match chunk {
                Some(chunk) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                None => return std::mem::take(&mut self.buffer),
            }
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

/// An HTTP client whose connections come from `address`.
fn client_at(address: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address)
        .build()
        .expect("a client")
}

/// `GET /orders/stream` from `address`, with the operator's token.
async fn stream_from(address: IpAddr, app: &TestApp) -> reqwest::RequestBuilder {
    client_at(address)
        .get(app.url("/orders/stream"))
        .bearer_auth(token(Account::Operator).await)
}

/// `GET /orders/stream` from `address`, expected to be refused: the status and error body,
/// which must come while the feed's table is locked, so before any read of it.
async fn refused_stream(app: &TestApp, address: IpAddr) -> (u16, Value) {
    let request = stream_from(address, app).await.send();
    let response = tokio::time::timeout(UNBLOCKED, request)
        .await
        .expect("the refusal comes without waiting on the locked feed")
        .expect("GET /orders/stream");
    let status = response.status().as_u16();
    assert_ne!(status, 200, "a stream opened beyond the limit");
    (status, response.json().await.expect("a JSON error body"))
}

/// How long a request that reads no locked table may take: far more than it ever needs, far
/// less than forever (a request that reads a locked table waits until it is unlocked).
const UNBLOCKED: Duration = Duration::from_secs(10);

/// The n-th loopback address, 127.0.0.n.
fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A connection of the test's own to the service's database.
async fn own_connection(app: &TestApp) -> PgConnection {
    PgConnection::connect_with(&app.store.connect_options())
        .await
        .expect("connecting to the service's database")
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
    let operator = token(Account::Operator).await;
    let header = |value: reqwest::header::HeaderValue| {
        reqwest::Client::new()
            .get(app.url("/orders/stream"))
            .bearer_auth(&operator)
            .header("Last-Event-ID", value)
    };
    let query = |value: &str| {
        reqwest::Client::new()
            .get(app.url("/orders/stream"))
            .bearer_auth(&operator)
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
    // A parameter the stream does not name is refused too, once the caller is admitted.
    requests.push((
        "?cursor=1-2".to_owned(),
        reqwest::Client::new()
            .get(app.url("/orders/stream"))
            .bearer_auth(&operator)
            .query(&[("cursor", "1-2")]),
    ));
    let not_text = reqwest::header::HeaderValue::from_bytes(b"1-2\xe9").unwrap();
    requests.push(("1-2\\xe9".to_owned(), header(not_text)));
    for (what, request) in requests {
        // The status first: a stream that opened by mistake would never end.
        let response = request.send().await.expect("GET /orders/stream");
        assert_eq!(response.status(), 422, "{what:?}");
        let body: Value = response.json().await.expect("a JSON error body");
        let expected = if what.starts_with("?cursor") {
            "invalid_query"
        } else {
            "invalid_last_event_id"
        };
        assert_eq!(body["error"]["code"], expected, "{what:?}");
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
        // A misspelt filter is refused, not ignored: ignored, it would list everyone's orders.
        ("customer=someone", "invalid_query"),
        ("limit=5&page=2", "invalid_query"),
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
            "code_challenge_method: \"S256\"",
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
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("connect-src 'self' http://127.0.0.1:8080;"),
            "{path}: the page may reach its own origin and the issuer's only: {policy}"
        );
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

/// A stream's permit is taken before the stream reads anything, one client cannot hold more
/// than its share, and closing a stream gives its permit back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_refused_beyond_their_limits_before_any_read() {
    let app = TestApp::spawn().await;
    // Every permit of the instance, taken by as few clients as their share allows.
    let clients = MAX_STREAMS.div_ceil(MAX_STREAMS_PER_CLIENT);
    let mut open: HashMap<IpAddr, Vec<Sse>> = HashMap::new();
    for i in 0..MAX_STREAMS {
        let address = loopback(1 + (i / MAX_STREAMS_PER_CLIENT) as u8);
        open.entry(address)
            .or_default()
            .push(Sse::open_from(&app, address).await);
    }
    assert_eq!(open[&loopback(1)].len(), MAX_STREAMS_PER_CLIENT);

    // With the feed's table locked, any read of it would wait: the refusals come anyway.
    let mut lock = own_connection(&app).await;
    let mut tx = lock.begin().await.unwrap();
    sqlx::query("LOCK TABLE order_history IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let newcomer = loopback(1 + clients as u8);
    for address in [loopback(1), newcomer] {
        let (status, body) = refused_stream(&app, address).await;
        assert_eq!(status, 503, "{address}: {body}");
        assert_eq!(body["error"]["code"], "too_many_streams", "{address}");
    }
    tx.rollback().await.unwrap();

    // Closing a stream frees its permit: first the newcomer gets the one a client gave up,
    // then that client, below its share again... only once a permit is free.
    open.get_mut(&loopback(2)).unwrap().pop();
    let mut newcomers = vec![
        wait_for("a freed permit", PATIENCE, || async {
            let response = stream_from(newcomer, &app)
                .await
                .send()
                .await
                .expect("GET /orders/stream");
            (response.status() == 200).then_some(response)
        })
        .await,
    ];
    let (status, _) = refused_stream(&app, loopback(2)).await;
    assert_eq!(status, 503, "the newcomer took the freed permit");
    newcomers.pop();
    wait_for("the newcomer's permit back", PATIENCE, || async {
        let response = stream_from(loopback(2), &app)
            .await
            .send()
            .await
            .expect("GET /orders/stream");
        (response.status() == 200).then_some(response)
    })
    .await;
}

/// `GET /orders?customer_id=` is a page like any listing: 50 by default, `limit` up to 500,
/// and `before` for the next page, newest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_orders_come_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let sku = unique_sku();
    let (customer, first) = app.seed(&sku, "1.00").await;
    let (other, _) = app.seed(&unique_sku(), "1.00").await;
    let order = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]});
    let mut placed = vec![first["id"].as_str().unwrap().to_owned()];
    for _ in 0..54 {
        let (status, body) = app.post_order(&order, None).await;
        assert_eq!(status, 202, "{body}");
        placed.push(body["id"].as_str().unwrap().to_owned());
    }
    placed.reverse(); // newest first
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("a list")
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let (status, page) = app.get(&format!("/orders?customer_id={customer}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), placed[..50]);
    let (status, rest) = app
        .get(&format!(
            "/orders?customer_id={customer}&before={}",
            placed[49]
        ))
        .await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(ids(&rest), placed[50..]);
    let (_, two) = app
        .get(&format!("/orders?customer_id={customer}&limit=2"))
        .await;
    assert_eq!(ids(&two), placed[..2]);
    let (_, all) = app
        .get(&format!("/orders?customer_id={customer}&limit=500"))
        .await;
    assert_eq!(ids(&all), placed);
    let (_, others) = app.get(&format!("/orders?customer_id={other}")).await;
    assert_eq!(ids(&others).len(), 1);

    for limit in ["0", "501", "-1"] {
        let (status, body) = app
            .get(&format!("/orders?customer_id={customer}&limit={limit}"))
            .await;
        assert_eq!(status, 422, "limit={limit}: {body}");
    }
}

/// The real counts, straight from the orders.
async fn real_counts(conn: &mut PgConnection) -> (Value, i64) {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM orders GROUP BY status")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut counts = json!({"PENDING": 0, "CONFIRMED": 0, "CANCELLED": 0});
    for (status, n) in rows {
        counts[status] = json!(n);
    }
    let completed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE status <> 'PENDING' \
         AND updated_at > now() - interval '60 seconds'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    (counts, completed)
}

/// The summary equals the real counts after every kind of transition (duplicates and the
/// deadline included), and it is answered without reading the orders table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_stays_equal_to_the_real_counts_without_reading_the_orders() {
    let app = TestApp::spawn().await;
    let mut own = own_connection(&app).await;
    let sku = unique_sku();
    let (customer, first) = app.seed(&sku, "1.00").await;
    let order = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]});
    let mut ids = vec![order_id_of(&first)];
    for _ in 0..11 {
        let (status, body) = app.post_order(&order, None).await;
        assert_eq!(status, 202, "{body}");
        ids.push(order_id_of(&body));
    }
    // 0-2 confirmed (reserved then paid, or paid then reserved), 3-4 rejected, 5-6 payment
    // failed, 7 confirmed then rejected too late, 8 reserved only, 9-11 untouched; every
    // event delivered twice.
    let mut events = Vec::new();
    for &id in &ids[0..2] {
        events.push(stock_reserved(id));
        events.push(order_paid(id, customer));
    }
    events.push(order_paid(ids[2], customer));
    events.push(stock_reserved(ids[2]));
    for &id in &ids[3..5] {
        events.push(stock_rejected(id));
    }
    for &id in &ids[5..7] {
        events.push(payment_failed(id, customer));
    }
    events.push(stock_reserved(ids[7]));
    events.push(order_paid(ids[7], customer));
    events.push(stock_reserved(ids[8]));
    // Topics keep no order between them: the late rejection goes once order 7 is confirmed.
    let late = [stock_rejected(ids[7])];
    for batch in [&events[..], &late[..]] {
        for e in batch.iter().chain(batch) {
            app.publish(e).await;
        }
        app.wait_consumed(&batch.iter().collect::<Vec<_>>()).await;
    }
    // The deadline cancels the two oldest orders still pending (8 and 9).
    let cancelled = orders::store::saga::cancel_overdue(&app.store, Duration::ZERO, 2)
        .await
        .unwrap();
    assert_eq!(cancelled, 2);
    for (i, status) in [
        (0, "CONFIRMED"),
        (7, "CONFIRMED"),
        (8, "CANCELLED"),
        (11, "PENDING"),
    ] {
        assert_eq!(app.order(ids[i]).await["status"], status, "order {i}");
    }

    let (counts, completed) = real_counts(&mut own).await;
    assert_eq!(
        counts,
        json!({"PENDING": 2, "CONFIRMED": 4, "CANCELLED": 6}),
        "the mix played out as planned"
    );
    // The orders table locked: a summary that read it would wait until the end of the lock.
    let mut tx = own.begin().await.unwrap();
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let (status, summary) = tokio::time::timeout(UNBLOCKED, app.get("/orders/summary"))
        .await
        .expect("the summary is answered while the orders table is locked");
    tx.rollback().await.unwrap();
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["counts"], counts);
    assert_eq!(summary["completed_last_minute"], completed);
}

/// A database that had orders before the counters existed: the migration that brings them
/// starts them from the orders already there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counters_start_from_the_orders_already_there() {
    let url = saga_messaging::testing::fresh_database_url("orders").await;
    let pool = sqlx::PgPool::connect_with(saga_messaging::postgres::connect_options(&url).unwrap())
        .await
        .unwrap();
    let all = &orders::store::MIGRATIONS;
    let before_counters = sqlx::migrate::Migrator {
        migrations: all
            .migrations
            .iter()
            .filter(|m| m.version < 3)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before_counters.run(&pool).await.unwrap();
    for (status, reason, n) in [
        ("PENDING", None, 3),
        ("CONFIRMED", None, 2),
        ("CANCELLED", Some("timeout"), 4),
    ] {
        for _ in 0..n {
            sqlx::query(
                "INSERT INTO orders (id, customer_id, status, reason, total, created_at, \
                 updated_at, request) VALUES ($1, $2, $3, $4, 1, now(), now(), '{}')",
            )
            .bind(Uuid::now_v7())
            .bind(Uuid::now_v7())
            .bind(status)
            .bind(reason)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    all.run(&pool).await.unwrap();
    let (mut counts, recent) = orders::store::counts::summary(&pool, Duration::from_secs(60))
        .await
        .unwrap();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("CANCELLED".to_owned(), 4),
            ("CONFIRMED".to_owned(), 2),
            ("PENDING".to_owned(), 3)
        ]
    );
    assert_eq!(recent, 6);
}

/// A `GET /orders/stream` refused at the door: its status, its `WWW-Authenticate` challenge
/// (if any) and its error code. The status comes first, so a stream that opened by mistake
/// fails the test instead of hanging it.
async fn refused(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = request.send().await.expect("GET /orders/stream");
    let status = response.status().as_u16();
    assert_ne!(status, 200, "a stream opened");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.expect("a JSON error body");
    (status, challenge, body["error"]["code"].clone())
}

/// A ticket from `POST /console/ticket`, as `client` asks for it.
async fn new_ticket(client: &saga_kit::testing::TestClient) -> (u16, Value) {
    client.post_raw("/console/ticket", "").await
}

/// Only an operator follows the feed: with its bearer token (no ticket spent), or with a ticket
/// that opens one stream. No token, another scheme, a bad token, a used, unknown or empty
/// ticket are the kit's 401 with its challenge; a customer's token is 403, and a customer gets
/// no ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_opens_for_an_operators_token_or_once_per_ticket() {
    let app = TestApp::spawn().await;
    let stream = || reqwest::Client::new().get(app.url("/orders/stream"));
    let unauthorized = |what: &str, (status, challenge, code): (u16, Option<String>, Value)| {
        assert_eq!((status, &code), (401, &json!("unauthorized")), "{what}");
        let challenge = challenge.unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"));
        assert!(
            challenge.starts_with("Bearer realm=\"saga\""),
            "{what}: {challenge}"
        );
        challenge
    };

    // Nothing, or not a bearer token, or not a valid one.
    let challenge = unauthorized("no token", refused(stream()).await);
    assert!(!challenge.contains("invalid_token"), "{challenge}");
    // The door comes before the query: without a credential, an unknown parameter is 401 too.
    unauthorized(
        "no token, an unknown parameter",
        refused(stream().query(&[("cursor", "1-2")])).await,
    );
    unauthorized(
        "basic",
        refused(stream().header("authorization", "Basic b3BlcmF0b3I6b3BlcmF0b3I=")).await,
    );
    let challenge = unauthorized(
        "a forged token",
        refused(stream().bearer_auth("x.y.z")).await,
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    // A customer may neither follow the feed nor get a ticket for it.
    let alice = token(Account::Alice).await;
    let (status, _, code) = refused(stream().bearer_auth(&alice)).await;
    assert_eq!((status, code), (403, json!("forbidden")));
    let (status, body) = new_ticket(&app.as_account(Account::Alice)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let (status, body) = new_ticket(&app.anonymous()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("unauthorized")),
        "{body}"
    );

    // An operator's ticket: random, short-lived, not to be cached.
    let response = app
        .post_request("/console/ticket")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let issued: Value = response.json().await.unwrap();
    let ticket = issued["ticket"].as_str().unwrap().to_owned();
    assert_eq!(issued["expires_in"], TICKET_TTL.as_secs());
    assert!(
        ticket.len() == 64 && ticket.bytes().all(|b| b.is_ascii_hexdigit()),
        "{ticket}"
    );
    let (_, other) = new_ticket(&app).await;
    assert_ne!(other["ticket"], issued["ticket"]);

    // It opens one stream, without a token; then it is spent, open stream or not.
    let mut opened = Sse::open_with_ticket(&app, &ticket, None).await;
    let ready = opened.next().await;
    assert_eq!(ready.kind, "ready");
    let again = refused(stream().query(&[("ticket", &ticket)])).await;
    assert!(unauthorized("a used ticket", again).contains("invalid_token"));
    drop(opened);
    unauthorized(
        "a used ticket, its stream closed",
        refused(stream().query(&[("ticket", &ticket)])).await,
    );
    let (made_up, upper) = ("ab".repeat(32), ticket.to_uppercase());
    for wrong in ["", "0", made_up.as_str(), upper.as_str()] {
        unauthorized(
            &format!("ticket {wrong:?}"),
            refused(stream().query(&[("ticket", wrong)])).await,
        );
    }

    // With a token, the ticket is neither needed nor spent: a bad token is refused even with
    // a good ticket, which still opens a stream afterwards.
    let (_, spare) = new_ticket(&app).await;
    let spare = spare["ticket"].as_str().unwrap();
    let (status, _, _) = refused(stream().bearer_auth(&alice).query(&[("ticket", spare)])).await;
    assert_eq!(status, 403, "a customer's token with an operator's ticket");
    // A ticket resumes like a token does: from the id it is given.
    let mut resumed = Sse::open_with_ticket(&app, spare, ready.id.as_deref()).await;
    let again = resumed.next().await;
    assert_eq!((again.kind.as_str(), &again.id), ("ready", &ready.id));
}

/// Tickets live in the memory of the instance that issued them: another instance of the
/// service, on the same database, does not take them (README, "Saga console").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_a_stream_on_its_own_instance_only() {
    let (url, kafka) = (
        fresh_database_url("orders").await,
        provisioned_kafka(&ORDERS).await,
    );
    let timeout = Duration::from_secs(600);
    let a = TestApp::spawn_from(settings(url.clone(), kafka.clone(), timeout)).await;
    let b = TestApp::spawn_from(settings(url, kafka, timeout)).await;
    let (_, issued) = new_ticket(&a).await;
    let ticket = issued["ticket"].as_str().unwrap();
    let (status, challenge, _) = refused(
        reqwest::Client::new()
            .get(b.url("/orders/stream"))
            .query(&[("ticket", ticket)]),
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.is_some());
    let mut sse = Sse::open_with_ticket(&a, ticket, None).await;
    assert_eq!(sse.next().await.kind, "ready");
}

/// A stream ends once it has lasted `STREAM_MAX_AGE_SECS`, however it was opened, so that it
/// never outlives by long what proved its client; the client resumes from its last id with a
/// new ticket and misses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_after_its_max_age_and_resumes_from_its_last_id() {
    let mut s = settings(
        fresh_database_url("orders").await,
        provisioned_kafka(&ORDERS).await,
        Duration::from_secs(600),
    );
    s.stream_max_age = Duration::from_secs(1);
    let app = TestApp::spawn_from(s).await;
    let sku = unique_sku();
    let (customer, _) = app.seed(&sku, "2.00").await;

    let (_, issued) = new_ticket(&app).await;
    let mut first = Sse::open_with_ticket(&app, issued["ticket"].as_str().unwrap(), None).await;
    let ready = first.next().await;
    assert_eq!(ready.kind, "ready");
    let rest = first.until_ended().await;
    let last = rest
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .map(str::to_owned)
        .or(ready.id.clone());
    let mut by_token = Sse::open(&app, None).await;
    assert_eq!(by_token.next().await.kind, "ready");
    by_token.until_ended().await;

    // What happens while no stream is open comes on the next one, resumed from the last id.
    let placed = app
        .place_when_ready(&json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]}))
        .await;
    let (_, issued) = new_ticket(&app).await;
    let mut second =
        Sse::open_with_ticket(&app, issued["ticket"].as_str().unwrap(), last.as_deref()).await;
    assert_eq!(second.next().await.id, last);
    let created = second.next_about(order_id_of(&placed)).await;
    assert_eq!(created.data["event_type"], "order.created");
}

/// The page learns where to sign in from `GET /console/config.json`, which needs no token:
/// the issuer the service trusts and the public client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_told_its_issuer_and_client_without_a_token() {
    let app = TestApp::spawn().await;
    let (status, config) = app.anonymous().get("/console/config.json").await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(
        config,
        json!({"issuer": "http://127.0.0.1:8080/realms/saga", "client_id": "saga-cli"})
    );
}
