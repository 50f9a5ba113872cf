// Sync: two devices (two browser contexts, each with its own IndexedDB) on one site through
// keyward-server. Both go offline and issue the same key; back online each shows the
// conflict; deciding it on one makes both agree. An offline issue on one reaches the other.
// Two auditors offline recording one locker differently: a conflict, decided once for both.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  issueKey,
  open,
  openLocker,
  registerCount,
  section,
  openRegister,
  setUpSite,
  setupCode,
} from './helpers.js';

const suffix = Date.now().toString(36);
const ADMIN = `pat-${suffix}`;
const CUSTODIAN = `jo-${suffix}`;
const VIEWER = `vi-${suffix}`;
const PASSWORD = 'locker-room-42';

function syncChip(page) {
  return page.locator('.statusbar .sync-chip');
}

function conflictChip(page) {
  return page.locator('.statusbar .conflict-chip');
}

/** Fills and sends a form on the Sync page, ending when the status says it is synced. */
async function waitSynced(page) {
  await expect(syncChip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
}

async function signIn(page, username) {
  await open(page, '/sync');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await waitSynced(page);
}

async function addUser(page, { name, username, role }) {
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Add a user' }) });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('Role').selectOption(role);
  await form.getByLabel('First password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText(`${name} can now sign in as ${username}.`)).toBeVisible();
}

test('two devices stay in agreement through offline work and a conflict', async ({ browser }) => {
  test.setTimeout(180_000);
  const one = await browser.newContext();
  const two = await browser.newContext();
  const a = await one.newPage();
  const b = await two.newPage();

  // Device A: a site made on the device, then put on the server with its admin.
  await setUpSite(a);
  await addRange(a, 'A-001', 'A-010', 10);
  const { tags } = await fitLockWithKeys(a, 'A-003', 'K3003', 2);
  await addPerson(a, { name: 'Sam Jones', ref: 'P100' });
  await addPerson(a, { name: 'Ali Khan', ref: 'P200' });
  // Headless Chromium does not keep a site's storage for good, so the status says so.
  await expect(syncChip(a)).toHaveText('This device only · the browser may clear it');
  await open(a, '/sync');
  await checkA11y(a, 'sync page, not signed in');
  await a.getByLabel('Your name').fill('Pat Caretaker');
  await a.getByLabel('Username').last().fill(ADMIN);
  await a.getByLabel('Choose a password').fill('short');
  await a.getByRole('button', { name: 'Put the site on the server' }).click();
  await expect(a.getByRole('alert')).toHaveText('Enter the set-up code that the Keyward server printed when it started.');
  await a.getByLabel('Set-up code').fill(setupCode());
  await a.getByRole('button', { name: 'Put the site on the server' }).click();
  await expect(a.getByRole('alert')).toContainText('Choose a longer password, of at least 10 characters');
  await a.getByLabel('Choose a password').fill(PASSWORD);
  await a.getByRole('button', { name: 'Put the site on the server' }).click();
  await waitSynced(a);
  await expect(a.getByText(/Pat Caretaker.*Admin at Northgate School/)).toBeVisible();
  await addUser(a, { name: 'Jo Custodian', username: CUSTODIAN, role: 'custodian' });
  await addUser(a, { name: 'Vic Viewer', username: VIEWER, role: 'viewer' });
  await checkA11y(a, 'sync page, admin signed in');

  // Device B signs in and downloads the whole register.
  await open(b, '/');
  await expect(b.getByRole('heading', { name: 'Welcome to Keyward' })).toBeVisible();
  await b.getByRole('link', { name: 'Sign in to a site' }).click();
  await b.getByLabel('Username').fill(CUSTODIAN);
  await b.getByLabel('Password', { exact: true }).fill('wrong password');
  await b.getByRole('button', { name: 'Sign in' }).click();
  await expect(b.getByRole('alert')).toContainText('That username and password do not match.');
  await b.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await b.getByRole('button', { name: 'Sign in' }).click();
  await waitSynced(b);
  await openRegister(b);
  await expect(registerCount(b)).toHaveText('10 lockers');
  await expect(b.locator('header.topbar .site-name')).toHaveText('Northgate School');

  // Both offline; both issue the same key, to different people.
  await one.setOffline(true);
  await two.setOffline(true);
  await openLocker(a, 'A-003');
  await issueKey(a, tags[0], 'Sam Jones');
  await expect(syncChip(a)).toHaveText(/Offline · 1 change waiting|1 change waiting/);
  await openLocker(b, 'A-003');
  await issueKey(b, tags[0], 'Ali Khan');

  // Back online, A first (so Sam's issue is the first the server hears of): both sync, both
  // show the conflict.
  await one.setOffline(false);
  await waitSynced(a);
  await two.setOffline(false);
  await expect(conflictChip(a)).toHaveText('1 conflict', { timeout: 20_000 });
  await expect(conflictChip(b)).toHaveText('1 conflict', { timeout: 20_000 });

  // Decided on B: Ali has the key.
  await conflictChip(b).click();
  await expect(b.getByRole('heading', { name: 'Conflicts', level: 1 })).toBeVisible();
  await expect(b.getByRole('heading', { name: `Key ${tags[0]} was issued twice` })).toBeVisible();
  await checkA11y(b, 'conflicts inbox');
  await b.getByLabel(`Ali Khan has the key: close the loan to Sam Jones`).check();
  await b.getByLabel('Notes (optional)').fill('Sam handed it over at the desk');
  await b.getByRole('button', { name: 'Decide' }).click();
  await expect(flash(b, 'Conflict decided.')).toBeVisible();
  await expect(conflictChip(b)).toHaveCount(0);

  // A agrees within seconds (the server tells it there is something new).
  await expect(conflictChip(a)).toHaveCount(0, { timeout: 20_000 });
  for (const page of [a, b]) {
    await openLocker(page, 'A-003');
    await expect(page.locator('.keys li', { hasText: tags[0] })).toContainText('Issued: Ali Khan');
  }

  // An offline issue on A appears on B after A syncs.
  await one.setOffline(true);
  await openLocker(a, 'A-003');
  await issueKey(a, tags[1], 'Sam Jones');
  await openLocker(b, 'A-003');
  await expect(b.locator('.keys li', { hasText: tags[1] })).toContainText('In store');
  // A second tab on B: only one tab syncs at a time (Web Lock); both learn of the change.
  const b2 = await two.newPage();
  await open(b2, '/');
  await openLocker(b2, 'A-003');
  await one.setOffline(false);
  for (const page of [b, b2]) {
    await expect(page.locator('.keys li', { hasText: tags[1] })).toContainText(
      'Issued: Sam Jones',
      { timeout: 20_000 },
    );
  }
  await b2.close();
  await waitSynced(a);
  await waitSynced(b);

  // A shared tablet: Jo sets a PIN, a viewer signs in, and Jo switches back offline.
  await open(b, '/sync');
  await b.getByLabel('PIN for switching to you on this device').fill('12');
  await b.getByRole('button', { name: 'Set PIN' }).click();
  await expect(b.getByRole('alert')).toHaveText('A PIN is 4 to 8 digits.');
  await b.getByLabel('PIN for switching to you on this device').fill('2468');
  await b.getByRole('button', { name: 'Set PIN' }).click();
  await expect(b.getByText('PIN saved.')).toBeVisible();
  await signIn(b, VIEWER);
  await openLocker(b, 'A-003');
  await expect(b.getByText('Your role (viewer) cannot issue or return keys.', { exact: false })).toBeVisible();
  await expect(b.getByRole('link', { name: /^Return key / })).toHaveCount(0);
  await checkA11y(b, 'locker page as viewer');

  await two.setOffline(true);
  await open(b, '/sync');
  await b.getByLabel('Jo Custodian (Key custodian)').check();
  await b.getByLabel('Their PIN').fill('1111');
  await b.getByRole('button', { name: 'Switch' }).click();
  await expect(section(b, 'Switch user').getByRole('alert')).toHaveText(
    "That PIN is not right. 4 tries left before Jo Custodian's sign-in on this device is wiped.",
  );
  await b.getByLabel('Their PIN').fill('2468');
  await b.getByRole('button', { name: 'Switch' }).click();
  await expect(flash(b, 'Jo Custodian is now using this device.')).toBeVisible();
  await openLocker(b, 'A-003');
  await expect(b.getByRole('link', { name: /^Return key / })).toHaveCount(2);

  // Still offline, Jo adds lockers; meanwhile the admin makes Jo staff. Back online, the
  // server refuses the lockers (staff may not add them) and Jo's tablet says so.
  await addRange(b, 'B-001', 'B-003', 3);
  await open(a, '/sync');
  await a.getByLabel('Role of Jo Custodian').selectOption('staff');
  await expect(a.getByText('Jo Custodian is now Staff.')).toBeVisible();
  await two.setOffline(false);
  await open(b, '/sync');
  // The page was loaded again, so Jo's sign-in is locked until Jo enters the PIN again.
  await expect(syncChip(b)).toHaveText(
    "1 change waiting for Jo Custodian's PIN · only on this device, which may clear them",
    { timeout: 20_000 },
  );
  await b.getByLabel('Your PIN').fill('2468');
  await b.getByRole('button', { name: 'Unlock' }).click();
  await expect(b.getByRole('heading', { name: 'Not accepted by the server' })).toBeVisible({
    timeout: 20_000,
  });
  await expect(b.locator('.refused')).toContainText('Lockers added by Jo Custodian');
  await expect(b.locator('.refused')).toContainText('Your role (staff) cannot add lockers.');
  await expect(b.getByText(/Jo Custodian.*Staff at Northgate School/)).toBeVisible();
  await checkA11y(b, 'sync page with a refused change');
  await b.getByRole('button', { name: 'Dismiss' }).click();
  await expect(b.getByRole('heading', { name: 'Not accepted by the server' })).toHaveCount(0);
  await openRegister(b);
  await expect(registerCount(b)).toHaveText('10 lockers');

  await one.close();
  await two.close();
});

test('two auditors offline record a locker differently: a conflict, decided once for both', async ({ browser }) => {
  test.setTimeout(180_000);
  const admin = `au-${suffix}`;
  const auditor = `ad-${suffix}`;
  const one = await browser.newContext();
  const two = await browser.newContext();
  const a = await one.newPage();
  const b = await two.newPage();
  await setUpSite(a, { site: 'Eastgate School' });
  await addRange(a, 'E-1', 'E-3');
  await open(a, '/sync');
  await a.getByLabel('Your name').fill('Pat Caretaker');
  await a.getByLabel('Username').last().fill(admin);
  await a.getByLabel('Choose a password').fill(PASSWORD);
  await a.getByLabel('Set-up code').fill(setupCode());
  await a.getByRole('button', { name: 'Put the site on the server' }).click();
  await waitSynced(a);
  await addUser(a, { name: 'Alex Auditor', username: auditor, role: 'auditor' });

  // A starts the audit of the whole site; B signs in and opens it from the audits list.
  await open(a, '/audits');
  await a.getByRole('button', { name: 'Start audit' }).click();
  await expect(a.getByRole('heading', { name: 'Audit: Whole site', level: 1 })).toBeVisible();
  await waitSynced(a);
  await open(b, '/');
  await b.getByRole('link', { name: 'Sign in to a site' }).click();
  await b.getByLabel('Username').fill(auditor);
  await b.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await b.getByRole('button', { name: 'Sign in' }).click();
  await waitSynced(b);
  await open(b, '/audits');
  await b.getByRole('link', { name: /Whole site/ }).click();
  await expect(b.locator('#audit-locker')).toHaveText('Locker E-1');

  // Both offline, both at E-1: "As expected" on A, "Key missing" on B.
  await one.setOffline(true);
  await two.setOffline(true);
  await a.getByRole('button', { name: 'As expected', exact: true }).click();
  await expect(a.locator('.audit-progress')).toHaveText('1 of 3 done · no issues');
  await b.getByRole('button', { name: 'Key missing', exact: true }).click();
  await expect(b.locator('.audit-progress')).toHaveText('1 of 3 done · 1 issue found');

  await one.setOffline(false);
  await waitSynced(a);
  await two.setOffline(false);
  await expect(conflictChip(a)).toHaveText('1 conflict', { timeout: 20_000 });
  await expect(conflictChip(b)).toHaveText('1 conflict', { timeout: 20_000 });
  // The audit says so, and takes no new finding at E-1 until it is decided.
  await expect(a.getByText('1 locker was recorded differently by two auditors.')).toBeVisible();
  await a.getByRole('button', { name: /^E-1/ }).click();
  await expect(a.getByRole('button', { name: 'As expected', exact: true })).toHaveCount(0);

  // Decided on A: the key is missing.
  await conflictChip(a).click();
  await expect(a.getByRole('heading', { name: 'Locker E-1 was recorded differently by two auditors' })).toBeVisible();
  await checkA11y(a, 'conflicts inbox, audit findings');
  await a.getByLabel(/^“Key missing” \(.*\) is right$/).check();
  await a.getByRole('button', { name: 'Decide' }).click();
  await expect(flash(a, 'Conflict decided.')).toBeVisible();
  await expect(conflictChip(b)).toHaveCount(0, { timeout: 20_000 });
  for (const page of [a, b]) {
    await open(page, '/audits');
    await page.getByRole('link', { name: /Whole site/ }).click();
    await expect(page.locator('.audit-progress')).toHaveText('1 of 3 done · 1 issue found');
    await expect(page.getByRole('button', { name: /^E-1/ })).toContainText('Key missing');
  }
  await one.close();
  await two.close();
});
