// The offline queue of reports, kept in IndexedDB. Every report is stored
// before it is sent, with an Idempotency-Key chosen once, so a retry after
// a lost reply never stores it twice on the server. Sending needs a
// session that may write reports: the queue asks the server for the
// current session before each run and keeps every report it cannot send
// for want of one, until someone signs in.

import * as session from './session.js';

const DB = 'gapmap', STORE = 'reports';
let dbp;

function db() {
  dbp ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbp;
}

async function tx(mode, f) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const out = f(t.objectStore(STORE));
    t.oncomplete = () => resolve(out?.result);
    t.onerror = () => reject(t.error);
  });
}

// uuid is crypto.randomUUID where the page is a secure context, and the
// same v4 format from getRandomValues where it is not (plain http on a LAN).
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const put = (item) => tx('readwrite', (s) => s.put(item));
export const all = async () => (await tx('readonly', (s) => s.getAll())).sort((a, b) => a.created.localeCompare(b.created));

// enqueue stores a new report body and returns its queue item.
export async function enqueue(body) {
  const key = uuid();
  const item = { key, body: { ...body, id: 'web-' + key }, status: 'queued', created: new Date().toISOString(), attempts: 0 };
  await put(item);
  return item;
}

let sending = null;

// flush sends every queued item once, in order. Concurrent calls share one
// run, so an `online` event and a timer never send the same item twice at
// the same time. onItem is called after each item changes. It resolves to
// {needSignIn: true} when items wait for a sign-in.
export function flush(onItem = () => {}) {
  sending ??= (async () => {
    try {
      const items = (await all()).filter((i) => i.status === 'queued');
      if (!items.length) return {};
      await session.refresh(); // offline: what we knew; the POST will fail and wait
      if (!session.can('write')) return { needSignIn: true };
      for (const item of items) {
        const auth = await sendOne(item);
        await put(item);
        onItem(item);
        if (auth) return { needSignIn: true };
        if (item.status === 'queued') break; // still offline: try the rest later
      }
      return {};
    } finally {
      sending = null;
    }
  })();
  return sending;
}

// waiting is the number of reports not sent yet.
export const waiting = async () => (await all()).filter((i) => i.status === 'queued').length;

// sendOne tries to send item and updates it; it returns true when the
// server wants a (different) sign-in, which leaves the item queued.
async function sendOne(item) {
  item.attempts++;
  let res;
  try {
    res = await session.api('api/v1/reports', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': item.key },
      body: JSON.stringify(item.body),
    });
  } catch (e) {
    item.lastError = String(e.message || e);
    return; // network: stays queued
  }
  if (res.status === 401 || res.status === 403 && await notScope(res)) {
    // Not signed in, a role that may not write, or a stale CSRF token:
    // the report is fine, the session is not. Never drop it for that.
    item.lastError = `HTTP ${res.status}`;
    item.needSignIn = true;
    return true;
  }
  delete item.needSignIn;
  if (res.ok) {
    item.status = 'sent';
    item.sentAt = new Date().toISOString();
    item.errors = [];
    return;
  }
  // 4xx other than timeouts and rate limits will not get better by
  // retrying: keep the item with the server's field errors.
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    item.status = 'rejected';
    try {
      const p = await res.json();
      item.errors = p.errors ?? [];
      item.lastError = p.detail ?? res.statusText;
    } catch {
      item.errors = [];
      item.lastError = res.statusText;
    }
    return;
  }
  item.lastError = `HTTP ${res.status}`;
}

// notScope reports whether a 403 is about who is signed in (role or CSRF
// token) rather than the report's place being outside the user's scope,
// which the server says with field errors on lat and lon.
async function notScope(res) {
  const p = await res.clone().json().catch(() => ({}));
  return !(p.errors ?? []).some((e) => e.field === 'lat' || e.field === 'lon');
}
