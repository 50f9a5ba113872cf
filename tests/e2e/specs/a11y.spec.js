// Accessibility: axe (WCAG 2.0/2.1, A and AA) on every screen at phone size. No serious or
// critical violation may remain. All screens are scanned before the test fails, and each
// violation is printed with its rule, selector and advice.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  issueKey,
  nav,
  openIssueForm,
  openLocker,
  openRegister,
  setUpSite,
  submitRange,
  waitReady,
} from './helpers.js';

test('every screen passes axe (no serious or critical violations)', async ({ page }) => {
  const found = [];
  const scanned = [];
  const scan = async (screen) => {
    scanned.push(screen);
    found.push(...(await checkA11y(page, screen)));
  };
  const heading = (name) => expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();

  // Welcome, with its refusal showing.
  await page.goto('/');
  await waitReady(page);
  await heading('Welcome to Keyward');
  await scan('welcome');
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await scan('welcome with an error');

  await setUpSite(page);
  await scan('register, empty (with flash)');

  await page.getByRole('link', { name: 'Add lockers' }).click();
  await heading('Add lockers');
  await page.getByLabel('From', { exact: true }).fill('A-001');
  await page.getByLabel('To', { exact: true }).fill('A-030');
  await expect(page.getByText('Adds 30 lockers: A-001, A-002 … A-030')).toBeVisible();
  await scan('add lockers (range with preview)');
  await page.getByLabel('One locker').check();
  await expect(page.getByLabel('Locker number')).toBeVisible();
  await scan('add lockers (one locker)');
  await page.getByLabel('A range').check();
  await addRange(page, 'A-001', 'A-030');
  await scan('add lockers, after adding (flash)');
  await submitRange(page, 'A-025', 'A-026');
  await expect(page.getByRole('alert')).toContainText('Nothing was added');
  await scan('add lockers with an error');

  await openRegister(page);
  await expect(page.getByText('30 lockers', { exact: true })).toBeVisible();
  await scan('register, filled');
  await page.context().setOffline(true);
  await expect(page.getByRole('status').filter({ hasText: 'Offline.' })).toBeVisible();
  await scan('register, offline banner');
  await page.context().setOffline(false);
  await expect(page.getByRole('status').filter({ hasText: 'Offline.' })).toHaveCount(0);

  await openLocker(page, 'A-020');
  await scan('locker, no lock');
  const a12 = await fitLockWithKeys(page, 'A-012', 'K4471', 2);
  await scan('locker, with lock and keys');

  await nav(page, 'People').click();
  await heading('People');
  await scan('people, empty');
  await page.getByRole('link', { name: 'Add person' }).click();
  await heading('Add a person');
  await scan('add person');
  const sam = await addPerson(page, { name: 'Sam Jones', ref: 'P1234', dept: '7B' });
  await scan('person, no keys');
  await addPerson(page, { name: 'Alex Smith', kind: 'Staff', ref: 'S0042' });
  await nav(page, 'People').click();
  await expect(page.getByRole('link', { name: /^Sam Jones/ })).toBeVisible();
  await scan('people, filled');

  await openLocker(page, 'A-012');
  await openIssueForm(page, a12.tags[0]);
  await scan('issue form');
  await page.getByRole('searchbox', { name: 'Person', exact: true }).fill('s');
  await expect(page.getByRole('list', { name: 'Matching people' }).getByRole('button')).toHaveCount(2);
  await scan('issue form, person search');
  await page.getByRole('list', { name: 'Matching people' }).getByRole('button', { name: 'Sam Jones' }).click();
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await page.getByLabel('Signature', { exact: true }).check();
  await expect(page.getByLabel('Signature box: sign with your finger')).toBeVisible();
  await scan('issue form, temporary loan and signature');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(page.getByRole('alert').first()).toBeVisible();
  await scan('issue form with an error');

  await openLocker(page, 'A-012');
  await issueKey(page, a12.tags[0], 'Sam Jones');
  await scan('locker, key issued (flash)');

  await page.getByRole('link', { name: `Return key ${a12.tags[0]}` }).click();
  await heading(`Return key ${a12.tags[0]}`);
  await scan('return form');

  await page.goto(sam);
  await waitReady(page);
  await heading('Sam Jones');
  await scan('person, holding a key');
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await heading('Edit person');
  await scan('edit person');

  await nav(page, 'Set-up').click();
  await heading('Set-up');
  await scan('set-up');
  await page.getByRole('link', { name: 'Back up or restore the register' }).click();
  await heading('Backup');
  await scan('backup');

  await page.goto('/no/such/screen');
  await waitReady(page);
  await scan('not found');

  expect(scanned.length).toBeGreaterThanOrEqual(25);
  expect(found, `axe found serious or critical violations:\n${found.join('\n')}`).toEqual([]);
});

test('the axe check does report a serious violation', async ({ page }) => {
  await page.goto('/');
  await waitReady(page);
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = '/icon-192.png';
    document.querySelector('main').append(img);
  });
  const found = await checkA11y(page, 'welcome with an unlabelled image', { print: false });
  expect(found.join('\n')).toContain('image-alt');
});
