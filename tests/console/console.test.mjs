// The saga console in a real browser (issues 13 and 23): Debian's chromium, driven headless
// by playwright-core, against the running system and the stack's Keycloak. Run it with
// scripts/console-test, which installs both.
//
// It opens orders' GET /console, which shows nothing but a sign-in button; signs in through
// Keycloak's real login page as operator/operator (the authorization code flow with PKCE),
// comes back with the code and the state gone from the URL; places two orders through the
// APIs (one that confirms, one for more than the stock), sees each appear on the page and
// reach its final status without a reload, opens both timelines and checks them against
// GET /orders/{id}, and saves a full-page screenshot to <out>/console.png. It checks that
// every API request of the page carries the bearer token and no URL carries it, that the feed
// is refused (401) without a ticket and with a ticket already used (the page's own, replayed),
// that a token the API refuses is renewed with the refresh token, and that a session that
// cannot be renewed asks to sign in again (and signing in again passes through Keycloak's
// session). Then alice (a customer) signs in, in a browser of her own, and sees the forbidden
// message rather than data; she signs out, which ends her Keycloak session too. Its own API calls carry the operator's token, from a password
// grant at the issuer's token endpoint (client saga-cli). On a failure it saves
// <out>/failure.png, <out>/failure.html and the page's console messages
// (<out>/console-messages.log, also printed), and exits 1.
//
// Settings (environment): ORDERS_URL CUSTOMER_URL INVENTORY_URL (default
// http://127.0.0.1:8002, :8001, :8003), CHROMIUM (default /usr/bin/chromium), CONSOLE_OUT_DIR
// (default <repo>/target/console), CONSOLE_WAIT_SECS (default 60): how long to wait for each
// service, the page and each outcome. The issuer is the one orders names in
// GET /console/config.json; the development accounts' passwords are their names.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const ORDERS_URL = trimSlash(process.env.ORDERS_URL || 'http://127.0.0.1:8002');
const CUSTOMER_URL = trimSlash(process.env.CUSTOMER_URL || 'http://127.0.0.1:8001');
const INVENTORY_URL = trimSlash(process.env.INVENTORY_URL || 'http://127.0.0.1:8003');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = path.resolve(process.env.CONSOLE_OUT_DIR || path.join(repo, 'target', 'console'));
const WAIT_MS = Number(process.env.CONSOLE_WAIT_SECS || 60) * 1000;

// What the saga may still record after its decision: replies that arrive late (billing
// charges in parallel with the reservation, so order.paid can follow a stock.rejected and
// its order.cancelled; likewise stock.reserved after a payment.failed).
const LATE_REPLIES = new Set(['stock.reserved', 'stock.rejected', 'order.paid', 'payment.failed']);

// A path inside the repository relative to it, any other as it is.
function shortPath(file) {
  const relative = path.relative(repo, file);
  return relative.startsWith('..') ? file : relative;
}

function trimSlash(url) {
  return url.replace(/\/+$/, '');
}

const started = Date.now();
function say(message) {
  console.log(`console: [${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}`);
}
function ok(message) {
  say(`ok: ${message}`);
}

// ---- HTTP -----------------------------------------------------------------------------------

async function http(method, url, body, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    return { status: 0, json: null, text: `${e.cause?.message ?? e.message}` };
  }
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the messages.
  }
  return { status: response.status, json, text };
}

// ---- tokens: the stack's Keycloak, as the console's own configuration names it -----------

const identity = { issuer: null, clientId: null, tokenEndpoint: null };
const tokens = new Map(); // user → { token, renewAt }

// Reads the issuer and client that orders gives the console, and the issuer's token endpoint.
async function discoverIdentity() {
  const config = expectStatus('GET /console/config.json', await http('GET', `${ORDERS_URL}/console/config.json`), 200);
  assert.ok(config.issuer && config.client_id, `GET /console/config.json: ${JSON.stringify(config)}`);
  const url = `${config.issuer}/.well-known/openid-configuration`;
  const doc = expectStatus(`GET ${url}`, await http('GET', url), 200);
  assert.equal(doc.issuer, config.issuer, `${url} names another issuer`);
  Object.assign(identity, { issuer: config.issuer, clientId: config.client_id, tokenEndpoint: doc.token_endpoint });
}

// An access token of `user` (password grant; the development passwords are the names), kept
// until 30 s before it expires.
async function tokenOf(user) {
  const known = tokens.get(user);
  if (known && Date.now() < known.renewAt) return known.token;
  const response = await fetch(identity.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: identity.clientId, username: user, password: user, scope: 'openid' }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) {
    throw new Error(`a token for ${user} from ${identity.tokenEndpoint}: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  }
  tokens.set(user, { token: body.access_token, renewAt: Date.now() + (body.expires_in - 30) * 1000 });
  return body.access_token;
}

// A request to the APIs as the operator.
async function api(method, url, body, headers = {}) {
  return http(method, url, body, { authorization: `Bearer ${await tokenOf('operator')}`, ...headers });
}

function expectStatus(what, response, ...codes) {
  if (!codes.includes(response.status)) {
    throw new Error(`${what}: expected HTTP ${codes.join(' or ')}, got ${response.status}: ${response.text}`);
  }
  return response.json;
}

// Calls `check` until it returns a truthy value or WAIT_MS pass; `describe` tells what was
// last seen, for the failure message.
async function pollUntil(what, check, describe = () => '') {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const last = await describe();
      throw new Error(`no ${what} within ${WAIT_MS / 1000}s${last ? ` (last seen: ${last})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function waitReady(name, url) {
  let last = '';
  await pollUntil(
    `answer 200 from ${name}'s GET ${url}/ready`,
    async () => {
      const r = await http('GET', `${url}/ready`);
      last = `HTTP ${r.status} ${r.text.slice(0, 200)}`;
      return r.status === 200;
    },
    () => last,
  );
}

// POST /orders until orders knows the customer and the SKU (it learns them from
// customer.created and stock.updated, a moment after they are created); the Idempotency-Key
// makes the retries one order.
async function placeOrder(customerId, sku, quantity) {
  const key = `console-test-${randomUUID()}`;
  let last = '';
  const order = await pollUntil(
    `acceptance of an order for ${quantity} x ${sku}`,
    async () => {
      const r = await api('POST', `${ORDERS_URL}/orders`, { customer_id: customerId, items: [{ sku, quantity }] }, {
        'Idempotency-Key': key,
      });
      if (r.status === 202) return r.json;
      const code = r.json?.error?.code;
      if (r.status === 422 && (code === 'unknown_customer' || code === 'unknown_sku')) {
        last = code;
        return null;
      }
      throw new Error(`POST /orders: expected 202 (or 422 unknown_customer/unknown_sku while orders learns them), got ${r.status}: ${r.text}`);
    },
    () => last,
  );
  assert.equal(order.status, 'PENDING', `POST /orders answered status ${order.status}`);
  return order;
}

async function apiOrder(id) {
  return expectStatus(`GET /orders/${id}`, await api('GET', `${ORDERS_URL}/orders/${id}`), 200);
}

// The history as GET /orders/{id} gives it, sorted by `at` (stable, so equal times keep the
// API's order).
function historyTypes(order) {
  return order.history
    .map((h, i) => ({ ...h, i, t: Date.parse(h.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((h) => h.event_type);
}

// ---- the page -------------------------------------------------------------------------------

const row = (id) => `#orders tr[data-order-id="${id}"]`;

async function rowState(page, id) {
  return page.evaluate((selector) => {
    const tr = document.querySelector(selector);
    if (!tr) return null;
    return {
      status: tr.getAttribute('data-status'),
      reason: tr.querySelector('.reason')?.textContent.trim() ?? null,
      hasReasonCell: !!tr.querySelector('.reason'),
      stuck: tr.classList.contains('stuck'),
    };
  }, row(id));
}

// Waits until the order's row shows `status` (and `reason` in its .reason cell).
async function waitForRow(page, id, status, reason) {
  try {
    await page.waitForFunction(
      ({ selector, status, reason }) => {
        const tr = document.querySelector(selector);
        if (!tr || tr.getAttribute('data-status') !== status) return false;
        const cell = tr.querySelector('.reason');
        return !!cell && cell.textContent.trim() === reason;
      },
      { selector: row(id), status, reason },
      { timeout: WAIT_MS, polling: 100 },
    );
  } catch (e) {
    const seen = await rowState(page, id).catch(() => null);
    const api = await apiOrder(id).catch((err) => ({ status: `unknown (${err.message})` }));
    throw new Error(
      `the row of order ${id} did not reach data-status="${status}" with .reason "${reason}" within ` +
        `${WAIT_MS / 1000}s; the page shows ${seen ? JSON.stringify(seen) : 'no such row'}; ` +
        `GET /orders/${id} says ${api.status}${api.reason ? ` (${api.reason})` : ''}`,
    );
  }
}

async function readTimeline(page) {
  return page.evaluate(() => {
    const timeline = document.querySelector('#timeline');
    if (!timeline) return null;
    return {
      orderId: timeline.getAttribute('data-order-id'),
      reason: timeline.querySelector('.reason')?.textContent.trim() ?? null,
      events: [...timeline.querySelectorAll('li.event')].map((li) => ({
        type: li.getAttribute('data-event-type'),
        offset: li.getAttribute('data-offset-ms'),
      })),
    };
  });
}

// Clicks the order's row, waits for its timeline, and waits until the timeline lists the
// same events as the order's history in GET /orders/{id} (a late reply may still be added
// to both). Returns the timeline and that history.
async function openTimeline(page, id) {
  await page.click(row(id));
  try {
    await page.waitForSelector(`#timeline[data-order-id="${id}"]`, { state: 'visible', timeout: WAIT_MS });
  } catch {
    const t = await readTimeline(page).catch(() => null);
    throw new Error(
      `clicking the row of order ${id} did not show #timeline[data-order-id="${id}"] within ${WAIT_MS / 1000}s; ` +
        (t ? `#timeline has data-order-id="${t.orderId}" and is ${(await page.isVisible('#timeline')) ? 'visible' : 'hidden'}` : 'there is no #timeline'),
    );
  }
  let timeline;
  let history;
  await pollUntil(
    `timeline of order ${id} listing the events of its GET /orders/${id} history`,
    async () => {
      timeline = await readTimeline(page);
      history = historyTypes(await apiOrder(id));
      return timeline.orderId === id && same(timeline.events.map((e) => e.type), history);
    },
    () => `the page lists [${timeline?.events.map((e) => e.type).join(', ')}], the API [${history?.join(', ')}]`,
  );
  checkOffsets(id, timeline.events);
  return { timeline, history };
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkOffsets(id, events) {
  let previous = -Infinity;
  for (const [i, e] of events.entries()) {
    assert.match(
      e.offset ?? '',
      /^\d+$/,
      `timeline of ${id}: li.event #${i} (${e.type}) has data-offset-ms=${JSON.stringify(e.offset)}, not an integer of milliseconds`,
    );
    const offset = Number(e.offset);
    assert.ok(
      offset >= previous,
      `timeline of ${id}: data-offset-ms goes down at li.event #${i} (${e.type}): ${previous} then ${offset}`,
    );
    previous = offset;
  }
}

// The decision event ends the list, but for replies the saga recorded after it.
function assertEndsWith(id, types, decision) {
  const at = types.lastIndexOf(decision);
  assert.ok(at >= 0, `timeline of ${id} has no ${decision}: [${types.join(', ')}]`);
  const after = types.slice(at + 1);
  assert.ok(
    after.every((t) => LATE_REPLIES.has(t)),
    `timeline of ${id} should end with ${decision} (or late replies after it): [${types.join(', ')}]`,
  );
}

async function counts(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      ['PENDING', 'CONFIRMED', 'CANCELLED'].map((s) => [
        s,
        document.querySelector(`#counts [data-count="${s}"]`)?.textContent.trim() ?? null,
      ]),
    ),
  );
}

// ---- signing in, and what the page sends ---------------------------------------------------

const messages = [];

// A browser of its own (a fresh user-data dir, so no session of another user), with `label`'s
// console messages, failed responses and every request kept.
async function launch(label) {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'console-test-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--metrics-recording-only',
      '--mute-audio',
    ],
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT_MS);
  const requests = [];
  page.on('console', (m) => messages.push(`${label} [${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`${label} [pageerror] ${e.stack || e.message}`));
  page.on('request', (r) => requests.push(r));
  page.on('response', (r) => {
    if (r.status() >= 400) messages.push(`${label} [http ${r.status()}] ${r.request().method()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    // The feed's request is aborted when the page closes; anything else is worth seeing.
    messages.push(`${label} [requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  return { context, page, requests, userDataDir };
}

async function close(browser) {
  if (!browser) return;
  await browser.context.close().catch(() => {});
  await fs.rm(browser.userDataDir, { recursive: true, force: true }).catch(() => {});
}

// Opens the console signed out: a sign-in button and nothing else.
async function openSignedOut(page) {
  const response = await page.goto(`${ORDERS_URL}/console`, { waitUntil: 'load' });
  assert.ok(response, `GET ${ORDERS_URL}/console gave no response`);
  assert.equal(response.status(), 200, `GET ${ORDERS_URL}/console answered ${response.status()}`);
  const contentType = response.headers()['content-type'] ?? '';
  assert.match(contentType, /^text\/html/, `GET /console has content-type "${contentType}", not text/html`);
  await page.waitForSelector('#sign-in', { state: 'visible', timeout: WAIT_MS }).catch(() => {
    throw new Error(`GET /console shows no #sign-in button within ${WAIT_MS / 1000}s`);
  });
  assert.equal(await page.isVisible('#orders'), false, 'the signed-out page shows #orders');
  assert.equal(await page.isVisible('#counts'), false, 'the signed-out page shows #counts');
  assert.equal(await page.getAttribute('#conn', 'data-state'), 'signed-out');
}

// Clicks "Sign in", logs in on Keycloak's own login page as `user` (password = name), and
// waits until the console has the code exchanged and taken out of the URL.
async function signIn(page, user) {
  await page.click('#sign-in');
  await page.waitForURL((url) => url.href.startsWith(`${identity.issuer}/`), { timeout: WAIT_MS }).catch(() => {
    throw new Error(`"Sign in" did not lead to ${identity.issuer} within ${WAIT_MS / 1000}s (at ${page.url()})`);
  });
  const login = new URL(page.url());
  assert.equal(login.searchParams.get('code_challenge_method'), 'S256', `the login URL asks no S256 PKCE challenge: ${login}`);
  assert.match(login.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/, 'the PKCE challenge is not a SHA-256 in base64url');
  assert.ok(login.searchParams.get('state'), 'the login URL has no state');
  assert.equal(login.searchParams.get('redirect_uri'), `${ORDERS_URL}/console`);
  await page.waitForSelector('#username', { state: 'visible' });
  await page.fill('#username', user);
  await page.fill('#password', user);
  const submit = await page.$('#kc-login');
  if (submit) await submit.click();
  else await page.press('#password', 'Enter');
  await page.waitForURL((url) => url.href.startsWith(`${ORDERS_URL}/console`), { timeout: WAIT_MS }).catch(async () => {
    const error = await page.textContent('#input-error, .kc-feedback-text, .alert-error').catch(() => null);
    throw new Error(`logging in as ${user} did not come back to the console within ${WAIT_MS / 1000}s (at ${page.url()}${error ? `: ${error.trim()}` : ''})`);
  });
  await page.waitForFunction(() => location.search === '' && location.pathname === '/console', null, { timeout: WAIT_MS }).catch(() => {
    throw new Error(`the console left the code and state in its URL: ${page.url()}`);
  });
  assert.equal(
    await page.evaluate(() => sessionStorage.getItem('saga-console.login')),
    null,
    'the PKCE verifier and state stayed in sessionStorage after the exchange',
  );
}

async function waitLive(page, what) {
  try {
    await page.waitForSelector('#conn[data-state="open"]', { state: 'attached', timeout: WAIT_MS });
  } catch {
    const state = await page.getAttribute('#conn', 'data-state').catch(() => null);
    const notice = await page.textContent('#notice').catch(() => null);
    throw new Error(`${what}: #conn never reached data-state="open" within ${WAIT_MS / 1000}s (it is ${JSON.stringify(state)}; #notice says ${JSON.stringify(notice)})`);
  }
}

// GET /orders/stream with `ticket` (or none): the status, the challenge, and for a 200 the
// first chunk, after which the stream is closed.
async function streamWith(ticket) {
  const url = new URL(`${ORDERS_URL}/orders/stream`);
  if (ticket !== undefined) url.searchParams.set('ticket', ticket);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const response = await fetch(url, { signal: abort.signal });
    const challenge = response.headers.get('www-authenticate');
    if (response.status !== 200) {
      return { status: response.status, challenge, body: await response.text() };
    }
    const { value } = await response.body.getReader().read();
    return { status: 200, challenge, body: new TextDecoder().decode(value) };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function assertRefusedStream(what, r) {
  assert.equal(r.status, 401, `${what}: GET /orders/stream answered ${r.status}: ${r.body}`);
  assert.match(r.challenge ?? '', /^Bearer /, `${what}: the 401 has no Bearer challenge`);
  assert.equal(JSON.parse(r.body).error?.code, 'unauthorized', `${what}: ${r.body}`);
}

// ---- the test -------------------------------------------------------------------------------

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  for (const [name, url] of [['customer', CUSTOMER_URL], ['orders', ORDERS_URL], ['inventory', INVENTORY_URL]]) {
    await waitReady(name, url);
  }
  ok('customer, orders and inventory are ready');
  await discoverIdentity();
  ok(`GET /console/config.json: issuer ${identity.issuer}, client ${identity.clientId}`);
  assertRefusedStream('no ticket, no token', await streamWith());
  ok('GET /orders/stream without a ticket or a token: 401 with a Bearer challenge');

  let operator;
  let alice;
  let page;
  try {
    operator = await launch('operator');
    page = operator.page;
    const { product: browserVersion } = await (await operator.context.newCDPSession(page)).send('Browser.getVersion');
    say(`${browserVersion} (${CHROMIUM})`);

    // ---- signed out, then signed in through Keycloak's login page ----
    await openSignedOut(page);
    ok('GET /console loaded signed out: a "Sign in" button, no orders, no counts');
    await signIn(page, 'operator');
    await waitLive(page, 'signed in as operator');
    assert.equal((await page.textContent('#user')).trim(), 'operator', 'the page does not say who is signed in');
    for (const selector of ['#orders', '#counts', '#rate']) {
      assert.ok(await page.isVisible(selector), `the signed-in page does not show ${selector}`);
    }
    ok(`signed in as operator on Keycloak's login page (PKCE S256); back on ${page.url()} with the code and state gone; the feed is open`);

    // Anything that loads the document again (a reload, a navigation) loses this marker and
    // fires another load event.
    let loads = 0;
    page.on('load', () => loads++);
    const marker = randomUUID();
    await page.evaluate((m) => {
      window.__consoleTestMarker = m;
    }, marker);

    // ---- a customer, two products, two orders ----
    const run = randomUUID().slice(0, 8);
    const inStock = `CONSOLE-${run}-MUG`;
    const scarce = `CONSOLE-${run}-LAMP`;
    for (const [sku, name, quantity] of [[inStock, 'Mug', 100], [scarce, 'Lamp', 2]]) {
      expectStatus(
        `POST /stock ${sku}`,
        await api('POST', `${INVENTORY_URL}/stock`, { sku, name, price: '5.00', quantity, low_stock_threshold: 0 }),
        201,
      );
    }
    const customer = expectStatus(
      'POST /customers',
      await api('POST', `${CUSTOMER_URL}/customers`, {
        name: 'Console Test',
        email: `console-${run}@example.com`,
        credit_limit: '1000.00',
      }),
      201,
    );
    ok(`created ${inStock} (100 in stock), ${scarce} (2 in stock) and customer ${customer.id} (credit 1000.00), as the operator`);

    const a = await placeOrder(customer.id, inStock, 2);
    ok(`placed order A ${a.id}: 2 x ${inStock}, in stock (should confirm)`);
    const b = await placeOrder(customer.id, scarce, 5);
    ok(`placed order B ${b.id}: 5 x ${scarce}, only 2 in stock (should be cancelled, out_of_stock)`);

    // ---- both reach their final status on the page, live ----
    await page.waitForSelector(row(a.id), { state: 'attached', timeout: WAIT_MS }).catch(() => {
      throw new Error(`order A ${a.id} never appeared in #orders (no ${row(a.id)}) within ${WAIT_MS / 1000}s`);
    });
    await page.waitForSelector(row(b.id), { state: 'attached', timeout: WAIT_MS }).catch(() => {
      throw new Error(`order B ${b.id} never appeared in #orders (no ${row(b.id)}) within ${WAIT_MS / 1000}s`);
    });
    ok('both orders appeared in #orders');
    await waitForRow(page, a.id, 'CONFIRMED', '');
    ok(`order A's row is CONFIRMED, .reason empty`);
    await waitForRow(page, b.id, 'CANCELLED', 'out_of_stock');
    ok(`order B's row is CANCELLED, .reason "out_of_stock"`);
    for (const [label, id] of [['A', a.id], ['B', b.id]]) {
      const state = await rowState(page, id);
      assert.ok(!state.stuck, `order ${label}'s row has class "stuck" although it is ${state.status}`);
    }
    const apiA = await apiOrder(a.id);
    const apiB = await apiOrder(b.id);
    assert.equal(apiA.status, 'CONFIRMED', `GET /orders/${a.id} says ${apiA.status}`);
    assert.equal(apiB.status, 'CANCELLED', `GET /orders/${b.id} says ${apiB.status}`);
    assert.equal(apiB.reason, 'out_of_stock', `GET /orders/${b.id} gives reason ${apiB.reason}`);
    ok('GET /orders/{id} agrees: A CONFIRMED, B CANCELLED (out_of_stock)');

    // The counts are of every order, so never fewer than the rows of the table with that
    // status (A's and B's among them); they may follow the rows a moment later (the page may
    // read them on a timer).
    let shown;
    let rows;
    await pollUntil(
      '#counts at least the number of CONFIRMED and CANCELLED rows in #orders',
      async () => {
        shown = await counts(page);
        for (const [status, text] of Object.entries(shown)) {
          assert.ok(text !== null, `#counts has no [data-count="${status}"]`);
          assert.match(text, /^\d+$/, `#counts [data-count="${status}"] shows "${text}", not an integer`);
        }
        rows = await page.evaluate(() => ({
          CONFIRMED: document.querySelectorAll('#orders tr[data-status="CONFIRMED"]').length,
          CANCELLED: document.querySelectorAll('#orders tr[data-status="CANCELLED"]').length,
        }));
        return Number(shown.CONFIRMED) >= rows.CONFIRMED && Number(shown.CANCELLED) >= rows.CANCELLED;
      },
      () => `#counts ${JSON.stringify(shown)}, rows ${JSON.stringify(rows)}`,
    );
    // #rate is GET /orders/summary's completed_per_second to one decimal: the sagas that ended
    // in the last minute (A's and B's among them, seconds ago), per second. The page reads the
    // summary on a timer, so it may show the one before the test's for a moment.
    let summary;
    let rate;
    await pollUntil(
      "#rate showing GET /orders/summary's completed_per_second",
      async () => {
        summary = expectStatus('GET /orders/summary', await api('GET', `${ORDERS_URL}/orders/summary`), 200);
        rate = (await page.textContent('#rate')).trim();
        return rate === summary.completed_per_second.toFixed(1);
      },
      () => `#rate "${rate}", GET /orders/summary ${JSON.stringify(summary)}`,
    );
    assert.ok(
      summary.completed_last_minute >= 2,
      `GET /orders/summary counts ${summary.completed_last_minute} sagas ended in the last minute, though A's and B's just did`,
    );
    assert.equal(
      summary.completed_per_second,
      summary.completed_last_minute / 60,
      `GET /orders/summary: completed_per_second is not completed_last_minute / 60: ${JSON.stringify(summary)}`,
    );
    ok(`#counts: ${shown.PENDING} pending, ${shown.CONFIRMED} confirmed, ${shown.CANCELLED} cancelled (the table: ${rows.CONFIRMED} confirmed, ${rows.CANCELLED} cancelled rows); #rate "${rate}" = ${summary.completed_last_minute} sagas ended in the last minute / 60`);

    // ---- the timelines ----
    const tb = await openTimeline(page, b.id);
    const typesB = tb.timeline.events.map((e) => e.type);
    assert.equal(typesB[0], 'order.created', `timeline of B should start with order.created: [${typesB.join(', ')}]`);
    assert.ok(typesB.includes('stock.rejected'), `timeline of B has no stock.rejected: [${typesB.join(', ')}]`);
    assertEndsWith(b.id, typesB, 'order.cancelled');
    assert.ok(
      typesB.indexOf('stock.rejected') < typesB.indexOf('order.cancelled'),
      `timeline of B: stock.rejected should come before order.cancelled: [${typesB.join(', ')}]`,
    );
    assert.ok(!typesB.includes('order.confirmed'), `timeline of B has order.confirmed: [${typesB.join(', ')}]`);
    assert.equal(tb.timeline.reason, 'out_of_stock', `#timeline .reason for B shows ${JSON.stringify(tb.timeline.reason)}`);
    ok(`timeline of B, as in GET /orders/{id}: ${tb.timeline.events.map((e) => `${e.type} +${e.offset}ms`).join(', ')}; reason out_of_stock`);

    // A late transition of B reaching the page from its feed (B's order is still the one open)
    // as A's row is clicked: the click wins, and the timeline that stays is A's.
    const late = await apiOrder(b.id);
    const clickedAt = operator.requests.length;
    await page.evaluate((t) => {
      queued.push(t);
      flush();
    }, {
      order_id: late.id,
      customer_id: late.customer_id,
      total: late.total,
      status: late.status,
      reason: late.reason,
      created_at: late.created_at,
      event_type: 'order.paid',
      at: new Date().toISOString(),
    });
    const ta = await openTimeline(page, a.id);
    const typesA = ta.timeline.events.map((e) => e.type);
    assert.equal(typesA[0], 'order.created', `timeline of A should start with order.created: [${typesA.join(', ')}]`);
    assert.equal(typesA.at(-1), 'order.confirmed', `timeline of A should end with order.confirmed: [${typesA.join(', ')}]`);
    for (const t of ['stock.reserved', 'order.paid']) {
      assert.ok(typesA.includes(t), `timeline of A has no ${t}: [${typesA.join(', ')}]`);
    }
    assert.equal(ta.timeline.reason ?? '', '', `#timeline .reason for A shows ${JSON.stringify(ta.timeline.reason)}`);
    ok(`timeline of A, as in GET /orders/{id}: ${ta.timeline.events.map((e) => `${e.type} +${e.offset}ms`).join(', ')}`);
    // The page's own timers run on: two more reads of the counts (one every 2 s) are well after
    // any reload of B's timeline that the late transition could have left due (150 ms).
    const summaryReads = () =>
      operator.requests.slice(clickedAt).filter((r) => r.url().startsWith(`${ORDERS_URL}/orders/summary`)).length;
    await pollUntil('two reads of the counts after A was clicked', async () => summaryReads() >= 2, () => `${summaryReads()} so far`);
    const staleReads = operator.requests.slice(clickedAt).filter((r) => r.url().startsWith(`${ORDERS_URL}/orders/${b.id}`));
    assert.equal(staleReads.length, 0, `after A's row was clicked, the page read B's order again ${staleReads.length} time(s) (a stale reload of B's timeline)`);
    const open = (await readTimeline(page)).orderId;
    assert.equal(open, a.id, `after A's row was clicked and B's late transition, #timeline shows ${open}`);
    ok("B's late transition as A was clicked: the timeline stays A's, B's reload was cancelled");

    // ---- never reloaded ----
    const still = await page.evaluate(() => ({
      marker: window.__consoleTestMarker,
      navigations: performance.getEntriesByType('navigation').length,
    }));
    assert.equal(still.marker, marker, 'the page was loaded again while the orders ran (the marker set on window is gone)');
    assert.equal(loads, 0, `the page fired ${loads} more load event(s) while the orders ran`);
    assert.equal(still.navigations, 1, `performance lists ${still.navigations} navigations`);
    assert.equal(await page.getAttribute('#conn', 'data-state'), 'open', '#conn is no longer open');
    ok('all of it live: no reload, no navigation, the feed still open');

    const shot = path.join(OUT_DIR, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    ok(`screenshot (A's timeline open): ${shortPath(shot)}`);

    // ---- what the page sent: the token in headers only, the feed on tickets ----
    const token = await page.evaluate(() => auth.access);
    assert.match(token ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the page holds no access token');
    const sent = operator.requests.filter((r) => r.url().startsWith(`${ORDERS_URL}/`));
    for (const r of operator.requests) {
      assert.ok(!r.url().includes(token), `the access token is in the URL of ${r.method()} ${r.url().split('?')[0]}`);
    }
    const apiCalls = sent.filter((r) => /^\/(orders(?!\/stream)|console\/ticket)/.test(new URL(r.url()).pathname));
    assert.ok(apiCalls.length >= 4, `the page made only ${apiCalls.length} API requests`);
    for (const r of apiCalls) {
      const authorization = (await r.allHeaders()).authorization ?? '';
      assert.match(authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, `${r.method()} ${r.url()} carries no bearer token`);
    }
    const streams = sent.filter((r) => new URL(r.url()).pathname === '/orders/stream');
    assert.ok(streams.length >= 1, 'the page never opened GET /orders/stream');
    const pageTickets = streams.map((r) => new URL(r.url()).searchParams.get('ticket'));
    for (const [i, r] of streams.entries()) {
      assert.match(pageTickets[i] ?? '', /^[0-9a-f]{64}$/, `the page opened ${r.url()} without a ticket`);
      assert.equal((await r.allHeaders()).authorization, undefined, 'the feed request carries an Authorization header');
    }
    assert.equal(new Set(pageTickets).size, pageTickets.length, 'the page presented a ticket twice');
    ok(`${apiCalls.length} API requests of the page, each with its bearer token; no URL with the token; ${streams.length} feed request(s), each with a ticket of its own`);

    assertRefusedStream("the page's own ticket, replayed", await streamWith(pageTickets[0]));
    const issued = expectStatus('POST /console/ticket', await api('POST', `${ORDERS_URL}/console/ticket`), 200);
    const fresh = await streamWith(issued.ticket);
    assert.equal(fresh.status, 200, `a fresh ticket: GET /orders/stream answered ${fresh.status}: ${fresh.body}`);
    assert.match(fresh.body, /event: ready/, `a fresh ticket's stream began with ${JSON.stringify(fresh.body)}`);
    assertRefusedStream('a used ticket', await streamWith(issued.ticket));
    assertRefusedStream('a made-up ticket', await streamWith('0'.repeat(64)));
    ok('the feed: the page\'s ticket replayed, a used one and a made-up one are 401; a fresh one opens once');

    // ---- a token the API refuses is renewed; a session that cannot be, signs in again ----
    await page.evaluate(() => {
      auth.access = 'x.y.z';
    });
    await page.waitForResponse((r) => r.url() === `${ORDERS_URL}/orders/summary` && r.status() === 401, { timeout: WAIT_MS });
    await page.waitForResponse((r) => r.url() === `${ORDERS_URL}/orders/summary` && r.status() === 200, { timeout: WAIT_MS });
    const renewed = await page.evaluate(() => auth.access);
    assert.ok(renewed !== 'x.y.z' && renewed !== token, 'the page did not renew its token');
    assert.equal(await page.isVisible('#notice'), false, 'a renewed session shows a notice');
    assert.equal(await page.getAttribute('#conn', 'data-state'), 'open', 'the renewal closed the feed');
    ok('a token the API refused (401) was renewed with the refresh token; the summary went on, the feed stayed open');

    await page.evaluate(() => {
      auth.access = 'x.y.z';
      auth.refresh = 'not-a-refresh-token';
    });
    await page.waitForSelector('#notice[data-kind="expired"]', { state: 'visible', timeout: WAIT_MS }).catch(() => {
      throw new Error(`a session that cannot be renewed shows no #notice[data-kind="expired"] within ${WAIT_MS / 1000}s`);
    });
    assert.ok(await page.isVisible('#sign-in'), 'an ended session offers no "Sign in"');
    assert.equal(await page.isVisible('#orders'), false, 'an ended session still shows #orders');
    ok(`an ended session: "${(await page.textContent('#notice')).trim()}", and the "Sign in" button`);
    // Keycloak still has the operator's session: it answers with a code at once, and the page
    // exchanges it without its login form being filled again.
    const exchanged = page.waitForResponse((r) => r.url() === identity.tokenEndpoint && r.request().method() === 'POST', { timeout: WAIT_MS });
    await page.click('#sign-in');
    const exchange = await exchanged;
    assert.equal(exchange.status(), 200, `signing in again: the code exchange answered ${exchange.status()}`);
    assert.match(exchange.request().postData() ?? '', /grant_type=authorization_code/, 'signing in again did not exchange a code');
    await waitLive(page, 'signed in again');
    ok("signing in again went through Keycloak's session (no login form), exchanged a new code; the feed is open again");

    // ---- a customer sees no data ----
    alice = await launch('alice');
    await openSignedOut(alice.page);
    await signIn(alice.page, 'alice');
    await alice.page.waitForSelector('#notice[data-kind="forbidden"]', { state: 'visible', timeout: WAIT_MS }).catch(async () => {
      const notice = await alice.page.textContent('#notice').catch(() => null);
      throw new Error(`alice signed in but sees no #notice[data-kind="forbidden"] within ${WAIT_MS / 1000}s (#notice: ${JSON.stringify(notice)})`);
    });
    const forbidden = (await alice.page.textContent('#notice')).trim();
    assert.match(forbidden, /alice/, `the forbidden message does not name alice: ${forbidden}`);
    assert.match(forbidden, /operators/, `the forbidden message does not say who may: ${forbidden}`);
    for (const selector of ['#orders', '#counts', '#timeline']) {
      assert.equal(await alice.page.isVisible(selector), false, `alice sees ${selector}`);
    }
    assert.equal(await alice.page.$$eval('#orders tbody tr', (trs) => trs.length), 0, 'alice has rows of orders on her page');
    assert.notEqual(await alice.page.getAttribute('#conn', 'data-state'), 'open', "alice's page has the feed open");
    const alicesCalls = alice.requests
      .map((r) => `${r.method()} ${new URL(r.url()).pathname}`)
      .filter((call) => /^(GET|POST) \/(orders|console\/ticket)/.test(call));
    assert.deepEqual(alicesCalls, ['POST /console/ticket'], `alice's page asked for ${JSON.stringify(alicesCalls)}`);
    ok(`alice signed in and sees "${forbidden}", and no data (her page asked POST /console/ticket only, which was 403)`);

    // ---- signing out ends Keycloak's session too ----
    await alice.page.click('#sign-out');
    await alice.page.waitForURL((url) => url.href === `${ORDERS_URL}/console`, { timeout: WAIT_MS }).catch(() => {
      throw new Error(`"Sign out" did not come back to the console within ${WAIT_MS / 1000}s (at ${alice.page.url()})`);
    });
    await alice.page.waitForSelector('#sign-in', { state: 'visible', timeout: WAIT_MS });
    assert.equal(await alice.page.isVisible('#user'), false, 'signed out, the page still names a user');
    await alice.page.click('#sign-in');
    await alice.page.waitForSelector('#username', { state: 'visible', timeout: WAIT_MS }).catch(() => {
      throw new Error(`after "Sign out", "Sign in" did not ask for a password again (at ${alice.page.url()})`);
    });
    ok('"Sign out" came back signed out, and ended the Keycloak session: signing in asks for the password again');
  } catch (e) {
    for (const [label, browser] of [['', operator], ['alice-', alice]]) {
      if (!browser) continue;
      await browser.page.screenshot({ path: path.join(OUT_DIR, `${label}failure.png`), fullPage: true }).catch(() => {});
      await fs.writeFile(path.join(OUT_DIR, `${label}failure.html`), await browser.page.content().catch(() => '')).catch(() => {});
    }
    await fs.writeFile(path.join(OUT_DIR, 'console-messages.log'), messages.join('\n') + '\n').catch(() => {});
    console.error(`\nconsole: the pages' console (${messages.length} messages, also in ${shortPath(path.join(OUT_DIR, 'console-messages.log'))}):`);
    for (const m of messages) console.error(`  ${m}`);
    console.error(`console: failure screenshot and page: ${shortPath(path.join(OUT_DIR, 'failure.png'))}, failure.html (alice-failure.* for alice's)`);
    throw e;
  } finally {
    await close(operator);
    await close(alice);
  }
}

try {
  await main();
  say('CONSOLE TEST PASSED');
} catch (e) {
  console.error(`\nCONSOLE TEST FAILED: ${e.message}`);
  process.exitCode = 1;
}
