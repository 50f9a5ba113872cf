// Labels: the print layout on A4 (checked in a PDF printed by Chromium, rendered to pixels),
// label references made when first printed, and where a scanned label's URL leads.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRange,
  checkA11y,
  fitLockWithKeys,
  open,
  openLocker,
  setUpSite,
  storedLabels,
} from './helpers.js';

const DPI = 254; // 10 pixels per millimetre
const L7160 = { left: 7.25, top: 15.15, width: 63.5, height: 38.1, pitchX: 66.04, pitchY: 38.1, columns: 3 };

function position(t, index) {
  return [t.left + (index % t.columns) * t.pitchX, t.top + Math.floor(index / t.columns) * t.pitchY];
}

/** Prints the page to PDF as Chromium would, renders each page, and returns the bounding box
 * of the dark pixels of each, in millimetres. */
async function printedBoxes(page) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-labels-'));
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: join(dir, 'labels.pdf'), preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  execFileSync('pdftoppm', ['-r', String(DPI), '-gray', join(dir, 'labels.pdf'), join(dir, 'page')]);
  const pages = execFileSync('sh', ['-c', `ls ${dir}/page-*.pgm`]).toString().trim().split('\n');
  return pages.map((file) => {
    const data = readFileSync(file);
    // P5 header: magic, width, height, maxval, each followed by whitespace.
    const header = data.subarray(0, 40).toString('latin1').split(/\s+/);
    const [w, h] = [Number(header[1]), Number(header[2])];
    const offset = data.indexOf('\n', data.indexOf('\n', data.indexOf('\n') + 1) + 1) + 1;
    let [minX, minY, maxX, maxY] = [w, h, -1, -1];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (data[offset + y * w + x] < 128) {
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      }
    }
    const mm = (px) => px / (DPI / 25.4);
    return { widthMm: mm(w), heightMm: mm(h), left: mm(minX), top: mm(minY), right: mm(maxX + 1), bottom: mm(maxY + 1) };
  });
}

function expectNear(actual, expected, what) {
  expect(Math.abs(actual - expected), `${what}: ${actual.toFixed(2)} mm, expected ${expected.toFixed(2)} mm`).toBeLessThanOrEqual(1);
}

test('a sheet of locker labels prints where the template says', async ({ page, browser, baseURL }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-021');
  const { tags } = await fitLockWithKeys(page, 'A-005', 'K505', 2);

  await open(page, '/labels');
  await expect(page.getByRole('heading', { name: 'Print labels', level: 1 })).toBeVisible();
  const host = new URL(baseURL).host;
  await page.getByLabel('Keyward address for this site').fill(`https://${host}/`);
  await page.getByLabel('Found keys go to').fill('the school office');
  await page.getByRole('button', { name: 'Save address' }).click();
  await expect(page.getByText(`QR codes open ${host}. Found keys go to the school office.`)).toBeVisible();

  await page.getByLabel('Label sheet').selectOption('L7160');
  await expect(page.getByRole('status').filter({ hasText: 'locker labels' })).toHaveText('21 locker labels on 1 sheet of L7160.');
  await expect(page.locator('.sheet .label')).toHaveCount(21);
  await expect(page.locator('.qr.pending')).toHaveCount(21);
  expect(await checkA11y(page, 'print labels')).toEqual([]);

  // Print: the lockers get their references first, then the dialog opens.
  await page.evaluate(() => {
    window.print = () => {
      window.__printed = (window.__printed || 0) + 1;
    };
  });
  await page.getByLabel('Print outlines (to check alignment)').check();
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(1);
  await expect(page.locator('.sheet .qr svg')).toHaveCount(21);
  const labels = await storedLabels(page);
  expect(labels).toHaveLength(21);
  expect(new Set(labels.map((l) => l.label)).size).toBe(21);

  const [sheet] = await printedBoxes(page);
  expectNear(sheet.widthMm, 210, 'page width');
  expectNear(sheet.heightMm, 297, 'page height');
  const [firstX, firstY] = position(L7160, 0);
  const [lastX, lastY] = position(L7160, 20);
  expectNear(sheet.left, firstX, 'first label, left edge');
  expectNear(sheet.top, firstY, 'first label, top edge');
  expectNear(sheet.right, lastX + L7160.width, 'last label, right edge');
  expectNear(sheet.bottom, lastY + L7160.height, 'last label, bottom edge');

  // Printing again keeps the same references; a part-used sheet starts at label 20.
  await page.getByLabel('Start at label').fill('20');
  await expect(page.getByRole('status').filter({ hasText: 'locker labels' })).toHaveText('21 locker labels on 2 sheets of L7160.');
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(2);
  expect(await storedLabels(page)).toEqual(labels);
  const [partUsed, next] = await printedBoxes(page);
  const [x19, y19] = position(L7160, 19);
  expectNear(partUsed.left, x19, 'label 20, left edge');
  expectNear(partUsed.top, y19, 'label 20, top edge');
  expectNear(next.left, firstX, 'second sheet, left edge');
  expectNear(next.top, firstY, 'second sheet, top edge');

  // Key tags: tag id only.
  await page.getByLabel('Key tags', { exact: true }).check();
  await page.getByLabel('From locker (optional)').fill('a-005');
  await page.getByLabel('To locker (optional)').fill('A-005');
  await expect(page.locator('.sheet .label-text')).toHaveText(tags);

  // From a locker's page: its own label, or its key tags, one tap away.
  await openLocker(page, 'A-005');
  await page.getByRole('link', { name: 'Print its key tags' }).click();
  await expect(page.getByLabel('Key tags', { exact: true })).toBeChecked();
  await expect(page.locator('.sheet .label-text')).toHaveText(tags);
  await openLocker(page, 'A-005');
  await page.getByRole('link', { name: 'Print its label' }).click();
  await expect(page.locator('.sheet .label-text')).toHaveText(['A-005']);

  // A scanned locker label opens the locker; a key tag opens the key.
  const a001 = labels[0];
  await open(page, `/l/${a001.label}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Locker A-0\d\d$/);
  await open(page, `/k/${tags[0]}`);
  await expect(page.getByRole('heading', { name: `Key ${tags[0]}`, level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Issue this key' })).toBeVisible();
  expect(await checkA11y(page, 'key page')).toEqual([]);

  // An unknown code on this device: the site's name and front desk, nothing else.
  await open(page, '/l/ZZZZZZZZZZ');
  await expect(page.getByText('This locker is managed by Northgate School.')).toBeVisible();
  await expect(page.getByText('Found a key? Please hand it to the school office.')).toBeVisible();
  expect(await checkA11y(page, 'neutral page')).toEqual([]);

  // A stranger's phone: no register, no data.
  const stranger = await browser.newContext();
  const phone = await stranger.newPage();
  await phone.goto(new URL(`/l/${a001.label}`, baseURL).href);
  await expect(phone.getByText('This label belongs to a key register.')).toBeVisible();
  await expect(phone.locator('main')).not.toContainText('A-0');
  await expect(phone.locator('main')).not.toContainText('Northgate');
  await stranger.close();
});

test('blank tags printed in advance go on a key when scanned, and the old tag stops working', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-003');
  const { tags } = await fitLockWithKeys(page, 'A-002', 'K202', 1);
  const old = tags[0];

  await open(page, '/labels');
  await page.getByLabel('Found keys go to').fill('the school office');
  await page.getByRole('button', { name: 'Save address' }).click();
  await page.getByLabel('Blank key tags').check();
  await page.getByLabel('Label sheet').selectOption('L7651');
  await page.getByLabel('How many blank tags').fill('5');
  await expect(page.getByRole('status').filter({ hasText: 'made when you print' })).toBeVisible();
  await page.evaluate(() => {
    window.print = () => (window.__printed = (window.__printed || 0) + 1);
  });
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(1);
  await expect(page.getByRole('status').filter({ hasText: 'blank key tags' })).toHaveText('5 blank key tags on 1 sheet of L7651.');
  await expect(page.locator('.sheet .qr svg')).toHaveCount(5);
  const blanks = await page.locator('.sheet .label-text').allTextContents();
  expect(blanks).toHaveLength(5);
  expect(blanks).not.toContain(old);
  // Printing again (a jammed printer) prints the same tags.
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(2);
  expect(await page.locator('.sheet .label-text').allTextContents()).toEqual(blanks);

  // Scanning (here: typing) a blank tag offers to put it on a key.
  await open(page, '/scan');
  await page.getByLabel('Tag id or locker number').fill(blanks[0].toLowerCase());
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('heading', { name: `Blank tag ${blanks[0]}`, level: 1 })).toBeVisible();
  expect(await checkA11y(page, 'blank tag')).toEqual([]);
  await page.getByLabel('Locker number').fill('a-002');
  const keyList = page.getByRole('list', { name: 'Keys of locker A-002' });
  await expect(keyList).toContainText(`Tagged ${old}`);
  await keyList.getByRole('button', { name: 'Put tag here' }).click();
  await expect(page.getByRole('heading', { name: `Key ${blanks[0]}`, level: 1 })).toBeVisible();
  await expect(page.getByText(`Tag ${blanks[0]} is on the key now; its old tag ${old} no longer works.`)).toBeVisible();

  // The old tag no longer resolves; the locker's history says why.
  await open(page, '/scan');
  await page.getByLabel('Tag id or locker number').fill(old);
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('alert')).toContainText(`No locker or key “${old}” in this register.`);
  await open(page, `/k/${blanks[0]}`);
  await expect(page.getByRole('heading', { name: `Key ${blanks[0]}`, level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Locker A-002' }).last().click();
  await expect(page.getByText(`Key copy 1 tagged ${blanks[0]}; its old tag ${old} no longer works`)).toBeVisible();

  // Another blank tag's URL opened by a phone camera lands on the same offer.
  await open(page, `/k/${blanks[1]}`);
  await expect(page.getByRole('heading', { name: `Blank tag ${blanks[1]}`, level: 1 })).toBeVisible();
});
