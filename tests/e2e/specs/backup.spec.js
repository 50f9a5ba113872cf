// Backup and restore through the Set-up → Backup screen, and a register large enough that the
// app packs its IndexedDB log (over 2,000 events), read back correctly after reloads.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addPerson,
  addRange,
  fitLockWithKeys,
  historyLines,
  issueKey,
  lockerStatus,
  open,
  openLocker,
  setUpSite,
  openRegister,
  registerCount,
} from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
const restored = (page) => page.getByRole('status').filter({ hasText: /^Restored/ });

async function restore(page, file) {
  await open(page, '/setup/backup');
  await page.getByLabel('Backup file').setInputFiles(file);
}

test('a downloaded backup restores the whole register on another device', async ({ page, browser }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-030');
  const { tags } = await fitLockWithKeys(page, 'A-007', 'K707', 2);
  await addPerson(page, { name: 'Sam Jones', ref: 'P100' });
  await openLocker(page, 'A-007');
  await issueKey(page, tags[0], 'Sam Jones');

  await open(page, '/setup/backup');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download backup' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^keyward-backup-\d{4}-\d{2}-\d{2}-\d{4}\.json$/);
  const file = join(mkdtempSync(join(tmpdir(), 'keyward-backup-')), download.suggestedFilename());
  await download.saveAs(file);
  const backup = JSON.parse(readFileSync(file, 'utf8'));
  expect(backup.format).toBe('keyward-events');
  expect(backup.events.length).toBeGreaterThanOrEqual(7);
  await expect(page.getByText(`: ${backup.events.length} events.`)).toBeVisible();

  // A fresh browser profile: another device.
  const other = await browser.newContext();
  const phone = await other.newPage();
  await restore(phone, file);
  await expect(restored(phone)).toHaveText(`Restored ${backup.events.length} events.`);
  await openRegister(phone);
  await expect(registerCount(phone)).toHaveText('30 lockers');
  await openLocker(phone, 'A-007');
  await expect(lockerStatus(phone)).toHaveText('In use');
  await expect(phone.getByText('Held by Sam Jones')).toBeVisible();
  await expect(historyLines(phone).first()).toContainText(`Key ${tags[0]} issued to Sam Jones`);

  // Restoring the same file again adds nothing.
  await restore(phone, file);
  await expect(restored(phone)).toHaveText('Restored: this device already held everything in that backup.');
  await openLocker(phone, 'A-007');
  await expect(historyLines(phone)).toHaveCount(4);

  // A file that is not a backup is refused with a message, and nothing changes.
  const wrong = join(mkdtempSync(join(tmpdir(), 'keyward-wrong-')), 'lockers.json');
  writeFileSync(wrong, '{"lockers": ["A-001"]}');
  await restore(phone, wrong);
  await expect(phone.getByRole('alert')).toHaveText(/not a Keyward backup/);
  await openRegister(phone);
  await expect(registerCount(phone)).toHaveText('30 lockers');
  await other.close();
});

test('a register of 1,000 lockers is packed in storage and reads back the same', async ({ page }) => {
  test.setTimeout(120_000);
  const json = execFileSync(
    'cargo',
    ['run', '--quiet', '-p', 'keyward-core', '--example', 'generate', '--', '1000'],
    { cwd: root, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const file = join(mkdtempSync(join(tmpdir(), 'keyward-gen-')), 'register-1000.json');
  writeFileSync(file, json);
  const events = JSON.parse(json).events.length;
  expect(events).toBeGreaterThan(2000);

  await restore(page, file);
  await expect(restored(page)).toHaveText(`Restored ${events} events.`, { timeout: 60_000 });
  const records = () =>
    page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('keyward');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction(['events', 'packs', 'outbox']);
            const single = tx.objectStore('events').count();
            const packs = tx.objectStore('packs').count();
            const outbox = tx.objectStore('outbox').count();
            tx.oncomplete = () => {
              resolve({ single: single.result, packs: packs.result, outbox: outbox.result });
              open.result.close();
            };
          };
        }),
    );
  // Opening the app packs the log once it is on screen.
  await open(page, '/');
  await expect(registerCount(page)).toHaveText('Showing 50 of 1,000 lockers');
  await expect.poll(records, { timeout: 30_000 }).toEqual({ single: 0, packs: 1, outbox: 0 });

  // Read back from the pack: the same register, and new events go on after it.
  await open(page, '/');
  await expect(registerCount(page)).toHaveText('Showing 50 of 1,000 lockers');
  await page.getByLabel('Show lockers that are').selectOption('out-of-service');
  const row = page.locator('.rows a').first();
  const number = (await row.locator('.number').textContent()).trim();
  await row.click();
  await expect(lockerStatus(page)).toHaveText('Out of service');
  await page.getByRole('button', { name: 'Put back in service' }).click();
  await expect(lockerStatus(page)).not.toHaveText('Out of service');
  await page.reload();
  await expect(page.getByRole('heading', { name: `Locker ${number}`, level: 1 })).toBeVisible();
  await expect(lockerStatus(page)).not.toHaveText('Out of service');
  await expect(historyLines(page).first()).toContainText('Put back in service');
  // The new change waits in the outbox (this device does not sync); the restored log is untouched.
  expect(await records()).toEqual({ single: 0, packs: 1, outbox: 1 });
});
