// Bad input: each refusal shows a plain-English message (role=alert) and changes nothing.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  alerts,
  choosePerson,
  fitLockWithKeys,
  flash,
  historyLines,
  lockerRow,
  lockerStatus,
  nav,
  openIssueForm,
  openLocker,
  openRegister,
  registerCount,
  section,
  setUpSite,
  submitOneLocker,
  submitRange,
  ukToday,
  waitReady,
} from './helpers.js';

/** A message meant for a person: no code words, no empty placeholders. */
async function expectPlainMessage(alert) {
  const text = (await alert.innerText()).trim();
  expect(text.length).toBeGreaterThan(15);
  expect(text).not.toMatch(/undefined|null|NaN|panic|exception|Error:|\{|\}|\[object/i);
}

async function expectRegisterUnchanged(page, count = '30 lockers') {
  await openRegister(page);
  await expect(registerCount(page)).toHaveText(count);
}

test.describe('bad input is refused with a message and changes nothing', () => {
  test.beforeEach(async ({ page }) => {
    await setUpSite(page);
    await addRange(page, 'A-001', 'A-030');
  });

  test('a range that collides with existing lockers adds none of them', async ({ page }) => {
    await submitRange(page, 'A-025', 'A-035');
    const alert = alerts(page);
    await expect(alert).toHaveCount(1);
    await expect(alert).toContainText('Nothing was added');
    await expect(alert).toContainText('6 lockers already exist');
    for (const n of ['A-025', 'A-026', 'A-027', 'A-028', 'A-029', 'A-030']) {
      await expect(alert).toContainText(n);
    }
    await expect(alert).not.toContainText('A-031');
    await expectPlainMessage(alert);
    await expect(flash(page, 'lockers added')).toHaveCount(0);
    // The form keeps what was typed, so it can be corrected.
    await expect(page.getByLabel('From', { exact: true })).toHaveValue('A-025');

    await expectRegisterUnchanged(page);
    const search = page.getByRole('searchbox', { name: 'Search lockers' });
    await search.fill('A-031');
    await expect(registerCount(page)).toHaveText('No lockers match. Check the number, or clear the search.');

    // A range that does not collide still works afterwards.
    await addRange(page, 'A-031', 'A-035');
    await expectRegisterUnchanged(page, '35 lockers');
  });

  test('a single locker that exists, typed with spaces and in lower case, is refused', async ({ page }) => {
    await submitOneLocker(page, ' a-012 ');
    const alert = alerts(page);
    await expect(alert).toHaveCount(1);
    await expect(alert).toContainText('Locker A-012 already exists');
    await expectPlainMessage(alert);
    await expect(flash(page, 'added')).toHaveCount(0);
    await expectRegisterUnchanged(page);
    await page.getByRole('searchbox', { name: 'Search lockers' }).fill('A-012');
    await expect(registerCount(page)).toHaveText('1 locker');
  });

  test('a range whose ends do not match is refused', async ({ page }) => {
    await submitRange(page, 'A-001', 'B-010');
    await expect(alerts(page)).toHaveCount(1);
    await expect(alerts(page)).toContainText('start differently');
    await expectPlainMessage(alerts(page));
    await submitRange(page, 'A-040', 'A-031');
    await expect(alerts(page)).toContainText('The range runs backwards');
    await expectPlainMessage(alerts(page));
    await expectRegisterUnchanged(page);
  });

  test('a key issued in another tab cannot be issued again', async ({ page, context }) => {
    const a12 = await fitLockWithKeys(page, 'A-012', 'K4471', 2);
    await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
    await addPerson(page, { name: 'Alex Smith', ref: 'P5678' });
    const tag = a12.tags[0];
    await openLocker(page, 'A-012');
    await openIssueForm(page, tag);
    const issueUrl = page.url();

    // The same form in a second tab, filled in for someone else.
    const second = await context.newPage();
    await second.goto(issueUrl);
    await waitReady(second);
    await expect(second.getByLabel('Key', { exact: true }).locator('option:checked')).toContainText(tag);
    await choosePerson(second, 'Alex Smith');

    // The first tab issues it.
    await page.bringToFront();
    await choosePerson(page, 'Sam Jones');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(flash(page, `Key ${tag} issued to Sam Jones.`)).toBeVisible();

    // The second tab submits: it is told the key is out, and nothing is recorded.
    await second.bringToFront();
    await second.getByRole('button', { name: 'Issue key' }).click();
    const refusal = second.getByRole('alert').filter({ hasText: `Key ${tag} is issued` });
    await expect(refusal.first()).toBeVisible();
    await expect(refusal.first()).toContainText('cannot be issued');
    await expectPlainMessage(refusal.first());
    await expect(second.getByRole('heading', { name: /^Issue a key: locker A-012/ })).toBeVisible();
    await expect(flash(second, 'issued to Alex Smith')).toHaveCount(0);

    // Exactly one holder and one "issued" line, in both tabs and after a reload.
    for (const p of [second, page]) {
      await p.goto(a12.url);
      await waitReady(p);
      await expect(lockerStatus(p)).toHaveText('In use');
      await expect(p.getByText(/^Held by/)).toHaveText('Held by Sam Jones');
      await expect(section(p, 'Keys').getByRole('listitem').filter({ hasText: tag })).toContainText(
        'Issued: Sam Jones',
      );
      await expect(historyLines(p).filter({ hasText: 'issued to' })).toHaveCount(1);
      await expect(historyLines(p).filter({ hasText: 'Alex Smith' })).toHaveCount(0);
    }
    await second.close();
  });

  test('issuing with no person, or on a date that does not exist, is refused', async ({ page }) => {
    const a12 = await fitLockWithKeys(page, 'A-012', 'K4471', 2);
    await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
    const tag = a12.tags[0];
    await openLocker(page, 'A-012');
    await openIssueForm(page, tag);

    // Nobody chosen.
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toHaveCount(1);
    await expect(alerts(page)).toContainText('Choose the person taking the key');
    await expectPlainMessage(alerts(page));

    // Someone typed in the search but not tapped.
    await page.getByRole('searchbox', { name: 'Person', exact: true }).fill('Nobody Here');
    await expect(page.getByText('Nobody matches. Add them under People first.')).toBeVisible();
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toContainText('Choose the person taking the key');

    // 31 February.
    await choosePerson(page, 'Sam Jones');
    await page.getByLabel('Date issued').fill('31/02/2026');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toHaveCount(1);
    await expect(alerts(page)).toContainText('Enter the issue date as day/month/year');
    await expectPlainMessage(alerts(page));

    // Garbage date.
    await page.getByLabel('Date issued').fill('next tuesday');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toContainText('Enter the issue date as day/month/year');

    // A temporary loan with no date to come back, then one due back before it was issued.
    await page.getByLabel('Date issued').fill(ukToday());
    await page.getByLabel('Temporary loan (due back on a date)').check();
    await expect(page.getByLabel('Due back', { exact: true })).toBeVisible();
    // It is prefilled from the area's policy: empty it.
    await page.getByLabel('Due back', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toContainText('Enter when the key is due back as day/month/year');
    await expectPlainMessage(alerts(page));
    await page.getByLabel('Date issued').fill('10/03/2026');
    await page.getByLabel('Due back', { exact: true }).fill('09/03/2026');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toContainText('is before the issue date');
    await expectPlainMessage(alerts(page));

    // No typed name.
    await page.getByLabel('Temporary loan (due back on a date)').uncheck();
    await page.getByLabel('Name typed by the person taking the key').fill('');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await expect(alerts(page)).toContainText('Confirm the issue');
    await expectPlainMessage(alerts(page));

    // Nothing was recorded.
    await expect(page.getByRole('heading', { name: /^Issue a key: locker A-012/ })).toBeVisible();
    await page.goto(a12.url);
    await waitReady(page);
    await expect(lockerStatus(page)).toHaveText('Free');
    await expect(section(page, 'Keys').getByRole('link', { name: /^Issue key / })).toHaveCount(2);
    await expect(historyLines(page).filter({ hasText: 'issued' })).toHaveCount(0);
  });

  test('empty fields on the other forms are refused', async ({ page }) => {
    // A lock with no code.
    await openLocker(page, 'A-005');
    await page.getByRole('button', { name: 'Fit lock' }).click();
    await expect(alerts(page)).toHaveCount(1);
    await expect(alerts(page)).toContainText("Enter the lock's code");
    await expectPlainMessage(alerts(page));
    await expect(lockerStatus(page)).toHaveText('No lock');

    // Keys: not a number, then too many.
    await page.getByLabel('Lock code').fill('K100');
    await page.getByRole('button', { name: 'Fit lock' }).click();
    await expect(flash(page, 'Lock fitted.')).toBeVisible();
    await page.getByLabel('How many').fill('');
    await page.getByRole('button', { name: 'Add keys' }).click();
    await expect(alerts(page)).toContainText('Enter how many keys to add');
    await expectPlainMessage(alerts(page));
    await page.getByLabel('How many').fill('0');
    await page.getByRole('button', { name: 'Add keys' }).click();
    await expect(alerts(page)).toContainText('Choose how many keys to add: from 1 to');
    await expect(section(page, 'Keys')).toContainText('No keys recorded for this lock yet.');

    // Out of service with no reason.
    await page.getByRole('button', { name: 'Take out of service' }).click();
    await expect(section(page, 'Service').getByRole('alert')).toContainText(
      'Enter the reason the locker is out of service',
    );
    await expect(lockerStatus(page)).toHaveText('Free');

    // A person with no name, then a reference that is taken.
    await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
    await nav(page, 'People').click();
    await page.getByRole('link', { name: 'Add person' }).click();
    await page.getByRole('button', { name: 'Add person' }).click();
    await expect(alerts(page)).toContainText("Enter the person's name.");
    await page.getByLabel('Name', { exact: true }).fill('Sam Jonas');
    await page.getByLabel('Pupil or staff number (optional)').fill('p1234');
    await page.getByRole('button', { name: 'Add person' }).click();
    await expect(alerts(page)).toContainText('Reference P1234 already belongs to Sam Jones');
    await expectPlainMessage(alerts(page));
    await nav(page, 'People').click();
    await expect(page.getByRole('link', { name: /^Sam J/ })).toHaveCount(1);
    await expect.soft(page.locator('p.count'), 'one person is counted as "1 person"').toHaveText('1 person');

    // An empty locker number.
    await submitOneLocker(page, '   ');
    await expect(alerts(page)).toContainText('Enter a locker number');
    await expectRegisterUnchanged(page);
    await expect(lockerRow(page, 'A-005')).toHaveAccessibleName(/Free$/);
  });
});

test('the first-run form asks for what is missing', async ({ page }) => {
  await page.goto('/');
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(alerts(page)).toContainText('Enter your name');
  await page.getByLabel('Your name').fill('Pat Caretaker');
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(alerts(page)).toContainText('Enter a first area');
  await page.getByLabel('First area').fill('Main corridor');
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(alerts(page)).toContainText('Enter a name for the site');
  await expectPlainMessage(alerts(page));
  await page.reload();
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward', level: 1 })).toBeVisible();
});
