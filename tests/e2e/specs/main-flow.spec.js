// The main flow on a phone-sized screen: set up a site, add a range of lockers, fit locks and
// add keys, add people, issue a key and return it, and find everything again after a reload.

import { test, expect } from '@playwright/test';
import {
  AREA,
  SITE,
  USER,
  addPerson,
  addRange,
  fitLockWithKeys,
  flash,
  historyLines,
  issueKey,
  lockerRow,
  lockerStatus,
  nav,
  openLocker,
  openRegister,
  re,
  registerCount,
  returnKey,
  section,
  setUpSite,
  ukToday,
  waitReady,
} from './helpers.js';

test('set up a site, issue and return a key, and keep it all after a reload', async ({ page }) => {
  const today = ukToday();

  // --- Set-up: the site and 30 lockers.
  await setUpSite(page);
  await expect(page).toHaveTitle(/Keyward/);
  await addRange(page, 'A-001', 'A-030');
  await openRegister(page);
  await expect(registerCount(page)).toHaveText('30 lockers');
  await expect(page.getByRole('link', { name: /^A-\d{3} / })).toHaveCount(30);
  await expect(lockerRow(page, 'A-001')).toHaveAccessibleName(`A-001 ${AREA} No lock`);
  await expect(lockerRow(page, 'A-030')).toHaveAccessibleName(`A-030 ${AREA} No lock`);

  // --- Locks and keys on two lockers.
  const a12 = await fitLockWithKeys(page, 'A-012', 'K4471', 2);
  await expect(historyLines(page).first()).toContainText(`2 keys added: ${a12.tags.join(', ')}`);
  await expect(historyLines(page).nth(1)).toContainText('Keyed lock fitted');
  // The code is not in the history, which every role reads.
  await expect(historyLines(page).nth(1)).not.toContainText('K4471');
  await expect(historyLines(page).last()).toContainText('Locker A-012 added to the register');
  const a13 = await fitLockWithKeys(page, 'A-013', 'K4472', 2);
  expect(a13.tags.filter((t) => a12.tags.includes(t))).toEqual([]);

  await openRegister(page);
  await expect(lockerRow(page, 'A-012')).toHaveAccessibleName(`A-012 ${AREA} Free`);
  await expect(lockerRow(page, 'A-013')).toHaveAccessibleName(`A-013 ${AREA} Free`);
  await expect(lockerRow(page, 'A-014')).toHaveAccessibleName(`A-014 ${AREA} No lock`);

  // --- Two people.
  const sam = await addPerson(page, { name: 'Sam Jones', kind: 'Pupil', ref: 'P1234', dept: '7B' });
  await expect(page.getByText('Pupil · P1234 · 7B')).toBeVisible();
  await addPerson(page, { name: 'Alex Smith', kind: 'Staff', ref: 'S0042', dept: 'Science' });
  await nav(page, 'People').click();
  await expect(page.locator('p.count')).toHaveText('2 people');

  // --- Issue the first key of A-012 to Sam Jones.
  const tag = a12.tags[0];
  await openLocker(page, 'A-012');
  await issueKey(page, tag, 'Sam Jones');
  expect(page.url()).toBe(a12.url);
  await expect(lockerStatus(page)).toHaveText('In use');
  await expect(page.getByText('Held by Sam Jones', { exact: true })).toBeVisible();
  const keys = section(page, 'Keys');
  await expect(keys.getByRole('listitem').filter({ hasText: tag })).toContainText('Issued: Sam Jones');
  await expect(keys.getByRole('link', { name: `Return key ${tag}` })).toBeVisible();
  await expect(keys.getByRole('link', { name: `Issue key ${a12.tags[1]}` })).toBeVisible();
  await expect(historyLines(page).first()).toContainText(
    `Key ${tag} issued to Sam Jones on ${today} (name typed)`,
  );
  await expect(historyLines(page).first()).toContainText(USER);

  // The register shows who holds it, and finds the locker by the holder's name or the tag.
  const search = await openRegister(page);
  await expect(lockerRow(page, 'A-012')).toHaveAccessibleName(`A-012 ${AREA} · Sam Jones In use`);
  await search.fill('sam jones');
  await expect(registerCount(page)).toHaveText('1 locker');
  await expect(lockerRow(page, 'A-012')).toBeVisible();
  await search.fill(tag);
  await expect(registerCount(page)).toHaveText('1 locker');
  await expect(lockerRow(page, 'A-012')).toBeVisible();

  // The person page lists the key held and the loan.
  await nav(page, 'People').click();
  await page.getByRole('link', { name: /^Sam Jones/ }).click();
  await expect(page.getByRole('heading', { name: 'Sam Jones', level: 1 })).toBeVisible();
  expect(page.url()).toBe(sam);
  const held = section(page, 'Keys held');
  await expect(held.getByRole('listitem')).toHaveCount(1);
  await expect(held.getByRole('listitem')).toContainText(tag);
  await expect(held.getByRole('listitem')).toContainText(`for locker A-012`);
  await expect(held.getByRole('listitem')).toContainText(`since ${today}`);
  await expect(historyLines(page)).toHaveText([
    `Key ${tag} for locker A-012: issued ${today}, not yet returned`,
  ]);

  // --- Return it from the person page.
  await returnKey(page, tag);
  expect(page.url()).toBe(a12.url);
  await expect(lockerStatus(page)).toHaveText('Free');
  await expect(page.getByText(/^Held by/)).toHaveCount(0);
  await expect(section(page, 'Keys').getByRole('link', { name: /^Issue key / })).toHaveCount(2);
  await expect(historyLines(page).first()).toContainText(
    `Key ${tag} returned by Sam Jones, received by ${USER}`,
  );
  await expect(historyLines(page).nth(1)).toContainText(`Key ${tag} issued to Sam Jones`);

  await page.goto(sam);
  await waitReady(page);
  await expect(section(page, 'Keys held')).toContainText('No keys at the moment.');
  await expect(section(page, 'Keys held').getByRole('link', { name: /^Return key/ })).toHaveCount(0);
  await expect(historyLines(page)).toHaveCount(1);
  await expect(historyLines(page).first()).toContainText(
    new RegExp(`^Key ${re(tag)} for locker A-012: issued ${re(today)}, returned ${re(today)} \\d\\d:\\d\\d \\(fine\\)$`),
  );

  // --- Everything is still there after a reload (read back from IndexedDB).
  await page.reload();
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Sam Jones', level: 1 })).toBeVisible();
  await expect(section(page, 'Keys held')).toContainText('No keys at the moment.');
  await expect(historyLines(page).first()).toContainText(`Key ${tag} for locker A-012: issued ${today}, returned`);
  await expect(page.locator('header.topbar .site-name')).toHaveText(SITE);

  await page.goto(a12.url);
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Locker A-012', level: 1 })).toBeVisible();
  await expect(lockerStatus(page)).toHaveText('Free');
  await expect(section(page, 'Lock').locator('dd').nth(1)).toHaveText('K4471');
  await expect(section(page, 'Keys').getByRole('link', { name: /^Issue key / })).toHaveCount(2);
  await expect(historyLines(page)).toHaveCount(5);
  await expect(historyLines(page).nth(0)).toContainText(`Key ${tag} returned by Sam Jones`);
  await expect(historyLines(page).nth(1)).toContainText(`Key ${tag} issued to Sam Jones on ${today}`);
  await expect(historyLines(page).nth(2)).toContainText('2 keys added');
  await expect(historyLines(page).nth(3)).toContainText('Keyed lock fitted');
  await expect(historyLines(page).nth(4)).toContainText('Locker A-012 added to the register');

  await openRegister(page);
  await expect(registerCount(page)).toHaveText('30 lockers');
  await expect(lockerRow(page, 'A-012')).toHaveAccessibleName(`A-012 ${AREA} Free`);
  await expect(lockerRow(page, 'A-013')).toHaveAccessibleName(`A-013 ${AREA} Free`);
  await nav(page, 'People').click();
  await expect(page.locator('p.count')).toHaveText('2 people');
  await expect(flash(page, /./)).toHaveCount(0);
});
