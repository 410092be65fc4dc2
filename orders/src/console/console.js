// The saga console. It loads the newest orders and the counts, then follows the saga feed
// (GET /orders/stream, Server-Sent Events). The browser's EventSource reconnects by itself and
// sends Last-Event-ID, so a reconnection misses nothing. Lists stay bounded: at most MAX_ROWS
// orders are kept, and each row is updated in place.
"use strict";

const MAX_ROWS = 200;          // orders kept on the page
const STUCK_MS = 5000;         // a PENDING order older than this is highlighted
const SUMMARY_EVERY_MS = 2000; // how often the counts are read again
const GOOD = new Set(["stock.reserved", "order.paid", "order.confirmed"]);
const BAD = new Set(["stock.rejected", "payment.failed", "order.cancelled"]);

const $ = (sel) => document.querySelector(sel);
const tbody = $("#orders tbody");
const orders = new Map(); // id → { id, customer_id, total, status, reason, created, ended, row }
let selected = null;      // the order whose timeline is open
let connected = false;    // whether the first load ran (it waits for the stream)

$("#max-rows").textContent = MAX_ROWS;
$("#stuck-after").textContent = STUCK_MS / 1000;

const terminal = (status) => status === "CONFIRMED" || status === "CANCELLED";
const short = (id) => id.slice(0, 8) + "…" + id.slice(-4);
const clock = (ms) => new Date(ms).toISOString().slice(11, 23);

// ---- the order table ------------------------------------------------------------------

/** Adds or updates one order, keeping a terminal status over a later PENDING. */
function upsert(o) {
  let known = orders.get(o.id);
  if (!known) {
    known = { id: o.id, customer_id: o.customer_id, total: o.total, status: o.status,
      reason: o.reason || null, created: Date.parse(o.created_at), ended: null, row: null };
    if (!admit(known)) return null;
  } else if (!terminal(known.status)) {
    known.status = o.status;
    known.reason = o.reason || known.reason;
  }
  if (terminal(known.status) && known.ended === null && o.ended) known.ended = o.ended;
  render(known);
  return known;
}

/** Places a new order in the table, newest first; false if it is older than all it keeps. */
function admit(o) {
  const rows = [...orders.values()];
  if (rows.length >= MAX_ROWS) {
    const oldest = rows.reduce((a, b) => (older(a, b) ? a : b));
    if (older(o, oldest)) return false;
    oldest.row.remove();
    orders.delete(oldest.id);
  }
  o.row = document.createElement("tr");
  o.row.dataset.orderId = o.id;
  o.row.innerHTML =
    '<td class="placed"></td><td class="id"><code></code></td><td class="customer"><code></code></td>' +
    '<td class="num total"></td><td class="status"></td><td class="reason"></td><td class="num took"></td>';
  o.row.querySelector(".placed").textContent = clock(o.created);
  o.row.querySelector(".id code").textContent = short(o.id);
  o.row.querySelector(".id code").title = o.id;
  o.row.querySelector(".customer code").textContent = short(o.customer_id);
  o.row.querySelector(".total").textContent = o.total;
  o.row.addEventListener("click", () => openTimeline(o.id));
  // Newest first: before the first row that is older than this one.
  let next = null;
  for (const other of orders.values()) {
    if (older(other, o) && (!next || older(next, other))) next = other;
  }
  tbody.insertBefore(o.row, next ? next.row : null);
  if (connected) {
    o.row.classList.add("fresh");
    o.fresh = Date.now();
  }
  orders.set(o.id, o);
  $("#empty").hidden = true;
  return true;
}

function older(a, b) {
  return a.created < b.created || (a.created === b.created && a.id < b.id);
}

function render(o) {
  const row = o.row;
  row.dataset.status = o.status;
  row.querySelector(".status").textContent = o.status;
  row.querySelector(".reason").textContent = o.reason || "";
  row.querySelector(".took").textContent = o.ended ? `${Math.max(0, o.ended - o.created)} ms` : "";
  row.classList.toggle("stuck", isStuck(o));
}

function isStuck(o) {
  return o.status === "PENDING" && Date.now() - o.created > STUCK_MS;
}

function markStuck() {
  let n = 0;
  const now = Date.now();
  for (const o of orders.values()) {
    if (o.fresh && now - o.fresh > 1500) {
      o.row.classList.remove("fresh");
      o.fresh = 0;
    }
    const stuck = isStuck(o);
    o.row.classList.toggle("stuck", stuck);
    if (stuck) n += 1;
  }
  $("#stuck-count").textContent = n;
}

// ---- loading and the live feed --------------------------------------------------------

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** The order as GET /orders returns it, in the shape upsert takes. */
function fromApi(order) {
  const end = (order.history || []).find((h) => h.event_type === "order.confirmed" ||
    h.event_type === "order.cancelled");
  return { ...order, ended: end ? Date.parse(end.at) : null };
}

let loadStarted = false;
async function firstLoad() {
  if (loadStarted) return;
  loadStarted = true;
  try {
    const [newest, pending] = await Promise.all([
      getJson(`/orders?limit=${MAX_ROWS}`),
      getJson("/orders?status=PENDING&limit=50"),
    ]);
    for (const o of [...newest, ...pending]) upsert(fromApi(o));
  } catch (e) {
    console.warn("console: loading the orders failed", e);
  }
  connected = true;
  markStuck();
}

async function refreshSummary() {
  try {
    const s = await getJson("/orders/summary");
    for (const status of ["PENDING", "CONFIRMED", "CANCELLED"]) {
      $(`#counts [data-count="${status}"]`).textContent = s.counts[status] ?? 0;
    }
    $("#rate").textContent = s.completed_per_second.toFixed(1);
  } catch (e) {
    console.warn("console: reading the summary failed", e);
  }
}

function follow() {
  const conn = $("#conn");
  const feed = new EventSource("/orders/stream");
  feed.addEventListener("open", () => {
    conn.dataset.state = "open";
    conn.textContent = "live";
  });
  feed.addEventListener("error", () => {
    const closed = feed.readyState === EventSource.CLOSED;
    conn.dataset.state = closed ? "closed" : "connecting";
    conn.textContent = closed ? "disconnected" : "reconnecting…";
  });
  // The stream's first event: from here on nothing is missed, so the list can load.
  feed.addEventListener("ready", () => {
    if (!connected) firstLoad();
  });
  feed.addEventListener("transition", (message) => {
    queued.push(JSON.parse(message.data));
    if (!flushTimer) flushTimer = setTimeout(flush, FLUSH_EVERY_MS);
  });
}

// Transitions are applied in batches, so that a busy system (hundreds a second) costs the
// page one layout per batch rather than one per event.
const FLUSH_EVERY_MS = 100;
const queued = [];
let flushTimer = null;

function flush() {
  flushTimer = null;
  for (const t of queued.splice(0)) {
    const ended = terminal(t.status) && (t.event_type === "order.confirmed" ||
      t.event_type === "order.cancelled") ? Date.parse(t.at) : null;
    const o = upsert({ id: t.order_id, customer_id: t.customer_id, total: t.total,
      status: t.status, reason: t.reason, created_at: t.created_at, ended });
    if (o && selected === o.id) scheduleTimeline(o.id);
  }
}

// ---- the timeline ---------------------------------------------------------------------

let timelineTimer = null;
function scheduleTimeline(id) {
  clearTimeout(timelineTimer);
  timelineTimer = setTimeout(() => openTimeline(id), 150);
}

async function openTimeline(id) {
  selected = id;
  for (const o of orders.values()) o.row.classList.toggle("selected", o.id === id);
  let order;
  try {
    order = await getJson(`/orders/${id}`);
  } catch (e) {
    console.warn("console: reading the order failed", e);
    return;
  }
  if (selected !== id) return;
  const start = Date.parse(order.created_at);
  const events = [...order.history]
    .map((h) => ({ type: h.event_type, offset: Math.max(0, Date.parse(h.at) - start) }))
    .sort((a, b) => a.offset - b.offset);
  const panel = $("#timeline");
  panel.hidden = false;
  panel.dataset.orderId = id;
  panel.querySelector(".order-id").textContent = id;
  const status = panel.querySelector(".status");
  status.textContent = order.status;
  status.className = `status ${order.status}`;
  panel.querySelector(".reason").textContent = order.reason || "";

  const list = panel.querySelector(".events");
  list.replaceChildren(...events.map((e) => {
    const li = document.createElement("li");
    li.className = "event" + (GOOD.has(e.type) ? " good" : BAD.has(e.type) ? " bad" : "");
    li.dataset.eventType = e.type;
    li.dataset.offsetMs = e.offset;
    li.innerHTML = '<span class="offset"></span><span class="type"></span>';
    li.querySelector(".offset").textContent = `+${e.offset} ms`;
    li.querySelector(".type").textContent = e.type;
    return li;
  }));
  drawAxis(panel.querySelector("svg.axis"), events);
}

/** The events as dots on a time axis from 0 to the last event, labelled in ms. */
function drawAxis(svg, events) {
  const ns = "http://www.w3.org/2000/svg";
  // Margins wide enough for a label centred on the first or the last event.
  const width = 400, left = 36, right = 364, y = 30;
  const span = Math.max(1, ...events.map((e) => e.offset));
  const x = (ms) => left + ((right - left) * ms) / span;
  const el = (name, attrs, text) => {
    const node = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const parts = [el("line", { x1: left, x2: right, y1: y, y2: y })];
  for (const ms of [0, span / 2, span]) {
    parts.push(el("text", { x: x(ms), y: 62, "text-anchor": "middle" }, `${Math.round(ms)} ms`));
  }
  events.forEach((e, i) => {
    const color = GOOD.has(e.type) ? "#2f855a" : BAD.has(e.type) ? "#c53030" : "#2b6cb0";
    parts.push(el("circle", { cx: x(e.offset), cy: y, r: 5, fill: color }));
    parts.push(el("text", { x: x(e.offset), y: i % 2 ? 48 : 16, "text-anchor": "middle" },
      e.type.replace("order.", "").replace("stock.", "").replace("payment.", "")));
  });
  svg.setAttribute("viewBox", `0 0 ${width} 70`);
  svg.replaceChildren(...parts);
}

$("#close").addEventListener("click", () => {
  selected = null;
  $("#timeline").hidden = true;
  for (const o of orders.values()) o.row.classList.remove("selected");
});

follow();
// Should the stream not open (too many open, say), the list still loads.
setTimeout(firstLoad, 3000);
refreshSummary();
setInterval(refreshSummary, SUMMARY_EVERY_MS);
setInterval(markStuck, 1000);
