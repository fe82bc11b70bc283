/* SampleMind web page. Plain JavaScript, no framework; talks only to /api/v1.
 * Sections: API + errors, session, query text <-> controls, results list
 * (virtual scrolling over cursor pages), waveforms, player, detail panel, AI,
 * analyze-a-file, admin. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const ROW = 40;          // px, must match --row in app.css
  const OVERSCAN = 6;      // rows drawn above and below the viewport
  const FIRST_PAGE = 100;  // small first page: fast first paint
  const PAGE = 1000;       // later pages (the API's maximum)
  const WAVE_W = 120;      // px of a row's waveform

  const S = {
    token: sessionStorage.getItem('sm_token'),
    user: sessionStorage.getItem('sm_user'),
    view: 'library',
    items: [], cursor: null, more: false, gen: 0, loadingGen: -1, abort: null,
    sel: -1, playing: null, detailId: 0, detail: null,
    waves: new Map(), waveWant: new Set(), waveBusy: 0,
    providers: null, sw: false, wheelFocus: '8A', keySel: null,
  };

  /* ------------------------------------------------------------- API --- */
  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status; this.code = code; this.body = body;
    }
  }

  async function api(method, path, opts = {}) {
    const headers = { Accept: 'application/json' };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    let body;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
    let url = path;
    if (opts.query) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
      const s = p.toString();
      if (s) url += '?' + s;
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body, signal: opts.signal, cache: 'no-store' });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', 'Cannot reach the SampleMind server (' + e.message + ').');
    }
    let data = null;
    const ct = res.headers.get('Content-Type') || '';
    if (ct.includes('json')) { try { data = await res.json(); } catch (_) { data = null; } }
    if (!res.ok) {
      const e = (data && data.error) || {};
      let msg = e.message || res.statusText || 'HTTP ' + res.status;
      const ra = res.headers.get('Retry-After');
      if (res.status === 429 && ra) msg += ' (retry in ' + ra + ' s)';
      const err = new ApiError(res.status, e.code || 'http_' + res.status, msg, data);
      if (res.status === 401 && S.token && !opts.noExpire) sessionExpired();
      throw err;
    }
    return data;
  }

  const FRIENDLY = {
    network: 'Network error', unauthorized: 'Not signed in', forbidden: 'Not allowed',
    not_found: 'Not found', invalid_query: 'Bad query', rate_limited: 'Too many requests',
    catalog_unavailable: 'Catalog unavailable', too_big: 'Too big', conflict: 'Busy',
    unsupported_format: 'Not an audio file', corrupt_audio: 'Unreadable audio', empty_audio: 'Empty audio',
  };
  function describe(e) {
    if (!(e instanceof ApiError)) return (e && e.message) || String(e);
    const head = FRIENDLY[e.code] || (e.status ? 'Error ' + e.status : 'Error');
    return head + ': ' + e.message + (e.status ? ' [' + e.status + ' ' + e.code + ']' : '');
  }

  function toast(text, kind = 'error', ms = 9000) {
    const t = document.createElement('div');
    t.className = 'toast ' + kind;
    const p = document.createElement('p');
    p.textContent = text;
    const x = document.createElement('button');
    x.type = 'button'; x.className = 'ghost small'; x.textContent = '✕'; x.setAttribute('aria-label', 'Dismiss');
    x.onclick = () => t.remove();
    t.append(p, x);
    $('toasts').append(t);
    while ($('toasts').children.length > 4) $('toasts').firstChild.remove();
    if (ms) setTimeout(() => t.remove(), ms);
    return t;
  }
  const fail = (what) => (e) => { if (e && e.name === 'AbortError') return; toast(what + ' — ' + describe(e)); };

  window.addEventListener('error', (ev) => toast('Page error: ' + ev.message));
  window.addEventListener('unhandledrejection', (ev) => {
    if (ev.reason && ev.reason.name === 'AbortError') return;
    toast(describe(ev.reason));
  });

  /* ------------------------------------------------------------- helpers --- */
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  };
  const base = (p) => (p ? String(p).split('/').pop() : '');
  const num = (v, d = 1) => (typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '');
  const fmtBpm = (v) => (typeof v === 'number' ? (Math.abs(v - Math.round(v)) < 0.05 ? String(Math.round(v)) : v.toFixed(1)) : '');
  const fmtDur = (v) => (typeof v === 'number' ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) + 's' : '');
  const fmtBytes = (n) => (n > 1048576 ? (n / 1048576).toFixed(1) + ' MB' : n > 1024 ? (n / 1024).toFixed(0) + ' KB' : n + ' B');
  // "C# minor" -> "C#m", "E major" -> "E".
  const shortKey = (k) => String(k).replace(/ minor$/, 'm').replace(/ major$/, '');
  const clear = (n) => { while (n.firstChild) n.firstChild.remove(); };

  /* ------------------------------------------------------------- keys --- */
  // Camelot number -> [minor (A), major (B)] in the catalog's spelling.
  const CAM = { 1: ['Abm', 'B'], 2: ['Ebm', 'F#'], 3: ['Bbm', 'Db'], 4: ['Fm', 'Ab'], 5: ['Cm', 'Eb'], 6: ['Gm', 'Bb'],
    7: ['Dm', 'F'], 8: ['Am', 'C'], 9: ['Em', 'G'], 10: ['Bm', 'D'], 11: ['F#m', 'A'], 12: ['C#m', 'E'] };
  const PC = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
  function toCamelot(v) {
    if (!v) return null;
    v = String(v).trim();
    let m = /^(\d{1,2})([ABab])$/.exec(v);
    if (m && +m[1] >= 1 && +m[1] <= 12) return +m[1] + m[2].toUpperCase();
    m = /^([A-Ga-g])([#b♯♭]?)\s*(m|min|minor|maj|major)?$/.exec(v);
    if (!m) return null;
    let pc = PC[m[1].toUpperCase()];
    if (m[2] === '#' || m[2] === '♯') pc += 1;
    if (m[2] === 'b' || m[2] === '♭') pc += 11;
    pc %= 12;
    const minor = m[3] && m[3].startsWith('m') && m[3] !== 'maj' && m[3] !== 'major';
    const rel = minor ? (pc + 3) % 12 : pc;
    const n = (((rel * 7) % 12) + 7) % 12 + 1;
    return n + (minor ? 'A' : 'B');
  }
  const camName = (c) => { const n = parseInt(c, 10); return CAM[n] ? CAM[n][c.endsWith('A') ? 0 : 1] : c; };
  function compatible(c) {
    const n = parseInt(c, 10); const l = c.slice(-1);
    const w = (k) => ((k + 11) % 12) + 1;
    return [c, n + (l === 'A' ? 'B' : 'A'), w(n + 1) + l, w(n - 1) + l];
  }

  /* ------------------------------------------------------ query text --- */
  const ALIAS = { cat: 'category', tempo: 'bpm', key: 'key', category: 'category', bpm: 'bpm', loop: 'loop', lufs: 'lufs', duration: 'duration' };
  function tokens(q) {
    const out = [];
    const re = /(?:[^\s"]+|"[^"]*"?)+/g;
    let m;
    while ((m = re.exec(q))) out.push(m[0]);
    return out;
  }
  function filterName(tok) {
    const m = /^([A-Za-z_]+):/.exec(tok);
    return m ? ALIAS[m[1].toLowerCase()] || m[1].toLowerCase() : null;
  }
  function getFilter(name) {
    for (const t of tokens($('q').value)) if (filterName(t) === name) return t.slice(t.indexOf(':') + 1);
    return null;
  }
  function setFilter(name, value) {
    const t = tokens($('q').value).filter((x) => filterName(x) !== name);
    if (value) t.push(name + ':' + value);
    $('q').value = t.join(' ');
    syncControls();
    search();
  }
  function parseRange(v) {
    if (!v) return [null, null];
    let m = /^(-?[\d.]*)\.\.(-?[\d.]*)$/.exec(v);
    if (m) return [m[1] === '' ? null : +m[1], m[2] === '' ? null : +m[2]];
    m = /^(>=?|<=?)(-?[\d.]+)$/.exec(v);
    if (m) return m[1][0] === '>' ? [+m[2], null] : [null, +m[2]];
    if (/^-?[\d.]+$/.test(v)) return [+v, +v];
    return [null, null];
  }
  function rangeText(a, b) {
    const has = (x) => x !== '' && x !== null && isFinite(+x);
    if (has(a) && has(b)) return +a + '..' + +b;
    if (has(a)) return +a + '..';
    if (has(b)) return '..' + +b;
    return '';
  }

  const CATS = ['kick', 'snare', 'clap', 'hihat_closed', 'hihat_open', 'cymbal', 'tom', 'percussion', 'bass', 'synth',
    'pad', 'keys', 'guitar', 'strings', 'brass', 'vocal', 'fx', 'other'];
  function buildChips() {
    const box = $('chips');
    for (const c of CATS) {
      const b = el('button', 'chip', c.replace('_', ' '));
      b.type = 'button'; b.dataset.cat = c; b.setAttribute('aria-pressed', 'false');
      b.onclick = () => {
        const cur = new Set((getFilter('category') || '').split(',').filter(Boolean).map((x) => (x === 'hihat' ? 'hihat_closed' : x)));
        if (cur.has(c)) cur.delete(c); else cur.add(c);
        setFilter('category', [...cur].join(','));
      };
      box.append(b);
    }
  }

  function syncControls() {
    const cats = new Set((getFilter('category') || '').split(',').map((x) => (x === 'hihat' ? 'hihat_closed' : x)));
    for (const b of $('chips').children) b.setAttribute('aria-pressed', String(cats.has(b.dataset.cat)));
    const loop = (getFilter('loop') || '').toLowerCase();
    const lv = loop === 'yes' || loop === 'true' ? 'yes' : loop === 'no' || loop === 'false' ? 'no' : '';
    for (const r of document.querySelectorAll('input[name=loop]')) r.checked = r.value === lv;
    const pairs = [['bpm', 'bpm-min', 'bpm-max'], ['lufs', 'lufs-min', 'lufs-max'], ['duration', 'dur-min', 'dur-max']];
    for (const [f, a, b] of pairs) {
      const [lo, hi] = parseRange(getFilter(f));
      if (document.activeElement !== $(a)) $(a).value = lo === null ? '' : lo;
      if (document.activeElement !== $(b)) $(b).value = hi === null ? '' : hi;
    }
    let k = getFilter('key');
    let compat = false;
    if (k && /^compatible:/i.test(k)) { compat = true; k = k.slice(11); }
    S.keySel = k && !k.includes(',') ? toCamelot(k) : null;
    $('key-compat').checked = compat;
    $('key-label').textContent = S.keySel ? S.keySel + ' · ' + camName(S.keySel) + (compat ? ' + compatible' : '') : (k ? k : '');
    drawWheel();
  }

  /* ------------------------------------------------------ Camelot wheel --- */
  const SVGNS = 'http://www.w3.org/2000/svg';
  let wheelNodes = null;
  function buildWheel() {
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 220 220');
    wheelNodes = {};
    const c = 110;
    const arc = (r0, r1, a0, a1) => {
      const p = (r, a) => [c + r * Math.sin(a), c - r * Math.cos(a)];
      const [x0, y0] = p(r1, a0), [x1, y1] = p(r1, a1), [x2, y2] = p(r0, a1), [x3, y3] = p(r0, a0);
      return `M${x0},${y0}A${r1},${r1} 0 0 1 ${x1},${y1}L${x2},${y2}A${r0},${r0} 0 0 0 ${x3},${y3}Z`;
    };
    for (let n = 1; n <= 12; n++) {
      const a = (n % 12) * Math.PI / 6;
      for (const [l, r0, r1] of [['B', 74, 108], ['A', 40, 74]]) {
        const code = n + l;
        const path = document.createElementNS(SVGNS, 'path');
        path.setAttribute('d', arc(r0, r1, a - Math.PI / 12, a + Math.PI / 12));
        path.setAttribute('class', 'seg-path' + (l === 'A' ? ' inner' : ''));
        path.dataset.key = code;
        const title = document.createElementNS(SVGNS, 'title');
        title.textContent = code + ' ' + camName(code);
        path.append(title);
        path.addEventListener('click', () => { S.wheelFocus = code; pickKey(code); });
        svg.append(path);
        const rm = (r0 + r1) / 2;
        const t1 = document.createElementNS(SVGNS, 'text');
        t1.setAttribute('x', c + rm * Math.sin(a)); t1.setAttribute('y', c - rm * Math.cos(a) - 5);
        t1.textContent = camName(code);
        const t2 = document.createElementNS(SVGNS, 'text');
        t2.setAttribute('class', 'sub');
        t2.setAttribute('x', c + rm * Math.sin(a)); t2.setAttribute('y', c - rm * Math.cos(a) + 6);
        t2.textContent = code;
        svg.append(t1, t2);
        wheelNodes[code] = path;
      }
    }
    $('wheel').append(svg);
    $('wheel').addEventListener('keydown', (e) => {
      let n = parseInt(S.wheelFocus, 10); let l = S.wheelFocus.slice(-1);
      if (e.key === 'ArrowRight') n = (n % 12) + 1;
      else if (e.key === 'ArrowLeft') n = ((n + 10) % 12) + 1;
      else if (e.key === 'ArrowUp') l = 'B';
      else if (e.key === 'ArrowDown') l = 'A';
      else if (e.key === 'Enter' || e.key === ' ') { pickKey(S.wheelFocus); e.preventDefault(); return; }
      else return;
      e.preventDefault();
      S.wheelFocus = n + l;
      drawWheel();
    });
    $('wheel').addEventListener('focus', drawWheel);
    $('wheel').addEventListener('blur', drawWheel);
  }
  function drawWheel() {
    if (!wheelNodes) return;
    const compat = $('key-compat').checked && S.keySel ? new Set(compatible(S.keySel)) : new Set();
    const focused = document.activeElement === $('wheel');
    for (const [code, p] of Object.entries(wheelNodes)) {
      p.classList.toggle('sel', code === S.keySel);
      p.classList.toggle('compat', code !== S.keySel && compat.has(code));
      p.classList.toggle('cur', focused && code === S.wheelFocus);
    }
    $('wheel').setAttribute('aria-valuetext', S.keySel || 'any');
  }
  function pickKey(code) {
    const next = S.keySel === code ? null : code;
    setFilter('key', next ? ($('key-compat').checked ? 'compatible:' + next : next) : '');
  }

  /* ------------------------------------------------------ search --- */
  let searchTimer = 0;
  function searchSoon() { clearTimeout(searchTimer); searchTimer = setTimeout(search, 180); }

  function compact(it) {
    return {
      id: it.id, name: base(it.path), path: it.path, cat: it.category || '', bpm: it.bpm,
      key: it.key ? shortKey(it.key.name) : '', cam: it.key ? it.key.camelot : '', note: it.note || '',
      dur: it.duration, lufs: it.lufs, peak: it.true_peak, loop: it.loop,
    };
  }

  function search() {
    clearTimeout(searchTimer);
    if (S.abort) S.abort.abort();
    S.gen++;
    S.items = []; S.cursor = null; S.more = true; S.sel = -1; S.loadingGen = -1; S.total = 0;
    $('q-error').textContent = '';
    $('results').scrollTop = 0;
    for (const r of pool) r._i = -1;
    loadMore(FIRST_PAGE);
    render();
  }

  async function loadMore(limit = PAGE) {
    if (!S.more || S.loadingGen === S.gen) return;
    const gen = S.gen;
    S.loadingGen = gen;
    S.abort = new AbortController();
    const t0 = performance.now();
    try {
      const d = await api('GET', '/api/v1/audio/files', {
        query: { q: $('q').value.trim(), limit, cursor: S.cursor }, signal: S.abort.signal,
      });
      if (gen !== S.gen) return;
      for (const it of d.items) S.items.push(compact(it));
      S.cursor = d.next_cursor; S.more = !!d.next_cursor; S.total = d.total || 0;
      S.lastMs = performance.now() - t0;
    } catch (e) {
      if (e.name === 'AbortError' || gen !== S.gen) return;
      S.more = false;
      if (e.code === 'invalid_query' && e.body && e.body.error) {
        const er = e.body.error;
        const q = er.query || $('q').value;
        const pos = Math.max(0, er.position || 0);
        $('q-error').textContent = er.message + '\n' + q + '\n' + ' '.repeat(pos) + '^'.repeat(Math.max(1, er.length || 1));
      } else {
        $('q-error').textContent = describe(e);
        toast('Search failed — ' + describe(e));
      }
    } finally {
      if (gen === S.gen) S.loadingGen = -1;
    }
    render();
    if (S.sel < 0 && S.items.length && gen === S.gen) markReady();
    if (gen === S.gen && !S.items.length) markReady();
  }

  let readyMarked = false;
  function markReady() {
    if (readyMarked) return;
    readyMarked = true;
    performance.mark('sm-ready');
    document.documentElement.dataset.ready = '1';
  }

  /* ------------------------------------------------------ virtual list --- */
  const pool = [];
  let rafPending = 0;
  let idleTimer = 0;
  // Write a DOM property only when it changes (no needless style invalidation).
  function setIf(o, k, v) { if (o[k] !== v) o[k] = v; }
  function ensurePool() {
    const h = $('results').clientHeight || 600;
    const need = Math.ceil(h / ROW) + 2 * OVERSCAN;
    while (pool.length < need) {
      const r = el('div', 'row');
      r.setAttribute('role', 'option');
      r._i = -1;
      r.innerHTML = '<span class="c-name"></span><span class="c-cat"></span><span class="c-bpm"></span><span class="c-key"></span><span class="c-note"></span><span class="c-dur"></span><span class="c-lufs"></span><span class="c-wave"><canvas width="' + WAVE_W + '" height="28"></canvas><i class="ph"></i></span>';
      r._c = r.children;
      r._cv = r.querySelector('canvas');
      r._ph = r.querySelector('.ph');
      r.addEventListener('click', () => { if (r._i >= 0 && r._i < S.items.length) { select(r._i, true); $('results').focus({ preventScroll: true }); } });
      r.style.display = 'none';
      $('results').append(r);
      pool.push(r);
    }
    for (const r of pool) r._i = -1;
  }

  function fill(r, i) {
    r._i = i;
    r.id = 'row-' + i;
    const it = S.items[i];
    const c = r._c;
    if (!it) {
      r.classList.add('loading');
      c[0].textContent = S.more ? 'Loading…' : '';
      for (let k = 1; k < 7; k++) c[k].textContent = '';
      r._id = 0;
      r.dataset.id = '';
      r._cv.getContext('2d').clearRect(0, 0, WAVE_W, 28);
      r.setAttribute('aria-selected', 'false');
      return;
    }
    r.classList.remove('loading');
    r._id = it.id;
    r.dataset.id = it.id;
    c[0].textContent = it.name;
    c[0].title = it.path;
    c[1].textContent = it.cat.replace('_', ' ');
    c[2].textContent = fmtBpm(it.bpm);
    c[3].textContent = it.key ? it.key + ' · ' + it.cam : '';
    c[4].textContent = it.note;
    c[5].textContent = fmtDur(it.dur);
    c[6].textContent = num(it.lufs);
    drawRowWave(r);
  }

  function render() {
    const list = $('results');
    if (!pool.length) ensurePool();
    const total = S.items.length + (S.more ? 1 : 0);
    setIf($('spacer').style, 'height', total * ROW + 'px');
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - OVERSCAN);
    const n = pool.length;
    for (let k = 0; k < n; k++) {
      const i = first + k;
      const r = pool[i % n];
      if (i >= total) {
        if (r.style.display !== 'none') r.style.display = 'none';
        r._i = -1;
        continue;
      }
      if (r._i !== i || (r.classList.contains('loading') && S.items[i])) {
        fill(r, i);
        r.style.transform = 'translateY(' + i * ROW + 'px)';
      }
      if (r.style.display === 'none') r.style.display = '';
      const sel = i === S.sel;
      if (r._sel !== sel) { r._sel = sel; r.classList.toggle('sel', sel); r.setAttribute('aria-selected', String(sel)); }
      const pl = !!(S.playing && r._id === S.playing.id);
      if (r._pl !== pl) { r._pl = pl; r.classList.toggle('playing', pl); }
    }
    setIf($('empty'), 'hidden', !!total || S.loadingGen === S.gen);
    const cnt = S.items.length;
    setIf($('count'), 'textContent', S.loadingGen === S.gen && !cnt ? 'Searching…'
      : !cnt ? 'No samples'
      : S.more ? (S.total > cnt ? S.total.toLocaleString() + ' samples, ' : '') + cnt.toLocaleString() + '+ loaded (more as you scroll)'
      : cnt.toLocaleString() + ' samples');
    if (S.more && first + n > S.items.length - Math.max(60, 2 * n)) loadMore(PAGE);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(wantVisibleWaves, 90);
  }

  function onScroll() {
    if (!rafPending) rafPending = requestAnimationFrame(() => { rafPending = 0; render(); });
  }

  function ensureVisible(i) {
    const list = $('results');
    const top = i * ROW;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW - list.clientHeight;
  }

  function select(i, play) {
    if (i < 0 || i >= S.items.length) return;
    S.sel = i;
    ensureVisible(i);
    $('results').setAttribute('aria-activedescendant', 'row-' + i);
    const it = S.items[i];
    if (play) playItem(it);
    render();
    showDetailSoon(it.id);
    if (S.more && i > S.items.length - 50) loadMore(PAGE);
  }

  function listKeys(e) {
    const page = Math.max(1, Math.floor($('results').clientHeight / ROW) - 1);
    let i = S.sel;
    switch (e.key) {
      case 'ArrowDown': select(Math.min(i + 1, S.items.length - 1), true); break;
      case 'ArrowUp': select(Math.max(i - 1, 0), true); break;
      case 'PageDown': select(Math.min(i + page, S.items.length - 1), false); break;
      case 'PageUp': select(Math.max(i - page, 0), false); break;
      case 'Home': select(0, false); break;
      case 'End': select(S.items.length - 1, false); break;
      case 'Enter': if (i >= 0) playItem(S.items[i]); else select(0, true); break;
      case ' ': if (S.playing && !audio.paused) stop(); else if (i >= 0) playItem(S.items[i]); break;
      default: return;
    }
    e.preventDefault();
  }

  /* ------------------------------------------------------ waveforms --- */
  function reduce(peaks, w) {
    const pts = peaks.length >> 1;
    const out = new Float32Array(2 * w);
    if (!pts) return out;
    for (let x = 0; x < w; x++) {
      let a = Math.floor(x * pts / w), b = Math.max(a + 1, Math.floor((x + 1) * pts / w));
      let lo = 0, hi = 0;
      for (let k = a; k < b && k < pts; k++) {
        const mn = peaks[2 * k], mx = peaks[2 * k + 1];
        if (mn < lo) lo = mn;
        if (mx > hi) hi = mx;
      }
      out[2 * x] = lo; out[2 * x + 1] = hi;
    }
    return out;
  }
  function drawWave(cv, red, w, h, color) {
    const g = cv.getContext('2d');
    g.clearRect(0, 0, cv.width, cv.height);
    if (!red) return;
    g.fillStyle = color;
    const mid = h / 2;
    for (let x = 0; x < w; x++) {
      const lo = red[2 * x], hi = red[2 * x + 1];
      const y0 = mid - hi * mid, y1 = mid - lo * mid;
      g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
    }
  }
  function drawRowWave(r) {
    const red = S.waves.get(r._id);
    drawWave(r._cv, red || null, WAVE_W, 28, '#4f7fa8');
  }
  function wantVisibleWaves() {
    S.waveWant.clear();
    const list = $('results');
    const lo = Math.floor(list.scrollTop / ROW) - 1, hi = Math.ceil((list.scrollTop + list.clientHeight) / ROW);
    for (const r of pool) if (r._id && r._i >= lo && r._i <= hi && !S.waves.has(r._id)) S.waveWant.add(r._id);
    pumpWaves();
  }
  function pumpWaves() {
    while (S.waveBusy < 4 && S.waveWant.size) {
      const id = S.waveWant.values().next().value;
      S.waveWant.delete(id);
      S.waveBusy++;
      api('GET', '/api/v1/audio/files/' + id + '/waveform').then((d) => {
        const pk = d && d.waveform && d.waveform.peaks;
        S.waves.set(id, pk ? reduce(pk, WAVE_W) : new Float32Array(0));
        if (S.waves.size > 4000) S.waves.delete(S.waves.keys().next().value);
        for (const r of pool) if (r._id === id) drawRowWave(r);
      }).catch((e) => {
        if (e.status === 404) S.waves.set(id, new Float32Array(0));
      }).finally(() => { S.waveBusy--; pumpWaves(); });
    }
  }

  /* ------------------------------------------------------ player --- */
  const audio = $('audio');
  let actx = null, gainNode = null;
  function gainFor(it) {
    let g = +$('p-vol').value;
    if ($('p-norm').checked && it && typeof it.lufs === 'number') {
      let db = +$('p-target').value - it.lufs;
      if (typeof it.peak === 'number') db = Math.min(db, -1 - it.peak);
      db = Math.max(-30, Math.min(12, db));
      g *= Math.pow(10, db / 20);
    }
    return g;
  }
  function applyGain() {
    const g = gainFor(S.playing);
    if (gainNode) { gainNode.gain.value = g; audio.volume = 1; }
    else audio.volume = Math.min(1, g);
  }
  function audioGraph() {
    if (actx || !window.AudioContext) return;
    try {
      actx = new AudioContext();
      const src = actx.createMediaElementSource(audio);
      gainNode = actx.createGain();
      src.connect(gainNode).connect(actx.destination);
    } catch (e) { actx = null; gainNode = null; }
  }
  let blobUrl = null;
  async function playItem(it) {
    if (!it) return;
    audioGraph();
    if (actx && actx.state === 'suspended') actx.resume().catch(() => {});
    S.playing = it;
    applyGain();
    const url = '/api/v1/audio/files/' + it.id + '/audio';
    $('p-now').textContent = it.name;
    render();
    if (!S.sw) await swReady;
    if (S.playing !== it) return;
    if (S.sw) {
      audio.src = url;
    } else {
      // No service worker (not a secure context): fetch with the token.
      try {
        const res = await fetch(url, { headers: { Authorization: 'Bearer ' + S.token } });
        if (!res.ok) throw new ApiError(res.status, 'http_' + res.status, (await res.json().catch(() => ({}))).error?.message || res.statusText);
        const b = await res.blob();
        if (S.playing !== it) return;
        if (blobUrl) URL.revokeObjectURL(blobUrl);
        blobUrl = URL.createObjectURL(b);
        audio.src = blobUrl;
      } catch (e) { toast('Cannot play ' + it.name + ' — ' + describe(e)); return; }
    }
    audio.dataset.id = it.id;
    audio.play().catch((e) => { if (e.name !== 'AbortError') toast('Cannot play ' + it.name + ' — ' + e.message); });
    tick();
  }
  function stop() {
    audio.pause();
    audio.removeAttribute('src');
    audio.load();
    S.playing = null;
    $('p-now').textContent = 'Stopped';
    $('d-playhead').classList.remove('on');
    $('p-pos').style.transform = 'scaleX(0)';
    render();
  }
  audio.addEventListener('error', async () => {
    const it = S.playing;
    if (!it || !audio.getAttribute('src')) return;
    // Ask the server why, so the message is the API's own.
    try {
      await api('GET', '/api/v1/audio/files/' + it.id + '/audio', { query: {} });
      toast('Cannot play ' + it.name + ': the browser cannot decode this file.');
    } catch (e) { toast('Cannot play ' + it.name + ' — ' + describe(e)); }
  });
  let ticking = false;
  function tick() {
    if (ticking) return;
    ticking = true;
    const step = () => {
      const d = audio.duration, t = audio.currentTime;
      const frac = d > 0 && isFinite(d) ? Math.min(1, t / d) : 0;
      $('p-pos').style.transform = 'scaleX(' + frac + ')';
      const ph = $('d-playhead');
      const on = S.playing && S.detailId === S.playing.id && !audio.paused;
      ph.classList.toggle('on', !!on);
      if (on) ph.style.transform = 'translateX(' + frac * $('d-wave-box').clientWidth + 'px)';
      for (const r of pool) if (r._pl) r._ph.style.transform = 'translateX(' + frac * WAVE_W + 'px)';
      if (!audio.paused && !audio.ended) requestAnimationFrame(step);
      else { ticking = false; if (audio.ended) { S.playing = null; render(); } }
    };
    requestAnimationFrame(step);
  }
  audio.addEventListener('playing', tick);

  /* ------------------------------------------------------ service worker --- */
  let swResolve;
  const swReady = new Promise((r) => { swResolve = r; });
  function swSetup() {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) { swResolve(); return; }
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'need-token' && e.ports[0]) e.ports[0].postMessage({ token: S.token });
    });
    const done = () => { S.sw = !!navigator.serviceWorker.controller; if (S.sw) sendToken(); swResolve(); };
    if (navigator.serviceWorker.controller) { done(); }
    else {
      navigator.serviceWorker.addEventListener('controllerchange', done, { once: true });
      setTimeout(() => swResolve(), 3000);
    }
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => swResolve());
  }
  function sendToken() {
    const c = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (c) c.postMessage({ type: 'token', token: S.token });
  }

  /* ------------------------------------------------------ detail panel --- */
  let detailTimer = 0;
  function showDetailSoon(id) { clearTimeout(detailTimer); detailTimer = setTimeout(() => showDetail(id), 140); }
  async function showDetail(id) {
    S.detailId = id;
    $('detail').hidden = false;
    $('view-library').classList.remove('nodetail');
    const fromList = S.items.find((x) => x.id === id);
    $('d-title').textContent = fromList ? fromList.name : '#' + id;
    $('d-desc').textContent = 'Loading…';
    $('ai-out').textContent = '';
    $('tag-msg').textContent = '';
    clear($('d-similar'));
    drawWave($('d-wave'), null, 600, 80);
    const [rec, wave, sim] = await Promise.allSettled([
      api('GET', '/api/v1/audio/files/' + id),
      api('GET', '/api/v1/audio/files/' + id + '/waveform'),
      api('GET', '/api/v1/audio/files/' + id + '/similar', { query: { k: 10 } }),
    ]);
    if (S.detailId !== id) return;
    if (rec.status === 'fulfilled') {
      S.detail = rec.value;
      $('d-title').textContent = base(rec.value.path);
      $('d-path').textContent = rec.value.path || '';
      renderTags(rec.value.tags || []);
      clear($('d-desc'));
      $('d-desc').append(renderDescriptors(rec.value));
    } else {
      $('d-desc').textContent = describe(rec.reason);
    }
    if (wave.status === 'fulfilled' && wave.value.waveform) {
      const cv = $('d-wave');
      const w = Math.max(200, Math.round($('d-wave-box').clientWidth || 600));
      cv.width = w;
      drawWave(cv, reduce(wave.value.waveform.peaks || [], w), w, 80, '#4fb3ff');
    }
    if (sim.status === 'fulfilled') renderSimilar($('d-similar'), sim.value.items || [], id);
    else $('d-similar').append(el('li', 'muted', describe(sim.reason)));
  }

  function renderSimilar(box, items, selfId) {
    clear(box);
    const list = items.filter((x) => x.id !== selfId);
    if (!list.length) box.append(el('li', 'muted', 'Nothing similar found.'));
    for (const x of list) {
      const it = compact(x);
      const li = el('li');
      const b = el('button', 'small', '▶');
      b.type = 'button'; b.setAttribute('aria-label', 'Play ' + it.name);
      b.onclick = () => playItem(it);
      const nm = el('button', 'ghost small nm', it.name);
      nm.type = 'button'; nm.title = 'Show details of ' + it.path;
      nm.onclick = () => { S.sel = S.items.findIndex((y) => y.id === it.id); render(); showDetail(it.id); };
      const meta = el('span', 'meta', [it.cat, it.key, fmtBpm(it.bpm) && fmtBpm(it.bpm) + ' bpm',
        typeof x.distance === 'number' ? 'd ' + x.distance.toFixed(3) : ''].filter(Boolean).join(' · '));
      li.dataset.id = it.id;
      li.append(b, nm, meta);
      box.append(li);
    }
  }

  const PITCH = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
  function fmtVal(v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (Array.isArray(v)) {
      if (v.every((x) => typeof x === 'number')) return v.length > 16 ? v.slice(0, 16).map(fmtVal).join(', ') + ' … (' + v.length + ')' : v.map(fmtVal).join(', ');
      return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : fmtVal(x))).join(', ');
    }
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function table(rows) {
    const t = el('table');
    for (const [k, v, bar] of rows) {
      const tr = el('tr');
      const th = el('th', null, k);
      const td = el('td');
      if (bar !== undefined && typeof v === 'number') {
        const b = el('span', 'bar');
        b.style.width = Math.max(1, Math.min(100, bar)) + 'px';
        td.append(b);
      }
      td.append(fmtVal(v));
      tr.append(th, td);
      t.append(tr);
    }
    return t;
  }
  function renderDescriptors(r) {
    const f = document.createDocumentFragment();
    const skip = new Set(['path', 'root', 'tags', 'id']);
    const flat = [];
    const objs = [];
    for (const [k, v] of Object.entries(r)) {
      if (skip.has(k)) continue;
      if (v && typeof v === 'object' && !Array.isArray(v)) objs.push([k, v]);
      else if (k === 'chroma' && Array.isArray(v)) objs.push([k, v]);
      else if (k === 'size') flat.push([k, fmtBytes(v)]);
      else flat.push([k, v]);
    }
    f.append(table(flat));
    for (const [k, v] of objs) {
      f.append(el('h4', null, k.replace(/_/g, ' ')));
      if (k === 'chroma') { f.append(table(v.map((x, i) => [PITCH[i], x, x * 100]))); continue; }
      const rows = [];
      for (const [kk, vv] of Object.entries(v)) {
        if (vv && typeof vv === 'object' && !Array.isArray(vv) && 'mean' in vv) rows.push([kk, fmtVal(vv.mean) + ' ± ' + fmtVal(vv.std)]);
        else if (Array.isArray(vv) && vv.length && typeof vv[0] === 'object' && vv[0] && 'mean' in vv[0]) rows.push([kk, vv.map((x) => fmtVal(x.mean)).join(', ')]);
        else rows.push([kk.replace(/_/g, ' '), vv, k === 'timbre' && typeof vv === 'number' ? vv : undefined]);
      }
      f.append(table(rows));
    }
    return f;
  }

  function renderTags(tags) {
    const box = $('d-tags');
    clear(box);
    if (!tags.length) box.append(el('span', 'muted small-text', 'No tags.'));
    for (const t of tags) {
      const b = el('button', 'chip', t);
      b.type = 'button';
      b.setAttribute('aria-label', 'Remove tag ' + t);
      b.append(el('span', 'x', '✕'));
      b.onclick = () => changeTags({ remove: [t] });
      box.append(b);
    }
  }
  async function changeTags(change) {
    const id = S.detailId;
    $('tag-msg').textContent = 'Saving…';
    try {
      const d = await api('POST', '/api/v1/audio/files/' + id + '/tags', { body: change });
      if (S.detailId !== id) return;
      renderTags(d.tags || []);
      $('tag-msg').textContent = 'Saved.';
    } catch (e) {
      $('tag-msg').textContent = e.status === 404
        ? 'This sample is no longer in the catalog (' + describe(e) + ').'
        : 'Could not change the tags — ' + describe(e);
    }
  }

  /* ------------------------------------------------------ AI --- */
  async function loadProviders() {
    try {
      const d = await api('GET', '/api/v1/ai/providers');
      S.providers = d.providers || [];
      const sel = $('ai-provider');
      while (sel.options.length > 1) sel.remove(1);
      for (const p of S.providers) {
        const o = new Option(p.name + (p.configured ? '' : ' (not configured)'), p.name);
        o.disabled = !p.configured;
        sel.add(o);
      }
    } catch (e) {
      if (e.status !== 404) toast('AI providers — ' + describe(e));
    }
  }
  async function askAI(ev) {
    ev.preventDefault();
    const out = $('ai-out');
    const id = S.detailId;
    if (!id) return;
    const body = { file_id: id, task: $('ai-task').value };
    if ($('ai-provider').value) body.provider = $('ai-provider').value;
    out.textContent = 'Asking…';
    $('ai-ask').disabled = true;
    try {
      const d = await api('POST', '/api/v1/ai/analyze', { body });
      if (S.detailId !== id) return;
      clear(out);
      out.append(renderAnswer(d));
    } catch (e) {
      out.textContent = '';
      out.append(el('p', 'error', describe(e)));
    } finally { $('ai-ask').disabled = false; }
  }
  function renderAnswer(d) {
    const f = document.createDocumentFragment();
    const meta = el('div', 'ai-meta');
    const bits = [['provider', d.provider], ['model', d.model], ['cached', d.cached ? 'yes' : 'no'],
      ['latency', typeof d.latency_ms === 'number' ? d.latency_ms.toFixed(1) + ' ms' : '—'],
      ['cost', typeof d.cost === 'number' ? '$' + d.cost.toFixed(d.cost < 0.01 ? 5 : 3) : '—']];
    for (const [k, v] of bits) { const s = el('span', 'ai-' + k, k + ': ' + v); meta.append(s); }
    f.append(meta);
    if (d.note) f.append(el('p', 'muted small-text', d.note));
    const a = d.answer || {};
    const list = (items, fn) => { const ul = el('ul'); for (const x of items || []) { const li = el('li'); fn(li, x); ul.append(li); } return ul; };
    const conf = (li, x) => {
      const b = el('span', 'bar'); b.style.width = Math.round((x.confidence || 0) * 80) + 'px';
      li.append(b, (x.name || '') + (typeof x.confidence === 'number' ? ' ' + Math.round(x.confidence * 100) + '%' : ''));
    };
    if (a.genres) f.append(list(a.genres, conf));
    if (a.moods) f.append(list(a.moods, conf));
    if ('energy' in a || 'valence' in a) f.append(el('p', null, 'energy ' + fmtVal(a.energy) + ' · valence ' + fmtVal(a.valence)));
    if (a.tags) { const c = el('div', 'chips'); for (const t of a.tags) c.append(el('span', 'chip', t)); f.append(c); }
    if (a.description) f.append(el('p', null, a.description));
    if (a.tips) f.append(list(a.tips, (li, x) => { li.textContent = x; }));
    if (a.issues && a.issues.length) { f.append(el('h4', null, 'Issues')); f.append(list(a.issues, (li, x) => { li.textContent = x; })); }
    if (a.suggestions) {
      f.append(list(a.suggestions, (li, x) => {
        const q = el('a', null, x.query || x.category);
        q.href = '#';
        q.onclick = (e) => { e.preventDefault(); $('q').value = x.query || 'category:' + x.category; syncControls(); search(); };
        li.append((x.category || '') + ': ', q, x.why ? ' — ' + x.why : '');
      }));
    }
    if (a.reasoning) f.append(el('p', 'muted small-text', a.reasoning));
    const known = ['genres', 'moods', 'energy', 'valence', 'tags', 'description', 'tips', 'issues', 'suggestions', 'reasoning'];
    const rest = Object.keys(a).filter((k) => !known.includes(k));
    if (rest.length) f.append(el('pre', 'small-text', JSON.stringify(Object.fromEntries(rest.map((k) => [k, a[k]])), null, 1)));
    return f;
  }

  /* ------------------------------------------------------ analyze a file --- */
  async function analyzeFile(file) {
    if (!S.token) { toast('Sign in first to analyze a file.'); return; }
    showView('analyze');
    const store = $('an-store').checked;
    $('an-status').textContent = 'Analyzing ' + file.name + ' (' + fmtBytes(file.size) + ')…';
    clear($('an-desc')); clear($('an-similar')); $('an-sim-note').textContent = '';
    const form = new FormData();
    form.append('file', file, file.name);
    const t0 = performance.now();
    let d;
    try {
      d = await api('POST', '/api/v1/audio/analyze', { form, query: { store: store ? 'true' : 'false' } });
    } catch (e) {
      $('an-status').textContent = 'Analysis failed — ' + describe(e);
      return;
    }
    $('an-status').textContent = file.name + ': analyzed in ' + Math.round(performance.now() - t0) + ' ms' + (d.stored ? ', kept in the library as #' + d.id : '');
    $('an-desc').append(renderDescriptors(d));
    try {
      if (d.stored && d.id) {
        const s = await api('GET', '/api/v1/audio/files/' + d.id + '/similar', { query: { k: 11 } });
        $('an-sim-note').textContent = 'Nearest by sound (embedding distance).';
        renderSimilar($('an-similar'), s.items || [], d.id);
      } else {
        // The API has no "similar to an upload" route: match the descriptors.
        const q = [];
        if (d.category && d.category.label) q.push('category:' + d.category.label);
        if (d.key && d.key.camelot) q.push('key:compatible:' + d.key.camelot);
        if (d.tempo && typeof d.tempo.bpm === 'number') q.push('bpm:' + Math.round(d.tempo.bpm - 3) + '..' + Math.round(d.tempo.bpm + 3));
        q.push('loop:' + (d.loop ? 'yes' : 'no'));
        const s = await api('GET', '/api/v1/audio/files', { query: { q: q.join(' '), limit: 10 } });
        $('an-sim-note').textContent = 'Matching descriptors (' + q.join(' ') + '); keep the file in the library for sound similarity.';
        renderSimilar($('an-similar'), s.items || [], 0);
      }
    } catch (e) {
      $('an-sim-note').textContent = 'Similar sounds — ' + describe(e);
    }
  }

  let dragDepth = 0;
  function hasFiles(e) { return e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files'); }
  window.addEventListener('dragenter', (e) => { if (!hasFiles(e) || !S.token) return; dragDepth++; $('dropzone').hidden = false; });
  window.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('dropzone').hidden = true; } });
  window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    $('dropzone').hidden = true;
    const f = e.dataTransfer.files[0];
    if (f) analyzeFile(f);
  });

  /* ------------------------------------------------------ admin --- */
  let jobTimer = 0;
  async function startScan(ev) {
    ev.preventDefault();
    const body = {};
    const root = $('scan-root').value.trim();
    if (root) body.root = root;
    if ($('scan-prune').checked) body.prune = true;
    if ($('scan-force').checked) body.force = true;
    $('scan-status').textContent = 'Starting…';
    try {
      const d = await api('POST', '/api/v1/library/scan', { body });
      watchJob(d.job);
    } catch (e) {
      if (e.status === 409 && e.body && e.body.error && e.body.error.job) {
        toast('A scan is already running; watching it.', 'info', 4000);
        watchJob(e.body.error.job);
      } else {
        $('scan-status').textContent = describe(e);
      }
    }
  }
  function showJob(j) {
    const pct = Math.round((j.progress || 0) * 100);
    $('scan-fill').style.width = pct + '%';
    $('scan-bar').setAttribute('aria-valuenow', pct);
    $('scan-status').textContent = 'Job ' + j.id + ': ' + j.state + (j.phase ? ' (' + j.phase + ')' : '') + ' · ' + pct + '% · ' +
      (j.elapsed || 0).toFixed(1) + ' s' + (j.current ? ' · ' + base(j.current) : '') + (j.error ? ' · ' + (j.error.message || '') : '') +
      (j.roots ? ' · ' + j.roots.join(', ') : '');
    const dl = $('scan-counts');
    clear(dl);
    for (const [k, v] of Object.entries(j.counts || {})) {
      const d = el('div'); d.append(el('dt', null, k.replace(/_/g, ' ')), el('dd', null, v)); dl.append(d);
    }
  }
  function watchJob(j) {
    clearTimeout(jobTimer);
    showJob(j);
    if (['done', 'failed', 'cancelled'].includes(j.state)) {
      if (j.state === 'done') { toast('Scan finished: ' + (j.counts ? j.counts.added + ' added, ' + j.counts.updated + ' updated, ' + j.counts.failed + ' failed' : ''), 'info', 5000); search(); }
      else toast('Scan ' + j.state + (j.error ? ': ' + j.error.message : ''));
      return;
    }
    jobTimer = setTimeout(async () => {
      try { watchJob((await api('GET', '/api/v1/jobs/' + j.id)).job); } catch (e) { $('scan-status').textContent = describe(e); }
    }, 300);
  }

  let statusTimer = 0;
  async function loadStatus() {
    clearTimeout(statusTimer);
    let d;
    try {
      d = await api('GET', '/api/v1/health/detailed');
    } catch (e) {
      if (e.body && e.body.components) d = e.body; // 503: a component is down, the body still tells which.
      else { $('status').textContent = describe(e); }
    }
    if (d) renderStatus(d);
    $('status-time').textContent = 'updated ' + new Date().toLocaleTimeString();
    if (S.view === 'admin') statusTimer = setTimeout(loadStatus, 5000);
  }
  function box(title, cls) { const b = el('div', 'box ' + (cls || '')); b.append(el('h3', null, title)); return b; }
  const stateCls = (s) => (s === 'ok' || s === 'closed' || s === true ? 'ok' : s === 'half-open' || s === 'not configured' ? 'warn' : 'bad');
  function renderStatus(d) {
    const root = $('status');
    clear(root);
    const c = d.components || {};
    const b1 = box('Server');
    b1.append(el('div', 'big ' + stateCls(d.status), d.status), table([['version', d.version], ['uptime', Math.round(d.uptime || 0) + ' s'],
      ['analyzer', d.analyzer_version]]));
    const b2 = box('Catalog');
    b2.append(el('div', 'big', c.catalog && typeof c.catalog.samples === 'number' ? c.catalog.samples.toLocaleString() + ' samples' : '—'),
      table([['state', c.catalog ? c.catalog.status : '—']]));
    const cache = c.cache || {};
    const b3 = box('AI cache');
    b3.append(el('div', 'big', typeof cache.hit_rate === 'number' ? (cache.hit_rate * 100).toFixed(1) + '% hits' : '—'),
      table([['backend', cache.backend], ['state', cache.status], ['hits', cache.hits], ['misses', cache.misses], ['entries', cache.entries], ['errors', cache.errors]]));
    const p = d.process || {};
    const b4 = box('Process');
    b4.append(table([['memory', p.rss_bytes ? fmtBytes(p.rss_bytes) : '—'], ['cpu', num(p.cpu_percent) + ' %'], ['threads', p.threads],
      ['open files', p.open_files], ['http threads', d.http && d.http.threads], ['in flight', d.http && d.http.in_flight]]));
    root.append(b1, b2, b3, b4);
    const ai = c.ai;
    if (ai && ai.providers) {
      const b5 = box('AI providers', 'wide');
      const t = el('table');
      const hr = el('tr');
      for (const h of ['provider', 'model', 'health', 'circuit', 'calls', 'failures', 'cache hits', 'mean latency', 'cost']) hr.append(el('th', null, h));
      t.append(hr);
      for (const pr of ai.providers) {
        const tr = el('tr');
        const st = pr.stats || {};
        const cells = [pr.name, pr.model, pr.health, pr.circuit ? pr.circuit.state : '—', st.calls, st.failures, st.cache_hits,
          typeof st.mean_latency_ms === 'number' ? st.mean_latency_ms.toFixed(1) + ' ms' : '—', typeof st.cost === 'number' ? '$' + st.cost.toFixed(4) : '—'];
        cells.forEach((v, i) => { const td = el('td', i === 2 || i === 3 ? stateCls(v) : null, v === undefined ? '—' : String(v)); tr.append(td); });
        t.append(tr);
      }
      b5.append(t, el('p', 'muted small-text', 'spent today $' + num(ai.spent_today, 4) + ' of $' + num(ai.daily_budget, 2)));
      root.append(b5);
    }
    const others = Object.entries(c).filter(([k]) => !['catalog', 'cache', 'ai'].includes(k));
    if (others.length) {
      const b6 = box('Components', 'wide');
      b6.append(table(others.map(([k, v]) => [k, Object.entries(v).map(([a, b]) => a + ' ' + fmtVal(b)).join(' · ')])));
      root.append(b6);
    }
  }

  /* ------------------------------------------------------ views & session --- */
  function showView(v) {
    S.view = v;
    for (const name of ['login', 'library', 'analyze', 'admin']) $('view-' + name).hidden = name !== v;
    for (const t of document.querySelectorAll('.tab')) {
      if (t.dataset.view === v) t.setAttribute('aria-current', 'page'); else t.removeAttribute('aria-current');
    }
    if (v === 'admin') loadStatus();
    if (v === 'library') requestAnimationFrame(() => { pool.forEach((r) => { r._i = -1; }); ensurePool(); render(); });
  }

  function signedIn() {
    $('nav').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = S.user || '';
    showView('library');
    sendToken();
    loadProviders();
    search();
  }

  function signedOut(message) {
    S.token = null;
    sessionStorage.removeItem('sm_token');
    sessionStorage.removeItem('sm_user');
    sendToken();
    if (S.playing) stop();
    $('nav').hidden = true;
    $('who').hidden = true;
    $('detail').hidden = true;
    $('view-library').classList.add('nodetail');
    S.items = []; S.detailId = 0;
    showView('login');
    $('login-error').textContent = message || '';
    $('login-user').focus();
    markReady();
  }
  function sessionExpired() { signedOut('Your session has ended (token expired or revoked). Sign in again.'); }

  async function login(ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    $('login-submit').disabled = true;
    const username = $('login-user').value.trim();
    try {
      const d = await api('POST', '/api/v1/auth/login', { body: { username, password: $('login-pass').value }, noExpire: true });
      S.token = d.token; S.user = username;
      sessionStorage.setItem('sm_token', d.token);
      sessionStorage.setItem('sm_user', username);
      $('login-pass').value = '';
      signedIn();
    } catch (e) {
      $('login-error').textContent = e.status === 401 ? 'Wrong user name or password.'
        : e.status === 429 ? 'Too many sign-in attempts. ' + e.message : describe(e);
    } finally { $('login-submit').disabled = false; }
  }
  async function logout() {
    try { await api('POST', '/api/v1/auth/logout', { noExpire: true }); } catch (e) { /* signing out anyway */ }
    signedOut('Signed out.');
  }

  /* ------------------------------------------------------ wiring --- */
  function wire() {
    buildChips();
    buildWheel();
    $('login-form').addEventListener('submit', login);
    $('signout').addEventListener('click', logout);
    for (const t of document.querySelectorAll('.tab')) t.addEventListener('click', () => showView(t.dataset.view));
    $('search-form').addEventListener('submit', (e) => { e.preventDefault(); syncControls(); search(); });
    $('q').addEventListener('input', () => { syncControls(); searchSoon(); });
    $('q').addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') { e.preventDefault(); $('results').focus(); if (S.sel < 0) select(0, true); }
      if (e.key === 'Escape') { $('results').focus(); }
    });
    for (const r of document.querySelectorAll('input[name=loop]')) r.addEventListener('change', () => setFilter('loop', r.value));
    for (const [f, a, b] of [['bpm', 'bpm-min', 'bpm-max'], ['lufs', 'lufs-min', 'lufs-max'], ['duration', 'dur-min', 'dur-max']]) {
      const upd = () => setFilter(f, rangeText($(a).value, $(b).value));
      $(a).addEventListener('change', upd);
      $(b).addEventListener('change', upd);
    }
    $('key-compat').addEventListener('change', () => { if (S.keySel) setFilter('key', ($('key-compat').checked ? 'compatible:' : '') + S.keySel); else drawWheel(); });
    $('key-clear').addEventListener('click', () => setFilter('key', ''));
    $('clear-filters').addEventListener('click', () => { $('q').value = ''; syncControls(); search(); });
    const list = $('results');
    list.addEventListener('scroll', onScroll, { passive: true });
    list.addEventListener('keydown', listKeys);
    list.addEventListener('focus', () => { if (S.sel < 0 && S.items.length) { S.sel = 0; render(); } });
    new ResizeObserver(() => { ensurePool(); render(); }).observe(list);
    $('d-close').addEventListener('click', () => { $('detail').hidden = true; $('view-library').classList.add('nodetail'); S.detailId = 0; list.focus(); });
    $('d-play').addEventListener('click', () => { const it = S.items.find((x) => x.id === S.detailId) || (S.detail && { ...compact(S.detail), lufs: S.detail.loudness && S.detail.loudness.integrated_lufs }); playItem(it); });
    $('d-wave-box').addEventListener('click', (e) => {
      if (!S.playing || S.playing.id !== S.detailId || !(audio.duration > 0)) return;
      const r = $('d-wave-box').getBoundingClientRect();
      audio.currentTime = (e.clientX - r.left) / r.width * audio.duration;
    });
    $('tag-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('tag-input').value.trim();
      if (t) { changeTags({ add: [t] }); $('tag-input').value = ''; }
    });
    $('ai-form').addEventListener('submit', askAI);
    $('an-file').addEventListener('change', () => { const f = $('an-file').files[0]; if (f) analyzeFile(f); });
    $('scan-form').addEventListener('submit', startScan);
    $('status-refresh').addEventListener('click', loadStatus);
    $('p-stop').addEventListener('click', stop);
    for (const id of ['p-norm', 'p-target', 'p-vol']) $(id).addEventListener('input', applyGain);
    document.addEventListener('keydown', (e) => {
      const tag = (e.target && e.target.tagName) || '';
      const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA';
      if (e.key === '/' && !typing && S.token) { e.preventDefault(); $('q').focus(); $('q').select(); }
      else if (e.key === 'Escape' && !$('detail').hidden && S.view === 'library') { $('detail').hidden = true; $('view-library').classList.add('nodetail'); list.focus(); }
      else if (e.key === ' ' && !typing && tag !== 'BUTTON' && e.target !== list && e.target !== $('wheel') && S.playing) { e.preventDefault(); stop(); }
    });
    $('view-library').classList.add('nodetail');
    syncControls();
  }

  wire();
  swSetup();
  if (S.token) signedIn(); else signedOut('');
})();
