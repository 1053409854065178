// The report form: location from a tap on the map or the device, carrier,
// technology, signal or "no signal at all", an optional speed test against
// the server, a note; submissions go through the offline queue.

import { t, fmtNum, fmtDate, onLangChange } from './i18n.js';
import * as queue from './queue.js';
import * as session from './session.js';

const SPEED_BYTES = 2_000_000;

export function initForm(map, { onSent }) {
  const panel = document.getElementById('form-panel');
  const form = document.getElementById('report-form');
  const locOut = document.getElementById('loc-out');
  const msg = document.getElementById('form-msg');
  const list = document.getElementById('queue-list');
  const net = document.getElementById('net-state');
  const note = document.getElementById('queue-note');
  let marker = null, circle = null;

  const open = () => { panel.hidden = false; map.getContainer().classList.add('pick-cursor'); renderQueue(); };
  const close = () => { panel.hidden = true; map.getContainer().classList.remove('pick-cursor'); };

  function setLocation(lat, lon, accuracyM) {
    form.lat.value = lat.toFixed(6);
    form.lon.value = lon.toFixed(6);
    const ll = [lat, lon];
    marker ??= L.marker(ll, { draggable: true }).on('dragend', () => {
      const p = marker.getLatLng();
      setLocation(p.lat, p.lng);
    });
    marker.setLatLng(ll).addTo(map);
    if (circle) { circle.remove(); circle = null; }
    if (accuracyM) circle = L.circle(ll, { radius: accuracyM, color: '#1971c2', weight: 1, fillOpacity: 0.1 }).addTo(map);
    locOut.textContent = `${fmtNum(lat, 5)}, ${fmtNum(lon, 5)}` + (accuracyM ? ` (${t('accuracy', { m: fmtNum(accuracyM) })})` : '');
    clearError('lat'); clearError('lon');
  }

  map.on('click', (e) => { if (!panel.hidden) setLocation(e.latlng.lat, e.latlng.lng); });

  document.getElementById('locate-btn').addEventListener('click', () => {
    if (!navigator.geolocation) { locOut.textContent = t('geo_fail', { e: 'geolocation' }); return; }
    locOut.textContent = t('locating');
    navigator.geolocation.getCurrentPosition((p) => {
      setLocation(p.coords.latitude, p.coords.longitude, p.coords.accuracy);
      map.setView([p.coords.latitude, p.coords.longitude], Math.max(map.getZoom(), 15));
    }, (err) => { locOut.textContent = t('geo_fail', { e: err.message }); }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });

  form.no_service.addEventListener('change', () => {
    form.signal_dbm.disabled = form.no_service.checked;
    if (form.no_service.checked) form.signal_dbm.value = '';
  });

  document.getElementById('speed-btn').addEventListener('click', async (ev) => {
    const out = document.getElementById('speed-out');
    ev.target.disabled = true;
    out.textContent = t('speed_running');
    try {
      const { down, up } = await speedTest();
      form.download_mbps.value = down.toFixed(1);
      form.upload_mbps.value = up.toFixed(1);
      out.textContent = t('speed_done', { d: fmtNum(down, 1), u: fmtNum(up, 1) });
    } catch (e) {
      out.textContent = t('speed_fail', { e: e.message || e });
    } finally {
      ev.target.disabled = false;
    }
  });

  function clearError(field) {
    const el = form.querySelector(`[data-err="${field}"]`);
    if (el) el.textContent = '';
    form.elements[field]?.classList?.remove('invalid');
  }
  function clearErrors() { for (const el of form.querySelectorAll('[data-err]')) clearError(el.dataset.err); }

  // showErrors puts each of the API's field errors next to its input.
  function showErrors(errors) {
    clearErrors();
    for (const { field, reason } of errors ?? []) {
      const el = form.querySelector(`[data-err="${field}"]`) ?? form.querySelector('[data-err="body"]');
      el.textContent = el.textContent ? `${el.textContent}; ${reason}` : (el.dataset.err === field ? reason : `${field}: ${reason}`);
      form.elements[field]?.classList?.add('invalid');
    }
  }

  function body() {
    const num = (el) => (el.value === '' || el.disabled ? undefined : Number(el.value));
    const b = {
      lat: num(form.lat), lon: num(form.lon), observed_at: new Date().toISOString(),
      carrier: form.carrier.value || undefined, tech: form.no_service.checked ? 'none' : form.tech.value,
      signal_dbm: num(form.signal_dbm), download_mbps: num(form.download_mbps), upload_mbps: num(form.upload_mbps),
      no_service: form.no_service.checked, source: form.source.value,
      reporter: form.reporter.value.trim() || undefined, note: form.note.value.trim() || undefined,
    };
    return JSON.parse(JSON.stringify(b)); // drop undefined
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    msg.textContent = '';
    if (form.lat.value === '') {
      showErrors([{ field: 'lat', reason: t('need_location') }]);
      return;
    }
    const item = await queue.enqueue(body());
    await renderQueue();
    const run = await queue.flush(renderQueue);
    await renderQueue();
    const [now] = (await queue.all()).filter((i) => i.key === item.key);
    if (now.status === 'queued' && (run?.needSignIn || now.needSignIn)) {
      msg.textContent = t('saved_signin');
    } else if (now.status === 'sent') {
      msg.textContent = t('sent_ok');
      form.note.value = '';
      onSent?.(now);
    } else if (now.status === 'rejected') {
      msg.textContent = t('rejected');
      showErrors(now.errors);
    } else {
      msg.textContent = t('saved_queued');
    }
  });

  // renderQueue lists this device's reports, and says in the bar when some
  // wait for a sign-in.
  async function renderQueue() {
    net.textContent = navigator.onLine ? t('online') : t('offline');
    let items = [];
    try { items = await queue.all(); } catch { /* IndexedDB unavailable */ }
    const waiting = items.filter((i) => i.status === 'queued');
    const blocked = waiting.length && (!session.can('write') || waiting.some((i) => i.needSignIn));
    note.hidden = !blocked;
    note.textContent = blocked ? t('queue_signin', { n: fmtNum(waiting.length) }) : '';
    list.replaceChildren(...items.slice(-20).reverse().map((i) => {
      const li = document.createElement('li');
      li.className = i.status;
      li.dataset.key = i.key;
      li.dataset.status = i.status;
      const b = i.body;
      li.textContent = `${t(i.status === 'queued' && i.needSignIn ? 'q_signin' : 'q_' + i.status)} · ${fmtDate(i.created, true)} · ${b.carrier ?? '?'} ${b.no_service ? '✕' : (b.signal_dbm ?? '') + ' dBm'}` +
        (i.status === 'rejected' ? ` — ${(i.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join('; ') || i.lastError}` : '');
      return li;
    }));
  }

  async function retry() {
    const before = (await queue.all()).filter((i) => i.status === 'queued').length;
    if (!before) return renderQueue();
    await queue.flush((item) => { renderQueue(); if (item.status === 'sent') onSent?.(item); }).catch(() => {});
    return renderQueue();
  }

  addEventListener('online', retry);
  addEventListener('offline', renderQueue);
  setInterval(() => { if (navigator.onLine) retry(); }, 10000);
  onLangChange(renderQueue);
  retry(); // what an earlier visit left queued

  return { open, close, setLocation, retry, renderQueue };
}

// speedTest downloads then uploads SPEED_BYTES, timing each on the client,
// and returns megabits per second.
export async function speedTest() {
  const mbps = (bytes, ms) => (bytes * 8) / (Math.max(ms, 1) / 1000) / 1e6;
  let t0 = performance.now();
  const res = await fetch(`api/v1/speedtest/download?bytes=${SPEED_BYTES}&r=${Math.random()}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const got = (await res.arrayBuffer()).byteLength;
  const down = mbps(got, performance.now() - t0);
  const payload = new Uint8Array(SPEED_BYTES);
  for (let i = 0; i < payload.length; i += 65536) crypto.getRandomValues(payload.subarray(i, i + 65536));
  t0 = performance.now();
  const up = await session.api('api/v1/speedtest/upload', { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: payload });
  if (!up.ok) throw new Error(`HTTP ${up.status}`);
  await up.json();
  // Both are capped at what the API accepts (10 000 Mbps) for loopback tests.
  return { down: Math.min(down, 10000), up: Math.min(mbps(SPEED_BYTES, performance.now() - t0), 10000) };
}
