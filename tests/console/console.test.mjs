// The saga console in a real browser (issue 13): Debian's chromium, driven headless by
// playwright-core, against the running system. Run it with scripts/console-test, which
// installs both.
//
// It opens orders' GET /console, places two orders through the public APIs (one that
// confirms, one for more than the stock), sees each appear on the page and reach its final
// status without a reload, opens both timelines and checks them against GET /orders/{id},
// and saves a full-page screenshot to <out>/console.png. On a failure it saves
// <out>/failure.png, <out>/failure.html and the page's console messages
// (<out>/console-messages.log, also printed), and exits 1.
//
// Settings (environment): ORDERS_URL CUSTOMER_URL INVENTORY_URL (default
// http://127.0.0.1:8002, :8001, :8003), CHROMIUM (default /usr/bin/chromium), CONSOLE_OUT_DIR
// (default <repo>/target/console), CONSOLE_WAIT_SECS (default 60): how long to wait for each
// service, the page and each outcome.

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
      const r = await http('POST', `${ORDERS_URL}/orders`, { customer_id: customerId, items: [{ sku, quantity }] }, {
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
  return expectStatus(`GET /orders/${id}`, await http('GET', `${ORDERS_URL}/orders/${id}`), 200);
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

// ---- the test -------------------------------------------------------------------------------

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  for (const [name, url] of [['customer', CUSTOMER_URL], ['orders', ORDERS_URL], ['inventory', INVENTORY_URL]]) {
    await waitReady(name, url);
  }
  ok('customer, orders and inventory are ready');

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
  const messages = [];
  let page;
  try {
    page = context.pages()[0] ?? (await context.newPage());
    const { product: browserVersion } = await (await context.newCDPSession(page)).send('Browser.getVersion');
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (m) => messages.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`[pageerror] ${e.stack || e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) messages.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => {
      // The feed's request is aborted when the page closes; anything else is worth seeing.
      messages.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
    });
    say(`${browserVersion} (${CHROMIUM}), user-data dir ${userDataDir}`);

    // ---- the console, live ----
    const response = await page.goto(`${ORDERS_URL}/console`, { waitUntil: 'load' });
    assert.ok(response, `GET ${ORDERS_URL}/console gave no response`);
    assert.equal(response.status(), 200, `GET ${ORDERS_URL}/console answered ${response.status()}`);
    const contentType = response.headers()['content-type'] ?? '';
    assert.match(contentType, /^text\/html/, `GET /console has content-type "${contentType}", not text/html`);
    try {
      await page.waitForSelector('#conn[data-state="open"]', { state: 'attached', timeout: WAIT_MS });
    } catch {
      const state = await page.getAttribute('#conn', 'data-state').catch(() => null);
      throw new Error(`#conn never reached data-state="open" within ${WAIT_MS / 1000}s (it is ${JSON.stringify(state)})`);
    }
    for (const selector of ['#orders', '#counts', '#rate']) {
      assert.ok(await page.$(selector), `the page has no ${selector}`);
    }
    ok(`GET /console loaded; the feed is open (#conn data-state="open")`);

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
        await http('POST', `${INVENTORY_URL}/stock`, { sku, name, price: '5.00', quantity, low_stock_threshold: 0 }),
        201,
      );
    }
    const customer = expectStatus(
      'POST /customers',
      await http('POST', `${CUSTOMER_URL}/customers`, {
        name: 'Console Test',
        email: `console-${run}@example.com`,
        credit_limit: '1000.00',
      }),
      201,
    );
    ok(`created ${inStock} (100 in stock), ${scarce} (2 in stock) and customer ${customer.id} (credit 1000.00)`);

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
    const rate = (await page.textContent('#rate')).trim();
    assert.match(rate, /\d/, `#rate shows "${rate}", no number`);
    ok(`#counts: ${shown.PENDING} pending, ${shown.CONFIRMED} confirmed, ${shown.CANCELLED} cancelled (the table: ${rows.CONFIRMED} confirmed, ${rows.CANCELLED} cancelled rows); #rate "${rate}"`);

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

    const ta = await openTimeline(page, a.id);
    const typesA = ta.timeline.events.map((e) => e.type);
    assert.equal(typesA[0], 'order.created', `timeline of A should start with order.created: [${typesA.join(', ')}]`);
    assert.equal(typesA.at(-1), 'order.confirmed', `timeline of A should end with order.confirmed: [${typesA.join(', ')}]`);
    for (const t of ['stock.reserved', 'order.paid']) {
      assert.ok(typesA.includes(t), `timeline of A has no ${t}: [${typesA.join(', ')}]`);
    }
    assert.equal(ta.timeline.reason ?? '', '', `#timeline .reason for A shows ${JSON.stringify(ta.timeline.reason)}`);
    ok(`timeline of A, as in GET /orders/{id}: ${ta.timeline.events.map((e) => `${e.type} +${e.offset}ms`).join(', ')}`);

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
  } catch (e) {
    if (page) {
      await page.screenshot({ path: path.join(OUT_DIR, 'failure.png'), fullPage: true }).catch(() => {});
      await fs.writeFile(path.join(OUT_DIR, 'failure.html'), await page.content().catch(() => '')).catch(() => {});
    }
    await fs.writeFile(path.join(OUT_DIR, 'console-messages.log'), messages.join('\n') + '\n').catch(() => {});
    console.error(`\nconsole: the page's console (${messages.length} messages, also in ${shortPath(path.join(OUT_DIR, 'console-messages.log'))}):`);
    for (const m of messages) console.error(`  ${m}`);
    console.error(`console: failure screenshot and page: ${shortPath(path.join(OUT_DIR, 'failure.png'))}, failure.html`);
    throw e;
  } finally {
    await context.close().catch(() => {});
    await fs.rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

try {
  await main();
  say('CONSOLE TEST PASSED');
} catch (e) {
  console.error(`\nCONSOLE TEST FAILED: ${e.message}`);
  process.exitCode = 1;
}
