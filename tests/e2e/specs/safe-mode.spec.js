// A register this device cannot read opens in safe mode: it says what is wrong, changes
// nothing, saves every record as a file, and on a device that syncs fetches the register
// again from the server. Never a silent wipe, never a blank register that looks normal.

import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRange,
  checkA11y,
  openRegister,
  putOnServer,
  registerCount,
  screenshots,
  setUpSite,
  waitReady,
} from './helpers.js';

const suffix = Math.random().toString(36).slice(2, 8);
const PASSWORD = 'basement-corridor-keys';

/** Writes a record that is not an event into the confirmed log, as a damaged store would. */
async function damageTheLog(page) {
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('keyward');
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction('events', 'readwrite');
          tx.objectStore('events').put('{"id": "not an event"', 999999);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
}

/** How many records each store holds, read straight from IndexedDB. */
async function recordCounts(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('keyward');
        req.onsuccess = async () => {
          const db = req.result;
          const names = [...db.objectStoreNames];
          const tx = db.transaction(names, 'readonly');
          const counts = {};
          await Promise.all(
            names.map(
              (n) =>
                new Promise((done) => {
                  const c = tx.objectStore(n).count();
                  c.onsuccess = () => {
                    counts[n] = c.result;
                    done();
                  };
                }),
            ),
          );
          db.close();
          resolve(counts);
        };
        req.onerror = () => reject(req.error);
      }),
  );
}

async function saveRaw(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  expect(download.suggestedFilename()).toMatch(/^keyward-raw-\d{4}-\d{2}-\d{2}-\d{4}\.json$/);
  const file = join(mkdtempSync(join(tmpdir(), 'keyward-raw-')), download.suggestedFilename());
  await download.saveAs(file);
  return JSON.parse(readFileSync(file, 'utf8'));
}

test('a damaged record on a device that does not sync: safe mode, nothing changed, everything saved', async ({
  page,
}) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-012');
  await damageTheLog(page);
  const before = await recordCounts(page);

  await page.reload();
  const heading = page.getByRole('heading', {
    name: "Safe mode: part of this device's register cannot be read",
    level: 1,
  });
  await expect(heading).toBeVisible();
  await expect(page.getByText('Keyward found 1 record in this device')).toBeVisible();
  await page.getByText('What cannot be read').click();
  await expect(page.getByText(/^events record 999999: /)).toBeVisible();
  await expect(page.getByText('This device does not sync with a server')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Fetch the register again from the server' })).toHaveCount(0);
  // Not a register that looks normal: no list of lockers, no "no lockers yet".
  await expect(page.getByText('This site has no lockers yet.')).toHaveCount(0);
  await checkA11y(page, 'safe mode', { print: false });
  await screenshots(page, 'safe-mode-device-only');

  const raw = await saveRaw(page, page.getByRole('button', { name: 'Save everything as a file' }));
  expect(raw.keyward_raw).toBe(1);
  expect(raw.stores.events.some(([key, value]) => key === 999999 && value === '{"id": "not an event"')).toBe(true);
  // The good records too: a device that never synced keeps its changes in the outbox.
  expect(raw.stores.outbox.length).toBeGreaterThanOrEqual(3);
  await expect(page.getByText(/^Saved as keyward-raw-/)).toBeVisible();

  // Nothing was changed: the same records, and safe mode again after another reload.
  expect(await recordCounts(page)).toEqual(before);
  await page.reload();
  await expect(heading).toBeVisible();
});

test('a damaged record on a device that syncs: the raw copy is saved, then the register is fetched again', async ({
  page,
}) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-012');
  await putOnServer(page, { username: `safe-${suffix}`, password: PASSWORD });
  await damageTheLog(page);

  await page.reload();
  await expect(
    page.getByRole('heading', { name: "Safe mode: part of this device's register cannot be read" }),
  ).toBeVisible();
  await expect(page.getByText("Only this device's copy of what is already on the server is damaged.")).toBeVisible();
  await screenshots(page, 'safe-mode-syncs');

  // The pull is held back, as on a slow link: until it ends, no register (nor the first-run
  // screen) may show as if it were the site's.
  let release;
  const released = new Promise((resolve) => (release = resolve));
  await page.route('**/api/pull**', async (route) => {
    await released;
    await route.continue();
  });

  // Fetching again saves the raw copy first, then replaces the damaged copy.
  const raw = await saveRaw(page, page.getByRole('button', { name: 'Fetch the register again from the server' }));
  expect(raw.stores.events.some(([key]) => key === 999999)).toBe(true);
  // The page reloads by itself once the damaged copy is dropped, then waits for the pull.
  const fetching = page.getByRole('heading', { name: 'Fetching the register again from the server' });
  await expect(fetching).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole('heading', { name: /Safe mode/ })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward' })).toHaveCount(0);
  await expect(registerCount(page)).toHaveCount(0);
  expect(await checkA11y(page, 'fetching the register again')).toEqual([]);
  await screenshots(page, 'safe-mode-refetching');
  // The register's own screen, and after a reload, while the pull is held back: the same.
  await page.goto('/');
  await expect(fetching).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward' })).toHaveCount(0);
  await expect(registerCount(page)).toHaveCount(0);
  await page.reload();
  await expect(fetching).toBeVisible({ timeout: 15_000 });
  await expect(registerCount(page)).toHaveCount(0);
  release();
  await expect(fetching).toHaveCount(0, { timeout: 20_000 });
  await page.unroute('**/api/pull**');
  await waitReady(page);
  await openRegister(page);
  await expect(registerCount(page)).toHaveText('12 lockers', { timeout: 20_000 });
  const after = await recordCounts(page);
  expect(after.events + after.packs).toBeGreaterThanOrEqual(3);
  await page.reload();
  await expect(page.getByRole('heading', { name: /Safe mode/ })).toHaveCount(0);
});
