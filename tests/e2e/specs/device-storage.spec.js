// This device's storage and clock: whether the browser keeps the register for good (the
// Set-up card, and the status when changes wait only here), the room used and a full device
// (the quota made tiny through the DevTools protocol: the write is refused in plain words and
// nothing is half-written), and a device clock far from the server's `Date` header.

import { test, expect } from '@playwright/test';
import {
  AREA,
  alerts,
  checkA11y,
  open,
  putOnServer,
  section,
  setUpSite,
  screenshots,
  submitRange,
} from './helpers.js';

const suffix = Date.now().toString(36);
const PASSWORD = 'locker-room-42';
const origin = () => new URL(process.env.KEYWARD_URL).origin;
const card = (page) => section(page, "This device's storage");
const chip = (page) => page.locator('.statusbar .sync-chip');
const clockBanner = (page) => page.locator('.banner.clock');

/**
 * The browser's answer to `navigator.storage.persist()`, stubbed: headless Chromium 156 says
 * no whatever the DevTools protocol grants (`Browser.grantPermissions` durableStorage and
 * `Browser.setPermission` persistent-storage both leave it false). Counts how often the app
 * asked; `persisted()` says what the last `persist()` got.
 */
async function persistence(page, grant) {
  await page.addInitScript((grant) => {
    window.__persistAsked = 0;
    let kept = false;
    const storage = navigator.storage;
    storage.persisted = async () => kept;
    storage.persist = async () => {
      window.__persistAsked += 1;
      kept = grant;
      return kept;
    };
  }, grant);
}

/**
 * `navigator.storage.estimate()` stubbed to 900 MB of 1 GB: Chromium's
 * `Storage.overrideQuotaForOrigin` refuses writes beyond the quota but leaves `estimate()`
 * reporting the real one.
 */
async function nearlyFull(page) {
  await page.addInitScript(() => {
    navigator.storage.estimate = async () => ({ usage: 900e6, quota: 1e9 });
  });
}

async function addArea(page, name) {
  const form = section(page, 'Areas');
  await form.getByLabel('New area').fill(name);
  await form.getByRole('button', { name: 'Add area' }).click();
}

test('granted: the Set-up card says the register is kept for good, with the room used', async ({ page }) => {
  await persistence(page, true);
  await setUpSite(page);
  // The app asked once the site existed, and the browser agreed.
  await expect.poll(() => page.evaluate(() => window.__persistAsked)).toBe(1);
  await open(page, '/setup');
  await expect(card(page).getByText('Kept for good on this device.')).toBeVisible();
  await expect(card(page).getByRole('button', { name: 'Ask the browser to keep it' })).toHaveCount(0);
  await expect(card(page).locator('p.room')).toHaveText(/^Using \d+(\.\d)? (bytes|KB|MB) of \d+(\.\d)? (MB|GB)\.$/);
  await expect(card(page).getByRole('alert')).toHaveCount(0);
  // Nothing waits only here at risk: the status says only where the register is.
  await expect(chip(page)).toHaveText('This device only');
  expect(await checkA11y(page, 'setup: storage kept')).toEqual([]);
  await card(page).scrollIntoViewIfNeeded();
  await screenshots(page, 'device-storage-kept');
});

test('not granted: asked once a site exists, the card warns and asks again, waiting changes say so', async ({ page }) => {
  await persistence(page, false);
  await open(page, '/');
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward', level: 1 })).toBeVisible();
  // Never on the first paint of an empty device.
  expect(await page.evaluate(() => window.__persistAsked)).toBe(0);
  await setUpSite(page);
  await expect.poll(() => page.evaluate(() => window.__persistAsked)).toBe(1);
  // The site and its area wait only on this device, which may clear them.
  await expect(chip(page)).toHaveText('This device only · the browser may clear it');

  await open(page, '/setup');
  await expect(card(page).locator('p.warning')).toHaveText(
    "The browser may clear this device's register when space runs low or after weeks unused. Install the app (Add to Home screen) and sync often.",
  );
  await card(page).getByRole('button', { name: 'Ask the browser to keep it' }).click();
  await expect(card(page).getByRole('status')).toHaveText(
    'The browser did not agree yet. Installing the app or using it often makes it more likely.',
  );
  expect(await page.evaluate(() => window.__persistAsked)).toBeGreaterThanOrEqual(2);
  expect(await checkA11y(page, 'setup: storage not kept')).toEqual([]);
  await card(page).scrollIntoViewIfNeeded();
  await screenshots(page, 'device-storage-not-kept');

  // On a server, changes that cannot be sent yet say they are only here.
  await putOnServer(page, { username: `ds-${suffix}`, password: PASSWORD });
  await expect(clockBanner(page)).toHaveCount(0);
  await page.route('**/api/**', (route) => route.abort());
  await open(page, '/setup');
  await addArea(page, 'Sports hall');
  await expect(section(page, 'Areas').getByRole('listitem').filter({ hasText: 'Sports hall' })).toBeVisible();
  await expect(chip(page)).toHaveText(/^Offline · 1 change waiting · only on this device, which may clear them$/, { timeout: 20_000 });
  await screenshots(page, 'device-storage-waiting');
  await page.unroute('**/api/**');
});

test('a full device: the write is refused in plain words and the register is unchanged', async ({ page, context }) => {
  // A device with 256 KB left for Keyward, set through the DevTools protocol before the app
  // first opens its storage (Chromium applies it only to storage opened after it is set): the
  // walk-through's small changes fit, a range of 10,000 lockers (one event of about a
  // megabyte) does not.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: origin(), quotaSize: 256_000 });
  await setUpSite(page);
  await submitRange(page, 'A-00001', 'A-10000');
  await expect(alerts(page)).toHaveText(
    "This device is out of room, so nothing was recorded. Free some space on the device (photos, downloads or apps you do not need), then try again. Sync if you can, so the changes waiting here are safe on the server; then “Make room” under “This device's storage” on Set-up tidies the register's own storage.",
  );
  expect(await checkA11y(page, 'add lockers: device full')).toEqual([]);
  await screenshots(page, 'device-storage-full');

  // After a reload the register is as it was, nothing half-written, and a small change fits.
  await open(page, '/');
  await expect(page.getByText('This site has no lockers yet.')).toBeVisible();
  await open(page, '/setup');
  await addArea(page, 'Sports hall');
  await expect(section(page, 'Areas').getByRole('listitem')).toHaveText([AREA, 'Sports hall']);
  await expect(section(page, 'Areas').getByRole('alert')).toHaveCount(0);

  // "Make room", as the message says: on a device that does not sync there is nothing to
  // pack (every change waits in its outbox, kept as recorded), and it says so; nothing lost.
  await card(page).getByRole('button', { name: 'Make room' }).click();
  await expect(card(page).getByRole('status').last()).toHaveText(
    'Nothing to tidy: on a device that does not sync, every change is kept as recorded. Sync with a server, or take a backup and free space on the device.',
  );
  await page.reload();
  await expect(section(page, 'Areas').getByRole('listitem')).toHaveText([AREA, 'Sports hall']);
});

test("Make room packs a synced register's history, and nothing is lost", async ({ page }) => {
  await setUpSite(page);
  await putOnServer(page, { username: `mr-${suffix}`, password: PASSWORD });
  await expect(chip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
  await open(page, '/setup');
  await card(page).getByRole('button', { name: 'Make room' }).click();
  await expect(card(page).getByRole('status').last()).toHaveText(/^Tidied \d+ records of the register's history\.$/);
  await card(page).getByRole('button', { name: 'Make room' }).click();
  await expect(card(page).getByRole('status').last()).toHaveText("The register's storage is already tidy.");
  await page.reload();
  await expect(section(page, 'Areas').getByRole('listitem')).toHaveText([AREA]);
  await expect(chip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
});

test('nearly full: the Set-up card warns well before the device runs out', async ({ page }) => {
  await setUpSite(page);
  await nearlyFull(page);
  await open(page, '/setup');
  await expect(card(page).locator('p.room')).toHaveText('Using 900 MB of 1.0 GB.');
  await expect(card(page).getByRole('alert')).toHaveText(
    'This device is nearly out of room for Keyward. Sync, then free some space on the device (photos, downloads or apps you do not need), or changes cannot be recorded.',
  );
  expect(await checkA11y(page, 'setup: nearly full')).toEqual([]);
  await card(page).scrollIntoViewIfNeeded();
  await screenshots(page, 'device-storage-nearly-full');
});

test("a device clock 12 minutes behind the server's is warned about", async ({ page }) => {
  await page.clock.install({ time: new Date(Date.now() - 12 * 60_000) });
  await setUpSite(page);
  // No server answer yet: nothing to compare with.
  await expect(clockBanner(page)).toHaveCount(0);
  await putOnServer(page, { username: `dc-${suffix}`, password: PASSWORD });
  await expect(clockBanner(page)).toHaveText(
    "This device's clock is 12 minutes behind the server's. Set the date and time to automatic, or changes may be refused.",
  );
  expect(await checkA11y(page, 'sync: clock behind')).toEqual([]);
  await screenshots(page, 'device-clock-behind');
  // Set-up's storage card says it too.
  await open(page, '/setup');
  await expect(card(page).getByText("This device's clock is 12 minutes behind the server's.", { exact: false })).toBeVisible();
});

test("a device clock that agrees with the server's says so on Set-up", async ({ page }) => {
  await setUpSite(page);
  await putOnServer(page, { username: `dk-${suffix}`, password: PASSWORD });
  await open(page, '/setup');
  await expect(card(page).getByText("This device's clock agrees with the server's.")).toBeVisible();
  await expect(clockBanner(page)).toHaveCount(0);
});
