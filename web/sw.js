/* SampleMind service worker: adds the session's bearer token to the audio
 * requests of the page's <audio> element (media elements cannot send an
 * Authorization header), keeping the browser's own Range requests intact. It
 * caches nothing and touches no other request. The token lives only in memory;
 * after a restart the worker asks the page for it again. */
'use strict';
let token = null;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('message', (e) => {
  if (e.data && e.data.type === 'token') token = e.data.token || null;
});

const AUDIO = /^\/api\/v1\/audio\/files\/\d+\/audio$/;

async function askToken(clientId) {
  const list = [];
  if (clientId) {
    const c = await self.clients.get(clientId);
    if (c) list.push(c);
  }
  if (!list.length) list.push(...(await self.clients.matchAll({ type: 'window' })));
  for (const c of list) {
    const t = await new Promise((resolve) => {
      const ch = new MessageChannel();
      const timer = setTimeout(() => resolve(null), 1000);
      ch.port1.onmessage = (m) => { clearTimeout(timer); resolve(m.data && m.data.token); };
      c.postMessage({ type: 'need-token' }, [ch.port2]);
    });
    if (t) return t;
  }
  return null;
}

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== self.location.origin || e.request.method !== 'GET' || !AUDIO.test(url.pathname)) return;
  if (e.request.headers.has('Authorization')) return;
  e.respondWith((async () => {
    if (!token) token = await askToken(e.clientId || e.resultingClientId);
    const headers = new Headers(e.request.headers);
    if (token) headers.set('Authorization', 'Bearer ' + token);
    return fetch(url.href, { method: 'GET', headers, credentials: 'omit', cache: 'no-store' });
  })());
});
