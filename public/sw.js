// Flightdeck's service worker.
// Network first for every same-origin GET, so a new deployment of Flightdeck is picked up at once
// and the page, its JS and its WASM always match. What the network served is kept, so when the
// network is gone the last known pages and the app shell still open; a page never visited falls
// back to /offline.html. API calls, server functions and the websocket are never cached.
// Each page has its own WASM bundle (its island), kept here once the page has been opened; none
// is fetched ahead, so installing the worker costs no page's code. Bundles are named by their
// content hash (flightdeck-AlertFeed.<hash>.wasm): keeping a new one drops the older builds'
// copies of it, so the cache holds one version of each page whatever the number of upgrades.
const CACHE = "flightdeck-v4";
const SHELL = [
  "/offline.html",
  "/offline.js",
  "/pkg/flightdeck.css",
  "/icons/icon-192.png",
  "/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

const HASHED = /^(\/pkg\/[^/]+)\.[0-9a-f]{16}(\.(?:js|wasm|css))$/;

async function keep(request, response) {
  const cache = await caches.open(CACHE);
  const fresh = new URL(request.url).pathname.match(HASHED);
  if (fresh) {
    for (const old of await cache.keys()) {
      const m = new URL(old.url).pathname.match(HASHED);
      if (m && m[1] === fresh[1] && m[2] === fresh[2] && old.url !== request.url) await cache.delete(old);
    }
  }
  await cache.put(request, response);
}

function cacheable(request) {
  const url = new URL(request.url);
  return (
    request.method === "GET" &&
    url.origin === self.location.origin &&
    !url.pathname.startsWith("/api/") &&
    url.pathname !== "/ws" &&
    url.pathname !== "/metrics"
  );
}

// Signing out forgets every page kept for this user: another person on the same tablet must not
// open them offline. The request itself goes on to the server untouched.
async function forgetPages() {
  await caches.delete(CACHE);
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === "POST" && url.origin === self.location.origin && url.pathname === "/api/sign_out") {
    event.waitUntil(forgetPages());
    return;
  }
  if (!cacheable(request)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && !response.redirected && response.type === "basic") {
          event.waitUntil(keep(request, response.clone()));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(request);
        if (cached) return cached;
        if (request.mode === "navigate") return caches.match("/offline.html");
        return Response.error();
      }),
  );
});
