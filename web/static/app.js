// The map page: areas choropleth, coverage holes, clustered reports and
// teams from the API, filtered by carrier, technology and dates, with the
// view and filters kept in the URL hash.

import { t, apply, setLang, getLang, onLangChange, fmtNum, fmtPct, fmtDate, fmtMonth, fold } from './i18n.js';
import { initForm } from './form.js';

const API = 'api/v1/';
const CARRIERS = ['viettel', 'vinaphone', 'mobifone', 'vietnamobile'];
const CARRIER_LABEL = { viettel: 'Viettel', vinaphone: 'VinaPhone', mobifone: 'MobiFone', vietnamobile: 'Vietnamobile' };
// Holes by carrier; dead zones (no carrier at all) are black and hatched.
const CARRIER_COLOR = { viettel: '#d7191c', vinaphone: '#2c7bb6', mobifone: '#1a9641', vietnamobile: '#f08c00', all: '#111' };
const ACTION_COLOR = { ok: '#c7e9c0', team: '#9e9ac8', carrier: '#fd8d3c', both: '#a50f15' };
const RAMP = ['#fff5eb', '#fdd0a2', '#fdae6b', '#f16913', '#d94801', '#7f2704'];
const RAMP_REACH = ['#f7fbff', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
const REPORTS_LIMIT = 5000;
const DEFAULT_VIEW = { z: 11, lat: 10.6, lon: 106.3 };

const $ = (id) => document.getElementById(id);
const state = { view: null, carrier: '', tech: '', from: '', to: '', metric: 'dead_share', report: false };
const layerCounts = { areas: 0, holes: 0, reports: 0, teams: 0 };
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
const v = state.view ?? DEFAULT_VIEW;
map.setView([v.lat, v.lon], v.z);
L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
  maxZoom: 19,
  attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
}).addTo(map);
L.control.scale({ imperial: false }).addTo(map);
const canvas = L.canvas({ padding: 0.3 });

// formTap places the report where a feature was tapped while the form is
// open, instead of opening the feature; it says whether it did.
function formTap(e) {
  if ($('form-panel').hidden) return false;
  L.DomEvent.stop(e);
  form.setLocation(e.latlng.lat, e.latlng.lng);
  return true;
}

const areasLayer = L.geoJSON(null, { style: areaStyle, onEachFeature: (f, l) => l.on('click', (e) => formTap(e) || showArea(f.properties.code)) });
const holesLayer = L.geoJSON(null, {
  style: (f) => {
    const c = CARRIER_COLOR[f.properties.carrier] ?? '#555';
    const dead = f.properties.carrier === 'all';
    return { color: c, weight: dead ? 3 : 1.5, dashArray: dead ? '6 4' : null, fillColor: c, fillOpacity: dead ? 0.55 : 0.3 };
  },
  onEachFeature: (f, l) => l.on('click', (e) => { if (!formTap(e)) { L.DomEvent.stop(e); showHole(f.properties); } }),
});
const reportsLayer = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50, disableClusteringAtZoom: 17 });
reportsLayer.on('clusterclick', formTap);
const teamsLayer = L.layerGroup();
const layers = { areas: areasLayer, holes: holesLayer, reports: reportsLayer, teams: teamsLayer };

for (const name of Object.keys(layers)) {
  const box = $('l-' + name);
  if (box.checked) layers[name].addTo(map);
  box.addEventListener('change', () => {
    if (box.checked) { layers[name].addTo(map); load(name); } else layers[name].remove();
    holesLayer.bringToFront?.();
  });
}

// ---- loading

const inflight = {};
let pending = 0;

function layerURL(name) {
  const b = map.getBounds();
  const p = new URLSearchParams();
  p.set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(5)).join(','));
  if (name !== 'teams') {
    if (state.carrier) p.set('carrier', state.carrier);
    if (state.tech) p.set('tech', state.tech);
    if (state.from) p.set('from', `${state.from}T00:00:00+07:00`);
    if (state.to) p.set('to', `${state.to}T23:59:59+07:00`);
  }
  if (name === 'reports') p.set('limit', REPORTS_LIMIT);
  // Outlines simplified to about a pixel at this zoom keep a whole-province
  // view small.
  if (name === 'areas' || name === 'holes') p.set('zoom', Math.round(map.getZoom()));
  return `${API}layers/${name}?${p}`;
}

async function load(name) {
  if (!map.hasLayer(layers[name])) return;
  inflight[name]?.abort();
  const ac = new AbortController();
  inflight[name] = ac;
  const url = layerURL(name);
  lastUrls[name] = url;
  pending++;
  status();
  try {
    const res = await fetch(url, { signal: ac.signal });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
    const fc = await res.json();
    if (ac.signal.aborted) return;
    draw(name, fc.features);
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
  if (name === 'areas' || name === 'holes') {
    layer.addData(features);
    if (name === 'areas') holesLayer.bringToFront?.();
  } else if (name === 'reports') {
    const ms = features.map((f) => {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      const c = p.no_service ? '#000' : p.weak ? '#e03131' : '#2f9e44';
      return L.circleMarker([lat, lon], { renderer: canvas, radius: 5, color: '#fff', weight: 1, fillColor: c, fillOpacity: 0.9 })
        .on('click', formTap).bindPopup(() => reportPopup(p));
    });
    layer.addLayers(ms);
  } else if (name === 'teams') {
    for (const f of features) {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lon], { radius: 4 + 2 * Math.sqrt(p.members || 1), color: '#5f3dc4', weight: 2, fillColor: '#9775fa', fillOpacity: 0.6 })
        .on('click', formTap)
        .bindPopup(() => `<b>${esc(p.name)}</b><br>${t('members_n', { n: fmtNum(p.members) })}<br>${t('reached')}: ${fmtNum(p.households_reached)}`)
        .addTo(layer);
    }
  }
  layerCounts[name] = features.length;
  shown[name] = features.map((f) => f.properties);
}
const shown = {};

function reportPopup(p) {
  return `<b>${esc(CARRIER_LABEL[p.carrier] ?? p.carrier)}</b> ${esc(p.tech || '')}<br>` +
    (p.no_service ? t('tech_none') : `${fmtNum(p.signal_dbm)} dBm`) +
    (p.download_mbps != null ? `<br>${t('down')}: ${fmtNum(p.download_mbps, 1)} Mbps` : '') +
    `<br>${t('observed')}: ${fmtDate(p.observed_at, true)}`;
}

function loadAll() { for (const n of Object.keys(layers)) load(n); }

function status() {
  const s = Object.entries(errors).map(([l, e]) => t('load_fail', { l, e })).join('; ');
  $('status').textContent = s || (pending ? t('loading') :
    t('ready', { a: fmtNum(layerCounts.areas), h: fmtNum(layerCounts.holes), r: fmtNum(layerCounts.reports), t: fmtNum(layerCounts.teams) }));
  document.body.dataset.loading = pending ? '1' : '';
}

let debounce;
map.on('moveend', () => {
  writeHash();
  clearTimeout(debounce);
  debounce = setTimeout(loadAll, 250);
});

// ---- choropleth

function metricValue(p) {
  if (state.metric === 'reached_share') return p.reached_share;
  return p[state.metric];
}

function rampColor(v, ramp) {
  if (v == null || Number.isNaN(v)) return '#ccc';
  const i = Math.min(ramp.length - 1, Math.floor(Math.sqrt(Math.max(0, Math.min(1, v))) * ramp.length));
  return ramp[i];
}

function areaStyle(f) {
  const p = f.properties;
  const fill = state.metric === 'action' ? (ACTION_COLOR[p.action] ?? '#ccc')
    : rampColor(metricValue(p), state.metric === 'reached_share' ? RAMP_REACH : RAMP);
  return { color: '#334', weight: 1, fillColor: fill, fillOpacity: 0.55 };
}

function legend() {
  const rows = [];
  const sw = (c, label) => `<div><i style="background:${c}"></i>${label}</div>`;
  if (state.metric === 'action') {
    for (const [k, c] of Object.entries(ACTION_COLOR)) rows.push(sw(c, t('a_' + k)));
  } else {
    const ramp = state.metric === 'reached_share' ? RAMP_REACH : RAMP;
    ramp.forEach((c, i) => {
      const lo = (i / ramp.length) ** 2, hi = ((i + 1) / ramp.length) ** 2;
      rows.push(sw(c, `${fmtPct(lo)}–${fmtPct(hi)}`));
    });
    rows.push(sw('#ccc', t('no_data')));
  }
  rows.push(`<div style="margin-top:.3rem"><b>${t('l_holes')}</b></div>`);
  for (const c of CARRIERS) rows.push(sw(CARRIER_COLOR[c], CARRIER_LABEL[c]));
  rows.push(sw(CARRIER_COLOR.all, t('all_carriers')));
  $('legend').innerHTML = rows.join('');
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
  if (before !== JSON.stringify({ ...state, view: null })) { areasLayer.setStyle(areaStyle); legend(); loadAll(); }
  state.report ? form.open() : form.close();
});

// ---- downloads

function downloads() {
  const fmts = [['csv', 'CSV'], ['geojson', 'GeoJSON'], ['kml', 'KML']];
  $('downloads').innerHTML = [...CARRIERS, 'all'].map((c) =>
    `<tr><td>${c === 'all' ? t('all_carriers') : CARRIER_LABEL[c]}</td>` +
    fmts.map(([f, label]) => `<td><a href="${API}gaps?carrier=${c}&amp;format=${f}" download="gaps-${c}.${f}" data-carrier="${c}" data-format="${f}">${label}</a></td>`).join('') +
    '</tr>').join('');
}

// ---- side panel: an area or a hole

const panel = $('panel'), panelBody = $('panel-body');
$('panel-close').addEventListener('click', () => { panel.hidden = true; });

async function showArea(code) {
  if (!$('form-panel').hidden) return; // taps place the report while the form is open
  panel.hidden = false;
  panelBody.innerHTML = `<p>${t('loading')}</p>`;
  const res = await fetch(`${API}areas/${encodeURIComponent(code)}`);
  if (!res.ok) { panelBody.textContent = `HTTP ${res.status}`; return; }
  const a = await res.json();
  const tr = a.team_reach ?? {};
  const act = a.action ?? 'ok';
  panelBody.innerHTML = `
    <h2 data-code="${esc(a.code)}">${esc(a.name)}</h2>
    <p class="muted">${esc(a.code)} · ${t('rank')} ${fmtNum(a.rank)} · ${t('households')} ${fmtNum(a.households)} · ${t('population')} ${fmtNum(a.population)}</p>
    <p>${t('action')}: <span class="badge" style="background:${ACTION_COLOR[act] ?? '#888'};color:#000">${t('a_' + act)}</span>
       · ${t('dead_share')}: ${fmtPct(a.dead_share)} · ${t('hole_share')}: ${fmtPct(a.hole_share)}</p>
    <table><thead><tr><th>${t('carrier')}</th><th>${t('reports')}</th><th>${t('weak_share')}</th><th>${t('median')}</th><th>${t('hole_share')}</th></tr></thead><tbody>
    ${(a.carriers ?? []).map((c) => `<tr><td><i style="display:inline-block;width:8px;height:8px;background:${CARRIER_COLOR[c.carrier]}"></i> ${CARRIER_LABEL[c.carrier] ?? esc(c.carrier)}</td>
      <td>${fmtNum(c.reports)}</td><td>${fmtPct(c.weak_share)}</td><td>${fmtNum(c.median_signal_dbm, 1)}</td><td>${fmtPct(c.hole_share)}</td></tr>`).join('')}
    <tr><th>Σ</th><th>${fmtNum(a.reports)}</th><th>${fmtPct(a.weak_share)}</th><th></th><th>${fmtPct(a.hole_share)}</th></tr>
    </tbody></table>
    <h3 style="font-size:.9rem">${t('team_reach')}</h3>
    <p>${t('teams')}: ${fmtNum(tr.teams)} · ${t('members')}: ${fmtNum(tr.members)} · ${t('reached')}: ${fmtNum(tr.households_reached)} (${fmtPct(tr.reached_share)})
       · ${t('nearest')}: ${fmtNum(tr.nearest_team_km, 1)}</p>
    <h3 style="font-size:.9rem">${t('monthly')}</h3>
    ${trendChart(a.monthly ?? [])}`;
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

function showHole(p) {
  if (!$('form-panel').hidden) return;
  panel.hidden = false;
  const who = p.carrier === 'all' ? t('all_carriers') : CARRIER_LABEL[p.carrier] ?? p.carrier;
  panelBody.innerHTML = `
    <h2 data-hole="${esc(p.id)}">${t('hole')}: ${esc(who)}</h2>
    <p class="muted">#${fmtNum(p.rank)} · ${t('severity')} ${fmtPct(p.severity)}</p>
    <table><tbody>
      <tr><td>${t('reports')}</td><td>${fmtNum(p.reports)}</td></tr>
      <tr><td>${t('weak')}</td><td>${fmtNum(p.weak_reports)} (${fmtPct(p.weak_share)})</td></tr>
      <tr><td>${t('reporters')}</td><td>${fmtNum(p.reporters)}</td></tr>
      <tr><td>${t('first_seen')}</td><td>${fmtDate(p.first_observed)}</td></tr>
      <tr><td>${t('last_seen')}</td><td>${fmtDate(p.last_observed)}</td></tr>
      <tr><td>${t('median')}</td><td>${fmtNum(p.median_signal_dbm, 1)}</td></tr>
      <tr><td>${t('area_km2')}</td><td>${fmtNum(p.area_km2, 2)}</td></tr>
      <tr><td>${t('hh_affected')}</td><td>${fmtNum(p.households_affected)}</td></tr>
    </tbody></table>
    <p>${t('areas_in')}: ${(p.area_names ?? []).map(esc).join(', ')}</p>`;
}

// ---- search by name, without diacritics

let index = null;
async function searchIndex() {
  index ??= fetch(`${API}layers/areas`).then((r) => r.json()).then((fc) => fc.features.map((f) => {
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
    li.innerHTML = `${esc(a.name)} <small>${esc(a.parent)}</small>`;
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
onLangChange(() => { $('lang-btn').textContent = t('lang'); legend(); downloads(); status(); });
$('menu-btn').addEventListener('click', () => {
  const open = document.body.classList.toggle('side-open');
  $('menu-btn').setAttribute('aria-expanded', open);
});

const form = initForm(map, { onSent: () => setTimeout(() => load('reports'), 1500) });
$('report-btn').addEventListener('click', () => { state.report = true; writeHash(); form.open(); });
$('form-close').addEventListener('click', () => { state.report = false; writeHash(); form.close(); });

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

apply();
$('lang-btn').textContent = t('lang');
syncInputs();
legend();
downloads();
writeHash();
if (state.report) form.open();
loadAll();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker', e));
}

// For the browser tests and for poking at the page from the console.
window.gapmap = { map, state, layerCounts, lastUrls, shown, form, loadAll, load, fold, get pending() { return pending; } };
