// Web page budget, measured in chromium with the browser's performance timeline:
// first-load transfer size, time to interactive, and frame times while scrolling
// a large result list. Run by bench/web.sh (SM_URL, SM_USER, SM_PASS).
'use strict';
const { launch } = require('./lib');

const URL0 = process.env.SM_URL;
const USER = process.env.SM_USER;
const PASS = process.env.SM_PASS;
const ROWS = +(process.env.SM_BENCH_SCROLL_ROWS || 100000);
const RUNS = +(process.env.SM_BENCH_RUNS || 5);

const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] : NaN; };
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a');

(async () => {
  const { context, close } = await launch();
  const page = context.pages()[0] || (await context.newPage());
  const out = {};

  // 1. Cold first load (empty cache, login view): transfer size and readiness.
  const cold = [];
  for (let r = 0; r < RUNS; r++) {
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await p.goto(URL0 + '/', { waitUntil: 'load' });
    await p.waitForFunction(() => document.documentElement.dataset.ready === '1');
    cold.push(await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const ready = performance.getEntriesByName('sm-ready')[0];
      return {
        bytes: nav.transferSize + res.reduce((s, e) => s + (e.transferSize || 0), 0),
        body: nav.encodedBodySize + res.reduce((s, e) => s + (e.encodedBodySize || 0), 0),
        files: 1 + res.length, ready: ready ? ready.startTime : NaN, dcl: nav.domContentLoadedEventEnd,
      };
    }));
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await p.close();
  }
  out.cold = cold;

  // Sign in once through the form (registers the service worker, keeps the token).
  await page.goto(URL0 + '/');
  await page.fill('#login-user', USER);
  await page.fill('#login-pass', PASS);
  await page.click('#login-submit');
  await page.waitForSelector('#results .row[data-id]:not([data-id=""])');
  const token = await page.evaluate(() => sessionStorage.getItem('sm_token'));

  // 2. Signed-in load with a warm cache: page + first results page, until the
  // list shows rows (mark "sm-ready"), and what it transferred before audio.
  const warm = [];
  for (let r = 0; r < RUNS; r++) {
    const p = await context.newPage();
    await p.addInitScript((t) => { sessionStorage.setItem('sm_token', t); sessionStorage.setItem('sm_user', 'bench'); }, token);
    await p.goto(URL0 + '/', { waitUntil: 'load' });
    await p.waitForFunction(() => document.documentElement.dataset.ready === '1');
    await p.waitForTimeout(600); // the visible rows' waveforms
    warm.push(await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const sum = (f) => res.filter(f).reduce((s, e) => s + (e.transferSize || 0), 0);
      return {
        ready: performance.getEntriesByName('sm-ready')[0].startTime,
        page: nav.transferSize + sum((e) => !e.name.includes('/api/')),
        search: sum((e) => e.name.includes('/api/v1/audio/files?')),
        waves: sum((e) => e.name.includes('/waveform')),
        other: sum((e) => e.name.includes('/api/') && !e.name.includes('/api/v1/audio/files?') && !e.name.includes('/waveform')),
      };
    }));
    await p.close();
  }
  out.warm = warm;

  // 3. Scrolling. Load pages by scrolling down (cursor pagination, 1000 rows a
  // page) until ROWS rows are in the list, timing each frame with rAF and
  // collecting long animation frames from the performance timeline.
  await page.bringToFront();
  const load = await page.evaluate(async (want) => {
    const list = document.getElementById('results');
    const t0 = performance.now();
    const frames = [];
    let last = performance.now();
    const longs = [];
    const po = new PerformanceObserver((l) => { for (const e of l.getEntries()) longs.push(e.duration); });
    try { po.observe({ type: 'long-animation-frame', buffered: false }); } catch (_) { po.observe({ type: 'longtask', buffered: false }); }
    const count = () => document.querySelectorAll('#results .row').length && (list.scrollHeight / 40);
    while (count() < want && performance.now() - t0 < 240000) {
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      list.scrollTop = list.scrollHeight; // fling to the end: the next page loads
      if (!document.getElementById('count').textContent.includes('+')) break; // last page
    }
    po.disconnect();
    return { rows: Math.round(list.scrollHeight / 40), ms: performance.now() - t0, frames, longs };
  }, ROWS);
  out.load = { rows: load.rows, ms: load.ms, p50: pct(load.frames, 50), p95: pct(load.frames, 95), max: Math.max(...load.frames), longs: load.longs.length };

  const scroll = async (pxPerFrame, frames, mode) => page.evaluate(async ([v, n, mode]) => {
    const list = document.getElementById('results');
    list.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const dts = [];
    const longs = [];
    const po = new PerformanceObserver((l) => { for (const e of l.getEntries()) longs.push(e.duration); });
    try { po.observe({ type: 'long-animation-frame', buffered: false }); } catch (_) { po.observe({ type: 'longtask', buffered: false }); }
    let last = performance.now();
    const max = list.scrollHeight - list.clientHeight;
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    for (let k = 0; k < n; k++) {
      if (mode === 'jump') list.scrollTop = Math.floor(rnd() * max);
      else list.scrollTop = Math.min(max, list.scrollTop + v);
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      dts.push(now - last);
      last = now;
    }
    po.disconnect();
    const rowsSeen = document.querySelectorAll('#results .row').length;
    return { dts, longs, rowsSeen, top: list.scrollTop };
  }, [pxPerFrame, frames, mode]);

  // Main-thread work per frame from the DevTools Performance domain: script,
  // style, layout and all tasks (the rest of a frame is raster/compositing or
  // waiting for a CPU).
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const measured = async (fn) => {
    const a = await metrics();
    const r = await fn();
    const b = await metrics();
    const per = (k) => (b[k] - a[k]) * 1000 / r.dts.length;
    r.main = { script: per('ScriptDuration'), style: per('RecalcStyleDuration'), layout: per('LayoutDuration'), task: per('TaskDuration') };
    return r;
  };
  const summarise = (r) => ({
    main: r.main,
    frames: r.dts.length, p50: pct(r.dts, 50), p95: pct(r.dts, 95), p99: pct(r.dts, 99), max: Math.max(...r.dts),
    over: r.dts.filter((d) => d > 1000 / 60 * 1.5).length, longs: r.longs.length, fps: 1000 / (r.dts.reduce((a, b) => a + b, 0) / r.dts.length),
  });
  out.scrollSmooth = summarise(await measured(() => scroll(400, 600, 'smooth')));   // 10 rows a frame, 600 rows/s
  out.scrollFast = summarise(await measured(() => scroll(4000, 600, 'smooth')));    // 100 rows a frame
  out.scrollJump = summarise(await measured(() => scroll(0, 300, 'jump')));         // random jumps over all rows
  await close();

  const c = out.cold;
  console.log('first load, cold cache, login view (' + RUNS + ' runs):');
  console.log(`  transferred ${(pct(c.map((x) => x.bytes), 50) / 1024).toFixed(1)} KB in ${c[0].files} files (bodies ${(c[0].body / 1024).toFixed(1)} KB); ready p50 ${f1(pct(c.map((x) => x.ready), 50))} ms, max ${f1(Math.max(...c.map((x) => x.ready)))} ms`);
  const w = out.warm;
  console.log('signed-in load, warm cache, until the first rows show (' + RUNS + ' runs):');
  console.log(`  ready p50 ${f1(pct(w.map((x) => x.ready), 50))} ms, max ${f1(Math.max(...w.map((x) => x.ready)))} ms; transferred: page ${(w[0].page / 1024).toFixed(1)} KB (revalidation), first results page ${(w[0].search / 1024).toFixed(1)} KB, visible waveforms ${(w[0].waves / 1024).toFixed(1)} KB, other API ${(w[0].other / 1024).toFixed(1)} KB`);
  const l = out.load;
  console.log(`loading ${l.rows} rows by scrolling (cursor pages of 1000): ${f1(l.ms)} ms; frame p50 ${f1(l.p50)} ms, p95 ${f1(l.p95)} ms, max ${f1(l.max)} ms, long frames ${l.longs}`);
  for (const [name, s] of [['smooth scroll, 10 rows/frame', out.scrollSmooth], ['fast scroll, 100 rows/frame', out.scrollFast], ['random jumps over all rows', out.scrollJump]]) {
    console.log(`${name}: ${s.frames} frames, ${f1(s.fps)} fps; frame p50 ${f1(s.p50)} ms, p95 ${f1(s.p95)} ms, p99 ${f1(s.p99)} ms, max ${f1(s.max)} ms; frames > 25 ms: ${s.over}; long animation frames: ${s.longs}; main thread per frame: script ${f1(s.main.script)} ms, style ${f1(s.main.style)} ms, layout ${f1(s.main.layout)} ms, all tasks ${f1(s.main.task)} ms`);
  }
  console.log('JSON ' + JSON.stringify({ cold: out.cold, warm: out.warm, load: out.load, smooth: out.scrollSmooth, fast: out.scrollFast, jump: out.scrollJump }));
})().catch((e) => { console.error(e); process.exit(1); });
