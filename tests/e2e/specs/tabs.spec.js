// Two tabs on one register stay consistent without a reload (BroadcastChannel).

import { test, expect } from '@playwright/test';
import {
  AREA,
  addRange,
  fitLockWithKeys,
  flash,
  historyLines,
  issueKey,
  lockerRow,
  lockerStatus,
  openLocker,
  openRegister,
  addPerson,
  registerCount,
  setUpSite,
  waitReady,
} from './helpers.js';

test('lockers added and keys issued in one tab show in the other without a reload', async ({
  page,
  context,
}) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-030');
  await openRegister(page);
  await expect(registerCount(page)).toHaveText('30 lockers');

  const other = await context.newPage();
  await other.goto('/');
  await waitReady(other);
  await expect(registerCount(other)).toHaveText('30 lockers');
  // Marks the second tab's document, to prove it is never reloaded.
  await other.evaluate(() => {
    window.__sameDocument = true;
  });

  // Tab 1 adds a range; tab 2's register shows it.
  await page.bringToFront();
  await addRange(page, 'B-001', 'B-010');
  await expect(registerCount(other)).toHaveText('40 lockers');
  await expect(lockerRow(other, 'B-010')).toHaveAccessibleName(`B-010 ${AREA} No lock`);
  await other.getByRole('searchbox', { name: 'Search lockers' }).fill('B-0');
  await expect(registerCount(other)).toHaveText('10 lockers');
  await other.getByRole('searchbox', { name: 'Search lockers' }).fill('');

  // Tab 2 opens a locker; tab 1 fits its lock and issues a key; tab 2's page follows.
  await other.bringToFront();
  await lockerRow(other, 'B-003').click();
  await expect(other.getByRole('heading', { name: 'Locker B-003', level: 1 })).toBeVisible();
  await expect(lockerStatus(other)).toHaveText('No lock');

  await page.bringToFront();
  const b3 = await fitLockWithKeys(page, 'B-003', 'K9001', 2);
  await expect(lockerStatus(other)).toHaveText('Free');
  await expect(other.getByRole('link', { name: /^Issue key / })).toHaveCount(2);

  await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
  await openLocker(page, 'B-003');
  await issueKey(page, b3.tags[0], 'Sam Jones');
  await expect(lockerStatus(other)).toHaveText('In use');
  await expect(other.getByText('Held by Sam Jones', { exact: true })).toBeVisible();
  await expect(historyLines(other).first()).toContainText(`Key ${b3.tags[0]} issued to Sam Jones`);

  // The flash stays in the tab that did it.
  await expect(flash(other, 'issued')).toHaveCount(0);
  expect(await other.evaluate(() => window.__sameDocument)).toBe(true);
  await other.close();
});
