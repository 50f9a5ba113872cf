// The server restored from a backup older than what a device has received: the device must not
// look up to date (the server would hand out positions it thinks it has). It says what happened
// and what to do, on the sync page, and keeps its register.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRange,
  checkA11y,
  open,
  putOnServer,
  registerCount,
  restartServer,
  setUpSite,
  stopServer,
} from './helpers.js';

const server = (...args) =>
  execFileSync(process.env.KEYWARD_SERVER_BIN, [...args, '--data', process.env.KEYWARD_DATA_DIR], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

test('a device that received more than a restored server holds says so, and keeps its register', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-restore-'));
  const backup = join(dir, 'before.db');
  try {
    await setUpSite(page, { site: 'Restored Site' });
    await addRange(page, 'R-001', 'R-003');
    await putOnServer(page, { username: 'restore.admin', password: 'violet harbour lantern' });

    // The operator's backup, taken while the server serves.
    server('backup', '--to', backup);

    // More work reaches the server after the backup.
    await addRange(page, 'R-004', 'R-010');
    await expect(page.locator('.statusbar .sync-chip')).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });

    // The operator restores the older backup.
    await stopServer();
    server('restore', backup);
    await restartServer();

    await open(page, '/sync');
    await page.getByRole('button', { name: 'Sync now' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'restored from a backup' });
    await expect(alert).toBeVisible({ timeout: 20_000 });
    await expect(alert).toContainText('but this device has received');
    await expect(alert).toContainText('Tell whoever runs the server.');
    await expect(page.locator('.statusbar .sync-chip')).not.toHaveText(/^Synced/);
    expect(await checkA11y(page, 'sync after a restore')).toEqual([]);

    // Nothing on the device was lost.
    await open(page, '/');
    await expect(registerCount(page)).toContainText('10');
  } finally {
    await restartServer();
    rmSync(dir, { recursive: true, force: true });
  }
});
