// Search that forgives, on a phone: locker numbers as people type them, people whatever their
// accents, a pasted label URL or tag id, a lock code; and near-duplicate locker numbers that
// ask "Did you mean …?" and need an explicit confirmation.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  alerts,
  checkA11y,
  flash,
  fitLockWithKeys,
  gotoAddLockers,
  nav,
  openIssueForm,
  openLocker,
  openRegister,
  registerCount,
  screenshots,
  setUpSite,
  storedLabels,
  submitOneLocker,
  submitRange,
} from './helpers.js';

/** The numbers of the register's rows, in the order shown. */
function rowNumbers(page) {
  return page.locator('ul.rows li .number');
}

async function searchRegister(page, text) {
  const search = await openRegister(page);
  await search.fill(text);
  return search;
}

test('the register, People and the issue form find what people type', async ({ page, baseURL }) => {
  await setUpSite(page);
  await addRange(page, 'S001', 'S012');
  await addRange(page, 'A-001', 'A-030');
  const s004 = await fitLockWithKeys(page, 'S004', 'KA-4471', 1);
  const [tag] = s004.tags;

  // Locker numbers: case, spaces, hyphens and leading zeros aside; the locker comes first.
  for (const typed of ['S4', ' s4 ', 'S-004', 's 4', 's004']) {
    await searchRegister(page, typed);
    await expect(rowNumbers(page).first(), typed).toHaveText('S004');
  }
  await searchRegister(page, 'S4');
  await expect(registerCount(page)).toHaveText('1 locker');
  for (const typed of ['a12', 'A-12', 'A012', 'a 12']) {
    await searchRegister(page, typed);
    await expect(rowNumbers(page).first(), typed).toHaveText('A-012');
  }
  // A number not there finds nothing.
  await searchRegister(page, 'S13');
  await expect(registerCount(page)).toHaveText('No lockers match. Check the number, or clear the search.');

  // A lock's code finds its locker (this device's user may see key codes).
  for (const typed of ['KA-4471', 'ka 4471']) {
    await searchRegister(page, typed);
    await expect(rowNumbers(page), typed).toHaveText(['S004']);
  }

  // A pasted key-tag URL or a typed tag id: the key one tap away, its locker first.
  for (const typed of [`${baseURL}/k/${tag}`, `https://keys.elsewhere.example/k/${tag}`, tag.toLowerCase()]) {
    await searchRegister(page, typed);
    await expect(page.getByRole('link', { name: `Open key ${tag} of locker S004` }), typed).toBeVisible();
    await expect(rowNumbers(page).first(), typed).toHaveText('S004');
  }
  expect(await checkA11y(page, 'register, a pasted key-tag URL')).toEqual([]);
  await page.getByRole('link', { name: `Open key ${tag} of locker S004` }).click();
  await expect(page.getByRole('heading', { name: `Key ${tag}`, level: 1 })).toBeVisible();
  // A label URL naming nothing here says so.
  await searchRegister(page, `${baseURL}/l/ZZZZZZZZZZ`);
  await expect(page.getByText('That label is not in the register on this device.')).toBeVisible();

  // People: accents and case aside, and by reference with any spacing.
  await addPerson(page, { name: 'Zoë Ní Bhriain', kind: 'Pupil', ref: 'P4471', dept: '9C' });
  await addPerson(page, { name: 'Sam Jones', kind: 'Pupil', ref: 'P1234', dept: '7B' });
  await nav(page, 'People').click();
  const people = page.getByRole('searchbox', { name: 'Search people' });
  const names = page.locator('ul.rows .name');
  for (const typed of ['zoe', 'ZOË', 'ni bhriain', 'NI BHRIAIN', 'p 4471', 'p-4471']) {
    await people.fill(typed);
    await expect(names, typed).toHaveText(['Zoë Ní Bhriain']);
  }
  await people.fill('zoe sam');
  await expect(page.locator('p.count')).toHaveText('Nobody matches.');

  // The issue form's person search.
  await openLocker(page, 'S004');
  await openIssueForm(page, tag);
  await page.getByLabel('A person').check();
  const person = page.getByRole('searchbox', { name: 'Person', exact: true });
  const matching = page.getByRole('list', { name: 'Matching people' }).getByRole('button');
  for (const typed of ['zoe', 'ni bhriain', 'P 4471']) {
    await person.fill(typed);
    await expect(matching, typed).toHaveCount(1);
    await expect(matching.first(), typed).toContainText('Zoë Ní Bhriain');
  }
});

test('a pasted locker label URL finds its locker first', async ({ page, baseURL }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-030');
  // Print A-007's label, so it gets its reference.
  await openLocker(page, 'A-007');
  await page.getByRole('link', { name: 'Print its label' }).click();
  await expect(page.getByRole('heading', { name: 'Print labels', level: 1 })).toBeVisible();
  const host = new URL(baseURL).host;
  await page.getByLabel('Keyward address for this site').fill(`https://${host}/`);
  await page.getByLabel('Found keys go to').fill('the school office');
  await page.getByRole('button', { name: 'Save address' }).click();
  await expect(page.getByText(`QR codes open https://${host}: a phone's camera`, { exact: false })).toBeVisible();
  await page.evaluate(() => {
    window.print = () => {
      window.__printed = (window.__printed || 0) + 1;
    };
  });
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(1);
  const [label] = await storedLabels(page);
  expect(label.label).toBeTruthy();
  for (const typed of [`${baseURL}/l/${label.label}`, ` HTTPS://KEYS.ELSEWHERE.EXAMPLE/L/${label.label} `]) {
    await searchRegister(page, typed);
    await expect(rowNumbers(page), typed).toHaveText(['A-007']);
  }
  await page.getByRole('link', { name: /^A-007 / }).click();
  await expect(page.getByRole('heading', { name: 'Locker A-007', level: 1 })).toBeVisible();
});

test('a near-duplicate locker number asks "Did you mean …?" and needs an explicit yes', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'S001', 'S012');
  await addRange(page, 'A-001', 'A-030');

  // "S4" beside S004: refused with the question, nothing added.
  await submitOneLocker(page, 'S4');
  const prompt = page.locator('.did-you-mean');
  await expect(prompt.getByRole('heading', { name: 'Did you mean S004?' })).toBeVisible();
  await expect(prompt).toContainText('S4 differs from locker S004 only in capitals, spaces, hyphens or leading zeros');
  await expect(prompt.getByRole('link', { name: 'Open S004' })).toBeVisible();
  const anyway = prompt.getByRole('button', { name: 'Add S4 anyway' });
  await expect(anyway).toBeVisible();
  // Shown once: the question, not the question and an error under the button.
  await expect(page.getByText('Did you mean S004?')).toHaveCount(1);
  await expect(alerts(page)).toHaveCount(1);
  await expect(flash(page, 'added')).toHaveCount(0);
  // The "yes" is within a thumb's reach without scrolling, at 390×844.
  const box = await anyway.boundingBox();
  expect(box.y + box.height).toBeLessThanOrEqual(844);
  expect(box.height).toBeGreaterThanOrEqual(44);
  expect(await checkA11y(page, 'add lockers, did you mean')).toEqual([]);
  await screenshots(page, 'search-did-you-mean');

  // Changing the number withdraws the question; "Open S004" goes to the existing locker.
  await page.getByLabel('Locker number').fill('S44');
  await expect(prompt).toHaveCount(0);
  await page.getByLabel('Locker number').fill('s 4');
  await page.getByRole('button', { name: 'Add lockers' }).click();
  await expect(prompt.getByRole('heading', { name: 'Did you mean S004?' })).toBeVisible();
  await prompt.getByRole('link', { name: 'Open S004' }).click();
  await expect(page.getByRole('heading', { name: 'Locker S004', level: 1 })).toBeVisible();

  // Confirmed: S4 is added beside S004, and an exact search finds it first.
  await submitOneLocker(page, 'S4');
  await page.locator('.did-you-mean').getByRole('button', { name: 'Add S4 anyway' }).click();
  await expect(flash(page, 'Locker S4 added.')).toBeVisible();
  await searchRegister(page, 's4');
  await expect(rowNumbers(page)).toHaveText(['S4', 'S004']);

  // A number with inner spaces is tidied: " b 12 " is B12; then "B-012" is like it.
  await submitOneLocker(page, ' b 12 ');
  await expect(flash(page, 'Locker B12 added.')).toBeVisible();
  await submitOneLocker(page, 'B-012');
  await expect(page.locator('.did-you-mean').getByRole('heading', { name: 'Did you mean B12?' })).toBeVisible();
  // " a 12 " is A12, like A-012.
  await submitOneLocker(page, ' a 12 ');
  await expect(page.locator('.did-you-mean').getByRole('heading', { name: 'Did you mean A-012?' })).toBeVisible();
  await expect(page.locator('.did-you-mean').getByRole('button', { name: 'Add A12 anyway' })).toBeVisible();
  // Not alike: A120 is not A12, S13 is new.
  await submitOneLocker(page, 'S13');
  await expect(flash(page, 'Locker S13 added.')).toBeVisible();

  // A range alike an existing one asks once for the whole range.
  await submitRange(page, 'A1', 'A5');
  const rangePrompt = page.locator('.did-you-mean');
  await expect(rangePrompt.getByRole('heading', { name: 'Did you mean A-001?' })).toBeVisible();
  await expect(rangePrompt).toContainText('5 numbers of this range look like lockers already here');
  await expect(rangePrompt).toContainText('A1 like A-001');
  expect(await checkA11y(page, 'add lockers, did you mean (range)')).toEqual([]);
  await screenshots(page, 'search-did-you-mean-range');
  await rangePrompt.getByRole('button', { name: 'Add A1 to A5 anyway' }).click();
  await expect(flash(page, '5 lockers added, A1 to A5.')).toBeVisible();
});

test('a range that is too big is said once, where it happened', async ({ page }) => {
  await setUpSite(page);
  await gotoAddLockers(page);
  await page.getByLabel('A range').check();
  await page.getByLabel('From', { exact: true }).fill('A1');
  await page.getByLabel('To', { exact: true }).fill('A30000');
  const said = page.getByText(/That range has 30000 lockers/);
  await expect(said).toHaveCount(1);
  await page.getByRole('button', { name: 'Add lockers' }).click();
  // Still once, now read out as the refusal.
  await expect(alerts(page)).toHaveCount(1);
  await expect(alerts(page)).toContainText('That range has 30000 lockers');
  await expect(said).toHaveCount(1);
  expect(await checkA11y(page, 'add lockers, range too big')).toEqual([]);
  await screenshots(page, 'search-range-too-big');
});
