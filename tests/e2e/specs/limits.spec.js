// Free text has limits a person can see: a name needs a letter, a note stops at its limit with
// a count of its characters, and a long unbroken word does not push the page sideways.

import { test, expect } from '@playwright/test';
import {
  addRange,
  alerts,
  checkA11y,
  fitLockWithKeys,
  flash,
  historyLines,
  nav,
  screenshots,
  setUpSite,
} from './helpers.js';

test('a name of only emoji is refused with what to do', async ({ page }) => {
  await setUpSite(page);
  await nav(page, 'People').click();
  await page.getByRole('link', { name: 'Add person' }).click();
  await page.getByLabel('Name', { exact: true }).fill('🔑🙂');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(alerts(page)).toHaveCount(1);
  await expect(alerts(page)).toHaveText(
    "The person's name needs at least one letter: type it in letters, not only symbols or emoji.",
  );
  // With letters it is a name, emoji and all.
  await page.getByLabel('Name', { exact: true }).fill('Zoë Ní Bhriain 🔑');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(flash(page, 'Zoë Ní Bhriain 🔑 added.')).toBeVisible();
});

test('a note stops at 1,000 characters with a count, and a long word wraps', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-002');
  await fitLockWithKeys(page, 'A-001', 'K100', 1);
  const note = page.getByLabel('Note (optional)');
  // A short note: no count, nothing to distract.
  await note.fill('Bolt sticks');
  await expect(page.locator('.char-count')).toHaveCount(0);
  // 10,000 characters pasted: the field keeps 1,000 and says so.
  await note.fill('x'.repeat(10_000));
  expect((await note.inputValue()).length).toBe(1_000);
  await expect(page.locator('.char-count')).toHaveText('1,000 of 1,000 characters');
  expect(await checkA11y(page, 'locker: a note at its limit')).toEqual([]);
  await screenshots(page, 'limits-note');
  await page.getByLabel('Jammed', { exact: true }).check();
  await page.getByRole('button', { name: 'Record fault' }).click();
  await expect(flash(page, 'Fault recorded: jammed.')).toBeVisible();
  await expect(historyLines(page).first()).toBeVisible();
  // The history shows it without pushing the page sideways at 390 px.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(wide).toBeLessThanOrEqual(390);
});
