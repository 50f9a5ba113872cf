// Labels: the print layout on A4 (checked in a PDF printed by Chromium, rendered to pixels),
// label references made when first printed, and where a scanned label's URL leads; every text
// printed whole inside its label (word boxes from pdftotext -bbox) on L7160 and L7651 with the
// widest letters and the longest locker numbers; the printed QR codes read by zbarimg (not the
// app's decoder) as the site's real address in capitals, which a phone's camera opens.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRange,
  checkA11y,
  fitLockWithKeys,
  open,
  openLocker,
  screenshots,
  setUpSite,
  storedLabels,
  submitOneLocker,
} from './helpers.js';

const DPI = 254; // 10 pixels per millimetre
const L7160 = { left: 7.25, top: 15.15, width: 63.5, height: 38.1, pitchX: 66.04, pitchY: 38.1, columns: 3 };
const L7651 = { left: 4.75, top: 10.7, width: 38.1, height: 21.2, pitchX: 40.64, pitchY: 21.2, columns: 5 };

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
  // The address is this page's own until set: scheme, host and port.
  const origin = new URL(baseURL).origin;
  await expect(page.getByLabel('Keyward address for this site')).toHaveValue(origin);
  await page.getByLabel('Keyward address for this site').fill(`${origin}/`);
  await page.getByLabel('Found keys go to').fill('the school office');
  await page.getByRole('button', { name: 'Save address' }).click();
  await expect(page.getByText(`QR codes open ${origin}: a phone's camera that scans a label opens this address. Found keys go to the school office.`)).toBeVisible();

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

  // A scanned locker label opens the locker; a key tag in store opens its quick issue.
  const a001 = labels[0];
  await open(page, `/l/${a001.label}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Locker A-0\d\d$/);
  await open(page, `/k/${tags[0]}`);
  await expect(page.getByRole('heading', { name: `Issue key ${tags[0]}`, level: 1 })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Issue key' })).toBeVisible();
  expect(await checkA11y(page, 'quick issue from a key tag')).toEqual([]);

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

/** The page printed to PDF as Chromium prints it (print CSS, A4), in a new folder. */
async function printPdf(page, name) {
  const dir = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  const pdf = join(dir, `${name}.pdf`);
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  return { dir, pdf };
}

/** Every word of each page of `pdf` with its box in millimetres (poppler's pdftotext -bbox). */
function printedWords(dir, pdf) {
  const html = join(dir, 'words.html');
  execFileSync('pdftotext', ['-bbox', pdf, html]);
  const mm = (pt) => (Number(pt) * 25.4) / 72;
  return readFileSync(html, 'utf8')
    .split('<page ')
    .slice(1)
    .map((page) =>
      [...page.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map(
        ([, x0, y0, x1, y1, text]) => ({ text, left: mm(x0), top: mm(y0), right: mm(x1), bottom: mm(y1) }),
      ),
    );
}

/** The QR codes printed on `pdf`, as read by zbarimg from each page rendered at 300 dpi, and
 * at 200 and 400 dpi for any code a scan of the whole page missed (zbar reads a page of many
 * codes in one pass and now and then passes one over; a label read at any of them is whole). */
function printedCodes(dir, pdf) {
  const found = new Set();
  for (const dpi of ['300', '200', '400']) {
    const prefix = `qr${dpi}`;
    execFileSync('pdftoppm', ['-r', dpi, '-gray', '-png', pdf, join(dir, prefix)]);
    for (const f of readdirSync(dir).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.png'))) {
      let out = '';
      try {
        out = execFileSync('zbarimg', ['--raw', '-q', join(dir, f)]).toString();
      } catch (e) {
        out = e.stdout?.toString() ?? '';
      }
      out.trim().split('\n').filter(Boolean).forEach((code) => found.add(code));
    }
  }
  return [...found].sort();
}

/** Each printed label as the page lays it out: its text, and its QR code's left edge (mm). */
function sheetLabels(page) {
  return page.locator('.sheet').evaluateAll((sheets) =>
    sheets.map((sheet) =>
      [...sheet.querySelectorAll('.label')].map((label) => {
        const mm = (v) => Number(v.replace('mm', ''));
        const qr = label.querySelector('.qr');
        return {
          text: label.querySelector('.label-text').textContent.trim(),
          left: mm(label.style.left),
          top: mm(label.style.top),
          qrLeft: mm(label.style.left) + mm(qr.style.left),
        };
      }),
    ),
  );
}

/** Checks that every word printed on the sheet lies whole inside the rectangle of its label on
 * template `t` (and left of its QR code), and that each label's words are its whole text. */
async function expectWholeText(page, t, name) {
  const { dir, pdf } = await printPdf(page, name);
  const pages = printedWords(dir, pdf);
  const sheets = await sheetLabels(page);
  expect(pages.length).toBe(sheets.length);
  const slack = 0.05; // mm: pdftotext rounds to 1/1000 pt, the page to 1/100 mm
  sheets.forEach((labels, sheet) => {
    const words = pages[sheet];
    const found = labels.map(() => []);
    for (const word of words) {
      const x = (word.left + word.right) / 2;
      const y = (word.top + word.bottom) / 2;
      const i = labels.findIndex((_, n) => {
        const [lx, ly] = position(t, n);
        return x >= lx && x <= lx + t.width && y >= ly && y <= ly + t.height;
      });
      expect(i, `"${word.text}" printed outside every label, at ${word.left.toFixed(1)}, ${word.top.toFixed(1)} mm`).toBeGreaterThanOrEqual(0);
      const [lx, ly] = position(t, i);
      const where = `"${word.text}" on label ${i + 1} of ${t.code} (${JSON.stringify(word)})`;
      expect(word.left, where).toBeGreaterThanOrEqual(lx - slack);
      expect(word.top, where).toBeGreaterThanOrEqual(ly - slack);
      expect(word.bottom, where).toBeLessThanOrEqual(ly + t.height + slack);
      expect(word.right, `${where}: runs into the QR code`).toBeLessThanOrEqual(labels[i].qrLeft + slack);
      found[i].push(word);
    }
    labels.forEach((label, i) => {
      const [lx, ly] = position(t, i);
      expect(Math.abs(label.left - lx) + Math.abs(label.top - ly), `label ${i + 1} where ${t.code} has it`).toBeLessThan(0.02);
      const printed = found[i]
        .sort((a, b) => a.top - b.top || a.left - b.left)
        .map((w) => w.text)
        .join('');
      expect(printed, `label ${i + 1} of ${t.code} printed whole`).toBe(label.text.replace(/\s/g, ''));
    });
  });
  return { dir, pdf };
}

test('every text prints whole on L7160 and L7651, and a printed QR opens the app at the real address', async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  await setUpSite(page);
  // The widest letters, a tag id's length, where L7651 starts to wrap, and the longest number.
  const numbers = [
    'W',
    'WWWWWWW',
    'MMMMMMM',
    'WWWWWWWW',
    'WWWWWWWWW',
    'WWWWWWWWWWWWWWW',
    'WWWWWWWWWWWWWWWWWWWW',
    'MMMMMMMMMMMMMMMMMMMM',
    'WM-WMWM WMWM/WMWMWMW',
  ];
  for (const number of numbers) {
    await submitOneLocker(page, number);
    await expect(page.getByText(`Locker ${number} added.`)).toBeVisible();
  }
  await addRange(page, 'A-001', 'A-002');
  const { tags } = await fitLockWithKeys(page, 'A-002', 'K202', 3);

  await open(page, '/labels');
  const origin = new URL(baseURL).origin;
  const address = page.getByLabel('Keyward address for this site');
  await expect(address).toHaveValue(origin);
  await page.getByLabel('Found keys go to').fill('the school office');
  await page.getByRole('button', { name: 'Save address' }).click();
  await expect(page.locator('.site-address')).toHaveText(origin);
  await page.evaluate(() => {
    window.print = () => (window.__printed = (window.__printed || 0) + 1);
  });

  // Locker labels on L7160: every number whole, every QR the site's address in capitals.
  await page.getByLabel('Label sheet').selectOption('L7160');
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(1);
  await expect(page.locator('.sheet .qr svg')).toHaveCount(numbers.length + 2);
  const texts = (await sheetLabels(page)).flat().map((l) => l.text.replace(/\s/g, ''));
  expect(texts.sort()).toEqual([...numbers, 'A-001', 'A-002'].map((n) => n.replace(/\s/g, '')).sort());
  const refs = (await storedLabels(page)).map((l) => l.label);
  const lockerUrls = refs.map((r) => `${origin.toUpperCase()}/L/${r}`).sort();
  // HTTP://127.0.0.1:<port>/L/<ref>: one alphanumeric segment, QR version 2 (25 modules and the
  // 4-module quiet zone each side); in small letters it would be bytes and version 3.
  expect(lockerUrls[0]).toMatch(/^HTTP:\/\/127\.0\.0\.1:\d+\/L\/[0-9A-Z]{10}$/);
  const modules = await page.locator('.sheet .qr svg').first().evaluate((svg) => svg.viewBox.baseVal.width);
  expect(modules).toBe(25 + 8);
  let printed = await expectWholeText(page, L7160, 'l7160');
  expect(printedCodes(printed.dir, printed.pdf)).toEqual(lockerUrls);

  // The same on the small key-tag sheet, where the longest numbers wrap.
  await page.getByLabel('Label sheet').selectOption('L7651');
  await expect(page.locator('.sheet .label')).toHaveCount(numbers.length + 2);
  const wrapped = page.locator('.label').filter({ hasText: /M{5} M{5}/ });
  expect(await wrapped.locator('.label-line').count()).toBeGreaterThan(1);
  printed = await expectWholeText(page, L7651, 'l7651');
  expect(printedCodes(printed.dir, printed.pdf)).toEqual(lockerUrls);
  execFileSync('pdftoppm', ['-png', '-r', '150', '-f', '1', '-l', '1', '-x', '0', '-y', '0', '-W', '1240', '-H', '600', printed.pdf, '/tmp/labels-sheet-l7651-top']);
  execFileSync('pdftoppm', ['-png', '-singlefile', '-scale-to-x', '390', '-scale-to-y', '-1', printed.pdf, '/tmp/labels-sheet-l7651-390']);

  // Key tags of A-002 on L7651: tag ids whole, codes /K/<tag>.
  await page.getByLabel('Key tags', { exact: true }).check();
  await page.getByLabel('From locker (optional)').fill('A-002');
  await page.getByLabel('To locker (optional)').fill('A-002');
  await expect(page.locator('.sheet .label-text')).toHaveText(tags);
  printed = await expectWholeText(page, L7651, 'tags');
  expect(printedCodes(printed.dir, printed.pdf)).toEqual(tags.map((t) => `${origin.toUpperCase()}/K/${t}`).sort());

  // The address a phone's camera opens, exactly as printed: this device knows the locker…
  const url = lockerUrls[0];
  const ref = url.split('/L/')[1];
  const number = (await storedLabels(page)).find((l) => l.label === ref);
  expect(number).toBeTruthy();
  await page.goto(url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Locker /);
  expect(new URL(page.url()).pathname).toMatch(/^\/lockers\//);
  // …a stranger's phone gets the neutral page, and nothing of the register.
  const stranger = await browser.newContext();
  const phone = await stranger.newPage();
  await phone.goto(url);
  await expect(phone.getByText('This label belongs to a key register.')).toBeVisible();
  await expect(phone.locator('main')).not.toContainText('WWW');
  await expect(phone.locator('main')).not.toContainText('Northgate');
  await phone.goto(`${origin.toUpperCase()}/K/${tags[0]}`);
  await expect(phone.getByText('This label belongs to a key register.')).toBeVisible();
  await stranger.close();

  // A site network's address over plain HTTP: kept with its port, and the screen says what
  // that means; the printed codes say it too.
  await open(page, '/labels');
  await page.getByRole('button', { name: 'Change' }).click();
  await address.fill('http://192.168.1.20:8080');
  await expect(page.getByText(/This address is plain http:\/\//)).toBeVisible();
  await page.getByRole('button', { name: 'Save address' }).click();
  await expect(page.locator('.site-address')).toHaveText('http://192.168.1.20:8080');
  await expect(page.getByText(/plain http:\/\/\. A phone's camera opens it on the site's network, but Keyward can only work offline on phones from an https:\/\/ address/)).toBeVisible();
  expect(await checkA11y(page, 'labels, plain http address')).toEqual([]);
  await screenshots(page, 'labels-address-http');
  await page.evaluate(() => {
    window.print = () => (window.__printed = (window.__printed || 0) + 1);
  });
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.__printed)).toBe(1);
  printed = await printPdf(page, 'http');
  expect(printedCodes(printed.dir, printed.pdf)).toEqual(refs.map((r) => `HTTP://192.168.1.20:8080/L/${r}`).sort());
});
