// A temporary loan to a department, confirmed by a signature drawn on screen with a finger
// (mouse here): the locker shows it as on loan, due back, with the signature in its history.

import { test, expect } from '@playwright/test';
import {
  addRange,
  alerts,
  fitLockWithKeys,
  flash,
  historyLines,
  lockerStatus,
  openIssueForm,
  setUpSite,
  ukToday,
} from './helpers.js';

function ukDate(daysAhead) {
  const d = new Date();
  d.setDate(d.getDate() + daysAhead);
  return d.toLocaleDateString('en-GB', { timeZone: 'Europe/London' });
}

test('a key on a temporary loan to a department with a drawn signature', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'G-1', 'G-3');
  const { tags } = await fitLockWithKeys(page, 'G-2', 'S-200', 1);
  await openIssueForm(page, tags[0]);

  await page.getByLabel('A department').check();
  await page.getByLabel('Department', { exact: true }).fill('  PE   department ');
  await page.getByLabel('Temporary loan (due back on a date)').check();
  const due = ukDate(3);
  await page.getByLabel('Due back', { exact: true }).fill(due);
  await page.getByLabel('Signature', { exact: true }).check();

  // No signature drawn yet: refused, nothing recorded.
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(alerts(page)).toContainText('Confirm the issue');

  const pad = page.getByLabel('Signature box: sign with your finger');
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 20, box.y + box.height * 0.5);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(box.x + 20 + i * 18, box.y + box.height * (0.5 - 0.3 * Math.sin(i / 2)));
  }
  await page.mouse.up();
  await page.getByRole('button', { name: 'Issue key' }).click();

  await expect(flash(page, `Key ${tags[0]} issued to PE department.`)).toBeVisible();
  await expect(lockerStatus(page)).toHaveText('On loan');
  await expect(page.getByText(`On loan: PE department, due back ${due}`)).toBeVisible();
  const issued = historyLines(page).first();
  await expect(issued).toContainText(
    `Key ${tags[0]} issued to PE department on ${ukToday()}, due back ${due} (signed)`,
  );
  const signature = issued.getByRole('img', { name: 'The signature given' });
  await expect(signature).toBeVisible();
  const path = await signature.locator('path').getAttribute('d');
  expect(path).toMatch(/^M\d+ \d+( L\d+ \d+){12}$/);

  // Kept after a reload, signature and all.
  await page.reload();
  await expect(lockerStatus(page)).toHaveText('On loan');
  await expect(historyLines(page).first().locator('path')).toHaveAttribute('d', path);
});

test('a temporary loan past its due date is listed as overdue', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'G-1', 'G-3');
  const { tags } = await fitLockWithKeys(page, 'G-3', 'S-300', 1);
  await openIssueForm(page, tags[0]);
  await page.getByLabel('A department').check();
  await page.getByLabel('Department', { exact: true }).fill('Swim club');
  await page.getByLabel('Date issued').fill(ukDate(-3));
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await page.getByLabel('Due back', { exact: true }).fill(ukDate(-1));
  await page.getByLabel('Name typed by the person taking the key').fill('Coach Evans');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${tags[0]} issued to Swim club.`)).toBeVisible();
  await expect(page.getByText(`On loan: Swim club, due back ${ukDate(-1)} (overdue)`)).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Register', exact: true }).click();
  const filter = page.getByLabel('Show lockers that are');
  await expect(filter.locator('option[value="overdue"]')).toHaveText('Overdue (1)');
  await filter.selectOption('overdue');
  await expect(page.locator('p.count')).toHaveText('1 locker');
  const row = page.getByRole('link', { name: /^G-3 / });
  await expect(row).toContainText('Overdue');
});
