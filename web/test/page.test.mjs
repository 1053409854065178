// Browser tests of the map page and report form: headless Chromium from
// Debian (/usr/bin/chromium) driven by playwright-core, against the real
// gapmap binary (GAPMAP_BIN) on loopback with a fresh store. The store's
// admin (password from the server's second line) makes a staff user scoped
// to one commune and a carrier user; every page load is checked for
// content-security-policy violations.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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

// test is node's, with the server's last log lines and the slow steps of
// newPage added to a failure's message: a failure in CI is all there is
// to go by.
const slowSteps = [];
function test(name, fn) {
  return nodeTest(name, async (t) => {
    slowSteps.length = 0;
    try {
      await fn(t);
    } catch (e) {
      const tail = serverLog.join('').split('\n').slice(-40).join('\n');
      e.message += `\nslow steps: ${JSON.stringify(slowSteps)}\nserver log, last lines:\n${tail}`;
      throw e;
    }
  });
}

// timed runs step, noting it in slowSteps when it took over 5 s.
async function timed(what, step) {
  const t0 = Date.now();
  try {
    return await step();
  } finally {
    if (Date.now() - t0 > 5000) slowSteps.push(`${what}: ${Date.now() - t0} ms`);
  }
}

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

// startServer starts gapmap serve on a store in dir and returns the
// process, its URL and, when it seeded the demo province, the admin's
// password (the second line of its output).
async function startServer(db, { seeded = true } = {}) {
  const proc = spawn(BIN, ['serve', '--db', db, '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  proc.stderr.on('data', (b) => { log.push(String(b)); serverLog.push(String(b)); });
  const want = seeded ? 2 : 1;
  // Line 1: "gapmap serving … on http://…/ …"; line 2: the admin password.
  const [url, password] = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('server did not start in 60 s:\n' + log.join(''))), 60000);
    proc.once('exit', (code) => rej(new Error(`server exited ${code}:\n${log.join('')}`)));
    const lines = [];
    createInterface({ input: proc.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length !== want) return;
      clearTimeout(timer);
      const m = lines[0].match(/on (http:\/\/[^/\s]+\/)/);
      const pw = seeded ? lines[1].match(/sign in as admin with password (\S+)/) : [null, ''];
      m && pw ? res([m[1], pw[1]]) : rej(new Error('unexpected first lines: ' + lines.join('\n')));
    });
  });
  return { proc, url, password };
}

async function stopServer(proc) {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gapmap-web-'));
  ({ proc: server, url: base, password: users.admin.password } = await startServer(join(dir, 'test.gpkg')));
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
  await stopServer(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// newPage opens the page with the tile server blocked, so the tests run
// offline on area outlines; `as` signs a user in first (the context keeps
// the cookie). Service workers are blocked unless asked for: the page's
// own requests must be what the tests observe. Every content-security-
// policy violation, as an event or a console message, is recorded.
async function newPage(hash = '', { serviceWorkers = 'block', as, viewport = { width: 1280, height: 800 }, url = base } = {}) {
  const context = await timed('new context', () => browser.newContext({ serviceWorkers, viewport }));
  // A loaded 2-core machine can starve the browser for a while: the
  // steps wait up to a minute, not playwright's 30 s.
  context.setDefaultTimeout(60000);
  if (as) {
    const r = await timed('sign in', () => context.request.post(url + 'api/v1/session', { data: { name: users[as].name, password: users[as].password } }));
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
  await timed('goto', () => page.goto(url + hash));
  await timed('layers', () => page.waitForFunction(() => window.gapmap && gapmap.layerCounts.areas > 0 && gapmap.pending === 0));
  return { context, page, errors, requests, consoleErrors };
}

// done closes a test's context after checking that nothing on its pages
// broke the content security policy.
async function done(context) {
  await context.close();
  assert.deepEqual(cspViolations, [], 'content security policy violations');
}

const counts = (page) => page.evaluate(() => ({ ...gapmap.layerCounts }));

// tileReports adds up the reports of the reports tiles loaded, each
// counted in its own tile (not in the ring of its neighbours').
const tileReports = (page) => page.evaluate(() => {
  let n = 0;
  for (const fs of gapmap.tileFeatures.values()) {
    for (const f of fs) if (f.x >= 0 && f.x < 256 && f.y >= 0 && f.y < 256) n += f.p.reports ?? 1;
  }
  return n;
});
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
  // Areas and holes are SVG paths; the province's 60,000 reports, too
  // many for one answer, come as vector tiles drawn on canvases, every
  // one of them counted in the tiles' cells.
  const paths = await page.locator('#map svg path.leaflet-interactive').count();
  assert.ok(paths >= c.areas + c.holes, `svg paths ${paths}`);
  assert.ok(await page.locator('canvas.gm-report-tile').count() > 0, 'report tiles');
  assert.equal(await tileReports(page), c.reports, 'the tiles hold every report in view');
  // The page's decoder reads polygons too: the areas tile of the
  // province's middle holds its hamlets, with closed rings.
  const areasTile = await page.evaluate(async () => {
    const { decodeTile } = await import('./mvt.js');
    const p = gapmap.map.project([10.62, 106.30], 10).divideBy(256).floor();
    const b = await (await fetch(`tiles/areas/10/${p.x}/${p.y}.mvt`)).arrayBuffer();
    return decodeTile(new Uint8Array(b)).map((l) => ({
      name: l.name, extent: l.extent,
      features: l.features.map((f) => ({ type: f.type, code: f.props.code, level: f.props.level, closed: f.parts.every((r) => r.length >= 4 && r[0][0] === r.at(-1)[0] && r[0][1] === r.at(-1)[1]) })),
    }));
  });
  assert.equal(areasTile.length, 1);
  assert.equal(areasTile[0].name, 'areas');
  assert.equal(areasTile[0].extent, 4096);
  assert.ok(areasTile[0].features.length > 10, `${areasTile[0].features.length} areas in the tile`);
  assert.ok(areasTile[0].features.every((f) => f.type === 3 && /^\S+$/.test(f.code) && f.level === 'hamlet' && f.closed), JSON.stringify(areasTile[0].features[0]));
  assert.equal(await page.textContent('#user-name'), 'admin');
  assert.equal(await page.textContent('#user-role'), 'quản trị');
  assert.equal(await page.locator('#downloads a[data-format=csv]').count(), 5, 'every carrier and dead zones');
  for (const f of ['xlsx', 'gpkg']) assert.equal(await page.locator(`#downloads a[data-format=${f}]`).count(), 5, `${f} for every carrier and dead zones`);
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

// shot writes a screenshot to GAPMAP_SCREENSHOTS when set (to look at),
// else to the test's temporary folder: a test run changes no tracked file.
const shot = (page, name) => page.screenshot({ path: join(process.env.GAPMAP_SCREENSHOTS || dir, name + '.png') });

// box returns an element's bounding box in the page.
const box = (page, sel) => page.locator(sel).boundingBox();

// SIZES are the phone and desk sizes every layout point is checked at.
const SIZES = [{ name: 'phone', width: 390, height: 844 }, { name: 'desk', width: 1400, height: 900 }];

// checkBar: the search box keeps its width and the language button stays
// on the first row, inside the screen.
async function checkBar(page, size) {
  const search = await box(page, '#search'), en = await box(page, '#lang-btn'), bar = await box(page, '#bar');
  assert.ok(search.width >= (size.name === 'phone' ? 0.8 * size.width : 300), `${size.name}: search box ${search.width} px wide`);
  assert.ok(search.height >= 24, `${size.name}: search box ${search.height} px high`);
  assert.ok(en.x + en.width <= size.width + 0.5 && en.x >= 0, `${size.name}: EN at x ${en.x}`);
  assert.ok(en.y - bar.y < en.height, `${size.name}: EN on the first row (${en.y - bar.y} px from the top of the bar)`);
  if (size.name === 'phone') {
    const menu = await box(page, '#menu-btn');
    assert.ok(Math.abs(menu.y - en.y) < 4, `phone: menu at ${menu.y}, EN at ${en.y}: not one row`);
    assert.ok(search.y >= en.y + en.height, 'phone: the search box has a row of its own under the buttons');
    assert.ok(bar.height < 100, `phone: bar ${bar.height} px high`);
  } else {
    assert.ok(Math.abs(search.y + search.height / 2 - (en.y + en.height / 2)) < 6, 'desk: search and EN on one row');
  }
  // Nothing in the bar spills out of the screen.
  const over = await page.evaluate((w) => [...document.querySelectorAll('#bar button, #bar input')]
    .filter((e) => e.offsetParent && e.getBoundingClientRect().right > w + 0.5).map((e) => e.id), size.width);
  assert.deepEqual(over, [], `${size.name}: out of the screen`);
}

// settled is a page function, true once the map is at zoom z, not
// zooming, with nothing loading (page.waitForFunction(settled, z)).
const settled = (z) => gapmap.map.getZoom() === z && !gapmap.map.getPane('mapPane').classList.contains('leaflet-zoom-anim') && gapmap.pending === 0;

// legendText returns the legend's rows.
const legendRows = (page) => page.locator('#legend > div').allTextContents();

for (const size of SIZES) {
  test(`${size.name} ${size.width}×${size.height}: the bar, the start view on the areas, a legend for every layer, the status line`, async () => {
    const viewport = { width: size.width, height: size.height };
    const { context, page, errors } = await newPage('', { viewport });
    await checkBar(page, size);
    // Without a view in the URL the map opens on the loaded areas.
    const ext = (await (await fetch(base + 'ogc/collections/areas')).json()).extent.spatial.bbox[0];
    const view = await page.evaluate(() => { const b = gapmap.map.getBounds(); return { w: b.getWest(), s: b.getSouth(), e: b.getEast(), n: b.getNorth(), z: gapmap.map.getZoom() }; });
    assert.ok(view.w <= ext[0] && view.s <= ext[1] && view.e >= ext[2] && view.n >= ext[3], `view ${JSON.stringify(view)} holds the areas ${ext}`);
    assert.ok(view.e - view.w < 4 * (ext[2] - ext[0]), `view ${JSON.stringify(view)} is not far wider than the areas ${ext}`);
    // The legend: the metric's classes and "no data yet", the holes by
    // carrier and the dead zones.
    let rows = await legendRows(page);
    for (const want of ['Tỉ lệ vùng lõm sóng mọi nhà mạng', '0%–3%', '69%–100%', 'chưa có dữ liệu', 'Vùng lõm sóng theo nhà mạng', 'Viettel', 'VinaPhone', 'MobiFone', 'Vietnamobile', 'Mọi nhà mạng']) {
      assert.ok(rows.includes(want), `${size.name}: legend has no ${want}: ${rows}`);
    }
    assert.match(await page.textContent('#status'), /^192 ấp, khu phố · \d+ vùng lõm sóng$/);
    // The choropleth's colours are none of the carriers'.
    const carrierColours = await page.evaluate(() => [...document.querySelectorAll('#legend i')].slice(-5).map((i) => i.style.background));
    const rampColours = await page.evaluate(() => [...document.querySelectorAll('#legend i')].slice(0, 6).map((i) => i.style.background));
    assert.equal(new Set([...carrierColours, ...rampColours]).size, 11, `${carrierColours} ${rampColours}`);
    // Teams and the land without data get their rows when shown.
    if (size.name === 'phone') await page.click('#menu-btn');
    await page.check('#l-teams');
    await page.check('#l-unobserved');
    await page.waitForFunction(() => gapmap.layerCounts.teams > 0 && gapmap.pending === 0);
    rows = await legendRows(page);
    assert.ok(rows.some((r) => /^Tổ công nghệ số/.test(r)), `teams legend: ${rows}`);
    assert.ok(rows.some((r) => /^Nơi chưa có dữ liệu/.test(r)), `unobserved legend: ${rows}`);
    assert.match(await page.textContent('#status'), /\d+ tổ$/);
    await shot(page, `${size.name}-public${size.name === 'phone' ? '-menu' : ''}`);
    assert.deepEqual(errors, []);
    await done(context);
  });

  test(`${size.name} ${size.width}×${size.height}, signed in: every report in tiles, clusters by share, a cut layer said`, async () => {
    const viewport = { width: size.width, height: size.height };
    const { context, page, errors } = await newPage('#v=10/10.62/106.30', { viewport, as: 'admin' });
    await checkBar(page, size);
    // The province's 60,000 reports are past what one answer holds: they
    // come as vector tiles, all of them, and the status line counts them.
    let st = await page.textContent('#status');
    assert.match(st, /· 60\.\d{3} báo cáo ·/, st);
    assert.doesNotMatch(st, /phóng to/, st);
    const total = (await counts(page)).reports;
    assert.equal(await tileReports(page), total);
    let rows = await legendRows(page);
    for (const want of ['Sóng dùng được', 'Sóng yếu', 'Không có sóng', 'Nơi cần đo', 'Đã đo xong']) {
      assert.ok(rows.includes(want), `${size.name}: legend has no ${want}: ${rows}`);
    }
    assert.ok(rows.some((r) => /Cụm báo cáo: .*số ở giữa là số báo cáo/.test(r)), `cluster legend: ${rows}`);
    // A tile's clusters say what their reports say: the weak and
    // no-service counts are parts of the whole.
    const cells = await page.evaluate(() => [...gapmap.tileFeatures.values()].flat().map((f) => f.p));
    assert.ok(cells.some((p) => p.reports > 1 && p.weak > 0 && p.weak < p.reports), 'clusters hold weak and usable reports');
    assert.ok(cells.every((p) => (p.weak ?? 0) + (p.no_service ?? 0) <= (p.reports ?? 1)), 'weak and no service are parts of the cell');
    await shot(page, `${size.name}-signed-in`);
    // Tapping a cluster zooms into it (the places to measure, over the
    // reports, are put away first so that the tap finds the cluster).
    await page.evaluate(() => { const b = document.getElementById('l-tasks'); b.checked = false; b.dispatchEvent(new Event('change')); });
    const hit = await page.evaluate(() => {
      const size = gapmap.map.getSize();
      for (const [key, fs] of gapmap.tileFeatures) {
        const [z, x, y] = key.split('/').map(Number);
        if (z !== gapmap.map.getZoom()) continue;
        for (const f of fs) {
          if (f.p.reports < 50 || f.x < 0 || f.x >= 256 || f.y < 0 || f.y >= 256) continue;
          const pt = gapmap.map.latLngToContainerPoint(gapmap.map.unproject([x * 256 + f.x, y * 256 + f.y], z));
          if (pt.x > 60 && pt.y > 60 && pt.x < size.x - 60 && pt.y < size.y - 60) return pt;
        }
      }
      return null;
    });
    assert.ok(hit, 'a cluster on the screen');
    const mapBox = await box(page, '#map');
    await page.mouse.click(mapBox.x + hit.x, mapBox.y + hit.y);
    await page.waitForFunction(settled, 12);
    assert.ok(await page.isHidden('#panel'), 'the tap went to the cluster, not to the area under it');
    // Drawn as one answer, the layer is cut at 5,000 of them: the status
    // line says so, with the total the server counted.
    await page.evaluate(() => gapmap.map.setZoom(10, { animate: false }));
    await page.waitForFunction(settled, 10);
    await page.evaluate(() => gapmap.reportMode('geojson'));
    await page.waitForFunction(() => gapmap.pending === 0 && gapmap.layerCounts.reports === 5000 && document.querySelector('.gm-cluster'));
    // (The view is where the cluster tap left it: the total is of the
    // reports in it, more than the 5,000 drawn.)
    st = await page.textContent('#status');
    const cut = st.match(/5\.000 \/ (\d+)\.(\d{3}) báo cáo — phóng to để xem hết/);
    assert.ok(cut && Number(cut[1] + cut[2]) > 5000, st);
    assert.equal(await page.locator('canvas.gm-report-tile').count(), 0, 'no tiles with the GeoJSON layer');
    // A cluster is a ring of the weak, no-service and usable shares round
    // its count: its colours are what the reports say, whatever the count.
    const clusters = await page.locator('.gm-cluster').evaluateAll((es) => es.map((e) => ({
      n: e.textContent.trim(), strokes: [...e.querySelectorAll('circle[stroke]')].map((c) => c.getAttribute('stroke')),
    })));
    assert.ok(clusters.length > 5, `${clusters.length} clusters`);
    for (const c of clusters) {
      assert.match(c.n, /^[\d.,]+(\sN)?$/, JSON.stringify(c));
      assert.ok(c.strokes.length >= 1 && c.strokes.every((k) => ['#2f9e44', '#e03131', '#000'].includes(k)), JSON.stringify(c));
    }
    assert.ok(clusters.some((c) => c.strokes.includes('#e03131') && c.strokes.includes('#2f9e44')), 'clusters split into weak and usable');
    await shot(page, `${size.name}-signed-in-cut`);
    assert.deepEqual(errors, []);
    await done(context);
  });
}

test('reports tiles: a single report opens its popup on a tap', async () => {
  const { context, page, errors } = await newPage(`#v=17/${xssReport.lat}/${xssReport.lon}`, { as: 'admin' });
  await page.evaluate(() => gapmap.reportMode('tiles'));
  await page.waitForFunction(() => gapmap.pending === 0 && document.querySelector('canvas.gm-report-tile'));
  const hit = await page.evaluate(() => {
    for (const [key, fs] of gapmap.tileFeatures) {
      const [z, x, y] = key.split('/').map(Number);
      for (const f of fs) {
        if (f.p.reports !== 1 || f.x < 0 || f.x >= 256 || f.y < 0 || f.y >= 256) continue;
        const pt = gapmap.map.latLngToContainerPoint(gapmap.map.unproject([x * 256 + f.x, y * 256 + f.y], z));
        const size = gapmap.map.getSize();
        if (pt.x > 40 && pt.y > 40 && pt.x < size.x - 40 && pt.y < size.y - 40) return { pt, id: f.p.id };
      }
    }
    return null;
  });
  assert.ok(hit, 'a single report on the screen');
  const mapBox = await box(page, '#map');
  await page.mouse.click(mapBox.x + hit.pt.x, mapBox.y + hit.pt.y);
  const popup = page.locator(`.report-popup[data-id="${hit.id}"]`);
  await popup.waitFor();
  await popup.locator('.report-more').waitFor();
  assert.match(await popup.textContent(), /dBm|Không có sóng/);
  assert.ok(await page.isHidden('#panel'), 'the tap went to the report, not to the area under it');
  assert.deepEqual(errors, []);
  await done(context);
});

test('communes: the start view fits them, far from the demo province, and the page says xã, not ấp', async () => {
  const cdir = mkdtempSync(join(tmpdir(), 'gapmap-web-communes-'));
  const file = join(cdir, 'communes.geojson');
  const square = (x, y) => [[[x, y], [x + 0.05, y], [x + 0.05, y + 0.05], [x, y + 0.05], [x, y]]];
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [
    { type: 'Feature', properties: { code: 'X1', name: 'Xã Thử Một', level: 'commune', population: 4000 }, geometry: { type: 'Polygon', coordinates: square(104.90, 22.80) } },
    { type: 'Feature', properties: { code: 'X2', name: 'Phường Thử Hai', level: 'commune', population: 9000 }, geometry: { type: 'Polygon', coordinates: square(104.95, 22.80) } },
  ] }));
  const db = join(cdir, 'communes.gpkg');
  execFileSync(BIN, ['import', 'areas', '--db', db, '--vintage', '2025', file]);
  const srv = await startServer(db, { seeded: false });
  try {
    for (const size of SIZES) {
      const { context, page, errors } = await newPage('', { viewport: { width: size.width, height: size.height }, url: srv.url });
      const c = await page.evaluate(() => gapmap.map.getCenter());
      assert.ok(Math.abs(c.lat - 22.825) < 0.01 && Math.abs(c.lng - 104.95) < 0.01, `centre ${JSON.stringify(c)}`);
      assert.ok(await page.evaluate(() => gapmap.map.getZoom()) >= 11);
      assert.equal(await page.textContent('#status'), '2 xã, phường · 0 vùng lõm sóng');
      assert.equal(await page.getAttribute('#search', 'placeholder'), 'Tìm xã, phường…');
      assert.equal(await page.textContent('#l-areas-label'), 'Xã, phường');
      assert.equal(await page.textContent('#metric-label'), 'Tô màu xã, phường theo');
      // No report reaches them: no data yet, in the panel too.
      const styles = await page.evaluate(() => gapmap.shown.areas.map((p) => gapmap.areaStyle({ properties: p }).fillColor));
      assert.deepEqual(styles, ['#ccc', '#ccc']);
      await page.fill('#search', 'thu hai');
      await page.locator('#search-results li', { hasText: 'Phường Thử Hai' }).click();
      await page.locator('#panel .no-data', { hasText: 'đánh giá xã này' }).waitFor();
      await page.waitForFunction(() => gapmap.pending === 0);
      await page.click('#lang-btn');
      assert.equal(await page.textContent('#status'), '2 communes · 0 coverage holes');
      assert.equal(await page.getAttribute('#search', 'placeholder'), 'Find a commune…');
      await page.click('#lang-btn');
      await checkBar(page, size);
      await shot(page, `${size.name}-communes`);
      assert.deepEqual(errors, []);
      await done(context);
    }
  } finally {
    await stopServer(srv.proc);
    rmSync(cdir, { recursive: true, force: true });
  }
});

test('the carrier filter changes what is requested and shown', async () => {
  const { context, page, requests } = await newPage('#v=10/10.62/106.30', { as: 'admin' });
  const before = await counts(page);
  const req = page.waitForRequest((r) => /\/layers\/holes\?.*carrier=viettel/.test(r.url()));
  await page.selectOption('#f-carrier', 'viettel');
  await req;
  await page.waitForFunction((n) => gapmap.pending === 0 && gapmap.layerCounts.holes !== n, before.holes);
  const carriers = await page.evaluate(() => [...new Set(gapmap.shown.holes.map((p) => p.carrier))]);
  assert.deepEqual(carriers, ['viettel']);
  assert.match(page.url(), /carrier=viettel/);
  // Reports follow the filter too: their tiles are asked for Viettel's,
  // and hold as many as the layer counts for Viettel.
  assert.ok(requests.some((u) => /\/tiles\/reports\/\d+\/\d+\/\d+\.mvt\?carrier=viettel/.test(u)), 'reports tiles for viettel');
  const viettel = (await counts(page)).reports;
  assert.ok(viettel > 5000 && viettel < before.reports / 2, `viettel ${viettel} of ${before.reports}`);
  assert.equal(await tileReports(page), viettel);
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

test('at a low zoom the areas carry what the map styles by, and a click shows an area in full', async () => {
  const ext = (await (await fetch(base + 'ogc/collections/areas')).json()).extent.spatial.bbox[0];
  const { context, page, requests } = await newPage(`#v=9/${((ext[1] + ext[3]) / 2).toFixed(4)}/${((ext[0] + ext[2]) / 2).toFixed(4)}`);
  assert.ok(requests.some((u) => /\/api\/v1\/layers\/areas\?.*zoom=9/.test(u)), 'areas asked for at zoom 9');
  // The same colours as from the full properties, for every metric.
  const diff = await page.evaluate(async () => {
    const full = await (await fetch(gapmap.lastUrls.areas + '&properties=*')).json();
    const byCode = new Map(full.features.map((f) => [f.properties.code, f.properties]));
    const out = { slim: gapmap.shown.areas.every((p) => !('population' in p) && 'dead_share' in p && 'name' in p), n: 0, differ: [] };
    const before = gapmap.state.metric;
    for (const o of document.querySelectorAll('#f-metric option')) {
      gapmap.state.metric = o.value;
      for (const p of gapmap.shown.areas) {
        out.n++;
        const a = JSON.stringify(gapmap.areaStyle({ properties: p })), b = JSON.stringify(gapmap.areaStyle({ properties: byCode.get(p.code) }));
        if (a !== b) out.differ.push(`${o.value} ${p.code}: ${a} ≠ ${b}`);
        if (p.name !== byCode.get(p.code).name) out.differ.push(`name ${p.code}`);
      }
    }
    gapmap.state.metric = before;
    return out;
  });
  assert.ok(diff.slim, 'below zoom 12 the areas leave out population');
  assert.ok(diff.n > 50, `${diff.n} styles compared`);
  assert.deepEqual(diff.differ, []);
  // Holes and teams put away, a click on a hamlet opens its panel with
  // what only the whole area has: the carriers' rows and the trend.
  await page.evaluate(() => { for (const id of ['l-holes', 'l-teams', 'l-tasks']) { const b = document.getElementById(id); if (b && b.checked) { b.checked = false; b.dispatchEvent(new Event('change')); } } });
  const hit = await page.evaluate(() => {
    const size = gapmap.map.getSize();
    let best = null;
    gapmap.map.eachLayer((l) => {
      if (best || !l.feature?.properties?.code || !l.getBounds) return;
      const pt = gapmap.map.latLngToContainerPoint(l.getBounds().getCenter());
      if (pt.x > 100 && pt.y > 100 && pt.x < size.x - 100 && pt.y < size.y - 100) best = { x: pt.x, y: pt.y };
    });
    return best;
  });
  assert.ok(hit, 'a hamlet on the screen');
  const mapBox = await page.locator('#map').boundingBox();
  await page.mouse.click(mapBox.x + hit.x, mapBox.y + hit.y);
  await page.locator('#panel h2[data-code]').waitFor();
  const code = await page.getAttribute('#panel h2', 'data-code');
  const area = await (await fetch(base + 'api/v1/areas/' + encodeURIComponent(code))).json();
  assert.equal(await page.textContent('#panel h2'), area.name);
  await page.locator('#panel svg.trend').waitFor();
  assert.ok(await page.locator('#panel tbody tr').count() >= 4, 'carrier rows');
  assert.ok((await page.textContent('#panel .muted')).includes(code));
  await done(context);
});
