// Register benchmark, in Debian's headless Chromium against the built app served by
// keyward-server (run it with `cargo xtask bench`, which sets KEYWARD_URL).
//
// Prints, at an empty register, a 30-locker one and a generated 20,000-locker one:
//   - open: navigation start → the register (or the set-up walk-through) is on screen,
//     measured in the page by a MutationObserver; cold = first visit, warm = later visits
//     (service worker cache, IndexedDB already filled);
//   - keystroke: one character typed in the register search → the list is updated (all the
//     app's reactive work done), and → the next frame; p50 and p95 over many keystrokes.
// It measures and prints; it asserts nothing about speed.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.env.KEYWARD_URL;
if (!url) {
  console.error('KEYWARD_URL is not set: run `cargo xtask bench` from the workspace root.');
  process.exit(2);
}
const LOCKERS = Number(process.env.KEYWARD_BENCH_LOCKERS || 20000);
const WARM_RUNS = 5;

function generated(lockers) {
  const file = join(tmpdir(), `keyward-register-${lockers}.json`);
  if (!existsSync(file) || statSync(file).size === 0) {
    console.log(`generating a register of ${lockers} lockers…`);
    const json = execFileSync(
      'cargo',
      ['run', '--release', '--quiet', '-p', 'keyward-core', '--example', 'generate', '--', String(lockers)],
      { cwd: join(import.meta.dirname, '..', '..', '..'), maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    writeFileSync(file, json);
  }
  return file;
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => percentile(xs, 50);
const ms = (x) => `${x.toFixed(1)} ms`;

// Records when the register (or the empty-site walk-through) first shows.
const readyProbe = () => {
  window.__keywardReady = null;
  const seen = () =>
    document.querySelector('.rows li, #first-site, .empty') && window.__keywardReady === null;
  const observer = new MutationObserver(() => {
    if (seen()) {
      window.__keywardReady = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true });
};

async function openTime(page) {
  await page.goto(url);
  await page.waitForFunction(() => window.__keywardReady !== null, null, { timeout: 120_000 });
  return page.evaluate(() => window.__keywardReady);
}

async function warmOpen(page) {
  const times = [];
  for (let i = 0; i < WARM_RUNS; i++) times.push(await openTime(page));
  return median(times);
}

async function keystrokes(page) {
  await page.waitForSelector('#register-search');
  return page.evaluate(async () => {
    const input = document.getElementById('register-search');
    const macrotask = () => new Promise((r) => setTimeout(r, 0));
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const type = async (text, settle, out) => {
      input.value = '';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await frame();
      for (let i = 1; i <= text.length; i++) {
        const t0 = performance.now();
        input.value = text.slice(0, i);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await settle();
        out.push(performance.now() - t0);
      }
    };
    const queries = ['B07-0123', 'smith', 'p01234', 'block c floor 2', 'B13-0999', 'olivia k', 'A-012', 'zzzz'];
    const update = [];
    const painted = [];
    for (const q of queries) await type(q, macrotask, update);
    for (const q of queries) await type(q, frame, painted);
    input.value = '';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return { update, painted };
  });
}

async function setUpSmall(page) {
  await page.getByLabel('Your name').fill('Benchmark');
  await page.getByLabel('Site name').fill('Small School');
  await page.getByLabel('First area').fill('Main corridor');
  await page.getByRole('button', { name: 'Create site' }).click();
  await page.getByRole('link', { name: 'Add lockers' }).first().click();
  await page.getByLabel('From').fill('A-001');
  await page.getByLabel('To').fill('A-030');
  await page.getByRole('button', { name: 'Add lockers' }).click();
  await page.getByText('30 lockers added').waitFor();
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const rows = [];
try {
  // Empty register, then 30 lockers, in one profile.
  {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-GB' });
    await context.addInitScript(readyProbe);
    const page = await context.newPage();
    const cold = await openTime(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    const warm = await warmOpen(page);
    rows.push(['0 lockers', cold, warm, null]);
    await setUpSmall(page);
    const warm30 = await warmOpen(page);
    rows.push(['30 lockers', null, warm30, await keystrokes(page)]);
    await context.close();
  }
  // The generated register, restored from its backup file through the app's own restore.
  {
    const file = generated(LOCKERS);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-GB' });
    await context.addInitScript(readyProbe);
    const page = await context.newPage();
    await openTime(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.goto(new URL('/setup/backup', url).href);
    const t0 = Date.now();
    await page.setInputFiles('#restore-file', file);
    await page.getByText(/^Restored \d+ events\./).waitFor({ timeout: 300_000 });
    const restore = Date.now() - t0;
    const restored = await page.getByText(/^Restored \d+ events\./).textContent();
    // Opening the app packs the log once it is on screen (as a person would leave it open);
    // wait for that, so the warm openings below read the packed log.
    await openTime(page);
    const t1 = Date.now();
    await page.waitForFunction(
      () =>
        new Promise((resolve) => {
          const req = indexedDB.open('keyward');
          req.onsuccess = () => {
            const count = req.result.transaction('events').objectStore('events').count();
            count.onsuccess = () => {
              req.result.close();
              resolve(count.result === 0);
            };
          };
        }),
      null,
      { timeout: 120_000, polling: 500 },
    );
    console.log(`packing the restored log in IndexedDB: ${Date.now() - t1} ms after opening`);
    const warm = await warmOpen(page);
    const marks = await page.evaluate(() =>
      ['keyward:store-opened', 'keyward:idb-got', 'keyward:log-read', 'keyward:log-folded'].map((n) => [n, performance.getEntriesByName(n)[0]?.startTime]),
    );
    console.log(`opening the ${LOCKERS}-locker register, last run: ` + marks.map(([n, t]) => `${n.slice(8)} at ${ms(t ?? NaN)}`).join(', ') + `, register on screen at ${ms(await page.evaluate(() => window.__keywardReady))}`);
    const keys = await keystrokes(page);
    rows.push([`${LOCKERS.toLocaleString('en-GB')} lockers`, null, warm, keys]);
    console.log(`restore of the ${LOCKERS}-locker backup (${(statSync(file).size / 1e6).toFixed(1)} MB): ${restore} ms — ${restored}`);
    await context.close();
  }
} finally {
  await browser.close();
}

console.log('\nregister                open cold    open warm    keystroke p50 / p95 (updated)    (next frame)');
for (const [name, cold, warm, keys] of rows) {
  const k = keys
    ? `${ms(percentile(keys.update, 50))} / ${ms(percentile(keys.update, 95))} (n=${keys.update.length})`.padEnd(33) +
      `${ms(percentile(keys.painted, 50))} / ${ms(percentile(keys.painted, 95))}`
    : 'no search box: the empty site shows set-up';
  console.log(`${name.padEnd(22)}  ${(cold == null ? '-' : ms(cold)).padEnd(11)}  ${ms(warm).padEnd(11)}  ${k}`);
}
