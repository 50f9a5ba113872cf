// Chromium with a fake camera that plays a video of a label, for the tests of the scanner.
// The video file is named when the browser starts; a test writes (and rewrites) it with
// `labelVideo` before each scan.

import { chromium, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import config from '../playwright.config.js';
import { open } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');

/** Writes a video of `payload`'s QR code for the fake camera; `options` are label_video's
 * (for example `['--hard']`: small, turned, blurred and noisy). */
export function labelVideo(payload, file, options = []) {
  execFileSync(
    'cargo',
    ['run', '--quiet', '-p', 'keyward-core', '--example', 'label_video', '--', payload, file, ...options],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Writes a video of a staff or pupil card's barcode (`kind`: code128, code39, codabar or
 * ean13) carrying `text`, for the fake camera. */
export function cardVideo(kind, text, file) {
  execFileSync(
    'cargo',
    ['run', '--quiet', '-p', 'keyward-qr', '--example', 'card_video', '--', kind, text, file],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** A browser whose camera plays `video` (a file in a new temporary folder named after `name`). */
export async function cameraBrowser(name) {
  const video = join(mkdtempSync(join(tmpdir(), `keyward-${name}-`)), 'label.y4m');
  const launch = config.use.launchOptions;
  const browser = await chromium.launch({
    ...launch,
    args: [
      ...launch.args,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  return { browser, video };
}

/** Prints the site's locker labels (saving a front desk first if none), so each gets its
 * reference; `window.print` is stubbed. */
export async function printLabels(page) {
  await open(page, '/labels');
  if (await page.getByLabel('Found keys go to').isVisible()) {
    await page.getByLabel('Found keys go to').fill('the school office');
    await page.getByRole('button', { name: 'Save address' }).click();
  }
  await page.evaluate(() => {
    window.print = () => (window.__printed = true);
  });
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed === true)).toBe(true);
}
