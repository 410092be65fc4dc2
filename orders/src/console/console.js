// The saga console. It signs its user in at the identity provider (OpenID Connect: the
// authorization code flow with PKCE), then, for an operator, loads the newest orders and the
// counts and follows the saga feed (GET /orders/stream, Server-Sent Events). Every request to
// the API carries the access token as `Authorization: Bearer`; the feed, which a browser's
// EventSource opens without headers, is opened with a single-use ticket that the token buys
// (POST /console/ticket), never with the token in its URL. Lists stay bounded: at most
// MAX_ROWS orders are kept, and each row is updated in place.
"use strict";

const MAX_ROWS = 200;          // orders kept on the page
const STUCK_MS = 5000;         // a PENDING order older than this is highlighted
const SUMMARY_EVERY_MS = 2000; // how often the counts are read again
const REOPEN_AFTER_MS = 1000;  // how long after the feed fails it is opened again
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

// ---- signing in -----------------------------------------------------------------------
//
// GET /console/config.json names the issuer and the client; the issuer's discovery document
// names its endpoints. Signing in sends the browser to the provider's login page with a PKCE
// challenge (S256) and a random state, both kept in sessionStorage until it comes back with a
// code; the state must match, and the code is exchanged for tokens with the verifier, which
// only this tab holds. The tokens are kept in this page's memory only: a reload signs in again
// (silently, while the provider's own session lasts). The access token is renewed with the
// refresh token before it expires, or when the API says 401; when that fails, the page asks
// its user to sign in again.

const LOGIN_KEY = "saga-console.login";      // sessionStorage: {state, verifier} of a sign-in under way
const SIGNED_IN_KEY = "saga-console.signed-in"; // sessionStorage: "1" while signed in (no secret)
const RENEW_BEFORE_MS = 30000;               // how long before its expiry a token is renewed

const auth = {
  provider: null,  // {issuer, authorization_endpoint, token_endpoint, end_session_endpoint}
  clientId: null,
  access: null,    // the access token
  refresh: null,   // the refresh token
  idToken: null,   // the ID token: only a hint for signing out
  expiresAt: 0,    // when the access token expires (ms since the epoch)
  renewing: null,  // the renewal under way, shared by whoever needs it
  renewTimer: null,
};

/** The console's own URL, which the provider sends the browser back to. */
const redirectUri = () => `${location.origin}/console`;

/** Bytes as base64url without padding (RFC 7636). */
function base64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomText = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A refusal already shown to the user (a 401 that could not be mended, a 403). */
class Refused extends Error {}

/** Reads where to sign in: the service's config, then the issuer's discovery document. */
async function discover() {
  const response = await fetch("/console/config.json", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`GET /console/config.json: ${response.status}`);
  const config = await response.json();
  const url = `${config.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let doc;
  try {
    const found = await fetch(url, { headers: { accept: "application/json" } });
    if (!found.ok) throw new Error(`${found.status}`);
    doc = await found.json();
  } catch (e) {
    throw new Error(`the identity provider's discovery document (${url}) cannot be read: ${e.message}`);
  }
  if (doc.issuer !== config.issuer) {
    throw new Error(`the discovery document names the issuer ${doc.issuer}, not ${config.issuer}`);
  }
  auth.provider = doc;
  auth.clientId = config.client_id;
}

/** Sends the browser to the provider's login page. */
async function signIn() {
  if (!window.crypto || !crypto.subtle) {
    notice("error", "Signing in needs a secure context: open the console on 127.0.0.1 or localhost (or over https).");
    return;
  }
  const verifier = randomText(32);
  const state = randomText(16);
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify({ state, verifier }));
  sessionStorage.removeItem(SIGNED_IN_KEY);
  const url = new URL(auth.provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: "openid",
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  location.assign(url);
}

/** Finishes a sign-in from the provider's answer in the URL: checks it, exchanges the code. */
async function completeSignIn(params) {
  // The code and the state leave the URL (and so the history) before anything else.
  history.replaceState(null, "", location.pathname);
  const saved = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || "null");
  sessionStorage.removeItem(LOGIN_KEY);
  if (params.has("error")) {
    throw new Error(`the identity provider answered ${params.get("error")}` +
      (params.get("error_description") ? `: ${params.get("error_description")}` : ""));
  }
  if (!saved || !params.get("state") || params.get("state") !== saved.state) {
    throw new Error("the answer does not match a sign-in that this tab started (state)");
  }
  if (params.has("iss") && params.get("iss") !== auth.provider.issuer) {
    throw new Error(`the answer comes from ${params.get("iss")}, not ${auth.provider.issuer}`);
  }
  accept(await tokenRequest({
    grant_type: "authorization_code",
    code: params.get("code"),
    redirect_uri: redirectUri(),
    code_verifier: saved.verifier,
  }));
}

/** A request to the provider's token endpoint; the grant, or why it was refused. */
async function tokenRequest(params) {
  const response = await fetch(auth.provider.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ client_id: auth.clientId, ...params }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) {
    throw new Error(`the token endpoint answered ${response.status}` +
      (body.error ? ` ${body.error}${body.error_description ? `: ${body.error_description}` : ""}` : ""));
  }
  return body;
}

/** Takes the tokens of `grant`, and plans their renewal. */
function accept(grant) {
  auth.access = grant.access_token;
  auth.refresh = grant.refresh_token || auth.refresh;
  auth.idToken = grant.id_token || auth.idToken;
  const lifetime = Number(grant.expires_in || 60) * 1000;
  auth.expiresAt = Date.now() + lifetime;
  clearTimeout(auth.renewTimer);
  auth.renewTimer = setTimeout(() => renew().catch(() => {}), Math.max(5000, lifetime - RENEW_BEFORE_MS));
  sessionStorage.setItem(SIGNED_IN_KEY, "1");
  showAccount();
}

/** A new access token from the refresh token; when that fails, the user must sign in again. */
function renew() {
  if (!auth.renewing) {
    auth.renewing = (async () => {
      try {
        if (!auth.refresh) throw new Error("no refresh token");
        accept(await tokenRequest({ grant_type: "refresh_token", refresh_token: auth.refresh }));
      } catch (e) {
        console.warn("console: renewing the session failed", e.message);
        expired();
        throw new Refused("the session has ended");
      } finally {
        auth.renewing = null;
      }
    })();
  }
  return auth.renewing;
}

/** The claims of a JWT's payload, for display only: the API checks the token, not the page. */
function claims(token) {
  try {
    const part = atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(part, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

/** Forgets the tokens and sends the browser to the provider to end its session too. */
function signOut() {
  stop();
  const hint = auth.idToken;
  forget();
  sessionStorage.removeItem(SIGNED_IN_KEY);
  if (!auth.provider || !auth.provider.end_session_endpoint) {
    signedOut("Signed out.");
    return;
  }
  const url = new URL(auth.provider.end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: auth.clientId,
    post_logout_redirect_uri: redirectUri(),
    ...(hint ? { id_token_hint: hint } : {}),
  });
  location.assign(url);
}

function forget() {
  clearTimeout(auth.renewTimer);
  auth.access = auth.refresh = auth.idToken = null;
  auth.expiresAt = 0;
}

// ---- what the page shows about it -----------------------------------------------------

/** A message above the console; `kind` is info, expired, forbidden or error. */
function notice(kind, text) {
  const p = $("#notice");
  p.dataset.kind = kind;
  p.textContent = text;
  p.hidden = false;
}

function showAccount() {
  const who = claims(auth.access);
  $("#user").textContent = who.preferred_username || who.sub || "signed in";
  $("#user").hidden = false;
  $("#sign-in").hidden = true;
  $("#sign-out").hidden = false;
}

/** Nothing to show: the sign-in button, and why if there is a reason. */
function signedOut(reason, kind = "info") {
  showData(false);
  setConn("signed-out", "signed out");
  $("#user").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  if (reason) notice(kind, reason);
  else $("#notice").hidden = true;
}

/** The token expired and could not be renewed. */
function expired() {
  stop();
  forget();
  sessionStorage.removeItem(SIGNED_IN_KEY);
  signedOut("Your session has ended. Sign in again to go on watching the sagas.", "expired");
}

/** Signed in, but not as an operator: say so, and show nothing. */
function forbidden(message) {
  stop();
  showData(false);
  setConn("closed", "not allowed");
  const who = $("#user").textContent;
  notice("forbidden", `Signed in as ${who}, who may not use the saga console: it shows every ` +
    `customer's orders, so it is for operators only (403 forbidden${message ? `: ${message}` : ""}). ` +
    "Sign out and sign in as an operator.");
}

function showData(visible) {
  $("#summary").hidden = !visible;
  $("main").hidden = !visible;
}

function setConn(state, text) {
  const conn = $("#conn");
  conn.dataset.state = state;
  conn.textContent = text;
}

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

// ---- the API, loading and the live feed -----------------------------------------------

/**
 * A request to the API with the access token; the JSON body. A 401 renews the token once and
 * tries again; a 401 after that ends the session, and a 403 shows the forbidden message: both
 * throw Refused.
 */
async function api(path, init = {}) {
  if (!auth.access) throw new Refused("signed out");
  if (Date.now() > auth.expiresAt - 5000) await renew();
  const send = () => fetch(path, {
    ...init,
    headers: { accept: "application/json", ...(init.headers || {}), authorization: `Bearer ${auth.access}` },
  });
  let response = await send();
  if (response.status === 401) {
    await renew();
    response = await send();
    if (response.status === 401) {
      expired();
      throw new Refused(`${path}: 401`);
    }
  }
  if (response.status === 403) {
    const body = await response.json().catch(() => ({}));
    forbidden(body.error && body.error.message);
    throw new Refused(`${path}: 403`);
  }
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
  if (loadStarted || !running) return;
  loadStarted = true;
  try {
    const [newest, pending] = await Promise.all([
      api(`/orders?limit=${MAX_ROWS}`),
      api("/orders?status=PENDING&limit=50"),
    ]);
    for (const o of [...newest, ...pending]) upsert(fromApi(o));
  } catch (e) {
    if (!(e instanceof Refused)) console.warn("console: loading the orders failed", e);
  }
  connected = true;
  markStuck();
}

async function refreshSummary() {
  try {
    const s = await api("/orders/summary");
    for (const status of ["PENDING", "CONFIRMED", "CANCELLED"]) {
      $(`#counts [data-count="${status}"]`).textContent = s.counts[status] ?? 0;
    }
    $("#rate").textContent = s.completed_per_second.toFixed(1);
  } catch (e) {
    if (!(e instanceof Refused)) console.warn("console: reading the summary failed", e);
  }
}

let running = false;     // signed in as an operator, showing the sagas
let feed = null;         // the open EventSource
let lastEventId = "";    // the id of the last event the feed sent: where to resume
let timers = [];         // what stop() clears

/** A ticket for one stream (operators only: a 403 here is the forbidden message). */
async function ticket() {
  return (await api("/console/ticket", { method: "POST" })).ticket;
}

/**
 * Opens the feed with `pass` (a ticket), resuming after the last event seen. A ticket opens
 * one stream only, so the browser's own reconnection (which would present it again) is not
 * used: on any failure the page closes the stream and opens another with a new ticket.
 */
function follow(pass) {
  if (!running) return;
  const query = new URLSearchParams({ ticket: pass });
  if (lastEventId) query.set("last_event_id", lastEventId);
  feed = new EventSource(`/orders/stream?${query}`);
  const seen = (message) => {
    if (message.lastEventId) lastEventId = message.lastEventId;
  };
  feed.addEventListener("open", () => setConn("open", "live"));
  feed.addEventListener("error", () => {
    feed.close();
    feed = null;
    if (!running) return;
    setConn("connecting", "reconnecting…");
    timers.push(setTimeout(reopen, REOPEN_AFTER_MS));
  });
  // The stream's first event: from here on nothing is missed, so the list can load.
  feed.addEventListener("ready", (message) => {
    seen(message);
    if (!connected) firstLoad();
  });
  feed.addEventListener("transition", (message) => {
    seen(message);
    queued.push(JSON.parse(message.data));
    if (!flushTimer) flushTimer = setTimeout(flush, FLUSH_EVERY_MS);
  });
}

async function reopen() {
  if (!running) return;
  try {
    follow(await ticket());
  } catch (e) {
    if (e instanceof Refused || !running) return;
    console.warn("console: asking for a feed ticket failed", e);
    timers.push(setTimeout(reopen, REOPEN_AFTER_MS));
  }
}

/** Signed in: the first ticket says whether this user may watch; then everything starts. */
async function start() {
  running = true;
  setConn("connecting", "connecting…");
  let pass;
  try {
    pass = await ticket();
  } catch (e) {
    if (e instanceof Refused) return;
    running = false;
    notice("error", `The orders service cannot be reached: ${e.message}`);
    setConn("closed", "disconnected");
    return;
  }
  $("#notice").hidden = true;
  showData(true);
  follow(pass);
  // Should the stream not open (too many open, say), the list still loads.
  timers.push(setTimeout(firstLoad, 3000));
  refreshSummary();
  timers.push(setInterval(refreshSummary, SUMMARY_EVERY_MS));
  timers.push(setInterval(markStuck, 1000));
}

/** Stops the feed and every timer. */
function stop() {
  running = false;
  if (feed) feed.close();
  feed = null;
  for (const t of timers) {
    clearTimeout(t);
    clearInterval(t);
  }
  timers = [];
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

// A feed update of the open order reloads its timeline a little later, once for a burst of
// updates. A click on another row in the meantime wins: the reload is cancelled, and a reload
// already due checks that its order is still the one selected.
let timelineTimer = null;
function scheduleTimeline(id) {
  clearTimeout(timelineTimer);
  timelineTimer = setTimeout(() => {
    if (selected === id) openTimeline(id);
  }, 150);
}

async function openTimeline(id) {
  clearTimeout(timelineTimer);
  selected = id;
  for (const o of orders.values()) o.row.classList.toggle("selected", o.id === id);
  let order;
  try {
    order = await api(`/orders/${id}`);
  } catch (e) {
    if (!(e instanceof Refused)) console.warn("console: reading the order failed", e);
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
$("#sign-in").addEventListener("click", () => signIn());
$("#sign-out").addEventListener("click", () => signOut());

/** The page's start: back from the provider with a code, signed in before this reload, or not. */
async function boot() {
  try {
    await discover();
  } catch (e) {
    signedOut(`Signing in is not possible: ${e.message}`, "error");
    $("#sign-in").hidden = true;
    return;
  }
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    try {
      await completeSignIn(params);
    } catch (e) {
      signedOut(`Signing in failed: ${e.message}`, "error");
      return;
    }
    start();
  } else if (sessionStorage.getItem(SIGNED_IN_KEY)) {
    // Signed in before a reload: sign in again, through the provider's session if it lasts.
    signIn();
  } else {
    signedOut();
  }
}

boot();
