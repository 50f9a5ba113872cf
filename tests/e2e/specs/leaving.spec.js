// Leaving a device: signing out while a change made here has not reached the server asks
// first; "Save them as a file" downloads the unsynced changes (versioned, SHA-256 checksum);
// another device signed in to the site reads that file on Backup and lists the change; an
// edited file is refused.

import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addPerson,
  checkA11y,
  flash,
  open,
  putOnServer,
  screenshots,
  setUpSite,
  waitForServiceWorker,
} from './helpers.js';

const suffix = Date.now().toString(36);
const ADMIN = `leave-${suffix}`;
const PASSWORD = 'locker-room-42';

const syncChip = (page) => page.locator('.statusbar .sync-chip');
const leavingCard = (page) =>
  page.locator('section', { has: page.getByRole('heading', { name: 'Before you sign out' }) });

test('signing out with an unsynced change asks first, and its file is read on another device', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const one = await browser.newContext();
  const page = await one.newPage();
  await setUpSite(page);
  await addPerson(page, { name: 'Sam Jones', ref: 'P100' });
  await putOnServer(page, { username: ADMIN, password: PASSWORD });
  await waitForServiceWorker(page);

  // Synced: signing out would not ask. Now a change made offline.
  await one.setOffline(true);
  await addPerson(page, { name: 'Ali Khan', ref: 'P200' });
  await expect(syncChip(page)).toHaveText('Offline · 1 change waiting · only on this device, which may clear them', {
    timeout: 20_000,
  });

  await open(page, '/sync');
  await page.getByRole('button', { name: 'Sign out of this device' }).click();
  const card = leavingCard(page);
  await expect(card.getByRole('alert')).toHaveText(
    '1 change made on this device has not reached the server yet.',
  );
  // Offline: no "Sync now" here; nothing signed out yet.
  await expect(card.getByRole('button', { name: 'Sync now' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
  await expect(card.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
  await card.scrollIntoViewIfNeeded();
  expect(await checkA11y(page, 'sync page, leaving with an unsynced change')).toEqual([]);
  await screenshots(page, 'leaving-ask');
  await card.screenshot({ path: '/tmp/leaving-card-ask-390.png' });

  // Save them as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card.getByRole('button', { name: 'Save them as a file' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(
    /^keyward-unsynced-northgate-school-\d{4}-\d{2}-\d{2}-\d{4}\.json$/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'keyward-unsynced-'));
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const text = readFileSync(file, 'utf8');
  const saved = JSON.parse(text);
  expect(saved.format).toBe('keyward-unsynced');
  expect(saved.version).toBe(1);
  expect(saved.site).toBe('Northgate School');
  expect(saved.changes).toHaveLength(1);
  expect(saved.changes[0].user).toBe(ADMIN);
  expect(saved.changes[0].event.change.type).toBe('PersonAdded');
  expect(JSON.stringify(saved.changes[0].event.change)).toContain('Ali Khan');
  // The checksum: SHA-256 of the file as compact JSON with the checksum empty.
  const bare = JSON.stringify({ ...saved, checksum: '' });
  expect(saved.checksum).toBe(`sha256:${createHash('sha256').update(bare).digest('hex')}`);
  await expect(card.getByRole('status')).toContainText(`Saved ${download.suggestedFilename()}.`);
  await screenshots(page, 'leaving-saved');
  await card.screenshot({ path: '/tmp/leaving-card-390.png' });

  // Only now a plain "Sign out".
  await expect(card.getByRole('button', { name: 'Sign out without saving them' })).toHaveCount(0);
  await card.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(flash(page, /Pat Caretaker is signed out of this device/)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Signed in' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Before you sign out' })).toHaveCount(0);

  // Another device, signed in to the site, reads the file. The first stays offline, so the
  // change is not in the register there.
  const two = await browser.newContext();
  const other = await two.newPage();
  await open(other, '/sync');
  await other.getByLabel('Username').first().fill(ADMIN);
  await other.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(syncChip(other)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
  await open(other, '/setup/backup');
  await other.getByLabel('File of unsynced changes').setInputFiles(file);
  const read = other.locator('.unsynced-read');
  await expect(read).toContainText('1 change from Northgate School, saved ');
  await expect(read).toContainText('0 of 1 in this register.');
  await expect(read.getByRole('listitem')).toHaveCount(1);
  await expect(read.getByRole('listitem')).toContainText('Person added by Pat Caretaker');
  await expect(read.getByRole('listitem')).toContainText('Not in this register.');
  expect(await checkA11y(other, 'backup page, a file of unsynced changes read')).toEqual([]);
  await screenshots(other, 'leaving-read');

  // Recorded again here, as the person signed in on this device: in the register, and sent.
  await read.getByRole('button', { name: 'Record the 1 change again' }).click();
  await expect(read.getByRole('listitem')).toContainText('Recorded again by Pat Caretaker, ');
  await expect(read).toContainText('1 of 1 in this register.');
  await expect(read).toContainText('Nothing is left to record from this file.');
  await expect(syncChip(other)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
  await open(other, '/people');
  await expect(other.getByText('Ali Khan')).toBeVisible();
  // The same file read again: held already, nothing offered twice.
  await open(other, '/setup/backup');
  await other.getByLabel('File of unsynced changes').setInputFiles(file);
  await expect(read).toContainText('1 of 1 in this register.');
  await expect(read.getByRole('listitem')).toContainText('Already in this register.');
  await expect(read.getByRole('button', { name: /Record the/ })).toHaveCount(0);

  // An edited file is refused and shows nothing of it.
  const edited = join(dir, 'edited.json');
  writeFileSync(edited, text.replace('Ali Khan', 'Ali Khon'));
  await other.getByLabel('File of unsynced changes').setInputFiles(edited);
  await expect(other.getByRole('alert')).toHaveText(
    'This file is damaged or was edited, so it was not read; nothing was changed. Use the file exactly as it was saved.',
  );
  await expect(read).toHaveCount(0);
  // Something else entirely (a backup-like file) is refused too.
  const foreign = join(dir, 'foreign.json');
  writeFileSync(foreign, JSON.stringify({ format: 'keyward-events', version: 1, events: [] }));
  await other.getByLabel('File of unsynced changes').setInputFiles(foreign);
  await expect(other.getByRole('alert')).toContainText('This is not a file of unsynced Keyward changes.');
  await screenshots(other, 'leaving-refused');

  // Asked while offline, then back online: the change is sent, and signing out is plain.
  await waitForServiceWorker(other);
  await two.setOffline(true);
  await addPerson(other, { name: 'Kim Lee', ref: 'P300' });
  await expect(syncChip(other)).toHaveText('Offline · 1 change waiting · only on this device, which may clear them', {
    timeout: 20_000,
  });
  await open(other, '/sync');
  await other.getByRole('button', { name: 'Sign out of this device' }).click();
  const asked = leavingCard(other);
  await expect(asked.getByRole('button', { name: 'Sign out without saving them' })).toBeVisible();
  await two.setOffline(false);
  await expect(asked.getByRole('alert')).toHaveText(
    'Every change made on this device has reached the server.',
    { timeout: 40_000 },
  );
  await expect(asked.getByRole('button', { name: 'Save them as a file' })).toHaveCount(0);
  await asked.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(flash(other, 'Pat Caretaker is signed out of this device.')).toBeVisible();

  await one.close();
  await two.close();
});
