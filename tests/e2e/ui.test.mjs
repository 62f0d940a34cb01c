// The web UI in a real browser: Debian's chromium, headless, driven by playwright-core,
// against the UI that the strand binary itself serves at / (web/dist embedded at build).
// Data comes from the real OpenTelemetry JS SDK (lib/uidata.mjs): a small shop of 24
// traces over four services, and one trace of 10,000 spans.
//
// Screenshots go to artifacts/ui-*.png. Every request the page makes must go to strand
// (nothing from the internet), and the page must log no error.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { Strand, artifactsDir, sleep } from './lib/strand.mjs';
import { loadShop, loadBigTrace } from './lib/uidata.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOP_TRACES = 24;

/** Polls `fn` until it returns truthy; fails with `what` after `timeoutMs`. */
async function until(fn, what, { timeoutMs = 15_000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

describe('web UI', () => {
  let strand;
  let browser;
  let page;
  let shop;
  let big;
  const problems = []; // console errors, page errors, requests that left strand
  const figures = {};

  const shot = (name) => page.screenshot({ path: path.join(artifactsDir, `ui-${name}.png`) });
  const rowCount = () => page.locator('.wf-body .row').count();
  const resultRows = () => page.locator('.results-table tbody tr').count();
  const editor = () => page.locator('textarea.editor-input');
  const url = () => new URL(page.url());

  before(async () => {
    strand = await Strand.start({ name: 'ui' });
    const index = await strand.api('/');
    assert.equal(index.status, 200);
    assert.match(index.text(), /<div id="app">/,
      'strand does not serve the UI at /: build web/ (npm ci && npm run build) before the binary (make does both)');
    const fallback = await strand.api('/trace/0123456789abcdef0123456789abcdef?span=1');
    assert.equal(fallback.status, 200, 'app routes answer index.html');

    shop = await loadShop(strand, { traces: SHOP_TRACES });
    big = await loadBigTrace(strand, 10_000);

    fs.mkdirSync(artifactsDir, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // No connection attempts of its own: this machine has no network beyond loopback.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const origin = new URL(strand.apiUrl).origin;
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      problems.push(`request outside strand: ${u}`);
      return route.abort();
    });
    page = await context.newPage();
    // The browser logs every 4xx answer; the tests ask for a bad query (400) and an unknown
    // trace (404) on purpose.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[04]/.test(m.text())) {
        problems.push(`console: ${m.text()}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  after(async () => {
    if (Object.keys(figures).length) {
      fs.writeFileSync(path.join(artifactsDir, 'ui-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
      console.log('UI figures:', JSON.stringify(figures));
    }
    await browser?.close();
    await strand?.close();
  });

  test('search with typed TraceQL: highlighting, results, shareable URL', async () => {
    await page.goto(`${strand.apiUrl}/`);
    await until(async () => (await resultRows()) > 0, 'the default search');
    await editor().fill('');
    await editor().type('{ resource.service.name = "payments" && status = error }');
    // The highlighted copy shows each kind of token.
    assert.equal(await page.locator('.editor-hl .tk-attr').first().textContent(), 'resource.service.name');
    assert.equal(await page.locator('.editor-hl .tk-string').first().textContent(), '"payments"');
    assert.equal(await page.locator('.editor-hl .tk-intrinsic').first().textContent(), 'status');
    assert.equal(await page.locator('.editor-hl .tk-keyword').first().textContent(), 'error');
    assert.equal(await page.locator('.editor-hl .tk-op').first().textContent(), '=');
    await editor().press('Enter');
    await until(async () => url().searchParams.get('q')?.includes('payments'), 'q in the URL');
    await until(async () => (await resultRows()) === shop.errorTraceIds.length, `${shop.errorTraceIds.length} error traces`);
    const ids = await page.locator('.results-table tbody tr td:first-child a').evaluateAll(
      (as) => as.map((a) => a.getAttribute('href').replace('/trace/', '')));
    assert.deepEqual([...ids].sort(), [...shop.errorTraceIds].sort());
    // The span count of each trace, from the search answer's serviceStats.
    const headers = await page.locator('.results-table thead th').allTextContents();
    const spansCol = headers.findIndex((h) => h.startsWith('Spans'));
    assert.ok(spansCol > 0, `a Spans column: ${headers}`);
    const counts = await page.locator(`.results-table tbody tr td:nth-child(${spansCol + 1})`).allTextContents();
    assert.deepEqual(counts, counts.map(() => String(shop.spansPerTrace)));
    await shot('search');

    // The URL alone reproduces the view.
    const shared = page.url();
    await page.goto(`${strand.apiUrl}/map`);
    await page.goto(shared);
    await until(async () => (await resultRows()) === shop.errorTraceIds.length, 'the shared search');
    assert.equal(await editor().inputValue(), '{ resource.service.name = "payments" && status = error }');
  });

  test('autocomplete: attribute names and values, by keyboard', async () => {
    await editor().fill('');
    await editor().type('{ resource.serv');
    await until(async () => (await page.locator('.ac-list li').allTextContents()).some((t) => t.startsWith('resource.service.name')),
      'resource.service.name suggested');
    await editor().press('Enter');
    assert.equal(await editor().inputValue(), '{ resource.service.name ');
    await editor().type('= ');
    await until(async () => (await page.locator('.ac-list li .ac-label').allTextContents()).includes('checkout'), 'service values');
    const offered = await page.locator('.ac-list li .ac-label').allTextContents();
    for (const s of shop.services) assert.ok(offered.includes(s), `${s} offered: ${offered}`);
    await editor().type('che');
    await until(async () => (await page.locator('.ac-list li .ac-label').allTextContents()).join() === 'checkout', 'filtered to checkout');
    await shot('autocomplete');
    await editor().press('ArrowDown'); // wraps around the one-item list
    await editor().press('Tab');
    assert.equal(await editor().inputValue(), '{ resource.service.name = "checkout" ');
    await editor().type('}');
    await editor().press('Enter');
    await until(async () => (await page.locator('.summary').textContent())?.startsWith(`${SHOP_TRACES} traces`), 'every shop trace');
    // Ctrl+Space opens the list, Esc closes it.
    await editor().fill('{ ');
    await editor().press('End');
    await editor().press('Control+Space');
    await page.locator('.ac-list').waitFor();
    await editor().press('Escape');
    assert.equal(await page.locator('.ac-list').count(), 0);
  });

  test('the builder writes TraceQL', async () => {
    await page.getByRole('button', { name: 'Builder' }).click();
    await until(async () => (await page.locator('[data-testid=builder-service] option').count()) > 4, 'services in the builder');
    await page.locator('[data-testid=builder-service]').selectOption('frontend');
    await page.locator('[data-testid=builder-status]').selectOption('error');
    await page.locator('[data-testid=builder-min]').fill('100ms');
    assert.equal(await editor().inputValue(), '{ resource.service.name = "frontend" && status = error && duration >= 100ms }');
    await page.getByRole('button', { name: '+ Attribute' }).click();
    await page.locator('[data-testid=builder-attr-key-0]').fill('span.http.route');
    await page.locator('[data-testid=builder-attr-value-0]').fill('/checkout');
    const q = await editor().inputValue();
    assert.equal(q, '{ resource.service.name = "frontend" && status = error && duration >= 100ms && span.http.route = "/checkout" }');
    await shot('builder');
    await page.getByRole('button', { name: 'Run query' }).click();
    // Failed shop traces have root durations 210, 170, 130, 90, 250, 210 ms: five are ≥ 100ms.
    await until(async () => (await page.locator('.summary').textContent())?.startsWith('5 traces'), 'five slow failed traces');
    await page.getByRole('button', { name: 'Hide builder' }).click();
  });

  test('results: sorting, paging, time range, empty and error states', async () => {
    await page.goto(`${strand.apiUrl}/search?q=${encodeURIComponent('{ }')}`);
    const total = SHOP_TRACES + 1;
    await until(async () => (await page.locator('.summary').textContent())?.startsWith(`${total} traces`), `${total} traces`);
    assert.equal(await resultRows(), 20, 'first page');
    assert.match(await page.locator('.pager').textContent(), new RegExp(`1–20 of ${total}`));
    await page.getByRole('button', { name: 'Next →' }).click();
    await until(async () => (await resultRows()) === total - 20, 'second page');
    assert.equal(url().searchParams.get('page'), '2');
    // Sort by duration, longest first: the 10,000-span trace (995 ms) leads.
    await page.getByRole('button', { name: /^Duration/ }).click();
    assert.equal(url().searchParams.get('sort'), '-duration');
    await until(async () => (await page.locator('.results-table tbody tr:first-child td:nth-child(2)').textContent()) === 'bulk-loader', 'bulk trace first');
    assert.equal(await page.locator('th[aria-sort=descending]').textContent(), 'Duration ▼');
    await page.getByRole('button', { name: /^Duration/ }).click();
    assert.equal(url().searchParams.get('sort'), 'duration');
    // Shortest first (sorting goes back to page 1): the shop's 90 ms traces.
    await until(async () => (await page.locator('.results-table tbody tr:first-child td:nth-child(5)').textContent()) === '90.0 ms', 'shortest first');
    assert.equal(url().searchParams.get('page'), null);

    await page.getByLabel('Time range').selectOption('15m');
    assert.equal(url().searchParams.get('range'), '15m');
    await until(async () => (await page.locator('.summary').textContent())?.startsWith(`${total} traces`), 'all in the last 15 minutes');

    // A custom range before any data: the empty state.
    await page.getByLabel('Time range').selectOption('custom');
    await page.getByLabel('From').fill('2020-01-01T10:00');
    await page.getByLabel('To').fill('2020-01-01T11:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    await until(async () => url().searchParams.has('start') && url().searchParams.has('end'), 'start/end in the URL');
    await page.locator('.state.empty').waitFor();
    assert.match(await page.locator('.state.empty').textContent(), /No traces match/);
    await shot('empty');

    // A query error: 400 with the parser's message.
    await page.goto(`${strand.apiUrl}/search?q=${encodeURIComponent('{ foo }')}`);
    await page.locator('.state.error').waitFor();
    assert.match(await page.locator('.state.error').textContent(), /query has an error.*parse error/s);
    await shot('error');
  });

  test('trace view: waterfall, critical path, expand and collapse, detail panel', async () => {
    const id = shop.errorTraceIds[0];
    await page.goto(`${strand.apiUrl}/search?q=${encodeURIComponent('{ status = error }')}`);
    await page.locator(`a[href="/trace/${id}"]`).click();
    await until(async () => (await rowCount()) === shop.spansPerTrace, 'all spans of the trace');
    assert.equal(url().pathname, `/trace/${id}`);
    assert.equal(await page.locator('[data-testid=span-count]').textContent(), String(shop.spansPerTrace));
    const crit = await page.locator('.wf-body .row.crit .name').allTextContents();
    assert.deepEqual(crit, ['GET /checkout', 'POST /place-order', 'checkout.PlaceOrder', 'audit']);
    const errs = await page.locator('.wf-body .row.err .name').allTextContents();
    assert.deepEqual(errs, ['GET /checkout', 'POST /charge', 'payments.Charge']);
    // One colour per service, in the legend and on the bars.
    assert.deepEqual(await page.locator('.legend li').allTextContents(), ['frontend', 'cart', 'checkout', 'payments']);
    const colours = await page.locator('.legend .svc-chip').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert.equal(new Set(colours).size, 4);
    await shot('trace');

    // Collapse checkout.PlaceOrder (four spans below it), then expand it again.
    const placeOrder = page.locator('.wf-body .row', { hasText: 'checkout.PlaceOrder' });
    await placeOrder.locator('button.toggle').click();
    await until(async () => (await rowCount()) === shop.spansPerTrace - 4, 'collapsed subtree');
    assert.equal(await placeOrder.getAttribute('aria-expanded'), 'false');
    assert.equal(await placeOrder.locator('.hidden-count').textContent(), '+4');
    await shot('collapsed');
    await placeOrder.locator('button.toggle').click();
    await until(async () => (await rowCount()) === shop.spansPerTrace, 'expanded again');
    // By keyboard: select the root, ← collapses it, → expands it.
    await page.locator('.wf-body .row', { hasText: 'GET /checkout' }).click();
    await page.locator('.wf-body').focus();
    await page.keyboard.press('ArrowLeft');
    await until(async () => (await rowCount()) === 1, 'root collapsed by keyboard');
    await page.keyboard.press('ArrowRight');
    await until(async () => (await rowCount()) === shop.spansPerTrace, 'root expanded by keyboard');

    // Detail panel of payments.Charge.
    await page.locator('.wf-body .row', { hasText: 'payments.Charge' }).click();
    const detail = page.locator('#span-detail');
    await detail.waitFor();
    assert.match(url().search, /span=[0-9a-f]{16}/);
    assert.equal(await detail.locator('h2').textContent(), 'payments.Charge');
    assert.equal(await detail.locator('[data-testid=detail-status]').textContent(), 'error: card declined');
    const text = await detail.textContent();
    for (const want of ['payment.currency', 'EUR', 'payment.amount', 'service.name', 'payments', 'deployment.environment.name',
      'exception', 'CardDeclined', 'payments-tracer', 'server']) {
      assert.ok(text.includes(want), `detail shows ${want}`);
    }
    await shot('detail');
    await page.keyboard.press('Escape');
    await until(async () => (await detail.count()) === 0, 'Esc closes the panel');
    assert.equal(url().searchParams.get('span'), null);

    // Links: the audit span links to cart.Get in the same trace.
    await page.locator('.wf-body .row', { hasText: 'audit' }).click();
    await detail.locator('a', { hasText: 'this trace' }).click();
    await until(async () => (await detail.locator('h2').textContent()) === 'cart.Get', 'the linked span');

    // A shared link with ?span= opens with that span selected.
    await page.goto(`${strand.apiUrl}/trace/${shop.traceIds[0]}?span=${shop.rootSpanIds[0]}`);
    await detail.waitFor();
    assert.equal(await detail.locator('h2').textContent(), 'GET /checkout');
  });

  test('search within the trace, and the raw JSON', async () => {
    const find = page.getByLabel('Find spans in this trace');
    await find.fill('redis');
    await find.press('Enter');
    await until(async () => (await page.locator('.match-count').textContent()) === '– of 1', 'one match');
    assert.deepEqual(await page.locator('.wf-body .row.match .name').allTextContents(), ['redis GET']);
    assert.equal(url().searchParams.get('find'), 'redis');
    await find.press('Enter'); // next match: selects it
    await until(async () => (await page.locator('.match-count').textContent()) === '1 of 1', 'match selected');
    await page.getByLabel('Only matches').check();
    await until(async () => (await rowCount()) === 4, 'the match and its ancestors');
    assert.deepEqual(await page.locator('.wf-body .row .name').allTextContents(), ['GET /checkout', 'POST /cart', 'cart.Get', 'redis GET']);
    await shot('find');
    await find.fill('');
    await find.press('Escape');
    await until(async () => (await rowCount()) === shop.spansPerTrace, 'filter cleared');

    await page.getByRole('link', { name: 'Raw JSON' }).click();
    const raw = page.locator('[data-testid=raw-json]');
    await raw.waitFor();
    assert.equal(url().searchParams.get('view'), 'json');
    const json = JSON.parse(await raw.textContent());
    const spans = json.trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    assert.equal(spans.length, shop.spansPerTrace);
    assert.ok(spans.some((s) => s.kind === 'SPAN_KIND_SERVER'));
    await shot('raw-json');
    await page.getByRole('link', { name: 'Waterfall' }).click();
    await until(async () => (await rowCount()) === shop.spansPerTrace, 'back to the waterfall');
  });

  test('open by trace ID: a 10,000-span trace is virtualized', async () => {
    const input = page.getByLabel('Trace ID', { exact: true });
    await input.fill('not-hex');
    await input.press('Enter');
    await page.locator('#open-trace-error').waitFor();

    await input.fill(big.traceId.toUpperCase());
    const t0 = Date.now();
    await input.press('Enter');
    await page.locator('.wf-body .row').first().waitFor();
    figures.open10kMs = Date.now() - t0;
    assert.equal(url().pathname, `/trace/${big.traceId}`);
    assert.equal(await page.locator('[data-testid=span-count]').textContent(), '10000');
    const inDom = await rowCount();
    assert.ok(inDom > 10 && inDom < 100, `rows in the DOM: ${inDom}`);
    const height = await page.locator('.wf-inner').evaluate((e) => e.getBoundingClientRect().height);
    assert.equal(height, 10_000 * 26, 'the list is as tall as all rows');
    await shot('trace-10k');

    // Scroll through the whole trace in steps; the DOM stays small and each step paints fast.
    const steps = await page.locator('.wf-body').evaluate(async (el) => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const times = [];
      for (let k = 1; k <= 40; k++) {
        const t = performance.now();
        el.scrollTop = (el.scrollHeight - el.clientHeight) * (k / 40);
        await frame();
        await frame();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { median: times[20], max: times[times.length - 1], rows: el.querySelectorAll('.row').length };
    });
    figures.scrollStepMedianMs = Math.round(steps.median * 10) / 10;
    figures.scrollStepMaxMs = Math.round(steps.max * 10) / 10;
    figures.domRowsAfterScroll = steps.rows;
    assert.ok(steps.rows < 100, `rows in the DOM after scrolling: ${steps.rows}`);
    const lastName = await page.locator('.wf-body .row .name').last().textContent();
    assert.match(lastName, /^insert row 98\./, 'the end of the trace is shown');
    await shot('trace-10k-end');

    // Keyboard: End selects the last span; the detail panel follows.
    await page.locator('.wf-body').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await until(async () => /^insert row 98\./.test(await page.locator('#span-detail h2').textContent() ?? ''), 'last span selected');

    // The raw JSON of the big trace: its pretty form is over the 4 MB shown in the page,
    // so the page shows the start and says so; the download has it all.
    const tj = Date.now();
    await page.getByRole('link', { name: 'Raw JSON' }).click();
    await page.locator('[data-testid=raw-json]').waitFor();
    figures.rawJson10kMs = Date.now() - tj;
    assert.match(await page.locator('.raw .state').textContent(), /Showing the first 4 MB of \d+\.\d MB/);
    assert.match(await page.getByRole('link', { name: 'Download' }).getAttribute('href'), /^blob:/);
    const head = await page.locator('[data-testid=raw-json]').evaluate((e) => e.textContent.slice(0, 40));
    assert.match(head, /^\{\s*"trace": \{/);

    // An unknown trace: a clear not-found state.
    await page.goto(`${strand.apiUrl}/trace/0123456789abcdef0123456789abcdef`);
    await page.locator('.state.error').waitFor();
    assert.match(await page.locator('.state.error').textContent(), /Trace not found/);
  });

  test('service map: nodes, edges with rate, error rate and latency, and a table', async () => {
    await page.getByRole('link', { name: 'Service map' }).click();
    await page.locator('svg.map').waitFor();
    const nodes = await page.locator('svg.map [data-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')));
    assert.deepEqual([...nodes].sort(), ['bulk-loader', 'cart', 'checkout', 'frontend', 'payments']);
    const edges = await page.locator('svg.map [data-edge]').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')));
    assert.deepEqual([...edges].sort(), ['checkout->payments', 'frontend->cart', 'frontend->checkout']);
    const label = await page.locator('svg.map [data-edge="checkout->payments"] text').textContent();
    assert.match(label, /\/(s|min) · 25% err · p50 \d/);
    // Callers sit left of the services they call.
    const x = async (n) => Number(await page.locator(`svg.map [data-node="${n}"] rect`).first().getAttribute('x'));
    assert.ok(await x('frontend') < await x('checkout'));
    assert.ok(await x('checkout') < await x('payments'));
    const table = await page.locator('[data-testid=edges-table] tbody tr').allTextContents();
    assert.equal(table.length, 3);
    assert.ok(table.some((r) => r.startsWith('checkoutpayments24') && r.includes('6 (25%)')), table.join('\n'));
    await shot('map');
    // A node opens the search for its service.
    await page.locator('svg.map [data-node="payments"]').click();
    await until(async () => url().pathname === '/search', 'search from the map');
    assert.equal(url().searchParams.get('q'), '{ resource.service.name = "payments" }');
  });

  test('keyboard: focus is visible and Tab reaches the controls', async () => {
    await page.goto(`${strand.apiUrl}/`);
    await until(async () => (await resultRows()) > 0, 'results');
    const seen = [];
    for (let k = 0; k < 8; k++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        return { tag: e.tagName, label: e.getAttribute('aria-label') ?? e.textContent.trim().slice(0, 20), outline: s.outlineStyle !== 'none' && s.outlineWidth !== '0px' };
      }));
    }
    assert.ok(seen.every((s) => s.outline), `every focused control shows an outline: ${JSON.stringify(seen)}`);
    assert.ok(seen.some((s) => s.label === 'TraceQL query'), `Tab reaches the editor: ${JSON.stringify(seen)}`);
    assert.ok(seen.some((s) => s.label === 'Trace ID'), 'Tab reaches the trace ID box');
  });

  test('nothing was fetched from outside strand and the page logged no error', () => {
    assert.deepEqual(problems, []);
  });
});
