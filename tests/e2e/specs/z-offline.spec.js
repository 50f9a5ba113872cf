// Offline: once visited, the app opens from the service worker's cache with no network and no
// server, records a key issue on the device, and keeps it across reloads.
//
// This stops the server, so it runs last (the file name sorts last) and always restarts it
// with KEYWARD_SERVER_CMD before it ends.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  fitLockWithKeys,
  historyLines,
  issueKey,
  lockerStatus,
  openLocker,
  openRegister,
  registerCount,
  restartServer,
  section,
  serverAnswers,
  setUpSite,
  stopServer,
  ukToday,
  waitForServiceWorker,
  waitReady,
} from './helpers.js';

const OFFLINE_BANNER = 'Offline. Everything you record is kept on this device and sent when back online.';

test.afterAll(async () => {
  await restartServer();
});

test('with no network and no server the app opens, records a key issue and keeps it', async ({
  page,
  context,
}) => {
  // First visit, online: set up and let the service worker take the page.
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-030');
  const a7 = await fitLockWithKeys(page, 'A-007', 'K7007', 2);
  await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
  await waitForServiceWorker(page);

  try {
    // Cut everything off.
    await context.setOffline(true);
    await stopServer();
    expect(await serverAnswers()).toBe(false);

    // Reload: the app comes from the cache, with the register from IndexedDB.
    await page.goto(a7.url);
    await waitReady(page);
    await expect(page.getByRole('status').filter({ hasText: OFFLINE_BANNER })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Locker A-007', level: 1 })).toBeVisible();
    await expect(lockerStatus(page)).toHaveText('Free');
    await openRegister(page);
    await expect(registerCount(page)).toHaveText('30 lockers');

    // Issue a key offline.
    const tag = a7.tags[1];
    await openLocker(page, 'A-007');
    await issueKey(page, tag, 'Sam Jones');
    await expect(lockerStatus(page)).toHaveText('In use');

    // Reload, still offline: it is all still there.
    await page.reload();
    await waitReady(page);
    await expect(page.getByRole('status').filter({ hasText: OFFLINE_BANNER })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Locker A-007', level: 1 })).toBeVisible();
    await expect(lockerStatus(page)).toHaveText('In use');
    await expect(page.getByText('Held by Sam Jones', { exact: true })).toBeVisible();
    await expect(section(page, 'Keys').getByRole('listitem').filter({ hasText: tag })).toContainText(
      'Issued: Sam Jones',
    );
    await expect(historyLines(page).first()).toContainText(
      `Key ${tag} issued to Sam Jones on ${ukToday()}`,
    );
    // A screen not opened before this reload also comes from the cache.
    await page.goto('/people');
    await waitReady(page);
    await expect(page.getByRole('link', { name: /^Sam Jones.*1 key$/ })).toBeVisible();
  } finally {
    await context.setOffline(false);
    await restartServer();
  }

  // Back online with the server up: the banner goes and the record is unchanged.
  expect(await serverAnswers()).toBe(true);
  await page.goto(a7.url);
  await waitReady(page);
  await expect(page.getByText(OFFLINE_BANNER)).toHaveCount(0);
  await expect(lockerStatus(page)).toHaveText('In use');
});
