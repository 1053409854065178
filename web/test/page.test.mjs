// Browser tests of the map page and report form: headless Chromium from
// Debian (/usr/bin/chromium) driven by playwright-core, against the real
// gapmap binary (GAPMAP_BIN) on loopback with a fresh store. The store's
// admin (password from the server's second line) makes a staff user scoped
// to one commune and a carrier user; every page load is checked for
// content-security-policy violations.
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
// Users: admin's password comes from the server; the others are made here.
const users = {
  admin: { name: 'admin', password: '' },
  staff: { name: 'cán_bộ.xã', password: 'staff-password-1' },
  carrier: { name: 'viettel-ops', password: 'carrier-password-1' },
};
let scope = ''; // the staff user's commune code
let scopeView = ''; // a map view (#v=…) at zoom 16 inside that commune
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
let xssReport = null; // {id, lat, lon}
const cspViolations = [];

// apiSession signs in from node and returns {cookie, csrf} for api().
async function apiSession(u) {
  const res = await fetch(base + 'api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: u.name, password: u.password }),
  });
  assert.equal(res.status, 200, `sign in ${u.name}: ${await res.clone().text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, csrf: (await res.json()).csrf };
}

async function api(s, method, path, body) {
  const res = await fetch(base + path, {
    method, body: body && JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Cookie: s.cookie, 'X-CSRF-Token': s.csrf },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gapmap-web-'));
  server = spawn(BIN, ['serve', '--db', join(dir, 'test.gpkg'), '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (b) => serverLog.push(String(b)));
  // Line 1: "gapmap serving … on http://…/ …"; line 2: the admin password.
  [base, users.admin.password] = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('server did not start in 60 s:\n' + serverLog.join(''))), 60000);
    server.once('exit', (code) => rej(new Error(`server exited ${code}:\n${serverLog.join('')}`)));
    const lines = [];
    createInterface({ input: server.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length < 2) return;
      clearTimeout(timer);
      const m = lines[0].match(/on (http:\/\/[^/\s]+\/)/);
      const pw = lines[1].match(/sign in as admin with password (\S+)/);
      m && pw ? res([m[1], pw[1]]) : rej(new Error('unexpected first lines: ' + lines.join('\n')));
    });
  });
  const admin = await apiSession(users.admin);
  // The staff user's scope: the commune of the first area, and a view at
  // the middle of its hamlets.
  const areas = await (await fetch(base + 'api/v1/layers/areas')).json();
  scope = areas.features[0].properties.parent_code;
  assert.ok(scope, 'areas carry parent_code');
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const f of areas.features.filter((f) => f.properties.parent_code === scope)) {
    for (const [x, y] of JSON.stringify(f.geometry.coordinates).match(/-?[\d.]+,-?[\d.]+/g).map((p) => p.split(',').map(Number))) {
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    }
  }
  scopeView = `#v=16/${((s + n) / 2).toFixed(4)}/${((w + e) / 2).toFixed(4)}`;
  let r = await api(admin, 'POST', 'api/v1/users', { name: users.staff.name, role: 'staff', scope: [scope], password: users.staff.password });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await api(admin, 'POST', 'api/v1/users', { name: users.carrier.name, role: 'carrier', carrier: 'viettel', password: users.carrier.password });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  // A report whose note and reporter are markup, for the escaping test;
  // posted now so the background analysis has it by then.
  xssReport = { lat: 10.60123, lon: 106.25077 };
  r = await api(admin, 'POST', 'api/v1/reports', {
    ...xssReport, observed_at: new Date(Date.now() - 60000).toISOString(), carrier: 'vinaphone', tech: '4G',
    signal_dbm: -117, no_service: false, source: 'app', note: XSS, reporter: '<b>Ông Ba</b>',
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  xssReport.id = r.body.id;
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
// offline on area outlines; `as` signs a user in first (the context keeps
// the cookie). Service workers are blocked unless asked for: the page's
// own requests must be what the tests observe. Every content-security-
// policy violation, as an event or a console message, is recorded.
async function newPage(hash = '', { serviceWorkers = 'block', as } = {}) {
  const context = await browser.newContext({ serviceWorkers, viewport: { width: 1280, height: 800 } });
  if (as) {
    const r = await context.request.post(base + 'api/v1/session', { data: { name: users[as].name, password: users[as].password } });
    assert.equal(r.status(), 200, `sign in as ${as}`);
  }
  await context.exposeFunction('__cspViolation', (v) => cspViolations.push(v));
  await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`)));
  const page = await context.newPage();
  const errors = [], requests = [], consoleErrors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.route(/tile\.openstreetmap\.org/, (r) => r.abort());
  await page.goto(base + hash);
  await page.waitForFunction(() => window.gapmap && gapmap.layerCounts.areas > 0 && gapmap.pending === 0, null, { timeout: 30000 });
  return { context, page, errors, requests, consoleErrors };
}

// done closes a test's context after checking that nothing on its pages
// broke the content security policy.
async function done(context) {
  await context.close();
  assert.deepEqual(cspViolations, [], 'content security policy violations');
}

const counts = (page) => page.evaluate(() => ({ ...gapmap.layerCounts }));
const reportRequests = (requests) => requests.filter((u) => /\/api\/v1\/layers\/reports/.test(u));

// signInUI signs in through the page's dialog.
async function signInUI(page, u, opener = '#signin-btn') {
  await page.click(opener);
  await page.locator('#signin-dialog').waitFor();
  await page.fill('#signin-form [name=name]', u.name);
  await page.fill('#signin-form [name=password]', u.password);
  await page.click('#signin-form [type=submit]');
}

test('the public sees areas, holes and teams, no reports, and a sign-in button instead of the form', async () => {
  const { context, page, errors, requests, consoleErrors } = await newPage('#v=10/10.62/106.30');
  await page.check('#l-teams');
  await page.waitForFunction(() => gapmap.layerCounts.teams > 0 && gapmap.pending === 0);
  const c = await counts(page);
  assert.ok(c.areas > 50, `areas ${c.areas}`);
  assert.ok(c.holes > 10, `holes ${c.holes}`);
  assert.equal(c.reports, 0);
  assert.deepEqual(reportRequests(requests), [], 'no reports layer request');
  assert.ok(!requests.some((u) => /\/api\/v1\/gaps/.test(u)), 'no gaps request');
  assert.ok(await page.isHidden('#l-reports-row'), 'no reports layer switch');
  assert.ok(await page.isHidden('#l-tasks-row'), 'no tasks layer switch');
  assert.ok(!requests.some((u) => /\/api\/v1\/tasks/.test(u)), 'no tasks request');
  assert.ok(await page.isHidden('#report-btn'), 'no report button');
  assert.ok(await page.isHidden('#downloads-box'), 'no gap downloads');
  assert.equal(await page.textContent('#signin-report-btn'), 'Đăng nhập để báo cáo');
  assert.ok(await page.isVisible('#signin-btn'));
  // The legend is built without style attributes (CSP) and still coloured.
  assert.ok(await page.locator('#legend i').count() >= 5, 'legend');
  assert.notEqual(await page.locator('#legend i').first().evaluate((e) => getComputedStyle(e).backgroundColor), 'rgba(0, 0, 0, 0)');
  // "Sign in to report" opens the sign-in dialog, not the form.
  await page.click('#signin-report-btn');
  await page.locator('#signin-dialog').waitFor();
  assert.ok(await page.isHidden('#form-panel'));
  assert.deepEqual(consoleErrors.filter((m) => /40[13]/.test(m)), [], 'no 401/403 noise');
  assert.deepEqual(errors, []);
  await done(context);
});

test('admin: the map renders the areas, holes and reports layers', async () => {
  const { context, page, errors } = await newPage('#v=10/10.62/106.30', { as: 'admin' });
  const c = await counts(page);
  assert.ok(c.areas > 50, `areas ${c.areas}`);
  assert.ok(c.holes > 10, `holes ${c.holes}`);
  assert.ok(c.reports > 100, `reports ${c.reports}`);
  // Areas, holes and single reports are SVG paths; the rest are clusters.
  const paths = await page.locator('#map svg path.leaflet-interactive').count();
  assert.ok(paths >= c.areas + c.holes, `svg paths ${paths}`);
  assert.ok(await page.locator('.marker-cluster').count() > 0, 'report clusters');
  assert.equal(await page.textContent('#user-name'), 'admin');
  assert.equal(await page.textContent('#user-role'), 'quản trị');
  assert.equal(await page.locator('#downloads a[data-format=csv]').count(), 5, 'every carrier and dead zones');
  // The carriers' scorecard, a row per carrier; a hole's panel shows its
  // state.
  await page.waitForFunction(() => document.querySelectorAll('#scorecard tr[data-carrier]').length === 4);
  assert.match(await page.getAttribute('#sc-csv', 'href'), /scorecard\?period=\d{4}Q[1-4]&format=csv/);
  await page.evaluate(() => { const l = gapmap.holesLayer.getLayers()[0]; l.fire('click', { latlng: l.getBounds().getCenter() }); });
  assert.equal(await page.getAttribute('#panel-body .hole-state', 'data-state'), 'open');
  // Screenshots go to GAPMAP_SCREENSHOTS when set (to look at), else the
  // test's temporary folder: a test run changes no tracked file.
  await page.screenshot({ path: join(process.env.GAPMAP_SCREENSHOTS || dir, 'desk.png') });
  // The hash keeps the view and the filters.
  assert.match(page.url(), /#v=10\/10\.62/);
  assert.deepEqual(errors, []);
  await done(context);
});

test('the carrier filter changes what is requested and shown', async () => {
  const { context, page } = await newPage('#v=10/10.62/106.30', { as: 'admin' });
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
  await done(context);
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
  // Badge and swatches are coloured from script, not style attributes.
  assert.notEqual(await page.locator('#panel .badge').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgba(0, 0, 0, 0)');
  await done(context);
});

test('sign-in: a wrong password shows the error; staff then get the form, their name and their reports; sign-out', async () => {
  const { context, page, requests } = await newPage(scopeView);
  assert.deepEqual(reportRequests(requests), []);
  await signInUI(page, { name: users.staff.name, password: 'not-the-password' });
  await page.locator('#signin-err', { hasText: 'Sai tên đăng nhập hoặc mật khẩu' }).waitFor();
  assert.ok(await page.isVisible('#signin-dialog'));
  assert.ok(await page.isHidden('#user-box'));
  // The right password, typed in the same dialog.
  await page.fill('#signin-form [name=password]', users.staff.password);
  await page.click('#signin-form [type=submit]');
  await page.locator('#user-name', { hasText: users.staff.name }).waitFor();
  assert.equal(await page.textContent('#user-role'), 'cán bộ');
  assert.ok(await page.isHidden('#signin-dialog'));
  assert.ok(await page.isVisible('#report-btn'));
  assert.ok(await page.isHidden('#signin-report-btn'));
  assert.ok(await page.isVisible('#l-reports-row'));
  assert.ok(await page.isHidden('#downloads-box'), 'staff read no gap lists');
  // The reports layer is loaded without a reload, from the staff's scope.
  await page.waitForFunction(() => gapmap.layerCounts.reports > 0 && gapmap.pending === 0);
  await page.click('#report-btn');
  assert.ok(await page.isVisible('#report-form'));
  // Signing out goes back to the public view, again without a reload.
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'DELETE'),
    page.click('#signout-btn'),
  ]);
  assert.equal(del.status(), 204);
  assert.ok(del.request().headers()['x-csrf-token'], 'sign-out sends the CSRF token');
  await page.locator('#signin-btn').waitFor();
  assert.ok(await page.isHidden('#form-panel'));
  assert.ok(await page.isHidden('#report-btn'));
  assert.equal((await counts(page)).reports, 0);
  await done(context);
});

// placeReport opens the form, taps the map and fills the fields.
async function placeReport(page, signal, x = 1 / 3) {
  await page.click('#report-btn');
  await page.locator('#form-panel').waitFor();
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width * x, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('#report-form [name=lat]').value !== '');
  await page.selectOption('#report-form [name=carrier]', 'mobifone');
  await page.fill('#report-form [name=signal_dbm]', String(signal));
}

test('staff: a report sent through the form, with the CSRF token, appears on the map', async () => {
  const { context, page } = await newPage(scopeView, { as: 'staff' });
  const before = (await counts(page)).reports;
  await placeReport(page, -118);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/reports') && r.request().method() === 'POST'),
    page.click('#report-form [type=submit]'),
  ]);
  assert.equal(res.status(), 201);
  assert.ok(res.request().headers()['x-csrf-token'], 'X-CSRF-Token sent');
  await page.locator('#queue-list li.sent').waitFor();
  // The server re-analyses in the background: poll the layer.
  const deadline = Date.now() + 10000;
  let now = before;
  while (Date.now() < deadline && now <= before) {
    await page.evaluate(() => gapmap.load('reports'));
    now = (await counts(page)).reports;
  }
  assert.equal(now, before + 1);
  await done(context);
});

test('staff: their teams\' places to measure and activity; the land without data; areas without data', async () => {
  const { context, page, errors } = await newPage(scopeView, { as: 'staff' });
  assert.ok(await page.isVisible('#l-tasks-row'), 'tasks layer switch');
  await page.waitForFunction(() => gapmap.layerCounts.tasks > 0 && gapmap.pending === 0, null, { timeout: 20000 });
  const tasks = await page.evaluate(() => gapmap.shown.tasks);
  assert.ok(tasks.every((k) => k.team && k.place && k.rank >= 1 && ['hole_edge', 'near_threshold', 'unobserved'].includes(k.why)), JSON.stringify(tasks[0]));
  // A task's popup says why and with which SIM.
  const k = tasks.find((k) => k.state === 'open');
  await page.evaluate(([lat, lon]) => gapmap.map.setView([lat, lon], 17), [k.lat, k.lon]);
  await page.waitForFunction(() => gapmap.pending === 0);
  await page.evaluate(([lat, lon]) => {
    gapmap.tasksLayer.eachLayer((m) => { const p = m.getLatLng(); if (Math.abs(p.lat - lat) < 1e-9 && Math.abs(p.lng - lon) < 1e-9) m.openPopup(); });
  }, [k.lat, k.lon]);
  const text = await page.locator('.task-popup').textContent();
  assert.match(text, /Lý do: /);
  assert.match(text, /Đo bằng SIM: /);
  // The land no report reaches, as a layer, over the province.
  await page.evaluate(() => gapmap.map.setZoom(10));
  await page.waitForFunction(() => gapmap.pending === 0);
  await page.check('#l-unobserved');
  await page.waitForFunction(() => gapmap.layerCounts.unobserved >= 1 && gapmap.pending === 0);
  // An area without data is drawn as "no data yet", not as 0%.
  const style = await page.evaluate(() => gapmap.areaStyle({ properties: { observed_share: 0, dead_share: 0, hole_share: 0 } }));
  assert.equal(style.fillColor, '#ccc');
  const legend = await page.textContent('#legend');
  assert.match(legend, /chưa có dữ liệu/);
  assert.match(legend, /Nơi cần đo/);
  assert.deepEqual(errors, []);
  await done(context);
});

test('staff: the API field errors show next to the inputs', async () => {
  const { context, page } = await newPage(scopeView, { as: 'staff' });
  await placeReport(page, -200, 0.2);
  await page.click('#report-form [type=submit]');
  await page.locator('[data-err="signal_dbm"]', { hasText: 'between' }).waitFor();
  assert.ok(await page.locator('#report-form [name=signal_dbm].invalid').count() === 1);
  await done(context);
});

test('a report made offline waits for a sign-in and is then sent exactly once', async () => {
  const { context, page } = await newPage(scopeView, { as: 'staff' });
  const posts = new Map();
  page.on('response', (r) => {
    const k = r.request().headers()['idempotency-key'];
    if (k && r.request().method() === 'POST') posts.set(k, [...(posts.get(k) ?? []), [r.status(), !!r.request().headers()['x-csrf-token']]]);
  });
  await placeReport(page, -125, 0.25);
  await context.setOffline(true);
  await page.click('#report-form [type=submit]');
  const queued = page.locator('#queue-list li.queued');
  await queued.waitFor();
  const key = await queued.getAttribute('data-key');
  assert.equal(posts.size, 0);
  // The session ends while the phone is offline (here: its cookie goes).
  await context.clearCookies();
  await context.setOffline(false);
  // Back online the queue asks who is signed in, keeps the report and says so.
  await page.locator('#queue-note', { hasText: '1 báo cáo đang chờ' }).waitFor({ timeout: 20000 });
  assert.ok(await page.isVisible('#signin-btn'));
  // (A send already under way when the network came back may have been
  // refused with 401; the report stays queued all the same.)
  assert.ok((posts.get(key) ?? []).every(([status]) => status === 401), JSON.stringify(posts.get(key)));
  assert.equal(await page.evaluate(async () => (await import('./queue.js')).waiting()), 1);
  // Signing in again sends it, once, with the CSRF token.
  await signInUI(page, users.staff, '#queue-note');
  await page.locator(`#queue-list li.sent[data-key="${key}"]`).waitFor({ timeout: 20000 });
  assert.deepEqual(posts.get(key).filter(([status]) => status !== 401), [[201, true]], 'stored once, with the CSRF token');
  assert.ok(await page.isHidden('#queue-note'));
  const stored = await page.evaluate((id) => fetch('api/v1/reports/' + id).then((r) => r.status), 'web-' + key);
  assert.equal(stored, 200);
  assert.equal(await page.locator('#queue-list li.queued').count(), 0);
  await done(context);
});

test('carrier: only its own holes, a pinned filter, its own gap list, no reports and no form', async () => {
  const { context, page, requests } = await newPage('#v=10/10.62/106.30&carrier=vinaphone', { as: 'carrier' });
  assert.equal(await page.textContent('#user-role'), 'nhà mạng');
  const holes = await page.evaluate(() => [...new Set(gapmap.shown.holes.map((p) => p.carrier))]);
  assert.deepEqual(holes, ['viettel']);
  assert.equal(await page.inputValue('#f-carrier'), 'viettel');
  assert.ok(await page.isDisabled('#f-carrier'));
  assert.ok(requests.filter((u) => /\/layers\/holes/.test(u)).every((u) => /carrier=viettel/.test(u)), 'holes requested for viettel only');
  assert.deepEqual(reportRequests(requests), []);
  assert.ok(await page.isHidden('#l-reports-row'));
  assert.ok(await page.isHidden('#report-btn'));
  assert.ok(await page.isHidden('#signin-report-btn'));
  assert.deepEqual(await page.locator('#downloads a').evaluateAll((as) => [...new Set(as.map((a) => a.dataset.carrier))]), ['viettel']);
  assert.ok(await page.isHidden('#scorecard-box'), 'the province scorecard is for admins and reviewers');
  // Its own download works, and starts with the UTF-8 byte-order mark.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a[data-carrier="viettel"][data-format="csv"]')]);
  const b = readFileSync(await dl.path());
  assert.deepEqual([...b.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(b.toString('utf8'), /viettel|Viettel/);
  await done(context);
});

test('a report note with markup shows as text in its popup; the reviewer buttons work', async () => {
  const { context, page } = await newPage(`#v=19/${xssReport.lat}/${xssReport.lon}`, { as: 'admin' });
  // The server re-analyses in the background: wait for the report.
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && !await page.evaluate((id) => gapmap.shown.reports?.some((p) => p.id === id), xssReport.id)) {
    await page.waitForTimeout(300);
    await page.evaluate(() => gapmap.load('reports'));
  }
  const box = await page.locator('#map').boundingBox();
  const pt = await page.evaluate(([lat, lon]) => gapmap.map.latLngToContainerPoint([lat, lon]), [xssReport.lat, xssReport.lon]);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  const popup = page.locator(`.report-popup[data-id="${xssReport.id}"]`);
  await popup.waitFor();
  await popup.locator('.report-note').waitFor();
  assert.equal(await popup.locator('.report-note').textContent(), XSS);
  assert.equal(await popup.locator('.report-reporter').textContent(), '<b>Ông Ba</b>');
  assert.equal(await page.locator('.leaflet-popup img, .leaflet-popup script, .leaflet-popup b b').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // Confirm it: a PUT with the CSRF token.
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/reports/${encodeURIComponent(xssReport.id)}/review`)),
    popup.locator('button[data-review=confirmed]').click(),
  ]);
  assert.equal(res.status(), 200);
  assert.ok(res.request().headers()['x-csrf-token']);
  await popup.locator('.review-out[data-status=confirmed]').waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await done(context);
});

test('the service worker caches the page shell; English switch', async () => {
  const { context, page } = await newPage('', { serviceWorkers: 'allow' });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(async () => !!(await caches.match('index.html')) && !!(await caches.match('session.js')));
  await page.click('#lang-btn');
  assert.equal(await page.textContent('#signin-report-btn'), 'Sign in to report');
  assert.equal(await page.textContent('#signin-btn'), 'Sign in');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await done(context);
});

test('no page load broke the content security policy', () => {
  assert.deepEqual(cspViolations, []);
});
