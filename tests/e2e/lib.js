// Shared helpers: launch Debian's chromium through playwright-core (never a
// downloaded browser), a tiny sequential test runner, and small assertions.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.SM_CHROMIUM || '/usr/bin/chromium';

async function launch(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm-e2e-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required', '--mute-audio',
    ],
    viewport: opts.viewport || { width: 1280, height: 800 },
    acceptDownloads: false,
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { context, close };
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg || 'assertion failed');
}

function runner() {
  const tests = [];
  return {
    test: (name, fn) => tests.push({ name, fn }),
    async run(onFail) {
      let passed = 0;
      let failed = 0;
      for (const t of tests) {
        const t0 = Date.now();
        try {
          await t.fn();
          passed++;
          console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
        } catch (e) {
          failed++;
          console.log(`FAIL ${t.name}: ${(e && e.message ? e.message : String(e)).split('\n').slice(0, 6).join('\n     ')}`);
          if (onFail) await onFail(t.name).catch(() => {});
        }
      }
      console.log(`${passed} passed, ${failed} failed`);
      return failed;
    },
  };
}

module.exports = { launch, assert, runner };
