// Keyward's service worker. This file is a template: tools/sw-build.sh (a trunk post_build
// hook) fills in the build id and the list of files, so every build gets its own cache and a
// stale file is never served with a new one.
//
// Everything the app needs is precached at install; afterwards the app opens from the cache
// with no network at all. A new version installs in the background and waits: the app offers
// "new version — reload" and only then sends "skip-waiting".

const BUILD = "__BUILD_ID__";
const CACHE = `keyward-${BUILD}`;
const PRECACHE = __PRECACHE__;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("keyward-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  // The sync API (a later version) always goes to the network.
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // Every screen is the same app shell; the router inside picks the screen.
    event.respondWith(
      caches.match("/index.html", { cacheName: CACHE }).then((hit) => hit || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches
      .match(request, { cacheName: CACHE, ignoreSearch: true })
      .then((hit) => hit || fetch(request)),
  );
});
