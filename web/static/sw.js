// The service worker keeps the page shell (HTML, JS, CSS, Leaflet) so the
// form opens where there is no signal. Network first, so a new page shows
// as soon as it is reachable; the API is never cached here (reports go
// through the IndexedDB queue instead), nor are the tiles.
const CACHE = 'gapmap-shell-v3';
const SHELL = [
  './', 'index.html', 'app.js', 'form.js', 'queue.js', 'session.js', 'i18n.js', 'mvt.js', 'style.css',
  'vendor/leaflet.js', 'vendor/leaflet.css', 'vendor/leaflet.markercluster.js',
  'vendor/MarkerCluster.css', 'vendor/MarkerCluster.Default.css',
  'vendor/images/marker-icon.png', 'vendor/images/marker-icon-2x.png', 'vendor/images/marker-shadow.png',
];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin) return;
  const scope = new URL(self.registration.scope).pathname;
  const path = url.pathname.slice(scope.length - 1);
  if (path.startsWith('/api/') || path.startsWith('/ogc') || path.startsWith('/tiles/') || path === '/metrics' || path === '/healthz') return;
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return res;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })
    .then((hit) => hit ?? (e.request.mode === 'navigate' ? caches.match('index.html') : Response.error()))));
});
