// A new version of the service worker is offered, not forced: a banner "A new version of
// Keyward is ready." with "Reload"; tapping it switches to the new worker and reloads.
//
// The test changes the served sw.js (a comment appended) in the dist folder the server serves
// (KEYWARD_DIST, else the workspace's dist/) and always puts it back.

import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import {
  addPerson,
  checkA11y,
  distDir,
  open,
  putOnServer,
  setUpSite,
  waitForServiceWorker,
  waitReady,
} from './helpers.js';

const chip = (page) => page.locator('.statusbar .sync-chip');
const suffix = Math.random().toString(36).slice(2, 8);

const BANNER = 'A new version of Keyward is ready.';

/** Serves a changed sw.js until `restore` is called: the next update check finds a new version. */
function changeServiceWorker() {
  const swPath = path.join(distDir(), 'sw.js');
  const original = fs.readFileSync(swPath, 'utf8');
  fs.writeFileSync(swPath, `${original}\n// e2e update ${Date.now()}\n`);
  return () => fs.writeFileSync(swPath, original);
}

test('an update arriving while a change is unsynced keeps the change and sends it', async ({ page }) => {
  test.setTimeout(120_000);
  await setUpSite(page);
  await putOnServer(page, { username: `swu-${suffix}`, password: 'locker-room-42' });
  await waitForServiceWorker(page);
  await expect(chip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });

  // The server does not take pushes for now: the change waits on the device.
  await page.route('**/api/push**', (route) => route.abort());
  await addPerson(page, { name: 'Ali Khan', ref: 'P200' });
  await expect(chip(page)).toContainText('1 change waiting', { timeout: 20_000 });

  const restore = changeServiceWorker();
  try {
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    const banner = page.getByRole('status').filter({ hasText: BANNER });
    await expect(banner).toBeVisible({ timeout: 15_000 });
    await Promise.all([page.waitForEvent('load'), banner.getByRole('button', { name: 'Reload' }).click()]);
    await waitReady(page);
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).waiting === null),
    ).toBe(true);
  } finally {
    restore();
  }
  // The new version still holds the change, waiting; once the server takes pushes it is sent.
  await expect(chip(page)).toContainText('1 change waiting', { timeout: 20_000 });
  await open(page, '/people');
  await expect(page.getByText('Ali Khan')).toBeVisible();
  await page.unroute('**/api/push**');
  await open(page, '/sync');
  await page.getByRole('button', { name: 'Sync now' }).first().click();
  await expect(chip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
});

test('a new service worker is offered with a banner and taken on Reload', async ({ page, baseURL }) => {
  const swPath = path.join(distDir(), 'sw.js');
  const original = fs.readFileSync(swPath, 'utf8');
  // Make sure this is the file the server serves, so the test changes the right one.
  const served = await (await fetch(new URL('/sw.js', baseURL), { cache: 'no-store' })).text();
  expect(served, `${swPath} is not the sw.js served at ${baseURL}: set KEYWARD_DIST`).toBe(original);

  try {
    await setUpSite(page);
    await waitForServiceWorker(page);
    await expect(page.getByText(BANNER)).toHaveCount(0);
    const before = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return { waiting: reg.waiting !== null, active: reg.active?.state };
    });
    expect(before).toEqual({ waiting: false, active: 'activated' });

    fs.writeFileSync(swPath, `${original}\n// e2e update ${Date.now()}\n`);
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());

    const banner = page.getByRole('status').filter({ hasText: BANNER });
    await expect(banner).toBeVisible({ timeout: 15_000 });
    await expect(banner.getByRole('button', { name: 'Reload' })).toBeVisible();
    expect.soft(await checkA11y(page, 'update banner')).toEqual([]);
    // Nothing was swapped yet: the new worker waits for the person to choose.
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).waiting !== null),
    ).toBe(true);

    await page.evaluate(() => {
      window.__beforeUpdate = true;
    });
    await Promise.all([
      page.waitForEvent('load'),
      banner.getByRole('button', { name: 'Reload' }).click(),
    ]);
    await waitReady(page);

    // A new document, controlled by the new worker; nothing left waiting, no banner.
    expect(await page.evaluate(() => window.__beforeUpdate)).toBeUndefined();
    const after = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return {
        waiting: reg.waiting !== null,
        installing: reg.installing !== null,
        active: reg.active?.state,
        controlled: navigator.serviceWorker.controller !== null,
      };
    });
    expect(after).toEqual({ waiting: false, installing: false, active: 'activated', controlled: true });
    await expect(page.getByText(BANNER)).toHaveCount(0);
    // The register is still there.
    await expect(page.getByText('This site has no lockers yet.')).toBeVisible();
  } finally {
    fs.writeFileSync(swPath, original);
  }
});
