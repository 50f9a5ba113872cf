// A new version of the service worker is offered, not forced: a banner "A new version of
// Keyward is ready." with "Reload"; tapping it switches to the new worker and reloads.
//
// The test changes the served sw.js (a comment appended) in the dist folder the server serves
// (KEYWARD_DIST, else the workspace's dist/) and always puts it back.

import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { checkA11y, distDir, setUpSite, waitForServiceWorker, waitReady } from './helpers.js';

const BANNER = 'A new version of Keyward is ready.';

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
