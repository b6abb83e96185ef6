// The workspace's service worker (scope /app/): keeps the app shell so the
// pages open with no network at all. Network first, the cached copy when
// the network fails; the API (/api/) is never touched here — hazards
// captured offline wait in the page's IndexedDB outbox, not in this cache.

const CACHE = "ht-shell-v2";
const SHELL = [
  "/app/",
  "/app/assets/workspace.js",
  "/app/assets/terms.json",
  "/app/assets/app.css",
  "/app/assets/icon.svg",
  "/app/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const shell = url.pathname;
  if (!SHELL.includes(shell)) return;
  event.respondWith(
    fetch(event.request)
      .then((reply) => {
        if (reply.ok) {
          const copy = reply.clone();
          caches.open(CACHE).then((cache) => cache.put(shell, copy));
        }
        return reply;
      })
      .catch(() => caches.match(shell)),
  );
});
