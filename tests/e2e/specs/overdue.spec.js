// Overdue loans and policies, with the browser's clock under the test's control: two temporary
// loans (one due back at a time of day), the clock moved past them, the Overdue screen and the
// register's count show them oldest first with how late; the spare keys out; an area policy
// refusing a loan longer than its maximum, until the area uses the site's setting again.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  alerts,
  checkA11y,
  choosePerson,
  fitLockWithKeys,
  flash,
  nav,
  openIssueForm,
  openLocker,
  openRegister,
  section,
  setUpSite,
  screenshots,
} from './helpers.js';

// 09:00 in London on Thursday 26/11/2026 (GMT in November, so UTC is London time).
const START = new Date('2026-11-26T09:00:00Z');

/** On a locker page: issues key `tag` to `person` as a temporary loan; back on the locker. */
async function issueTemporary(page, tag, person, { due, time = '', defaultDue }) {
  await openIssueForm(page, tag);
  await choosePerson(page, person);
  await page.getByLabel('Temporary loan (due back on a date)').check();
  const dueBack = page.getByLabel('Due back', { exact: true });
  if (defaultDue) await expect(dueBack).toHaveValue(defaultDue);
  if (due) await dueBack.fill(due);
  if (time) await page.getByLabel('Due-back time (optional)').fill(time);
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${tag} issued to ${person}.`)).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Locker /, level: 1 })).toBeVisible();
}

/** Opens a screen from Set-up by its link. */
async function fromSetup(page, link, heading) {
  await nav(page, 'Set-up').click();
  await page.getByRole('link', { name: link, exact: true }).click();
  await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
}

/** Screenshots of the current screen at phone and tablet width (/tmp/ui-loans-<name>-*.png). */
function shoot(page, name) {
  return screenshots(page, `ui-loans-${name}`);
}

test('temporary loans past their due-back time are listed oldest first, with how late', async ({ page }) => {
  await page.clock.install({ time: START });
  await setUpSite(page);
  await addRange(page, 'B-1', 'B-3');
  const b1 = await fitLockWithKeys(page, 'B-1', 'T-101', 1);
  const b2 = await fitLockWithKeys(page, 'B-2', 'T-102', 1);
  await addPerson(page, { name: 'Sam Jones', ref: 'P1' });
  await addPerson(page, { name: 'Alex Smith', kind: 'Staff', ref: 'S1' });

  // A year typed wrong (2062 for 2026) is asked about before anything is recorded.
  await openLocker(page, 'B-1');
  await openIssueForm(page, b1.tags[0]);
  await choosePerson(page, 'Sam Jones');
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await page.getByLabel('Due back', { exact: true }).fill('27/11/2062');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(
    page.getByText('The due-back day, 27/11/2062, is more than a year away. Check the year; if it is right, press the button again to record it.'),
  ).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Issue a key: locker B-1/, level: 1 })).toBeVisible();

  // The default loan (a day, from the site's policy), and one due back at 17:00 today.
  await openLocker(page, 'B-1');
  await issueTemporary(page, b1.tags[0], 'Sam Jones', { defaultDue: '27/11/2026' });
  await expect(page.getByText(`On loan: Sam Jones, due back 27/11/2026`)).toBeVisible();
  await openLocker(page, 'B-2');
  await issueTemporary(page, b2.tags[0], 'Alex Smith', {
    defaultDue: '27/11/2026',
    due: '26/11/2026',
    time: '17:00',
  });
  await expect(page.getByText(`On loan: Alex Smith, due back 26/11/2026 17:00`)).toBeVisible();

  // A spare key out to a department, with its place in the key cabinet.
  await openLocker(page, 'B-3');
  await page.getByLabel('Lock type').selectOption('Keyed');
  await page.getByLabel('Lock code').fill('T-103');
  await page.getByRole('button', { name: 'Fit lock' }).click();
  await page.getByLabel('How many').fill('1');
  await page.getByLabel('Kind', { exact: true }).selectOption('Spare key');
  await page.getByLabel('Kept at (optional)').fill('Cabinet 1, hook 12');
  await page.getByRole('button', { name: 'Add keys' }).click();
  await expect(flash(page, '1 key added, each with its own tag.')).toBeVisible();
  const spare = (await page.getByRole('link', { name: /^Issue key / }).getAttribute('aria-label')).replace('Issue key ', '');
  await openIssueForm(page, spare);
  await page.getByLabel('A department').check();
  await page.getByLabel('Department', { exact: true }).fill('Estates');
  await page.getByLabel('Name typed by the person taking the key').fill('Jo Estates');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${spare} issued to Estates.`)).toBeVisible();

  // Nothing is overdue yet.
  await fromSetup(page, 'Overdue keys', 'Overdue');
  await expect(page.getByText('Nothing is overdue.')).toBeVisible();

  // 18:30 the same day: only the loan due at 17:00.
  await page.clock.setFixedTime(new Date('2026-11-26T18:30:00Z'));
  await fromSetup(page, 'Overdue keys', 'Overdue');
  await expect(page.getByText('1 key overdue, the longest overdue first.')).toBeVisible();
  let rows = section(page, 'Science block').getByRole('listitem');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(b2.tags[0]);
  await expect(rows.first()).toContainText('1 hour late');

  // Saturday noon: both, the longest overdue first.
  await page.clock.setFixedTime(new Date('2026-11-28T12:00:00Z'));
  await openRegister(page);
  const count = page.getByRole('link', { name: '2 keys overdue' });
  await expect(count).toBeVisible();
  const filter = page.getByLabel('Show lockers that are');
  await expect(filter.locator('option[value="overdue"]')).toHaveText('Overdue (2)');
  await count.click();
  await expect(page.getByRole('heading', { name: 'Overdue', level: 1 })).toBeVisible();
  await expect(page.getByText('2 keys overdue, by area, the longest overdue first.')).toBeVisible();
  rows = section(page, 'Science block').getByRole('listitem');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText(`${b2.tags[0]} · locker B-2`);
  await expect(rows.nth(0)).toContainText('Alex Smith · due back 26/11/2026 17:00');
  await expect(rows.nth(0)).toContainText('1 day late');
  await expect(rows.nth(1)).toContainText(`${b1.tags[0]} · locker B-1`);
  await expect(rows.nth(1)).toContainText('Sam Jones · due back 27/11/2026');
  await expect(rows.nth(1)).toContainText('12 hours late');
  expect(await checkA11y(page, 'overdue')).toEqual([]);
  await shoot(page, 'overdue');

  // The key page says when it was due and how late it is.
  await rows.nth(0).getByRole('link').click();
  await expect(page.getByRole('heading', { name: `Key ${b2.tags[0]}`, level: 1 })).toBeVisible();
  await expect(page.getByText('Alex Smith since 26/11/2026, due back 26/11/2026 17:00 (overdue, 1 day late)')).toBeVisible();

  // The spare keys out: who took each and where it goes back.
  await fromSetup(page, 'Spare keys out', 'Spare keys out');
  const spares = page.locator('ul.rows li');
  await expect(spares).toHaveCount(1);
  await expect(spares.first()).toContainText(`${spare} · locker B-3`);
  await expect(spares.first()).toContainText('Taken by Estates since 26/11/2026');
  await expect(spares.first()).toContainText('Goes back to: Cabinet 1, hook 12');
  expect(await checkA11y(page, 'spare keys out')).toEqual([]);
  await shoot(page, 'spares');
});

test("an area policy refuses a loan longer than its maximum until the area uses the site's setting", async ({ page }) => {
  await page.clock.install({ time: START });
  await setUpSite(page);
  await addRange(page, 'C-1', 'C-2');
  const c1 = await fitLockWithKeys(page, 'C-1', 'P-1', 1);
  await addPerson(page, { name: 'Robin Lee', ref: 'P9' });

  // The site allows 3 days at most; the Science block only 1.
  await fromSetup(page, 'Policies', 'Policies');
  const site = page.getByRole('form', { name: "The site's policy" });
  await site.getByLabel('Longest temporary loan (days)').fill('3');
  await site.getByRole('button', { name: "Save the site's policy" }).click();
  await expect(flash(page, "The site's policy is saved.")).toBeVisible();
  const longest = page.getByRole('form', { name: 'Longest temporary loan' });
  await expect(longest).toContainText('Inherited from the site: 3 days');
  await longest.getByLabel('Longest temporary loan (days)').fill('1');
  await longest.getByRole('button', { name: 'Set for this area' }).click();
  await expect(flash(page, 'Longest temporary loan set for this area.')).toBeVisible();
  await expect(longest).toContainText("Set for this area: 1 day (the site's: 3 days)");
  await expect(longest.getByRole('button', { name: "Use the site's setting" })).toBeVisible();
  expect(await checkA11y(page, 'policies')).toEqual([]);
  await shoot(page, 'policies');

  // A loan of 2 days there is refused, with the core's words, once.
  await openLocker(page, 'C-1');
  await openIssueForm(page, c1.tags[0]);
  await choosePerson(page, 'Robin Lee');
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await expect(page.getByLabel('Due back', { exact: true })).toHaveValue('27/11/2026');
  await expect(page.getByText('at most 1 day (due back by 27/11/2026)')).toBeVisible();
  await page.getByLabel('Due back', { exact: true }).fill('28/11/2026');
  await page.getByLabel('Due-back time (optional)').fill('12:00');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(alerts(page)).toHaveCount(1);
  await expect(alerts(page)).toHaveText(
    "A temporary loan here can last at most 1 day, so the key must be due back by 27/11/2026. Choose an earlier date, or ask an admin about the area's policy.",
  );
  expect(await checkA11y(page, 'issue form with a due-back time and a refusal')).toEqual([]);
  await shoot(page, 'issue-refused');

  // The area inherits the site's 3 days again: the same loan goes through.
  await fromSetup(page, 'Policies', 'Policies');
  await longest.getByRole('button', { name: "Use the site's setting" }).click();
  await expect(longest).toContainText('Inherited from the site: 3 days');
  await openLocker(page, 'C-1');
  await openIssueForm(page, c1.tags[0]);
  await choosePerson(page, 'Robin Lee');
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await page.getByLabel('Due back', { exact: true }).fill('28/11/2026');
  await page.getByLabel('Due-back time (optional)').fill('12:00');
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${c1.tags[0]} issued to Robin Lee.`)).toBeVisible();
  await expect(page.getByText('On loan: Robin Lee, due back 28/11/2026 12:00')).toBeVisible();
});
