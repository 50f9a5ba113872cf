// Lock changes and faults: faults recorded (staff may) show in the history and, repeated,
// put the lock on "Locks to replace"; a lock change says first which keys it retires and who
// still holds one, then the locker lists the retired keys with their holders and the history
// shows the change. A damaged key returned is retired and its replacement ordered in one flow.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  historyLines,
  issueKey,
  openLocker,
  section,
  setUpSite,
  waitReady,
  screenshots,
} from './helpers.js';


/** Screenshots of the current screen at phone and tablet width (/tmp/ui-lost-<name>-*.png). */
function shots(page, name) {
  return screenshots(page, `ui-lost-${name}`);
}

async function recordFault(page, kind, note) {
  await page.getByLabel(kind, { exact: true }).check();
  await page.getByLabel('Note (optional)').fill(note);
  await page.getByRole('button', { name: 'Record fault' }).click();
  await expect(flash(page, `Fault recorded: ${kind.toLowerCase()}.`)).toBeVisible();
}

test('faults flag a lock; a lock change retires the old keys, lists who still holds one, and shows in the history', async ({
  page,
}) => {
  const found = [];
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-005');
  await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
  const a3 = await fitLockWithKeys(page, 'A-003', 'L3003', 3);
  await issueKey(page, a3.tags[0], 'Sam Jones');

  // Three faults: each in the history; the lock is flagged and listed under Set-up.
  await recordFault(page, 'Jammed', 'Bolt sticks');
  await expect(historyLines(page).first()).toContainText('Fault: Jammed. Notes: Bolt sticks');
  await recordFault(page, 'Broken', 'Handle loose');
  await recordFault(page, 'Other', 'Door rubs');
  await expect(page.getByText('3 faults recorded on this lock.')).toBeVisible();
  await expect(page.getByText('Repeated faults: this lock should be replaced.')).toBeVisible();
  found.push(...(await checkA11y(page, 'locker with faults')));
  await shots(page, 'locker-faults');
  await page.goto('/locks-to-replace');
  await waitReady(page);
  await expect(page.getByRole('link', { name: /^A-003 Science block · 3 faults/ })).toBeVisible();
  found.push(...(await checkA11y(page, 'locks to replace')));
  await shots(page, 'locks-to-replace');

  // The lock change says what it will do before it is confirmed.
  await openLocker(page, 'A-003');
  await page.getByRole('link', { name: 'Change the lock' }).click();
  await expect(page.getByRole('heading', { name: 'Change the lock: locker A-003', level: 1 })).toBeVisible();
  await expect(page.getByText(`Every key of the old lock will be retired (3): ${a3.tags.join(', ')}.`)).toBeVisible();
  await expect(page.getByText(`Tell Sam Jones: their key no longer opens this locker (key ${a3.tags[0]}).`)).toBeVisible();
  found.push(...(await checkA11y(page, 'change the lock')));
  await shots(page, 'change-lock');
  await page.getByRole('button', { name: 'Change the lock and retire the old keys' }).click();
  await expect(page.getByRole('alert')).toHaveCount(1);
  await page.getByLabel('New lock code').fill('L3NEW');
  await page.getByLabel('Reason').fill('Lock worn out');
  await page.getByRole('button', { name: 'Change the lock and retire the old keys' }).click();

  // Back on the locker: the flash tells whom to tell; the old keys are retired.
  await expect(page.getByRole('heading', { name: 'Locker A-003', level: 1 })).toBeVisible();
  await expect(flash(page, 'Lock changed on locker A-003. 3 old keys retired. Tell Sam Jones: their key no longer opens this locker.')).toBeVisible();
  await expect(section(page, 'Lock').locator('dd').nth(1)).toHaveText('L3NEW');
  const retired = section(page, 'Retired keys');
  for (const tag of a3.tags) await expect(retired.getByText(tag, { exact: true })).toBeVisible();
  await expect(retired.getByText(/Retired while out: Sam Jones still has it/)).toHaveCount(1);
  await expect(retired.getByText('Retired', { exact: true })).toHaveCount(2);
  await expect(historyLines(page).first()).toContainText(
    'Lock changed: new keyed lock, every key of the old lock retired. Reason: Lock worn out',
  );
  await expect(page.getByText('0 faults recorded on this lock.')).toBeVisible();
  found.push(...(await checkA11y(page, 'locker after a lock change')));
  await shots(page, 'locker-changed');
  expect(found).toEqual([]);
});

test('a key returned damaged is retired and its replacement ordered in one flow', async ({ page }) => {
  const found = [];
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-005');
  await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
  const a4 = await fitLockWithKeys(page, 'A-004', 'L4004', 1);
  await issueKey(page, a4.tags[0], 'Sam Jones');
  await page.getByRole('link', { name: `Return key ${a4.tags[0]}`, exact: true }).click();
  await page.getByLabel('Damaged').check();
  await page.getByLabel('Retire it and order a replacement').check();
  found.push(...(await checkA11y(page, 'return damaged')));
  await shots(page, 'return-damaged');
  await page.getByRole('button', { name: 'Record return' }).click();
  await expect(page.getByRole('heading', { name: 'New order', level: 1 })).toBeVisible();
  await expect(flash(page, `Key ${a4.tags[0]} returned damaged and retired. Order its replacement.`)).toBeVisible();
  await expect(page.getByLabel('Locker', { exact: true })).toHaveValue('A-004');
  await page.getByLabel('Supplier name').fill('Keys R Us');
  await page.getByRole('button', { name: 'Add supplier' }).click();
  await expect(flash(page, 'Supplier Keys R Us added.')).toBeVisible();
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Order from Keys R Us', level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Order sheet' }).getByRole('cell', { name: 'L4004' })).toBeVisible();

  // Received in part: one of two.
  await page.getByLabel('Line 1: locker A-004, user key (2 to come)').fill('1');
  await page.getByRole('button', { name: 'Record as received' }).click();
  await expect(flash(page, '1 new key received')).toBeVisible();
  await expect(page.locator('header.page-head .badge')).toHaveText('Part received');
  await expect(page.getByLabel('Line 1: locker A-004, user key (1 to come)')).toHaveValue('1');

  await openLocker(page, 'A-004');
  await expect(historyLines(page).filter({ hasText: `Key ${a4.tags[0]} retired: Returned damaged` })).toHaveCount(1);
  expect(found).toEqual([]);
});
