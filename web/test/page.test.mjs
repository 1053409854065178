// Browser tests of the map page and report form: headless Chromium from
// Debian (/usr/bin/chromium) driven by playwright-core, against the real
// gapmap binary (GAPMAP_BIN) on loopback with a fresh store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.GAPMAP_BIN || resolve(here, '../../bin/gapmap');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let server, base, browser, dir;
const serverLog = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gapmap-web-'));
  server = spawn(BIN, ['serve', '--db', join(dir, 'test.gpkg'), '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (b) => serverLog.push(String(b)));
  base = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('server did not start in 60 s:\n' + serverLog.join(''))), 60000);
    server.once('exit', (code) => rej(new Error(`server exited ${code}:\n${serverLog.join('')}`)));
    createInterface({ input: server.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = line.match(/on (http:\/\/[^/\s]+\/)/);
      m ? res(m[1]) : rej(new Error('unexpected first line: ' + line));
    });
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// newPage opens the page with the tile server blocked, so the tests run
// offline on area outlines. Service workers are blocked unless asked for:
// the page's own requests must be what the tests observe.
async function newPage(hash = '', { serviceWorkers = 'block' } = {}) {
  const context = await browser.newContext({ serviceWorkers, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.route(/tile\.openstreetmap\.org/, (r) => r.abort());
  await page.goto(base + hash);
  await page.waitForFunction(() => window.gapmap && gapmap.layerCounts.areas > 0 && gapmap.pending === 0, null, { timeout: 30000 });
  return { context, page, errors };
}

const counts = (page) => page.evaluate(() => ({ ...gapmap.layerCounts }));

test('the map renders the areas, holes and reports layers', async () => {
  const { context, page, errors } = await newPage('#v=10/10.62/106.30');
  const c = await counts(page);
  assert.ok(c.areas > 50, `areas ${c.areas}`);
  assert.ok(c.holes > 10, `holes ${c.holes}`);
  assert.ok(c.reports > 100, `reports ${c.reports}`);
  // Areas and holes are SVG paths; reports are clusters or canvas dots.
  const paths = await page.locator('#map svg path.leaflet-interactive').count();
  assert.ok(paths >= c.areas + c.holes, `svg paths ${paths}`);
  assert.ok(await page.locator('#legend i').count() >= 5, 'legend');
  assert.ok(await page.locator('.marker-cluster').count() > 0, 'report clusters');
  await page.screenshot({ path: join(here, 'screenshot.png') });
  // The hash keeps the view and the filters.
  assert.match(page.url(), /#v=10\/10\.62/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the carrier filter changes what is requested and shown', async () => {
  const { context, page } = await newPage('#v=10/10.62/106.30');
  const before = await counts(page);
  const req = page.waitForRequest((r) => /\/layers\/holes\?.*carrier=viettel/.test(r.url()));
  await page.selectOption('#f-carrier', 'viettel');
  await req;
  await page.waitForFunction((n) => gapmap.pending === 0 && gapmap.layerCounts.holes !== n, before.holes);
  const carriers = await page.evaluate(() => [...new Set(gapmap.shown.holes.map((p) => p.carrier))]);
  assert.deepEqual(carriers, ['viettel']);
  assert.match(page.url(), /carrier=viettel/);
  // Reports follow the filter too.
  const rc = await page.evaluate(() => [...new Set(gapmap.shown.reports.map((p) => p.carrier))]);
  assert.deepEqual(rc, ['viettel']);
  // A shared link restores the filter.
  const link = page.url();
  const p2 = await context.newPage();
  await p2.route(/tile\.openstreetmap\.org/, (r) => r.abort());
  await p2.goto(link);
  await p2.waitForFunction(() => window.gapmap && gapmap.layerCounts.holes > 0 && gapmap.pending === 0);
  assert.equal(await p2.inputValue('#f-carrier'), 'viettel');
  await context.close();
});

test('search finds an area without diacritics and opens its panel', async () => {
  const { context, page } = await newPage();
  await page.fill('#search', 'mau 3');
  const hit = page.locator('#search-results li', { hasText: 'Ấp Mẫu 3 (mô phỏng)' });
  await hit.first().waitFor();
  await hit.first().click();
  await page.locator('#panel h2', { hasText: 'Ấp Mẫu 3 (mô phỏng)' }).waitFor();
  assert.ok(await page.locator('#panel svg.trend rect').count() > 0, 'monthly chart');
  assert.ok(await page.locator('#panel tbody tr').count() >= 4, 'carrier rows');
  await context.close();
});

// placeReport opens the form, taps the map centre and fills the fields.
async function placeReport(page, signal, x = 1 / 3) {
  await page.click('#report-btn');
  await page.locator('#form-panel').waitFor();
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width * x, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('#report-form [name=lat]').value !== '');
  await page.selectOption('#report-form [name=carrier]', 'mobifone');
  await page.fill('#report-form [name=signal_dbm]', String(signal));
}

test('a report sent through the form appears on the map', async () => {
  const { context, page } = await newPage('#v=16/10.745/106.148');
  const before = (await counts(page)).reports;
  await placeReport(page, -118);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/reports') && r.request().method() === 'POST'),
    page.click('#report-form [type=submit]'),
  ]);
  assert.equal(res.status(), 201);
  await page.locator('#queue-list li.sent').waitFor();
  // The server re-analyses in the background: poll the layer.
  const deadline = Date.now() + 10000;
  let now = before;
  while (Date.now() < deadline && now <= before) {
    await page.evaluate(() => gapmap.load('reports'));
    now = (await counts(page)).reports;
  }
  assert.equal(now, before + 1);
  await context.close();
});

test('the API field errors show next to the inputs', async () => {
  const { context, page } = await newPage('#v=16/10.745/106.148');
  await placeReport(page, -200, 0.2);
  await page.click('#report-form [type=submit]');
  await page.locator('[data-err="signal_dbm"]', { hasText: 'between' }).waitFor();
  assert.ok(await page.locator('#report-form [name=signal_dbm].invalid').count() === 1);
  await context.close();
});

test('a report made offline is sent exactly once when back online', async () => {
  const { context, page } = await newPage('#v=16/10.55/106.40');
  const posts = new Map();
  page.on('response', (r) => {
    const k = r.request().headers()['idempotency-key'];
    if (k && r.request().method() === 'POST') posts.set(k, [...(posts.get(k) ?? []), r.status()]);
  });
  await placeReport(page, -125, 0.25);
  await context.setOffline(true);
  await page.click('#report-form [type=submit]');
  const queued = page.locator('#queue-list li.queued');
  await queued.waitFor();
  const key = await queued.getAttribute('data-key');
  assert.equal(posts.size, 0);
  await context.setOffline(false);
  await page.locator(`#queue-list li.sent[data-key="${key}"]`).waitFor({ timeout: 20000 });
  assert.deepEqual(posts.get(key), [201]);
  const stored = await page.evaluate((id) => fetch('api/v1/reports/' + id).then((r) => r.status), 'web-' + key);
  assert.equal(stored, 200);
  assert.equal(await page.locator('#queue-list li.queued').count(), 0);
  await context.close();
});

test('the CSV download starts with the UTF-8 byte-order mark', async () => {
  const { context, page } = await newPage();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a[data-carrier="viettel"][data-format="csv"]')]);
  const b = readFileSync(await dl.path());
  assert.deepEqual([...b.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(b.toString('utf8'), /viettel|Viettel/);
  await context.close();
});

test('the service worker caches the page shell; English switch', async () => {
  const { context, page } = await newPage('', { serviceWorkers: 'allow' });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(async () => !!(await caches.match('index.html')));
  await page.click('#lang-btn');
  assert.equal(await page.textContent('#report-btn'), 'Report weak signal');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await context.close();
});
