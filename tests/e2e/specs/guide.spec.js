// The user guide's pictures (docs/guide.md): each task of the guide done for real in the built
// app at phone size, and the screen photographed as it stands then; each screen also passes
// axe. Every test run walks the guide and takes the pictures into the temp folder; with
// KEYWARD_GUIDE_PICTURES=1 they replace docs/images/ (tag ids and dates differ on every run,
// so only then): after changing a screen, run
//   KEYWARD_GUIDE_PICTURES=1 cargo xtask e2e guide
// look at the pictures, and commit them.

import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  gotoAddLockers,
  issueKey,
  nav,
  open,
  openLocker,
  openIssueForm,
  choosePerson,
  setUpSite,
} from './helpers.js';

const IMAGES = process.env.KEYWARD_GUIDE_PICTURES
  ? join(import.meta.dirname, '..', '..', '..', 'docs', 'images')
  : mkdtempSync(join(tmpdir(), 'keyward-guide-'));

/** Photographs the screen (the phone's viewport, as a person sees it) as IMAGES/NAME.png. */
async function picture(page, name) {
  expect(await checkA11y(page, name)).toEqual([]);
  await page.screenshot({ path: join(IMAGES, `${name}.png`) });
}

test('the user guide, task by task, photographed at phone size', async ({ page }) => {
  test.setTimeout(120_000);
  // First run: name, site, first area.
  await open(page, '/');
  await page.getByLabel('Your name').fill('Pat Caretaker');
  await page.getByLabel('Site name').fill('Hillside School');
  await page.getByLabel('First area').fill('Science block');
  await picture(page, 'first-run');
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(flash(page, 'Site set up. Now add its lockers.')).toBeVisible();

  // Lockers, a range at once.
  await gotoAddLockers(page);
  await page.getByLabel('A range').check();
  await page.getByLabel('From', { exact: true }).fill('S-001');
  await page.getByLabel('To', { exact: true }).fill('S-040');
  await picture(page, 'add-lockers');
  await addRange(page, 'S-001', 'S-040');

  // A lock and its keys; people.
  const { tags } = await fitLockWithKeys(page, 'S-012', 'K1012', 2);
  await addPerson(page, { name: 'Sam Jones', kind: 'Pupil', ref: 'P1042', dept: 'Year 9' });
  await addPerson(page, { name: 'Ali Khan', kind: 'Staff', ref: 'ST 77', dept: 'Science' });
  await picture(page, 'person');

  // Issuing a key.
  await openLocker(page, 'S-012');
  await openIssueForm(page, tags[0]);
  await choosePerson(page, 'Sam Jones');
  await picture(page, 'issue');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${tags[0]} issued to Sam Jones.`)).toBeVisible();
  await picture(page, 'locker');

  // The register, searched.
  await nav(page, 'Register').click();
  await page.getByRole('searchbox', { name: 'Search lockers' }).fill('');
  await expect(page.getByRole('link', { name: /^S-040 / })).toBeAttached();
  await picture(page, 'register');

  // Returning a key.
  await openLocker(page, 'S-012');
  await page.getByRole('link', { name: `Return key ${tags[0]}`, exact: true }).click();
  await page.getByLabel('Fine').check();
  await picture(page, 'return');
  await page.getByRole('button', { name: 'Record return' }).click();
  await expect(flash(page, `Key ${tags[0]} returned and back in store.`)).toBeVisible();

  // A key reported lost.
  await issueKey(page, tags[1], 'Ali Khan');
  await page.getByRole('link', { name: `Report key ${tags[1]} lost or stolen` }).click();
  await expect(page.getByRole('heading', { name: `Report key ${tags[1]} lost or stolen`, level: 1 })).toBeVisible();
  await picture(page, 'report-lost');

  // Labels to print.
  await open(page, '/labels');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await picture(page, 'labels');

  // An audit, walked.
  await nav(page, 'Set-up').click();
  await picture(page, 'setup');
  await page.getByRole('link', { name: 'Audits', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Audits', level: 1 })).toBeVisible();
  await page.getByLabel('The whole site').check();
  await page.getByRole('button', { name: 'Start audit' }).click();
  await expect(page.getByRole('heading', { name: /^Audit: /, level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'As expected', exact: true }).click();
  await picture(page, 'audit-walk');

  // Sync: putting the site on a server.
  await open(page, '/sync');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await picture(page, 'sync');
});
