// Audits (procedure 8). On a tablet (1024×768) with the fake camera: an audit of the whole
// site's 20 lockers, by tapping and by scanning labels; one key missing, one key tag found at
// the wrong locker, one finding undone, offline from midway; completed; the report shows
// exactly those findings, on screen, in its CSV and in the printed PDF (pdftotext). On a phone
// (390×844): a person recorded as left, a copy of a key added by hand where the area asks for
// replacement orders, a range audited by tapping, its report, the due list
// and term dates, and the manager's charts. Two auditors sharing a site's audit, an area each.
// axe on every new screen.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cameraBrowser, labelVideo, printLabels } from './camera.js';
import config from '../playwright.config.js';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  gotoAddLockers,
  issuableTags,
  nav,
  open,
  openLocker,
  screenshots,
  setUpSite,
  storedLabels,
  waitForServiceWorker,
  waitReady,
} from './helpers.js';

const current = (page) => page.locator('#audit-locker');
const progress = (page) => page.locator('.audit-progress');

/** Starts an audit from Set-up → Audits; `scope` is the radio's label. */
async function startAudit(page, scope, fill = async () => {}) {
  await nav(page, 'Set-up').click();
  await page.getByRole('link', { name: 'Audits', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Audits', level: 1 })).toBeVisible();
  await page.getByLabel(scope).check();
  await fill();
  await page.getByRole('button', { name: 'Start audit' }).click();
  await expect(page.getByRole('heading', { name: /^Audit: /, level: 1 })).toBeVisible();
}

/** Taps "As expected" and waits for the walk to move on (or, at the last locker, to count it). */
async function asExpected(page) {
  const before = await current(page).textContent();
  const done = await progress(page).textContent();
  await page.getByRole('button', { name: 'As expected', exact: true }).click();
  await expect(progress(page)).not.toHaveText(done);
  return before;
}

test('a tablet audit of 20 lockers: tapped, scanned, offline midway, and its report', async ({ baseURL }) => {
  const { browser, video } = await cameraBrowser('audit');
  try {
    const context = await browser.newContext({
      ...config.use,
      baseURL,
      viewport: { width: 1024, height: 768 },
      permissions: ['camera'],
    });
    const page = await context.newPage();
    await setUpSite(page);
    await addRange(page, 'A-001', 'A-020');
    const [first] = (await fitLockWithKeys(page, 'A-001', 'K001', 1)).tags;
    const [fifth] = (await fitLockWithKeys(page, 'A-005', 'K005', 1)).tags;
    await printLabels(page);
    const labels = await storedLabels(page);
    const a007 = (await openLocker(page, 'A-007')).split('/').pop();
    const label007 = labels.find((l) => l.locker === a007).label;

    await startAudit(page, 'The whole site');
    await expect(progress(page)).toHaveText('0 of 20 done · no issues');
    await expect(current(page)).toHaveText('Locker A-001');
    await expect(page.getByText(`The register expects: ${first} in store`)).toBeVisible();
    expect(await checkA11y(page, 'audit walk')).toEqual([]);
    await screenshots(page, 'audit-walk');
    await page.setViewportSize({ width: 1024, height: 768 });

    // as expected, by tapping; the walk moves on by itself.
    for (const n of ['A-001', 'A-002', 'A-003', 'A-004']) {
      expect(await asExpected(page)).toBe(`Locker ${n}`);
    }
    await expect(current(page)).toHaveText('Locker A-005');
    await page.getByRole('button', { name: 'Key missing', exact: true }).click();
    await expect(page.getByText('Locker A-005: Key missing.')).toBeVisible();
    await expect(progress(page)).toHaveText('5 of 20 done · 1 issue found');

    // Offline from here on.
    await waitForServiceWorker(page);
    await context.setOffline(true);

    // Scanning A-007's label moves there; A-001's key tag found there is recorded.
    labelVideo(`https://keys.example.org/l/${label007}`, video);
    await page.getByRole('button', { name: 'Scan labels and tags' }).click();
    await expect(current(page)).toHaveText('Locker A-007', { timeout: 20_000 });
    await page.getByRole('button', { name: 'Stop scanning' }).click();
    labelVideo(`https://keys.example.org/k/${first}`, video);
    await page.getByRole('button', { name: 'Scan labels and tags' }).click();
    await expect(page.getByText(`Locker A-007: Key ${first} found here; it belongs to locker A-001.`)).toBeVisible({
      timeout: 20_000,
    });
    await page.getByRole('button', { name: 'Stop scanning' }).click();
    await expect(progress(page)).toHaveText('6 of 20 done · 2 issues found');

    // One undo: A-002 taken back, then recorded again.
    await page.getByRole('button', { name: /^A-002/ }).click();
    await expect(current(page)).toHaveText('Locker A-002');
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect(page.getByText('Finding undone.')).toBeVisible();
    await expect(page.getByRole('button', { name: /^A-002/ })).toContainText('To do');
    await expect(progress(page)).toHaveText('5 of 20 done · 2 issues found');
    await asExpected(page);

    // The rest as expected, with a reload on the way: the audit was kept offline.
    await page.reload();
    await waitReady(page);
    await expect(progress(page)).toHaveText('6 of 20 done · 2 issues found');
    for (let i = 0; i < 14; i += 1) await asExpected(page);
    await expect(progress(page)).toHaveText('20 of 20 done · 2 issues found');

    await page.getByRole('button', { name: 'Complete audit' }).click();
    await expect(page.getByRole('heading', { name: 'Audit report', level: 1 })).toBeVisible();
    const report = page.locator('.audit-report');
    await expect(report).toContainText('20 of 20 Lockers checked');
    await expect(report).toContainText('2 Issues found');
    const findings = report.locator('.report-part').filter({ hasText: 'Findings (2)' });
    await expect(findings.locator('tbody tr')).toHaveCount(2);
    await expect(findings.locator('tbody tr').nth(0)).toContainText('A-005');
    await expect(findings.locator('tbody tr').nth(0)).toContainText('Key missing');
    await expect(findings.locator('tbody tr').nth(1)).toContainText(`Key ${first} found here; it belongs to locker A-001`);
    const missing = report.locator('.report-part').filter({ hasText: 'Keys missing (1)' });
    await expect(missing.locator('tbody tr')).toHaveText([new RegExp(`A-005\\s*${fifth}`)]);
    await expect(report.locator('.report-part').filter({ hasText: 'Lockers not checked (0)' })).toContainText('None.');
    expect(await checkA11y(page, 'audit report')).toEqual([]);
    await screenshots(page, 'audit-report');

    // The CSV says the same.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'keyward-audit-'));
    const csvFile = join(dir, download.suggestedFilename());
    await download.saveAs(csvFile);
    const csv = readFileSync(csvFile, 'utf8');
    expect(csv).toContain('Key missing');
    expect(csv).toContain(`Key ${first} found here; it belongs to locker A-001`);

    // Printed: the A4 PDF has the header and both findings, nothing of the app around them.
    const pdf = join(dir, 'audit.pdf');
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdf, '/tmp/audit-report-print']);
    // Reading order, each run of spaces and line breaks as one space (a cell's text wraps).
    const text = execFileSync('pdftotext', [pdf, '-']).toString().replace(/\s+/g, ' ');
    expect(text).toContain('Audit report');
    expect(text).toContain('Whole site');
    expect(text).toContain('Key missing');
    expect(text).toContain(`belongs to locker A-001`);
    expect(text).not.toContain('Download CSV');
    expect(text).not.toContain('Register');
    await context.setOffline(false);
  } finally {
    await browser.close();
  }
});

test('on a phone: a range audited by tapping, the due list, term dates and the charts', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'B-1', 'B-4');
  // A person who left: recorded on their page (the report lists leavers who still hold keys).
  await addPerson(page, { name: 'Sam Jones', kind: 'Staff', ref: 'S1' });
  const leaving = page.getByRole('form', { name: 'Record that they have left' });
  await leaving.getByLabel('Left the site on').fill('30/11/2026');
  await leaving.getByRole('button', { name: 'Record that they have left' }).click();
  await expect(flash(page, 'Recorded as left on 30/11/2026.')).toBeVisible();
  await expect(page.getByText('Left the site on 30/11/2026.')).toBeVisible();
  expect(await checkA11y(page, 'a person who left')).toEqual([]);
  // The area asks for a replacement order for every copy of a key; B-3 gets a copy by hand.
  await nav(page, 'Set-up').click();
  await page.getByRole('link', { name: 'Policies', exact: true }).click();
  const copies = page.getByRole('form', { name: 'Copies of a key need a replacement order' });
  await expect(copies).toContainText('Inherited from the site: No');
  await copies.getByLabel('Copies of a key need a replacement order').check();
  await copies.getByRole('button', { name: 'Set for this area' }).click();
  await expect(copies).toContainText('Set for this area: Yes');
  const [original] = (await fitLockWithKeys(page, 'B-3', 'K303', 1)).tags;
  await page.getByLabel('How many').fill('1');
  await page.getByRole('button', { name: 'Add keys' }).click();
  await expect(flash(page, '1 key added, each with its own tag.')).toBeVisible();
  await expect(page.getByRole('link', { name: /^Issue key / })).toHaveCount(2);
  const copy = (await issuableTags(page)).find((t) => t !== original);
  // Two faults on its lock, for the manager's chart.
  for (const kind of ['Jammed', 'Broken']) {
    await page.getByLabel(kind, { exact: true }).check();
    await page.getByRole('button', { name: 'Record fault' }).click();
    await expect(flash(page, `Fault recorded: ${kind.toLowerCase()}.`)).toBeVisible();
  }
  await startAudit(page, 'A range of lockers in an area', async () => {
    await page.getByLabel('From locker').fill('b-2');
    await page.getByLabel('To locker').fill('B-4');
  });
  await expect(page.getByRole('heading', { name: /^Audit: .*B-2 to B-4/, level: 1 })).toBeVisible();
  await expect(progress(page)).toHaveText('0 of 3 done · no issues');
  const button = page.getByRole('button', { name: 'As expected', exact: true });
  const box = await button.boundingBox();
  expect(box.height).toBeGreaterThanOrEqual(56);
  await asExpected(page);
  // Completing with lockers left asks once, and says what happens to them.
  await page.getByRole('button', { name: 'Complete audit' }).click();
  await expect(page.getByRole('alert')).toContainText('2 lockers have no finding yet');
  await asExpected(page);
  await asExpected(page);
  await page.getByRole('button', { name: 'Complete audit' }).click();
  const report = page.locator('.audit-report');
  await expect(report).toContainText('3 of 3 Lockers checked');
  await expect(report.locator('.report-part').filter({ hasText: 'Findings (0)' })).toContainText('None.');
  const mismatch = report.locator('.report-part').filter({ hasText: 'Replacement keys that do not match the register (1)' });
  await expect(mismatch.locator('tbody tr')).toHaveText([
    new RegExp(`B-3\\s*Key ${copy} added as a copy on \\d\\d/\\d\\d/\\d{4} with no replacement order; this area's policy asks for one`),
  ]);
  expect(await checkA11y(page, 'audit report, phone')).toEqual([]);

  // The audits list: the completed one, the due list (a range does not count for its area),
  // term dates for termly audits.
  await open(page, '/audits');
  await expect(page.getByRole('link', { name: /B-2 to B-4/ })).toContainText('No issues found');
  const due = page.locator('.due-row');
  // A range does not count as auditing its area.
  await expect(due.first()).toHaveText(/Science block\s*Termly · Never audited/);
  await page.getByLabel('Term', { exact: true }).fill('Autumn 2026');
  await page.getByLabel('First day').fill('02/09/2026');
  await page.getByLabel('Last day').fill('18/12/2026');
  await page.getByRole('button', { name: 'Add term' }).click();
  await expect(flash(page, 'Term added.')).toBeVisible();
  await expect(page.getByText('02/09/2026 to 18/12/2026')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Remove Autumn 2026' })).toBeVisible();
  expect(await checkA11y(page, 'audits list')).toEqual([]);
  await screenshots(page, 'audits-list');

  // A walking order for the area: the named lockers first, the rest in number order.
  const order = page.getByRole('form', { name: 'Walking order' });
  await order.getByLabel('Locker numbers in walking order').fill('b-4, B-2  X-9');
  await order.getByRole('button', { name: 'Save walking order' }).click();
  await expect(order.getByRole('alert')).toContainText('No locker “X-9” in this area.');
  await order.getByLabel('Locker numbers in walking order').fill('b-4, B-2');
  await order.getByRole('button', { name: 'Save walking order' }).click();
  await expect(flash(page, 'Walking order saved.')).toBeVisible();
  await expect(order).toContainText('Now: B-4, B-2, then the rest in number order.');
  await startAudit(page, 'One area');
  await expect(page.locator('.audit-lockers li')).toHaveText([/^B-4/, /^B-2/, /^B-1/, /^B-3/]);
  await expect(current(page)).toHaveText('Locker B-4');
  await open(page, '/audits');

  await page.getByRole('link', { name: "Manager's view: charts" }).click();
  await expect(page.getByRole('heading', { name: "Manager's view", level: 1 })).toBeVisible();
  for (const title of ['Lost or stolen keys per month', 'Loans overdue at the end of each week', 'Audit completion']) {
    await expect(page.getByRole('figure', { name: title })).toBeVisible();
  }
  await expect(page.getByText('0 of 1 areas audited on time')).toBeVisible();
  await expect(page.getByRole('figure', { name: 'Lost or stolen keys per month' })).toContainText('No keys in this time.');
  const faults = page.getByRole('figure', { name: 'Lock faults per area, last 12 months' });
  await expect(faults).toContainText('2 faults in all');
  await expect(faults.locator('svg rect.bar')).toHaveCount(1);
  const bar = await faults.locator('svg rect.bar').boundingBox();
  expect(bar.width).toBeGreaterThan(100);
  await faults.getByText('Show as a table').click();
  await expect(faults.locator('tbody tr')).toHaveText([/Science block\s*2/]);
  expect(await checkA11y(page, 'dashboard')).toEqual([]);
  await screenshots(page, 'dashboard');
});

test('two auditors share a site audit, an area each, and their findings make one audit', async ({ page, context }) => {
  await setUpSite(page);
  await addRange(page, 'A-1', 'A-2');
  await open(page, '/setup');
  await page.getByLabel('New area').fill('Pool');
  await page.getByRole('button', { name: 'Add area' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'Pool' })).toBeVisible();
  await gotoAddLockers(page);
  await page.getByLabel('Area', { exact: true }).selectOption({ label: 'Pool' });
  await page.getByLabel('A range').check();
  await page.getByLabel('From', { exact: true }).fill('P-1');
  await page.getByLabel('To', { exact: true }).fill('P-3');
  await page.getByRole('button', { name: 'Add lockers' }).click();
  await expect(flash(page, '3 lockers added, P-1 to P-3.')).toBeVisible();

  await startAudit(page, 'The whole site');
  await expect(progress(page)).toHaveText('0 of 5 done · no issues');
  const url = page.url();
  // The first auditor takes the Science block, the second (another tab here) the Pool.
  await page.getByLabel('Your part of the walk').selectOption({ label: 'Science block' });
  await expect(progress(page)).toHaveText('0 of 2 done · no issues');
  await expect(current(page)).toHaveText('Locker A-1');
  const second = await context.newPage();
  await open(second, url);
  await second.getByLabel('Your part of the walk').selectOption({ label: 'Pool' });
  await expect(progress(second)).toHaveText('0 of 3 done · no issues');
  await expect(current(second)).toHaveText('Locker P-1');
  expect(await checkA11y(second, 'a shared audit')).toEqual([]);

  await asExpected(page);
  await page.getByRole('button', { name: 'Lock fault', exact: true }).click();
  await expect(progress(page)).toHaveText('2 of 2 done · 1 issue found');
  for (let i = 0; i < 3; i += 1) await asExpected(second);
  await expect(progress(second)).toHaveText('3 of 3 done · no issues');
  // The whole audit counts both.
  await second.getByLabel('Your part of the walk').selectOption({ label: 'Every area' });
  await expect(progress(second)).toHaveText('5 of 5 done · 1 issue found');
  await second.close();
});
