// Who is signed in, and the one fetch wrapper of the page: it sends the
// session's CSRF token with every state-changing request, and notices a
// session that ended on the server.

const API = 'api/v1/';
const CACHE_KEY = 'gapmap.user'; // the last known user, for an offline start
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// The roles' capabilities, as the API grants them (api/principal.go).
const CAN = {
  reports: ['admin', 'reviewer', 'staff'], // the raw reports layer and GET /reports/{id}
  write: ['admin', 'staff'], // POST /reports
  review: ['admin', 'reviewer'], // PUT /reports/{id}/review
  gaps: ['admin', 'reviewer', 'carrier'], // GET /gaps (a carrier: its own)
  reporters: ['admin', 'reviewer'],
  tasks: ['admin', 'staff'], // GET /tasks: the teams' measurement tasks and activity
};

let current = { user: cached(), csrf: '' };
const listeners = [];

function cached() {
  try { return JSON.parse(localStorage.getItem(CACHE_KEY) || 'null'); } catch { return null; }
}

function set(user, csrf) {
  const before = JSON.stringify(current.user);
  current = { user: user ?? null, csrf: csrf ?? '' };
  try {
    if (current.user) localStorage.setItem(CACHE_KEY, JSON.stringify(current.user));
    else localStorage.removeItem(CACHE_KEY);
  } catch { /* private mode */ }
  if (JSON.stringify(current.user) !== before) for (const f of listeners) f(current.user);
}

// user is the signed-in user ({name, role, scope, carrier}) or null.
export function user() { return current.user; }

// can reports whether the signed-in user may do what (a key of CAN).
export function can(what) { return !!current.user && CAN[what].includes(current.user.role); }

// onChange calls f(user) after every sign-in, sign-out or session end.
export function onChange(f) { listeners.push(f); }

// refresh asks the server who we are. Offline, it keeps what it knew (or
// what the last visit knew), so the form still opens without a signal;
// it returns false then.
export async function refresh() {
  let res;
  try {
    res = await fetch(API + 'session', { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return false;
  }
  if (!res.ok) return false;
  const s = await res.json().catch(() => null);
  if (!s) return false;
  set(s.user, s.csrf);
  return true;
}

// api is fetch for the page's API calls: with X-CSRF-Token on unsafe
// methods while signed in. A 403 for a stale token is retried once with
// the session's current token; a 401 means the session ended.
export async function api(url, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const send = () => {
    const headers = new Headers(opts.headers);
    if (UNSAFE.has(method) && current.csrf) headers.set('X-CSRF-Token', current.csrf);
    return fetch(url, { ...opts, method, headers, credentials: 'same-origin' });
  };
  let res = await send();
  if (res.status === 403 && UNSAFE.has(method) && await isCSRFProblem(res)) {
    const before = current.csrf;
    if (await refresh() && current.csrf && current.csrf !== before) res = await send();
  } else if (res.status === 401 && current.user) {
    await refresh();
  }
  return res;
}

// isCSRFProblem reports whether a 403 is about the CSRF token rather than
// the role or scope.
export async function isCSRFProblem(res) {
  const p = await res.clone().json().catch(() => ({}));
  return (p.errors ?? []).some((e) => e.field === 'X-CSRF-Token');
}

// signIn returns {ok: true} or {ok: false, status, detail}.
export async function signIn(name, password) {
  let res;
  try {
    res = await fetch(API + 'session', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
  } catch (e) {
    return { ok: false, status: 0, detail: String(e.message || e) };
  }
  const s = await res.json().catch(() => ({}));
  if (!res.ok) return { ok: false, status: res.status, detail: s.detail ?? res.statusText };
  set(s.user, s.csrf);
  return { ok: true };
}

export async function signOut() {
  try {
    await api(API + 'session', { method: 'DELETE' });
  } catch { /* offline: the server ends the session when it expires */ }
  set(null, '');
}
