// A ward's shift change at phone width: a key that is out passes from one nurse to the next in
// one step, from the key's page; the key page shows the new holder and the locker's history
// shows the chain.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  checkA11y,
  choosePerson,
  fitLockWithKeys,
  flash,
  historyLines,
  issueKey,
  lockerStatus,
  openLocker,
  setUpSite,
  ukToday,
  screenshots,
} from './helpers.js';

/** Screenshots of the current screen at phone and tablet width (/tmp/ui-loans-<name>-*.png). */
function shoot(page, name) {
  return screenshots(page, `ui-loans-${name}`);
}

test('a key is handed over from one holder to the next in one step', async ({ page }) => {
  const today = ukToday();
  await setUpSite(page, { area: 'Ward 7' });
  await addRange(page, 'W-1', 'W-2');
  const { tags } = await fitLockWithKeys(page, 'W-1', 'W-700', 1);
  const tag = tags[0];
  await addPerson(page, { name: 'Nurse Amy Khan', kind: 'Staff', ref: 'N100' });
  await addPerson(page, { name: 'Nurse Ben Ode', kind: 'Staff', ref: 'N200' });
  await openLocker(page, 'W-1');
  await issueKey(page, tag, 'Nurse Amy Khan');
  await expect(lockerStatus(page)).toHaveText('In use');

  // The key's page (its tag on the locker page links to it): hand over.
  await page.getByRole('link', { name: tag, exact: true }).click();
  await expect(page.getByRole('heading', { name: `Key ${tag}`, level: 1 })).toBeVisible();
  await expect(page.getByText(`Nurse Amy Khan since ${today}`)).toBeVisible();
  expect(await checkA11y(page, 'key page, out')).toEqual([]);
  await page.getByRole('link', { name: 'Hand over to the next holder' }).click();
  await expect(page.getByRole('heading', { name: `Hand over key ${tag}`, level: 1 })).toBeVisible();
  await expect(page.getByText('held by Nurse Amy Khan')).toBeVisible();
  await choosePerson(page, 'Nurse Ben Ode', { typeName: false });
  await expect(page.getByLabel('Date handed over')).toHaveValue(today);
  // The next holder types their own name: it is never filled in for them.
  await expect(page.getByLabel('Name typed by the person taking the key')).toHaveValue('');
  await page.getByLabel('Name typed by the person taking the key').fill('Nurse Ben Ode');
  await page.getByLabel('Temporary loan (due back on a date)').check();
  await expect(page.getByLabel('Due back', { exact: true })).not.toHaveValue('');
  const due = await page.getByLabel('Due back', { exact: true }).inputValue();
  await page.getByLabel('Due-back time (optional)').fill('19:30');
  await page.getByLabel('Notes (optional)').fill('Night shift');
  expect(await checkA11y(page, 'handover form')).toEqual([]);
  await shoot(page, 'handover');

  // The buttons are thumb-sized.
  const box = await page.getByRole('button', { name: 'Hand over key' }).boundingBox();
  expect(box.height).toBeGreaterThanOrEqual(44);

  await page.getByRole('button', { name: 'Hand over key' }).click();
  await expect(flash(page, `Key ${tag} handed over to Nurse Ben Ode.`)).toBeVisible();
  await expect(page.getByRole('heading', { name: `Key ${tag}`, level: 1 })).toBeVisible();
  await expect(page.getByText(`Nurse Ben Ode since ${today}, due back ${due} 19:30`)).toBeVisible();
  await expect(page.getByText('On loan', { exact: true })).toBeVisible();
  await shoot(page, 'key-after-handover');

  // The locker's history shows the chain, newest first.
  await openLocker(page, 'W-1');
  await expect(lockerStatus(page)).toHaveText('On loan');
  await expect(historyLines(page).first()).toContainText(
    `Key ${tag} handed over from Nurse Amy Khan to Nurse Ben Ode on ${today}, due back ${due} 19:30 (name typed). Notes: Night shift`,
  );
  await expect(historyLines(page).nth(1)).toContainText(`Key ${tag} issued to Nurse Amy Khan on ${today}`);
  await expect(page.getByText(`On loan: Nurse Ben Ode, due back ${due} 19:30`)).toBeVisible();
  await shoot(page, 'locker-after-handover');
});
