// The map page: areas choropleth, coverage holes, clustered reports and
// teams from the API, filtered by carrier, technology and dates, with the
// view and filters kept in the URL hash (without one, the map opens on
// the loaded areas). What is shown follows the
// signed-in user's role (session.js): the public sees areas, holes (where
// they are, by default: the server says how much) and teams; staff also
// the reports of their scope and the form; a carrier its own holes, with
// their evidence; reviewers and admins everything.

import { t, apply, setLang, getLang, onLangChange, fmtNum, fmtPct, fmtDate, fmtMonth, fmtCount, fold } from './i18n.js';
import { initForm } from './form.js';
import { decodeTile } from './mvt.js';
import * as session from './session.js';

const API = 'api/v1/';
const CARRIERS = ['viettel', 'vinaphone', 'mobifone', 'vietnamobile'];
const CARRIER_LABEL = { viettel: 'Viettel', vinaphone: 'VinaPhone', mobifone: 'MobiFone', vietnamobile: 'Vietnamobile' };
// Holes by carrier; dead zones (no carrier at all) are black and dashed.
const CARRIER_COLOR = { viettel: '#d7191c', vinaphone: '#2c7bb6', mobifone: '#1a9641', vietnamobile: '#f08c00', all: '#111' };
// The choropleth is one hue, purple, that no carrier has: darker is worse
// (more land without signal, or fewer households a team reaches), so it
// never reads as a carrier's holes. The action categories keep to purple
// and a pale yellow for the same reason.
const RAMP = ['#f2f0f7', '#dadaeb', '#bcbddc', '#9e9ac8', '#756bb1', '#54278f'];
const ACTION_COLOR = { ok: '#f8f9fa', team: '#ffec99', carrier: '#b197fc', both: '#5f3dc4' };
const NO_DATA = '#ccc';
// Reports by what they say.
const REPORT_COLOR = { ok: '#2f9e44', weak: '#e03131', none: '#000' };
// Places to measure: cyan, which neither carriers nor reports use.
const TASK_COLOR = { open: '#0c8599', done: '#0c8599' };
// Reports in view up to this many come as GeoJSON, clustered here, with a
// popup each; more come as vector tiles the server clusters (see
// reportTiles), so that a whole province shows without a cap.
const REPORTS_LIMIT = 5000;
// Where the map opens when neither the URL nor the areas say.
const DEFAULT_VIEW = { z: 11, lat: 10.6, lon: 106.3 };

const $ = (id) => document.getElementById(id);
const state = { view: null, carrier: '', tech: '', from: '', to: '', metric: 'dead_share', report: false };
const layerCounts = { areas: 0, holes: 0, reports: 0, teams: 0 };
// layerTotals holds, for a layer cut at its limit, how many features the
// server matched (numberMatched); a whole layer has none.
const layerTotals = {};
const lastUrls = {};

// ---- URL hash: #v=z/lat/lon&carrier=…&tech=…&from=…&to=…&metric=…[&report]

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const v = (p.get('v') || '').split('/').map(Number);
  state.view = v.length === 3 && v.every(Number.isFinite) ? { z: v[0], lat: v[1], lon: v[2] } : null;
  state.carrier = p.get('carrier') || '';
  state.tech = p.get('tech') || '';
  state.from = p.get('from') || '';
  state.to = p.get('to') || '';
  state.metric = p.get('metric') || 'dead_share';
  state.report = p.has('report');
}

function writeHash() {
  const c = map.getCenter();
  const p = new URLSearchParams();
  p.set('v', `${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  for (const k of ['carrier', 'tech', 'from', 'to']) if (state[k]) p.set(k, state[k]);
  if (state.metric !== 'dead_share') p.set('metric', state.metric);
  let h = '#' + p.toString().replace(/%2F/g, '/');
  if (state.report) h += '&report';
  if (h !== location.hash) history.replaceState(null, '', h);
}

// ---- map

readHash();
const map = L.map('map', { preferCanvas: false, zoomControl: true });
L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
  maxZoom: 19,
  attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
}).addTo(map);
L.control.scale({ imperial: false }).addTo(map);
// Report dots are SVG in their own pane above the areas and holes: a
// canvas there would take every click from the areas below it, and one
// below them would never get a click at all. The pane lets clicks through
// (style.css) except on the dots.
map.createPane('reports');
const reportRenderer = L.svg({ pane: 'reports', padding: 0.3 });
// The places to measure are small rings over the reports: a tap on one is
// for it, a tap beside it for the reports under it.
map.createPane('tasks');
const taskRenderer = L.svg({ pane: 'tasks', padding: 0.3 });

// formTap places the report where a feature was tapped while the form is
// open, instead of opening the feature; it says whether it did.
function formTap(e) {
  if ($('form-panel').hidden) return false;
  L.DomEvent.stop(e);
  form.setLocation(e.latlng.lat, e.latlng.lng);
  return true;
}

const areasLayer = L.geoJSON(null, { style: areaStyle, onEachFeature: (f, l) => l.on('click', (e) => formTap(e) || tapReports(e) || showArea(f.properties.code)) });
const holesLayer = L.geoJSON(null, {
  style: (f) => {
    const c = CARRIER_COLOR[f.properties.carrier] ?? '#555';
    const dead = f.properties.carrier === 'all';
    return { color: c, weight: dead ? 3 : 1.5, dashArray: dead ? '6 4' : null, fillColor: c, fillOpacity: dead ? 0.55 : 0.3 };
  },
  onEachFeature: (f, l) => l.on('click', (e) => { if (!formTap(e) && !tapReports(e)) { L.DomEvent.stop(e); showHole(f.properties); } }),
});
// A cluster says how many reports it holds (the number) and what they say
// (the ring: the weak, no-service and usable shares), never quality by
// its colour alone.
const reportsLayer = L.markerClusterGroup({
  chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50, disableClusteringAtZoom: 17,
  iconCreateFunction: (cluster) => {
    const n = { ok: 0, weak: 0, none: 0 };
    for (const m of cluster.getAllChildMarkers()) n[m.options.cls]++;
    return clusterIcon(n);
  },
});
reportsLayer.on('clusterclick', formTap);

// ---- the reports as vector tiles

// reportTiles draws the server's reports tiles (GET /tiles/reports/…) on
// canvases: below zoom 16 a cell of several reports is a ring of what
// they say round their number, as the clusters above; a single report is
// a dot, with its popup on a tap. Taps are found in the decoded features
// (see tapReports): the canvases let clicks through to the areas.
const tileFeatures = new Map(); // "z/x/y" → [{x, y, p}] in tile pixels
let tilesPending = 0;
const ReportTiles = L.GridLayer.extend({
  createTile(coords, done) {
    const tile = L.DomUtil.create('canvas', 'gm-report-tile');
    const size = this.getTileSize(), dpr = window.devicePixelRatio || 1;
    tile.width = size.x * dpr;
    tile.height = size.y * dpr;
    const key = `${coords.z}/${coords.x}/${coords.y}`;
    tilesPending++;
    session.api(`tiles/reports/${key}.mvt?${this.query}`)
      .then(async (res) => {
        if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
        return res.arrayBuffer();
      })
      .then((buf) => {
        const l = decodeTile(new Uint8Array(buf)).find((l) => l.name === 'reports');
        const k = size.x / (l?.extent ?? 4096);
        const feats = (l?.features ?? []).filter((f) => f.parts.length).map((f) => ({ x: f.parts[0][0][0] * k, y: f.parts[0][0][1] * k, p: f.props }));
        tileFeatures.set(key, feats);
        drawReportTile(tile, feats, dpr);
        delete errors.reports;
        done(null, tile);
      })
      .catch((e) => { errors.reports = e.message; done(e, tile); })
      .finally(() => { tilesPending--; status(); });
    return tile;
  },
});
const reportTiles = new ReportTiles({ pane: 'reports', updateWhenZooming: false, keepBuffer: 1 });
reportTiles.query = '';
reportTiles.on('tileunload', (e) => tileFeatures.delete(`${e.coords.z}/${e.coords.x}/${e.coords.y}`));

// tileCounts returns what a tile feature says: {ok, weak, none}.
function tileCounts(p) {
  const n = p.reports ?? 1, weak = p.weak ?? 0, none = p.no_service ?? 0;
  return { ok: n - weak - none, weak, none };
}

function drawReportTile(canvas, feats, dpr) {
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  // Singles under the clusters, small clusters under big ones.
  for (const f of [...feats].sort((a, b) => (a.p.reports ?? 1) - (b.p.reports ?? 1))) {
    const n = tileCounts(f.p), total = n.ok + n.weak + n.none;
    if (total <= 1) {
      ctx.beginPath();
      ctx.arc(f.x, f.y, 5, 0, 2 * Math.PI);
      ctx.fillStyle = REPORT_COLOR[n.none ? 'none' : n.weak ? 'weak' : 'ok'];
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
      continue;
    }
    const d = clusterSize(total), r = d / 2 - 3.5, w = 7;
    ctx.beginPath();
    ctx.arc(f.x, f.y + 1, d / 2, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.2)';
    ctx.fill();
    let a = -Math.PI / 2;
    for (const k of ['weak', 'none', 'ok']) {
      if (!n[k]) continue;
      const da = (2 * Math.PI * n[k]) / total;
      ctx.beginPath();
      ctx.arc(f.x, f.y, r, a, a + da);
      ctx.lineWidth = w;
      ctx.strokeStyle = REPORT_COLOR[k];
      ctx.stroke();
      a += da;
    }
    ctx.beginPath();
    ctx.arc(f.x, f.y, r - w / 2, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(255, 255, 255, 0.92)';
    ctx.fill();
    ctx.fillStyle = '#1d232a';
    ctx.font = `600 ${d < 40 ? 11 : 12}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(fmtCount(total), f.x, f.y + 0.5);
  }
}

// reportAt finds the tile feature drawn under a map point, if any.
function reportAt(latlng) {
  if (!map.hasLayer(reportTiles)) return null;
  const z = map.getZoom(), size = reportTiles.getTileSize().x;
  const pt = map.project(latlng, z);
  const tx = Math.floor(pt.x / size), ty = Math.floor(pt.y / size);
  const x = pt.x - tx * size, y = pt.y - ty * size;
  let best = null, bestD = Infinity;
  for (const f of tileFeatures.get(`${z}/${tx}/${ty}`) ?? []) {
    const n = f.p.reports ?? 1, reach = n > 1 ? clusterSize(n) / 2 : 8;
    const d = Math.hypot(f.x - x, f.y - y);
    if (d <= reach && d < bestD) [best, bestD] = [f, d];
  }
  if (!best) return null;
  return { ...best, latlng: map.unproject([tx * size + best.x, ty * size + best.y], z) };
}

// tapReports opens the report tapped on the tiles, or zooms into the
// cluster tapped; it says whether there was one.
function tapReports(e) {
  const hit = reportAt(e.latlng);
  if (!hit) return false;
  L.DomEvent.stop(e);
  if ((hit.p.reports ?? 1) > 1) {
    map.setView(hit.latlng, Math.min(map.getZoom() + 2, 18));
  } else {
    L.popup({ minWidth: 220 }).setLatLng(hit.latlng).setContent(reportPopup(hit.p.id, hit.p)).openOn(map);
  }
  return true;
}
map.on('click', (e) => { if ($('form-panel').hidden) tapReports(e); });
map.on('mousemove', (e) => { map.getContainer().classList.toggle('gm-over-report', !!reportAt(e.latlng)); });

// reportMode says how reports are drawn: 'auto' (tiles past
// REPORTS_LIMIT in view), or always 'tiles' or 'geojson'.
let reportMode = 'auto';

// tileQuery is the filter of the reports tiles.
function tileQuery() {
  const p = new URLSearchParams();
  if (state.carrier) p.set('carrier', state.carrier);
  if (state.tech) p.set('tech', state.tech);
  if (state.from) p.set('from', `${state.from}T00:00:00+07:00`);
  if (state.to) p.set('to', `${state.to}T23:59:59+07:00`);
  return p.toString();
}

// showReportTiles draws the reports as tiles, total of them in view.
function showReportTiles(total) {
  reportsLayer.clearLayers();
  shown.reports = [];
  layerCounts.reports = total;
  delete layerTotals.reports;
  const q = tileQuery();
  if (!map.hasLayer(reportTiles)) {
    reportTiles.query = q;
    reportTiles.addTo(map);
  } else if (reportTiles.query !== q) {
    reportTiles.query = q;
    reportTiles.redraw();
  }
}
const teamsLayer = L.layerGroup();
// The land no report reaches yet: grey, dashed, under the holes.
const unobservedLayer = L.geoJSON(null, {
  style: () => ({ color: '#495057', weight: 1, dashArray: '3 3', fillColor: '#adb5bd', fillOpacity: 0.35 }),
  interactive: false,
});
// The places the teams are asked to measure (staff and admins).
const tasksLayer = L.layerGroup();
const layers = { areas: areasLayer, unobserved: unobservedLayer, holes: holesLayer, reports: reportsLayer, teams: teamsLayer, tasks: tasksLayer };

// allowed reports whether the signed-in user may read a layer.
const allowed = (name) => (name !== 'reports' || session.can('reports')) && (name !== 'tasks' || session.can('tasks'));

// showLayer puts a layer on the map when its box is ticked and the user
// may read it, and takes it off (emptied) otherwise.
function showLayer(name) {
  if ($('l-' + name).checked && allowed(name)) {
    layers[name].addTo(map);
    return;
  }
  layers[name].remove();
  if (name === 'reports') reportTiles.remove();
  if (!allowed(name)) {
    inflight[name]?.abort();
    layers[name].clearLayers();
    layerCounts[name] = 0;
    delete layerTotals[name];
    shown[name] = [];
    delete errors[name];
  }
}

for (const name of Object.keys(layers)) {
  const box = $('l-' + name);
  box.addEventListener('change', () => {
    showLayer(name);
    if (box.checked) load(name);
    holesLayer.bringToFront?.();
    legend();
  });
}

// ---- loading

const inflight = {};
let pending = 0;

function layerURL(name, limit = REPORTS_LIMIT) {
  // Tasks are few: the whole list of the user's scope.
  if (name === 'tasks') return `${API}tasks`;
  const b = map.getBounds();
  const p = new URLSearchParams();
  p.set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(5)).join(','));
  if (name === 'unobserved') {
    p.set('carrier', state.carrier || 'all');
  } else if (name !== 'teams') {
    if (state.carrier) p.set('carrier', state.carrier);
    if (state.tech) p.set('tech', state.tech);
    if (state.from) p.set('from', `${state.from}T00:00:00+07:00`);
    if (state.to) p.set('to', `${state.to}T23:59:59+07:00`);
  }
  if (name === 'reports') p.set('limit', limit);
  // Outlines simplified to about a pixel at this zoom keep a whole-province
  // view small; below zoom 12 the areas carry only what areaStyle and the
  // level words read, and a click fetches the whole area (showArea).
  if (name === 'areas' || name === 'holes' || name === 'unobserved') p.set('zoom', Math.round(map.getZoom()));
  return `${API}layers/${name}?${p}`;
}

async function load(name) {
  if (!allowed(name) || !map.hasLayer(layers[name])) return;
  inflight[name]?.abort();
  const ac = new AbortController();
  inflight[name] = ac;
  const url = layerURL(name);
  lastUrls[name] = url;
  pending++;
  status();
  const get = async (u) => {
    const res = await session.api(u, { signal: ac.signal });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
    return res.json();
  };
  try {
    if (name === 'reports' && reportMode !== 'geojson') {
      // How many are in view decides: one feature says (numberMatched).
      const probe = await get(layerURL(name, 1));
      if (ac.signal.aborted) return;
      const total = probe.numberMatched ?? probe.features.length;
      if (reportMode === 'tiles' || total > REPORTS_LIMIT) {
        delete errors.reports;
        showReportTiles(total);
        return;
      }
    }
    const fc = await get(url);
    if (ac.signal.aborted) return;
    if (name === 'reports') reportTiles.remove();
    if (name === 'tasks') {
      activity = Object.fromEntries((fc.teams ?? []).map((a) => [a.team, a]));
      drawTasks(fc.tasks ?? []);
      return;
    }
    draw(name, fc.features);
    if (fc.numberMatched > fc.features.length) layerTotals[name] = fc.numberMatched;
    else delete layerTotals[name];
  } catch (e) {
    if (e.name !== 'AbortError') { errors[name] = e.message; console.warn(name, e); }
  } finally {
    pending--;
    if (inflight[name] === ac) delete inflight[name];
    status();
  }
}
const errors = {};

function draw(name, features) {
  delete errors[name];
  const layer = layers[name];
  layer.clearLayers();
  if (name === 'areas' || name === 'holes' || name === 'unobserved') {
    layer.addData(features);
    if (name !== 'holes') holesLayer.bringToFront?.();
  } else if (name === 'reports') {
    const ms = features.map((f) => {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      const cls = reportClass(p);
      const id = f.id ?? p.id;
      return L.circleMarker([lat, lon], { renderer: reportRenderer, pane: 'reports', radius: 5, color: '#fff', weight: 1, fillColor: REPORT_COLOR[cls], fillOpacity: 0.9, cls })
        .on('click', formTap).bindPopup(() => reportPopup(id, p), { minWidth: 220 });
    });
    layer.addLayers(ms);
  } else if (name === 'teams') {
    // Teams are squares, so they are not taken for reports or tasks.
    for (const f of features) {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      const size = Math.round(10 + 2 * Math.sqrt(p.members || 1));
      L.marker([lat, lon], { icon: L.divIcon({ className: 'gm-team', iconSize: [size, size] }), title: p.name, keyboard: false })
        .on('click', formTap)
        .bindPopup(() => teamPopup(f.id ?? p.id, p))
        .addTo(layer);
    }
  }
  layerCounts[name] = features.length;
  shown[name] = features.map((f) => f.properties);
  if (name === 'areas') learnLevels(features);
}

// reportClass is what a report says: no service at all, weak, or usable.
function reportClass(p) {
  if (p.no_service === true || p.no_service > 0 || p.tech === 'none') return 'none';
  return p.weak === true || p.weak > 0 ? 'weak' : 'ok';
}

// donut draws, as SVG markup of size d, a ring split into the shares of
// n ({ok, weak, none}) round a white disc with the count in it.
function donut(n, d) {
  const total = n.ok + n.weak + n.none;
  const r = d / 2 - 3.5, c = 2 * Math.PI * r, w = 7;
  let at = 0, arcs = '';
  for (const k of ['weak', 'none', 'ok']) {
    if (!n[k]) continue;
    const len = (c * n[k]) / total;
    arcs += `<circle cx="${d / 2}" cy="${d / 2}" r="${r}" fill="none" stroke="${REPORT_COLOR[k]}" stroke-width="${w}"
      stroke-dasharray="${len} ${c - len}" stroke-dashoffset="${-at}" transform="rotate(-90 ${d / 2} ${d / 2})"/>`;
    at += len;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${d}" height="${d}" viewBox="0 0 ${d} ${d}">${arcs}
    <circle cx="${d / 2}" cy="${d / 2}" r="${r - w / 2}" fill="#fff" fill-opacity="0.92"/>
    <text x="${d / 2}" y="${d / 2}" dy=".35em" text-anchor="middle" font-size="${d < 40 ? 11 : 12}" font-weight="600" fill="#1d232a">${fmtCount(total)}</text></svg>`;
}

// clusterSize is a cluster's diameter in pixels for n reports.
const clusterSize = (n) => Math.round(30 + 5 * Math.log10(Math.max(1, n)));

function clusterIcon(n) {
  const d = clusterSize(n.ok + n.weak + n.none);
  return L.divIcon({ html: donut(n, d), className: 'marker-cluster gm-cluster', iconSize: [d, d] });
}
const shown = {};

// activity holds, for staff and admins, each team's recent reports and
// tasks, by team ID (from GET /tasks).
let activity = {};

// teamPopup is a team's panel: members, reach and, when known, activity.
function teamPopup(id, p) {
  const a = activity[id];
  return el('div', { className: 'team-popup' },
    el('b', {}, p.name), el('br'), t('members_n', { n: fmtNum(p.members) }), el('br'),
    `${t('reached')}: ${fmtNum(p.households_reached)}`,
    ...(a ? [el('br'), el('b', {}, t('activity')), el('br'),
      `${t('reports_7d')}: ${fmtNum(a.reports_7d)} · ${t('reports_30d')}: ${fmtNum(a.reports_30d)}`, el('br'),
      `${t('tasks_done')}: ${fmtNum(a.tasks_done)} · ${t('tasks_open')}: ${fmtNum(a.tasks_open)}`] : []));
}

// drawTasks shows the places to measure: open ones as orange rings
// numbered by rank, done ones as small green dots.
function drawTasks(tasks) {
  delete errors.tasks;
  tasksLayer.clearLayers();
  for (const k of tasks) {
    const done = k.state === 'done';
    L.circleMarker([k.lat, k.lon], { renderer: taskRenderer, pane: 'tasks', ...taskStyle(done), color: done ? TASK_COLOR.done : TASK_COLOR.open, fillColor: done ? TASK_COLOR.done : '#fff', fillOpacity: done ? 0.9 : 0.8, done })
      .on('click', formTap)
      .bindPopup(() => el('div', { className: 'task-popup' },
        el('b', {}, k.why === 'retest' ? t('task') : `${t('task')} ${k.rank}`), ' · ', k.team_name || k.team, el('br'),
        k.area_name, el('br'),
        `${t('task_why')}: ${t('w_' + k.why)}`, el('br'),
        `${t('measure_with')}: ${k.carrier === 'all' ? t('every_sim') : CARRIER_LABEL[k.carrier] ?? k.carrier}`, el('br'),
        `${t('households')}: ${fmtNum(k.households, 1)}`, el('br'),
        done ? `${t('task_done')} ${fmtDate(k.done_at)}` : t('task_open')))
      .addTo(tasksLayer);
  }
  layerCounts.tasks = tasks.length;
  shown.tasks = tasks;
}

// taskStyle sizes a place to measure for the zoom: small over a province,
// a ring to aim at close up.
function taskStyle(done) {
  const z = map.getZoom();
  if (z < 12) return { radius: done ? 1.5 : 2.5, weight: 1 };
  const near = z >= 13;
  return done ? { radius: near ? 5 : 3, weight: 1 } : { radius: near ? 9 : 5, weight: near ? 3 : 2 };
}
map.on('zoomend', () => tasksLayer.eachLayer((m) => m.setStyle(taskStyle(m.options.done))));

// el makes an element with properties and children; strings become text
// nodes, so nothing a user typed is ever parsed as markup.
function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children.filter((c) => c != null && c !== false));
  return e;
}

// reportPopup shows what the layer knows at once, then fetches the report
// for its note (and reporter, for admins and reviewers); reviewers and
// admins get confirm and reject buttons.
function reportPopup(id, p) {
  const box = el('div', { className: 'report-popup' },
    el('b', {}, CARRIER_LABEL[p.carrier] ?? p.carrier), ' ', p.tech || '', el('br'),
    p.no_service ? t('tech_none') : `${fmtNum(p.signal_dbm)} dBm`,
    p.download_mbps != null ? el('br') : null,
    p.download_mbps != null ? `${t('down')}: ${fmtNum(p.download_mbps, 1)} Mbps` : null,
    el('br'), `${t('observed')}: ${fmtDate(p.observed_at, true)}`);
  box.dataset.id = id;
  const more = el('div', { className: 'report-more' }, t('loading'));
  box.append(more);
  reportDetail(id, more);
  if (session.can('review')) box.append(reviewControls(id));
  return box;
}

async function reportDetail(id, more) {
  try {
    const res = await session.api(`${API}reports/${encodeURIComponent(id)}`);
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
    const r = await res.json();
    const rows = [];
    if (r.note) rows.push(el('div', {}, `${t('note')}: `, el('span', { className: 'report-note' }, r.note)));
    if (r.reporter) rows.push(el('div', {}, `${t('reporter_l')}: `, el('span', { className: 'report-reporter' }, r.reporter)));
    if (r.source) rows.push(el('div', { className: 'muted' }, `${t('source_l')}: ${t('src_' + r.source)}`));
    more.replaceChildren(...rows);
  } catch (e) {
    more.replaceChildren(el('span', { className: 'muted' }, t('detail_fail', { e: e.message })));
  }
}

function reviewControls(id) {
  const comment = el('input', { className: 'review-comment', placeholder: t('review_comment'), maxLength: 2000 });
  const out = el('output', { className: 'review-out', role: 'status' });
  const btn = (status, label) => {
    const b = el('button', { type: 'button', textContent: t(label) });
    b.dataset.review = status;
    b.addEventListener('click', async () => {
      for (const x of box.querySelectorAll('button')) x.disabled = true;
      try {
        const res = await session.api(`${API}reports/${encodeURIComponent(id)}/review`, {
          method: 'PUT', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ status, comment: comment.value.trim() }),
        });
        if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
        out.textContent = t('reviewed_' + status);
        out.dataset.status = status;
      } catch (e) {
        out.textContent = t('review_fail', { e: e.message });
      } finally {
        for (const x of box.querySelectorAll('button')) x.disabled = false;
      }
    });
    return b;
  };
  const box = el('div', { className: 'review' }, comment, el('div', { className: 'row' }, btn('confirmed', 'confirm'), btn('rejected', 'reject')), out);
  return box;
}

// loadAll reloads every layer; a reload waiting for the map to settle is
// then not needed.
function loadAll() {
  clearTimeout(debounce);
  for (const n of Object.keys(layers)) load(n);
}

// status says what each visible layer shows, and when the server cut one
// at its limit, how much of it: "5.000 / 60.000 báo cáo — phóng to để
// xem hết".
function status() {
  const s = Object.entries(errors).map(([l, e]) => t('load_fail', { l, e })).join('; ');
  const busy = pending + tilesPending;
  if (s || busy) {
    $('status').textContent = s || t('loading');
    document.body.dataset.loading = busy ? '1' : '';
    return;
  }
  const parts = [];
  const count = (name, key, args = {}) => {
    const n = layerCounts[name] ?? 0, total = layerTotals[name];
    const shown = total > n ? `${fmtNum(n)} / ${fmtNum(total)}` : fmtNum(n);
    parts.push(t(key, { ...args, n: shown }) + (total > n ? t('st_cut') : ''));
  };
  if (visible('areas')) count('areas', 'st_areas', { lv: levelWords().many });
  if (visible('holes')) count('holes', 'st_holes');
  if (visible('unobserved')) parts.push(t('st_unobserved'));
  if (visible('reports')) count('reports', 'st_reports');
  if (visible('teams')) count('teams', 'st_teams');
  if (visible('tasks')) count('tasks', 'st_tasks');
  $('status').textContent = parts.join(' · ') || t('st_none');
  document.body.dataset.loading = '';
}

// visible reports whether a layer is on the map.
const visible = (name) => map.hasLayer(layers[name]);

// ---- the areas' level: "ấp" for hamlets, "xã, phường" for communes…

// levelsSeen are the levels of the areas drawn so far (geo.Level names).
const levelsSeen = new Set();

function learnLevels(features) {
  const before = levelsSeen.size;
  for (const f of features) levelsSeen.add(f.properties.level ?? '');
  if (levelsSeen.size !== before) areaWords();
}

// levelWords returns the words for the areas' levels: many ("ấp, khu
// phố"; two levels: "ấp, xã") and one ("ấp").
function levelWords() {
  const lv = [...levelsSeen].sort((a, b) => LEVEL_ORDER.indexOf(a) - LEVEL_ORDER.indexOf(b));
  if (!lv.length) lv.push('hamlet');
  const one = lv.map((l) => t('lv1_' + l));
  return { many: lv.length === 1 ? t('lv_' + lv[0]) : one.join(', '), one: one.join(', ') };
}
const LEVEL_ORDER = ['hamlet', 'commune', 'district', 'province', ''];

// areaWords writes the level words into the texts that name the areas.
function areaWords() {
  const w = levelWords();
  $('l-areas-label').textContent = w.many.charAt(0).toUpperCase() + w.many.slice(1);
  $('metric-label').textContent = t('metric', { lv: w.many });
  $('search').placeholder = t('search', { lv: w.many, lv1: w.one });
  status();
}

let debounce;
map.on('moveend', () => {
  writeHash();
  clearTimeout(debounce);
  debounce = setTimeout(loadAll, 250);
});

// ---- choropleth

function metricValue(p) {
  const v = p[state.metric];
  // Reach is better high: darker is fewer households reached.
  return state.metric === 'reached_share' && v != null ? 1 - v : v;
}

// rampColor picks a class of the ramp; classes are narrower near 0, where
// most areas are (bounds (i/n)²).
function rampColor(v, ramp) {
  if (v == null || Number.isNaN(v)) return NO_DATA;
  const i = Math.min(ramp.length - 1, Math.floor(Math.sqrt(Math.max(0, Math.min(1, v))) * ramp.length));
  return ramp[i];
}

function areaStyle(f) {
  const p = f.properties;
  // No report near enough to judge any of it: no data yet, not 0%.
  if (p.observed_share === 0) return { color: '#334', weight: 1, dashArray: '4 3', fillColor: NO_DATA, fillOpacity: 0.55 };
  const fill = state.metric === 'action' ? (ACTION_COLOR[p.action] ?? NO_DATA) : rampColor(metricValue(p), RAMP);
  return { color: '#334', weight: 1, fillColor: fill, fillOpacity: 0.6 };
}

// legend explains every layer on the map: the areas' colours (with "no
// data yet"), the holes by carrier and the dead zones, the land without
// data, the reports and their clusters, the teams and the places to
// measure.
function legend() {
  const rows = [];
  const sw = (c, label, cls = '') => {
    const i = el('i', { className: cls });
    if (cls === 'ring' || cls === 'dash') i.style.borderColor = c;
    else i.style.background = c;
    return el('div', {}, i, label);
  };
  const head = (text) => rows.push(el('div', { className: 'legend-head' }, el('b', {}, text)));
  if (visible('areas')) {
    head($('f-metric').selectedOptions[0]?.textContent ?? '');
    if (state.metric === 'action') {
      for (const [k, c] of Object.entries(ACTION_COLOR)) rows.push(sw(c, t('a_' + k)));
    } else {
      RAMP.forEach((c, i) => {
        let lo = (i / RAMP.length) ** 2, hi = ((i + 1) / RAMP.length) ** 2;
        if (state.metric === 'reached_share') [lo, hi] = [1 - hi, 1 - lo];
        rows.push(sw(c, `${fmtPct(lo)}–${fmtPct(hi)}`));
      });
    }
    rows.push(sw(NO_DATA, t('no_data'), 'no-data'));
  }
  if (visible('holes')) {
    head(t('lg_holes'));
    for (const c of CARRIERS) rows.push(sw(CARRIER_COLOR[c], CARRIER_LABEL[c]));
    rows.push(sw(CARRIER_COLOR.all, t('all_carriers')));
  }
  if (visible('unobserved')) rows.push(sw('#adb5bd', t('lg_unobserved'), 'unobserved'));
  if (visible('reports')) {
    head(t('l_reports'));
    rows.push(sw(REPORT_COLOR.ok, t('lg_ok'), 'dot'), sw(REPORT_COLOR.weak, t('lg_weak'), 'dot'), sw(REPORT_COLOR.none, t('lg_none'), 'dot'));
    const d = el('span', { className: 'donut' });
    d.innerHTML = donut({ ok: 5, weak: 3, none: 1 }, 30);
    rows.push(el('div', { className: 'legend-cluster' }, d, t('lg_cluster')));
  }
  if (visible('teams')) rows.push(sw('#343a40', t('lg_teams'), 'square'));
  if (visible('tasks')) rows.push(sw(TASK_COLOR.open, t('lg_task_open'), 'ring'), sw(TASK_COLOR.done, t('lg_task_done'), 'dot'));
  $('legend').replaceChildren(...rows);
}

// ---- filters

const filterInputs = { carrier: $('f-carrier'), tech: $('f-tech'), from: $('f-from'), to: $('f-to') };
function syncInputs() {
  for (const [k, el] of Object.entries(filterInputs)) el.value = state[k];
  $('f-metric').value = state.metric;
}
for (const [k, el] of Object.entries(filterInputs)) {
  el.addEventListener('change', () => { state[k] = el.value; writeHash(); loadAll(); });
}
$('f-metric').addEventListener('change', (e) => {
  state.metric = e.target.value;
  areasLayer.setStyle(areaStyle);
  legend();
  writeHash();
});
addEventListener('hashchange', () => {
  const before = JSON.stringify({ ...state, view: null });
  readHash();
  syncInputs();
  if (state.view) {
    const c = map.getCenter();
    if (state.view.z !== map.getZoom() || Math.abs(state.view.lat - c.lat) > 1e-4 || Math.abs(state.view.lon - c.lng) > 1e-4) {
      map.setView([state.view.lat, state.view.lon], state.view.z);
    }
  }
  fixCarrier();
  if (before !== JSON.stringify({ ...state, view: null })) { areasLayer.setStyle(areaStyle); legend(); loadAll(); }
  state.report && session.can('write') ? form.open() : form.close();
});

// ---- downloads

// downloads lists the gap lists the user may read: every carrier's for
// admins and reviewers, its own for a carrier, none for the rest.
function downloads() {
  const fmts = [['xlsx', 'Excel'], ['csv', 'CSV'], ['geojson', 'GeoJSON'], ['kml', 'KML'], ['gpkg', 'GeoPackage']];
  const u = session.user();
  const which = !session.can('gaps') ? [] : u.role === 'carrier' ? [u.carrier] : [...CARRIERS, 'all'];
  $('downloads-box').hidden = !which.length;
  $('downloads').replaceChildren(...which.map((c) => el('tr', {},
    el('td', {}, c === 'all' ? t('all_carriers') : CARRIER_LABEL[c] ?? c),
    ...fmts.map(([f, label]) => {
      const a = el('a', { href: `${API}gaps?carrier=${encodeURIComponent(c)}&format=${f}`, download: `gaps-${c}.${f}`, textContent: label });
      a.dataset.carrier = c;
      a.dataset.format = f;
      return el('td', {}, a);
    }))));
}

// ---- side panel: an area or a hole

const panel = $('panel'), panelBody = $('panel-body');
$('panel-close').addEventListener('click', () => { panel.hidden = true; });

async function showArea(code) {
  if (!$('form-panel').hidden) return; // taps place the report while the form is open
  panel.hidden = false;
  panelBody.innerHTML = `<p>${t('loading')}</p>`;
  const res = await session.api(`${API}areas/${encodeURIComponent(code)}`);
  if (!res.ok) { panelBody.textContent = `HTTP ${res.status}`; return; }
  const a = await res.json();
  const tr = a.team_reach ?? {};
  const act = a.action ?? 'ok';
  panelBody.innerHTML = `
    <h2 data-code="${esc(a.code)}">${esc(a.name)}</h2>
    <p class="muted">${esc(a.code)} · ${t('rank')} ${fmtNum(a.rank)} · ${t('households')} ${fmtNum(a.households)} · ${t('population')} ${fmtNum(a.population)}</p>
    ${a.observed_share === 0 ? `<p class="no-data">${t('no_data_yet', { lv1: t('lv1_' + (a.level ?? '')) })}</p>` : ''}
    <p>${t('action')}: <span class="badge dark-text" data-color="${ACTION_COLOR[act] ?? '#888'}">${t('a_' + act)}</span>
       · ${t('dead_share')}: ${fmtPct(a.dead_share)} · ${t('hole_share')}: ${fmtPct(a.hole_share)}
       · ${t('observed_share')}: ${fmtPct(a.observed_share)}</p>
    <table><thead><tr><th>${t('carrier')}</th><th>${t('reports')}</th><th>${t('weak_share')}</th><th>${t('median')}</th><th>${t('hole_share')}</th></tr></thead><tbody>
    ${(a.carriers ?? []).map((c) => `<tr><td><i class="swatch" data-color="${CARRIER_COLOR[c.carrier] ?? '#555'}"></i> ${CARRIER_LABEL[c.carrier] ?? esc(c.carrier)}</td>
      <td>${fmtNum(c.reports)}</td><td>${fmtPct(c.weak_share)}</td><td>${fmtNum(c.median_signal_dbm, 1)}</td><td>${fmtPct(c.hole_share)}</td></tr>`).join('')}
    <tr><th>Σ</th><th>${fmtNum(a.reports)}</th><th>${fmtPct(a.weak_share)}</th><th></th><th>${fmtPct(a.hole_share)}</th></tr>
    </tbody></table>
    <h3>${t('team_reach')}</h3>
    <p>${t('teams')}: ${fmtNum(tr.teams)} · ${t('members')}: ${fmtNum(tr.members)} · ${t('reached')}: ${fmtNum(tr.households_reached)} (${fmtPct(tr.reached_share)})
       · ${t('nearest')}: ${fmtNum(tr.nearest_team_km, 1)}</p>
    <h3>${t('monthly')}</h3>
    ${trendChart(a.monthly ?? [])}`;
  paint(panelBody);
}

// paint colours the swatches and badges marked data-color: the content
// security policy forbids style attributes in markup, not styles set from
// script.
function paint(root) {
  for (const e of root.querySelectorAll('[data-color]')) e.style.background = e.dataset.color;
}

// trendChart draws the monthly reports as inline SVG bars, the weak part
// darker.
function trendChart(months) {
  if (!months.length) return `<p class="muted">${t('no_data')}</p>`;
  const W = 320, H = 90, pad = 14, bw = (W - 4) / months.length;
  const max = Math.max(...months.map((m) => m.reports), 1);
  const bars = months.map((m, i) => {
    const h = ((H - pad - 4) * m.reports) / max, hw = ((H - pad - 4) * m.weak) / max;
    const x = 2 + i * bw;
    return `<g><title>${m.month}: ${fmtNum(m.reports)} ${t('reports').toLowerCase()}, ${fmtNum(m.weak)} ${t('weak').toLowerCase()}</title>
      <rect x="${x + 1}" y="${H - pad - h}" width="${bw - 2}" height="${h}" fill="#a5d8ff"/>
      <rect x="${x + 1}" y="${H - pad - hw}" width="${bw - 2}" height="${hw}" fill="#e03131"/>
      ${months.length <= 14 ? `<text x="${x + bw / 2}" y="${H - 2}" font-size="9" text-anchor="middle">${fmtMonth(m.month)}</text>` : ''}</g>`;
  }).join('');
  return `<svg class="trend" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${t('monthly')}">${bars}</svg>`;
}

// showHole shows a hole's figures; those who see only where a hole is
// (the public and other carriers, by default) get its outline, size and
// areas, without the evidence.
function showHole(p) {
  if (!$('form-panel').hidden) return;
  panel.hidden = false;
  const who = p.carrier === 'all' ? t('all_carriers') : CARRIER_LABEL[p.carrier] ?? p.carrier;
  const full = p.reports !== undefined;
  const rows = full ? `
      <tr><td>${t('reports')}</td><td>${fmtNum(p.reports)}</td></tr>
      <tr><td>${t('weak')}</td><td>${fmtNum(p.weak_reports)} (${fmtPct(p.weak_share)})</td></tr>
      <tr><td>${t('reporters')}</td><td>${fmtNum(p.reporters)}</td></tr>
      <tr><td>${t('first_seen')}</td><td>${fmtDate(p.first_observed)}</td></tr>
      <tr><td>${t('last_seen')}</td><td>${fmtDate(p.last_observed)}</td></tr>
      <tr><td>${t('median')}</td><td>${fmtNum(p.median_signal_dbm, 1)}</td></tr>
      <tr><td>${t('prob_weak')}</td><td>${fmtPct(p.prob_weak)} (${fmtPct(p.weak_share_p05)}–${fmtPct(p.weak_share_p95)})</td></tr>` : '';
  panelBody.innerHTML = `
    <h2 data-hole="${esc(p.id)}">${t('hole')}: ${esc(who)}</h2>
    ${full ? `<p class="muted">#${fmtNum(p.rank)} · ${t('severity')} ${fmtPct(p.severity)}</p>` : ''}
    <table><tbody>${rows}
      <tr><td>${t('area_km2')}</td><td>${fmtNum(p.area_km2, 2)}</td></tr>
      ${full ? `<tr><td>${t('hh_affected')}</td><td>${fmtNum(p.households_affected)}</td></tr>` : ''}
      ${p.state ? `<tr><td>${t('state')}</td><td class="hole-state" data-state="${esc(p.state)}">${esc(t('st_' + p.state))}${p.overdue ? ` <b class="overdue">${t('overdue')}</b>` : ''}</td></tr>` : ''}
      ${p.answer_due && (p.state === 'open' || p.state === 'reopened') ? `<tr><td>${t('answer_due')}</td><td>${esc(p.answer_due)}</td></tr>` : ''}
      ${p.fix_due ? `<tr><td>${t('fix_due')}</td><td>${esc(p.fix_due)}</td></tr>` : ''}
      ${p.cause ? `<tr><td>${t('cause')}</td><td>${esc(p.cause)}</td></tr>` : ''}
      ${p.funding ? `<tr><td>${t('funding')}</td><td>${esc(p.funding)}</td></tr>` : ''}
    </tbody></table>
    ${p.state === 'fixed' ? `<p class="retest">${t('retest')}</p>` : ''}
    <p>${t('areas_in')}: ${(p.area_names ?? []).map(esc).join(', ')}</p>
    ${full ? '' : `<p class="muted">${t('hole_outline')}</p>`}`;
}

// ---- the carriers' scorecard, for admins and reviewers

// thisQuarter is the current quarter in Vietnam time, as 2026Q4.
function thisQuarter() {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit' })
    .format(new Date()).split('-').map(Number);
  return `${y}Q${Math.ceil(m / 3)}`;
}

const scoreCols = [['listed', 'sc_listed'], ['answered', 'sc_answered'], ['answered_on_time', 'sc_on_time'],
  ['planned', 'sc_planned'], ['fixed', 'sc_fixed'], ['verified', 'sc_verified'], ['reopened', 'sc_reopened'],
  ['overdue', 'sc_overdue'], ['median_days_to_answer', 'sc_days_answer'], ['median_days_to_fix', 'sc_days_fix']];

// scorecard shows every carrier's scorecard for the period chosen.
async function scorecard() {
  const box = $('scorecard-box');
  box.hidden = !session.can('review');
  if (box.hidden) return;
  const input = $('sc-period');
  if (!input.value) input.value = thisQuarter();
  const q = `${API}scorecard?period=${encodeURIComponent(input.value)}`;
  $('sc-csv').href = q + '&format=csv';
  const res = await session.api(q);
  if (!res.ok) {
    $('scorecard').replaceChildren(el('tr', {}, el('td', { textContent: `HTTP ${res.status}` })));
    return;
  }
  const sc = await res.json();
  $('scorecard').replaceChildren(
    el('tr', {}, el('th', { textContent: t('carrier') }), ...scoreCols.map(([, k]) => el('th', { textContent: t(k) }))),
    ...sc.rows.map((r) => {
      const tr = el('tr', {}, el('td', { textContent: CARRIER_LABEL[r.carrier] ?? r.carrier }),
        ...scoreCols.map(([k]) => el('td', { textContent: fmtNum(r[k], 1) })));
      tr.dataset.carrier = r.carrier;
      return tr;
    }));
}
$('sc-period').addEventListener('change', () => scorecard());

// ---- search by name, without diacritics

let index = null;
async function searchIndex() {
  index ??= session.api(`${API}layers/areas`).then((r) => r.json()).then((fc) => fc.features.map((f) => {
    const b = L.geoJSON(f).getBounds();
    return { code: f.properties.code, name: f.properties.name, parent: f.properties.parent_name ?? '', key: fold(f.properties.name), bounds: b };
  })).catch((e) => { index = null; throw e; });
  return index;
}

const searchBox = $('search'), results = $('search-results');
searchBox.addEventListener('input', async () => {
  const q = fold(searchBox.value);
  if (!q) { results.hidden = true; return; }
  const idx = await searchIndex();
  const words = q.split(' ');
  const hits = idx.filter((a) => words.every((w) => a.key.includes(w)))
    .sort((a, b) => (b.key.startsWith(q) - a.key.startsWith(q)) || a.key.length - b.key.length || a.key.localeCompare(b.key)).slice(0, 12);
  results.replaceChildren(...(hits.length ? hits.map((a) => {
    const li = document.createElement('li');
    li.setAttribute('role', 'option');
    li.dataset.code = a.code;
    li.append(a.name, ' ', el('small', {}, a.parent));
    li.addEventListener('click', () => pick(a));
    return li;
  }) : [Object.assign(document.createElement('li'), { textContent: t('no_results') })]));
  results.hidden = false;
});
searchBox.addEventListener('keydown', async (e) => {
  if (e.key === 'Enter') results.querySelector('li[data-code]')?.click();
  if (e.key === 'Escape') results.hidden = true;
});
function pick(a) {
  results.hidden = true;
  searchBox.value = a.name;
  map.fitBounds(a.bounds, { maxZoom: 15 });
  showArea(a.code);
}

// ---- language, menu, form

$('lang-btn').addEventListener('click', () => setLang(getLang() === 'vi' ? 'en' : 'vi'));
onLangChange(() => { $('lang-btn').textContent = t('lang'); areaWords(); legend(); downloads(); account(); status(); });
$('menu-btn').addEventListener('click', () => {
  const open = document.body.classList.toggle('side-open');
  $('menu-btn').setAttribute('aria-expanded', open);
});

const form = initForm(map, { onSent: () => setTimeout(() => load('reports'), 1500) });
$('report-btn').addEventListener('click', () => { state.report = true; writeHash(); form.open(); });
$('form-close').addEventListener('click', () => { state.report = false; writeHash(); form.close(); });

// ---- sign-in and the role's view

const dialog = $('signin-dialog'), signinForm = $('signin-form'), signinErr = $('signin-err');
const nameIn = signinForm.elements.namedItem('name'), passwordIn = signinForm.elements.namedItem('password');
let reportAfterSignIn = false;

function openSignIn(thenReport = false) {
  reportAfterSignIn = thenReport;
  signinErr.textContent = '';
  passwordIn.value = '';
  if (!dialog.open) dialog.showModal();
  nameIn.focus();
}
$('signin-btn').addEventListener('click', () => openSignIn());
$('signin-report-btn').addEventListener('click', () => openSignIn(true));
$('queue-note').addEventListener('click', () => openSignIn());
$('signin-cancel').addEventListener('click', () => dialog.close());
signinForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = nameIn.value.trim(), password = passwordIn.value;
  if (!name || !password) { signinErr.textContent = t('signin_need'); return; }
  const btn = signinForm.querySelector('[type=submit]');
  btn.disabled = true;
  signinErr.textContent = '';
  const r = await session.signIn(name, password);
  btn.disabled = false;
  if (!r.ok) {
    signinErr.textContent = r.status === 401 ? t('signin_wrong') : r.status === 429 ? t('signin_throttled') : t('signin_fail', { e: r.detail });
    passwordIn.select();
    return;
  }
  passwordIn.value = '';
  dialog.close();
  if (reportAfterSignIn && session.can('write')) { state.report = true; writeHash(); form.open(); }
  reportAfterSignIn = false;
});
$('signout-btn').addEventListener('click', () => session.signOut());

// account shows who is signed in, and the buttons that fit the role.
function account() {
  const u = session.user();
  $('signin-btn').hidden = !!u;
  $('user-box').hidden = !u;
  $('user-name').textContent = u?.name ?? '';
  $('user-role').textContent = u ? t('role_' + u.role) : '';
  if (u) $('user-role').dataset.role = u.role;
  $('report-btn').hidden = !session.can('write');
  $('signin-report-btn').hidden = !!u;
}

// fixCarrier pins the carrier filter of a carrier user to its own carrier.
let carrierPinned = false;
function fixCarrier() {
  const u = session.user(), sel = filterInputs.carrier;
  if (u?.role === 'carrier') {
    state.carrier = u.carrier;
    carrierPinned = true;
  } else if (carrierPinned) {
    state.carrier = '';
    carrierPinned = false;
  }
  sel.disabled = carrierPinned;
  sel.value = state.carrier;
}

// roleView re-renders the page for the signed-in user, without a reload.
function roleView() {
  account();
  fixCarrier();
  $('l-reports-row').hidden = !session.can('reports');
  $('l-tasks-row').hidden = !session.can('tasks');
  for (const name of Object.keys(layers)) showLayer(name);
  holesLayer.bringToFront?.();
  map.closePopup();
  if (!session.can('write')) form.close();
  else if (state.report) form.open();
  downloads();
  legend();
  scorecard();
  form.renderQueue();
  writeHash();
  loadAll();
}
session.onChange(() => {
  roleView();
  if (session.can('write')) form.retry(); // what waited for this sign-in
});

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// startView opens the map where the URL says, else on the loaded areas
// (their extent, from the OGC collection), else on DEFAULT_VIEW.
async function startView() {
  if (state.view) {
    map.setView([state.view.lat, state.view.lon], state.view.z);
    return;
  }
  try {
    const res = await fetch('ogc/collections/areas', { headers: { Accept: 'application/json' } });
    const b = res.ok ? (await res.json()).extent?.spatial?.bbox?.[0] : null;
    if (b && b.every(Number.isFinite)) {
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 15 });
      return;
    }
  } catch (e) {
    console.warn('areas extent', e);
  }
  map.setView([DEFAULT_VIEW.lat, DEFAULT_VIEW.lon], DEFAULT_VIEW.z);
}

apply();
areaWords();
$('lang-btn').textContent = t('lang');
syncInputs();
await startView();
legend();
// Who we are decides what to request: ask before the first load. Offline,
// the last known user stands (the form still opens); the queue asks again
// before it sends anything.
await session.refresh();
roleView();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker', e));
}

// For the browser tests and for poking at the page from the console.
window.gapmap = {
  map, state, layerCounts, layerTotals, lastUrls, shown, form, loadAll, load, fold, session, reportsLayer, holesLayer, reportTiles, tileFeatures, tasksLayer, areaStyle,
  get pending() { return pending + tilesPending; },
  // reportMode('tiles' | 'geojson' | 'auto') says how reports are drawn, and reloads them.
  reportMode(m) { reportMode = m; load('reports'); },
};
