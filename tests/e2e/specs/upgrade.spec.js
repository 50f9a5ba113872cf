// The register's IndexedDB schema changing while more than one tab is open: the tab that
// upgrades never hangs, the tab left behind is told to reload, and nothing recorded is lost.

import { test, expect } from '@playwright/test';
import {
  addRange,
  checkA11y,
  openRegister,
  registerCount,
  screenshots,
  setUpSite,
  waitReady,
} from './helpers.js';

// Pages below open the origin without the app (to hold or upgrade the database by hand); the
// service worker would answer those with the app, so it is kept out of this file's tests.
test.use({ serviceWorkers: 'block' });

/** The version of the database the app opens (`DB_VERSION` in src/storage.rs). */
async function dbVersion(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('keyward');
        req.onsuccess = () => {
          const v = req.result.version;
          req.result.close();
          resolve(v);
        };
        req.onerror = () => reject(req.error);
      }),
  );
}

test('a newer version opening the register in another tab: this tab closes its hold and says to reload', async ({
  page,
  context,
}) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-012');
  const version = await dbVersion(page);

  // Another tab runs a newer Keyward: it upgrades the database one version up.
  const newer = await context.newPage();
  await newer.goto('/manifest.webmanifest');
  const upgraded = await newer.evaluate(
    (v) =>
      new Promise((resolve) => {
        const req = indexedDB.open('keyward', v + 1);
        req.onblocked = () => resolve('blocked');
        req.onsuccess = () => {
          req.result.close();
          resolve('opened');
        };
        req.onerror = () => resolve(`error: ${req.error}`);
      }),
    version,
  );
  expect(upgraded, 'the newer tab is never left waiting on this one').toBe('opened');

  await page.bringToFront();
  const banner = page.getByRole('alert').filter({ hasText: 'Keyward was updated in another tab' });
  await expect(banner).toBeVisible();
  await expect(banner.getByRole('button', { name: 'Reload' })).toBeVisible();
  await checkA11y(page, 'storage replaced by a newer version', { print: false });
  await screenshots(page, 'upgrade-replaced');
});

test('an older tab holding the register: the upgrade waits, says why, and finishes once it lets go', async ({
  page,
  context,
}) => {
  // What the app expects, learnt from a first opening in another context-free page.
  await page.goto('/');
  await waitReady(page);
  const version = await dbVersion(page);
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.deleteDatabase('keyward');
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      }),
  );
  await page.close();

  // An older Keyward that does not let go when asked: the database one version back, held
  // open with no versionchange handler (as the app before this version did).
  const older = await context.newPage();
  await older.goto('/manifest.webmanifest');
  await older.evaluate(
    (v) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('keyward', v - 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          db.createObjectStore('events', { autoIncrement: true });
          for (const name of ['packs', 'outbox', 'rejected', 'meta']) db.createObjectStore(name);
        };
        req.onsuccess = () => {
          window.__held = req.result;
          resolve();
        };
        req.onerror = () => reject(req.error);
      }),
    version,
  );

  const app = await context.newPage();
  await app.goto('/');
  const banner = app.getByRole('alert').filter({ hasText: 'Close Keyward in your other tabs' });
  await expect(banner).toBeVisible();
  await checkA11y(app, 'storage upgrade waiting for another tab', { print: false });
  await screenshots(app, 'upgrade-blocked');

  // The old tab lets go (closed, or reloaded onto the new version): the upgrade finishes.
  await older.close();
  await waitReady(app);
  await expect(banner).toHaveCount(0);
  expect(await dbVersion(app)).toBe(version);
  await setUpSite(app);
  await addRange(app, 'A-001', 'A-003');
  await app.reload();
  await waitReady(app);
  await openRegister(app);
  await expect(registerCount(app)).toHaveText('3 lockers');
});
