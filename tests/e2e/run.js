// Browser tests of the SampleMind page against a running `samplemind serve`.
//   SM_URL=http://127.0.0.1:PORT SM_USER=... SM_PASS=... SM_DROP=file.wav \
//   SM_SHOTS=dir [SM_ROOT_OUTSIDE=/some/dir] node run.js
// Prints "ok"/"FAIL" lines and "N passed, M failed"; exit status 1 on failures.
'use strict';
const fs = require('fs');
const path = require('path');
const { launch, assert, runner } = require('./lib');

const URL0 = process.env.SM_URL;
const USER = process.env.SM_USER;
const PASS = process.env.SM_PASS;
const DROP = process.env.SM_DROP;
const SHOTS = process.env.SM_SHOTS || 'e2e-screenshots';
const OUTSIDE = process.env.SM_ROOT_OUTSIDE || '/';

if (!URL0 || !USER || !PASS) {
  console.error('run.js: set SM_URL, SM_USER and SM_PASS');
  process.exit(2);
}
fs.mkdirSync(SHOTS, { recursive: true });

(async () => {
  const { context, close } = await launch();
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name + '.png') });
  const T = runner();

  // Everything the API answers for a query, through the page's own token.
  const apiItems = (q, limit = 1000) => page.evaluate(async ([q, limit]) => {
    const r = await fetch('/api/v1/audio/files?' + new URLSearchParams({ q, limit }),
      { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('sm_token') } });
    return (await r.json()).items;
  }, [q, limit]);
  // The rows on screen: [{id, name, cat, bpm, key, dur, lufs}], in list order.
  const rows = () => page.evaluate(() => [...document.querySelectorAll('#results .row')]
    .filter((r) => r.style.display !== 'none' && r.dataset.id)
    .map((r) => ({ i: parseInt(r.id.slice(4), 10), id: +r.dataset.id, name: r.children[0].textContent,
      cat: r.children[1].textContent, bpm: r.children[2].textContent, key: r.children[3].textContent,
      dur: r.children[5].textContent, lufs: r.children[6].textContent }))
    .sort((a, b) => a.i - b.i));
  const query = () => page.inputValue('#q');
  // Waits until the list shows the API's answer for the current query text.
  async function settled() {
    await page.waitForFunction(() => {
      const c = document.getElementById('count').textContent;
      return c && !c.startsWith('Searching');
    }, null, { timeout: 5000 });
    await page.waitForTimeout(80);
    const q = await query();
    const want = await apiItems(q, 30);
    await page.waitForFunction((ids) => {
      const got = [...document.querySelectorAll('#results .row')].filter((r) => r.style.display !== 'none' && r.dataset.id)
        .sort((a, b) => parseInt(a.id.slice(4), 10) - parseInt(b.id.slice(4), 10)).map((r) => +r.dataset.id);
      return ids.every((id, k) => got[k] === id) && (ids.length > 0 || got.length === 0);
    }, want.slice(0, 10).map((x) => x.id), { timeout: 5000 });
    return { q, want };
  }
  const audioState = () => page.evaluate(() => {
    const a = document.getElementById('audio');
    return { src: a.currentSrc || a.src, paused: a.paused, t: a.currentTime, id: a.dataset.id };
  });

  T.test('the page loads with the login form and no console errors', async () => {
    const res = await page.goto(URL0 + '/');
    assert(res.status() === 200, 'status ' + res.status());
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert(!consoleErrors.length, 'console: ' + consoleErrors.join(' | '));
  });

  T.test('a bad login shows a readable message', async () => {
    await page.fill('#login-user', USER);
    await page.fill('#login-pass', 'definitely-wrong');
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
    const msg = await page.textContent('#login-error');
    assert(/wrong user name or password/i.test(msg), 'message: ' + msg);
    assert(await page.isVisible('#login-form'), 'still on the login form');
    await shot('login-error');
  });

  T.test('sign in shows the library with results', async () => {
    await page.fill('#login-user', USER);
    await page.fill('#login-pass', PASS);
    await page.click('#login-submit');
    await page.waitForSelector('#view-library', { state: 'visible' });
    await page.waitForSelector('#results .row[data-id]:not([data-id=""])');
    const { want } = await settled();
    const got = await rows();
    assert(got.length >= Math.min(10, want.length), 'rows ' + got.length);
    assert(got[0].id === want[0].id, 'first row is the API first item');
    assert(await page.evaluate(() => !!sessionStorage.getItem('sm_token')), 'token kept in sessionStorage');
    await page.waitForTimeout(400); // waveforms
    await shot('library');
  });

  T.test('the token survives a reload (kept for the session)', async () => {
    await page.reload();
    await page.waitForSelector('#view-library', { state: 'visible' });
    await page.waitForSelector('#results .row[data-id]:not([data-id=""])');
  });

  T.test('free-word search narrows the results', async () => {
    await page.fill('#q', 'kick');
    const { want } = await settled();
    const got = await rows();
    assert(want.length > 0 && got.length > 0, 'some kicks');
    assert(got.every((r) => /kick/i.test(r.name) || r.cat === 'kick'), 'all rows match kick: ' + got.map((r) => r.name).join(','));
  });

  T.test('a category chip writes category: and filters', async () => {
    await page.fill('#q', '');
    await page.click('#chips .chip[data-cat="snare"]');
    assert(/category:snare/.test(await query()), 'query: ' + (await query()));
    await settled();
    const got = await rows();
    assert(got.length > 0 && got.every((r) => r.cat === 'snare'), 'all snares: ' + got.map((r) => r.cat).join(','));
    assert((await page.getAttribute('#chips .chip[data-cat="snare"]', 'aria-pressed')) === 'true', 'chip pressed');
    await page.click('#chips .chip[data-cat="kick"]');
    assert(/category:snare,kick/.test(await query()), 'two categories: ' + (await query()));
    await settled();
    const two = await rows();
    assert(two.every((r) => r.cat === 'snare' || r.cat === 'kick') && two.some((r) => r.cat === 'kick'), 'snares and kicks');
    await page.click('#clear-filters');
    await settled();
  });

  T.test('loop / one-shot toggle writes loop: and filters', async () => {
    await page.check('input[name=loop][value=yes]');
    assert(/loop:yes/.test(await query()), 'query: ' + (await query()));
    const { want } = await settled();
    assert(want.length > 0 && want.every((x) => x.loop === true), 'API items are loops');
    const loops = (await rows()).length;
    await page.check('input[name=loop][value=no]');
    assert(/loop:no/.test(await query()) && !/loop:yes/.test(await query()), 'replaced: ' + (await query()));
    const r2 = await settled();
    assert(r2.want.every((x) => x.loop === false), 'one-shots');
    assert((await rows()).length !== loops || r2.want.length !== loops, 'the list changed');
    await page.check('input[name=loop][value=""]');
    assert(!/loop:/.test(await query()), 'cleared');
  });

  T.test('BPM range writes bpm: and every row is inside it', async () => {
    const all = await apiItems('loop:yes');
    const bpms = all.map((x) => x.bpm).filter((x) => typeof x === 'number').sort((a, b) => a - b);
    assert(bpms.length >= 2, 'loops with a tempo');
    const lo = Math.floor(bpms[0]); const hi = Math.ceil(bpms[Math.floor(bpms.length / 2)]);
    await page.fill('#bpm-min', String(lo));
    await page.fill('#bpm-max', String(hi));
    await page.press('#bpm-max', 'Tab');
    assert((await query()).includes(`bpm:${lo}..${hi}`), 'query: ' + (await query()));
    await settled();
    const got = await rows();
    assert(got.length > 0 && got.every((r) => +r.bpm >= lo - 0.5 && +r.bpm <= hi + 0.5), 'bpm in range: ' + got.map((r) => r.bpm).join(','));
    await page.fill('#bpm-min', '');
    await page.fill('#bpm-max', '');
    await page.press('#bpm-max', 'Tab');
    assert(!/bpm:/.test(await query()), 'cleared: ' + (await query()));
  });

  T.test('key picker (Camelot wheel) and the compatible switch', async () => {
    const all = await apiItems('');
    const withKey = all.filter((x) => x.key && x.key.camelot);
    assert(withKey.length > 0, 'samples with a key');
    const cam = withKey[0].key.camelot;
    await page.click(`#wheel path[data-key="${cam}"]`, { force: true });
    assert((await query()).includes('key:' + cam), 'query: ' + (await query()));
    await settled();
    let got = await rows();
    assert(got.length > 0 && got.every((r) => r.key.endsWith(cam)), 'keys: ' + got.map((r) => r.key).join(','));
    await page.check('#key-compat');
    assert((await query()).includes('key:compatible:' + cam), 'compatible: ' + (await query()));
    await settled();
    const n = parseInt(cam, 10); const l = cam.slice(-1);
    const w = (k) => ((k + 11) % 12) + 1;
    const ok = new Set([cam, n + (l === 'A' ? 'B' : 'A'), w(n + 1) + l, w(n - 1) + l]);
    got = await rows();
    assert(got.length > 0 && got.every((r) => ok.has(r.key.split(' · ')[1])), 'compatible keys: ' + got.map((r) => r.key).join(','));
    await shot('key-wheel');
    await page.uncheck('#key-compat');
    await page.click('#key-clear');
    assert(!/key:/.test(await query()), 'cleared');
  });

  T.test('loudness and duration ranges filter', async () => {
    await page.fill('#lufs-min', '-20');
    await page.fill('#lufs-max', '-10');
    await page.press('#lufs-max', 'Tab');
    assert((await query()).includes('lufs:-20..-10'), 'query: ' + (await query()));
    await settled();
    let got = await rows();
    assert(got.every((r) => +r.lufs >= -20.05 && +r.lufs <= -9.95), 'lufs: ' + got.map((r) => r.lufs).join(','));
    await page.fill('#dur-min', '0.5');
    await page.fill('#dur-max', '2');
    await page.press('#dur-max', 'Tab');
    assert((await query()).includes('duration:0.5..2'), 'query: ' + (await query()));
    await settled();
    got = await rows();
    assert(got.length > 0 && got.every((r) => parseFloat(r.dur) >= 0.49 && parseFloat(r.dur) <= 2.01), 'dur: ' + got.map((r) => r.dur).join(','));
    await page.click('#clear-filters');
    await settled();
  });

  T.test('typing a filter in the search box updates the controls', async () => {
    await page.fill('#q', 'category:bass loop:no');
    await settled();
    assert((await page.getAttribute('#chips .chip[data-cat="bass"]', 'aria-pressed')) === 'true', 'bass chip pressed');
    assert(await page.isChecked('input[name=loop][value=no]'), 'one-shot radio checked');
    await page.fill('#q', '');
    await settled();
  });

  T.test('a bad query shows the API error with its position', async () => {
    await page.fill('#q', 'kick bpm:12x');
    await page.waitForFunction(() => document.getElementById('q-error').textContent.includes('not a number'), null, { timeout: 5000 });
    const txt = await page.textContent('#q-error');
    assert(txt.includes('^'), 'caret under the token: ' + txt);
    await shot('query-error');
    await page.fill('#q', '');
    await settled();
  });

  T.test('Down arrow auditions the next sample (audio src and playback)', async () => {
    await page.focus('#results');
    await page.keyboard.press('Home');
    const r0 = (await rows())[0];
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => document.getElementById('audio').dataset.id === String(id), r0.id);
    await page.keyboard.press('ArrowDown');
    const r1 = (await rows())[1];
    await page.waitForFunction((id) => {
      const a = document.getElementById('audio');
      return a.dataset.id === String(id) && !a.paused && a.currentTime > 0.05;
    }, r1.id, { timeout: 8000 });
    const st = await audioState();
    assert(st.src.endsWith('/api/v1/audio/files/' + r1.id + '/audio'), 'src ' + st.src);
    const sel = await page.getAttribute('#results', 'aria-activedescendant');
    assert(sel === 'row-1', 'selection moved: ' + sel);
    await page.waitForTimeout(150);
    await shot('playing');
  });

  T.test('Space stops playback', async () => {
    await page.focus('#results');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.getElementById('audio').paused);
  });

  T.test('the detail panel shows the descriptors', async () => {
    await page.waitForSelector('#detail', { state: 'visible' });
    await page.waitForFunction(() => document.querySelectorAll('#d-desc table').length > 3, null, { timeout: 5000 });
    const txt = await page.textContent('#d-desc');
    for (const w of ['loudness', 'integrated lufs', 'spectral', 'centroid', 'mfcc', 'timbre', 'brightness', 'category', 'duration', 'sample_rate', 'envelope']) {
      assert(txt.toLowerCase().includes(w), 'descriptor ' + w + ' missing');
    }
    await shot('detail');
  });

  T.test('similar sounds are listed and play from the panel', async () => {
    await page.waitForSelector('#d-similar li[data-id]', { timeout: 5000 });
    const first = await page.getAttribute('#d-similar li[data-id]', 'data-id');
    await page.click('#d-similar li[data-id] button');
    await page.waitForFunction((id) => {
      const a = document.getElementById('audio');
      return a.dataset.id === id && (a.currentSrc || a.src).endsWith('/files/' + id + '/audio');
    }, first, { timeout: 5000 });
    await page.click('#p-stop');
  });

  T.test('an AI answer from the builtin provider', async () => {
    await page.selectOption('#ai-task', 'genre');
    await page.selectOption('#ai-provider', 'builtin');
    await page.click('#ai-ask');
    await page.waitForSelector('#ai-out .ai-meta', { timeout: 8000 });
    const meta = await page.textContent('#ai-out .ai-meta');
    assert(/provider: builtin/.test(meta) && /model: /.test(meta) && /cached: (yes|no)/.test(meta) && /latency: /.test(meta) && /cost: /.test(meta), 'meta: ' + meta);
    assert((await page.$$('#ai-out li')).length > 0, 'genres listed');
    await page.selectOption('#ai-task', 'pairing');
    await page.selectOption('#ai-provider', '');
    await page.click('#ai-ask');
    await page.waitForFunction(() => document.querySelector('#ai-out a'), null, { timeout: 8000 });
    await shot('ai');
  });

  T.test('tags are added and removed from the detail panel', async () => {
    const settled = () => page.waitForFunction(() => {
      const t = document.getElementById('tag-msg').textContent; return t && t !== 'Saving…';
    });
    await page.fill('#tag-input', 'e2e');
    await page.press('#tag-input', 'Enter');
    await settled();
    assert(/Saved/.test(await page.textContent('#tag-msg')), 'add: ' + await page.textContent('#tag-msg'));
    const chip = page.locator('#d-tags button[aria-label="Remove tag e2e"]');
    assert(await chip.count() === 1, 'the new tag is shown');
    await chip.click();
    await settled();
    assert(/Saved/.test(await page.textContent('#tag-msg')), 'remove: ' + await page.textContent('#tag-msg'));
    assert(await page.locator('#d-tags button[aria-label="Remove tag e2e"]').count() === 0, 'the tag is gone');
  });

  T.test('dropping a file analyzes it and lists similar sounds', async () => {
    assert(DROP && fs.existsSync(DROP), 'SM_DROP file');
    const b64 = fs.readFileSync(DROP).toString('base64');
    await page.evaluate(([b64, name]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'audio/wav' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    }, [b64, path.basename(DROP)]);
    await page.waitForSelector('#view-analyze', { state: 'visible' });
    await page.waitForFunction(() => /analyzed in/.test(document.getElementById('an-status').textContent), null, { timeout: 15000 });
    await page.waitForSelector('#an-similar li[data-id]', { timeout: 8000 });
    const txt = await page.textContent('#an-desc');
    assert(/loudness/i.test(txt) && /duration/i.test(txt), 'descriptors shown');
    assert(await page.isHidden('#dropzone'), 'drop overlay gone');
    await shot('analyze');
  });

  T.test('admin: a scan runs with live progress, the status view fills', async () => {
    await page.click('.tab[data-view=admin]');
    await page.waitForFunction(() => /samples/.test(document.getElementById('status').textContent), null, { timeout: 5000 });
    const st = await page.textContent('#status');
    assert(/hits/.test(st) && /builtin/.test(st), 'cache hit rate and providers: ' + st.slice(0, 200));
    await page.click('#scan-start');
    await page.waitForFunction(() => /: done/.test(document.getElementById('scan-status').textContent), null, { timeout: 30000 });
    assert((await page.getAttribute('#scan-bar', 'aria-valuenow')) === '100', 'progress 100');
    await shot('admin');
  });

  T.test('an API error from the server is shown (scan outside the roots)', async () => {
    await page.fill('#scan-root', OUTSIDE);
    await page.click('#scan-start');
    await page.waitForFunction(() => /\[(403|400|404) /.test(document.getElementById('scan-status').textContent), null, { timeout: 5000 });
    await page.fill('#scan-root', '');
  });

  T.test('every main control is reachable with Tab', async () => {
    await page.click('.tab[data-view=library]');
    await page.focus('#q');
    const seen = new Set();
    for (let k = 0; k < 80; k++) {
      await page.keyboard.press('Tab');
      seen.add(await page.evaluate(() => {
        const a = document.activeElement;
        return a.id || (a.dataset && a.dataset.cat ? 'chip' : a.className || a.tagName);
      }));
    }
    for (const want of ['chip', 'bpm-min', 'wheel', 'key-compat', 'lufs-min', 'dur-max', 'results', 'ai-task', 'ai-ask', 'p-vol']) {
      assert(seen.has(want), 'not reachable: ' + want + ' (seen ' + [...seen].join(',') + ')');
    }
  });

  T.test('narrow window keeps the list usable', async () => {
    await page.setViewportSize({ width: 420, height: 820 });
    await page.click('#d-close').catch(() => {});
    await page.waitForTimeout(200);
    const got = await rows();
    assert(got.length > 0, 'rows shown');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, 'no horizontal overflow: ' + overflow);
    await shot('narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  T.test('sign out returns to the login form and forgets the token', async () => {
    await page.click('#signout');
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert(await page.evaluate(() => !sessionStorage.getItem('sm_token')), 'token gone');
    assert(!consoleErrors.filter((e) => !/401|403|404|400/.test(e)).length, 'console: ' + consoleErrors.join(' | '));
  });

  const failed = await T.run((name) => shot('FAIL-' + name.replace(/[^a-z0-9]+/gi, '-')));
  await close();
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
