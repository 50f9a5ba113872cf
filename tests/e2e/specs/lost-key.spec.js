// The lost-key case, guided and offline: report a key lost step by step, decide a
// replacement, record a charge, add a supplier, order from the case, receive it (new keys,
// new tags), print the new tags to PDF, and the case closes. Also: a labelled key makes a
// lock change recommended, and a lost key's tag, opened as a scan, says loudly that it is lost.

import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  USER,
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  historyLines,
  issueKey,
  openLocker,
  setUpSite,
  ukToday,
  waitForServiceWorker,
  waitReady,
  screenshots,
} from './helpers.js';


/** Screenshots of the current screen at phone and tablet width (/tmp/ui-lost-<name>-*.png). */
function shots(page, name) {
  return screenshots(page, `ui-lost-${name}`);
}

/** The page printed to PDF as Chromium would, as text (pdftotext). */
async function printedText(page, name) {
  const dir = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  const pdf = join(dir, `${name}.pdf`);
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  execFileSync('pdftotext', ['-layout', pdf, join(dir, `${name}.txt`)]);
  return readFileSync(join(dir, `${name}.txt`), 'utf8');
}

/** A site with lockers A-001..A-010, A-007 keyed (K7007, 2 keys), key 1 issued to Sam Jones. */
async function keyOut(page) {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-010');
  await addPerson(page, { name: 'Sam Jones', ref: 'P1234' });
  const a7 = await fitLockWithKeys(page, 'A-007', 'K7007', 2);
  await issueKey(page, a7.tags[0], 'Sam Jones');
  return a7;
}

/** From the locker page, walks the four steps and reports the key; ends on the case page. */
async function reportLost(page, tag, { labelled = false, found = [], a11y = null } = {}) {
  await page.getByRole('link', { name: `Report key ${tag} lost or stolen` }).click();
  await expect(page.getByRole('heading', { name: `Report key ${tag} lost or stolen`, level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Step 1 of 4: Locker and person' })).toBeVisible();
  await expect(page.getByText('Sam Jones', { exact: true })).toBeVisible();
  if (a11y) found.push(...(await checkA11y(page, 'report lost, step 1')));
  if (a11y) await shots(page, 'report-step1');
  await page.getByRole('button', { name: 'Yes, that is right' }).click();

  await expect(page.getByRole('heading', { name: 'Step 2 of 4: The issue record' })).toBeVisible();
  await expect(page.getByText(`Issued to Sam Jones on ${ukToday()} by ${USER}, confirmed by typing “Sam Jones”.`)).toBeVisible();
  if (a11y) found.push(...(await checkA11y(page, 'report lost, step 2')));
  await page.getByRole('button', { name: 'Next' }).click();

  await expect(page.getByRole('heading', { name: 'Step 3 of 4: What happened' })).toBeVisible();
  if (labelled) await page.getByLabel('It was labelled with the locker number').check();
  await page.getByLabel('Where and when (optional)').fill('Lost on the school trip');
  if (a11y) found.push(...(await checkA11y(page, 'report lost, step 3')));
  if (a11y) await shots(page, 'report-step3');
  await page.getByRole('button', { name: 'Next' }).click();

  await expect(page.getByRole('heading', { name: 'Step 4 of 4: Report' })).toBeVisible();
  const advice = labelled
    ? 'A lock change is recommended because the key was labelled with the locker number.'
    : 'A replacement cut to code should do.';
  await expect(page.getByText(advice)).toBeVisible();
  if (a11y) found.push(...(await checkA11y(page, 'report lost, step 4')));
  await page.getByRole('button', { name: 'Report key lost' }).click();

  await expect(flash(page, `Key ${tag} reported lost.`)).toBeVisible();
  await expect(page.getByRole('heading', { name: `Lost key ${tag}`, level: 1 })).toBeVisible();
  await expect(page.locator('header.page-head .badge')).toHaveText('Open');
  await expect(page.getByText(advice)).toBeVisible();
}

test('offline at phone width: a lost key is reported, replaced to code, received, its new tag printed, and the case closes', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  const found = [];
  const a7 = await keyOut(page);
  const lost = a7.tags[0];
  await waitForServiceWorker(page);
  await context.setOffline(true);

  try {
    await openLocker(page, 'A-007');
    await reportLost(page, lost, { found, a11y: true });

    // The case: the code (an admin-free device may see it), the recommendation, the decision.
    await expect(page.getByText('Cut to code K7007')).toBeVisible();
    found.push(...(await checkA11y(page, 'case, open')));
    await shots(page, 'case-open');
    await expect(page.getByLabel('Order a replacement cut to code')).toBeChecked();
    await page.getByLabel('Reason').fill('Lost off site, not traceable to the locker');
    await page.getByRole('button', { name: 'Record the decision' }).click();
    await expect(
      page.getByText(`Replacement cut to code. Reason: Lost off site, not traceable to the locker. Decided by ${USER}`),
    ).toBeVisible();

    // The charge, in pounds.
    await page.getByLabel('Charged').check();
    await page.getByLabel('Amount (£)').fill('5.00');
    await page.getByRole('button', { name: 'Record charge' }).click();
    await expect(page.getByText(`£5.00 charged, recorded by ${USER}`)).toBeVisible();

    // Order from the case: a supplier first, the locker prefilled.
    await page.getByRole('link', { name: 'Order a replacement' }).click();
    await expect(page.getByRole('heading', { name: 'New order', level: 1 })).toBeVisible();
    await expect(page.getByText(`For the lost-key case of key ${lost}, locker A-007.`)).toBeVisible();
    await expect(page.getByLabel('Locker')).toHaveValue('A-007');
    await expect(page.getByLabel('Date ordered')).toHaveValue(ukToday());
    found.push(...(await checkA11y(page, 'new order, no supplier')));
    await page.getByLabel('Supplier name').fill('Locksmiths Ltd');
    await page.getByLabel('Contact (optional)').fill('orders@locksmiths.example');
    await page.getByRole('button', { name: 'Add supplier' }).click();
    await expect(flash(page, 'Supplier Locksmiths Ltd added.')).toBeVisible();
    await expect(page.getByLabel('Supplier', { exact: true }).locator('option:checked')).toHaveText('Locksmiths Ltd');
    found.push(...(await checkA11y(page, 'new order')));
    await shots(page, 'new-order');
    await page.getByRole('button', { name: 'Place order' }).click();

    // The order: its sheet prints the site, supplier, code, quantity and dates.
    await expect(page.getByRole('heading', { name: 'Order from Locksmiths Ltd', level: 1 })).toBeVisible();
    await expect(page.locator('header.page-head .badge')).toHaveText('Outstanding');
    const sheet = page.getByRole('region', { name: 'Order sheet' });
    await expect(sheet.getByRole('cell', { name: 'K7007' })).toBeVisible();
    found.push(...(await checkA11y(page, 'order, outstanding')));
    await shots(page, 'order');
    const printed = await printedText(page, 'order');
    for (const text of ['Replacement key order', 'Northgate School', 'Locksmiths Ltd', 'K7007', ukToday(), 'A-007']) {
      expect(printed, `the printed order sheet shows ${text}`).toContain(text);
    }
    expect(printed).not.toContain('Download CSV');

    // The CSV for the supplier, as a download.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV for the supplier' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toContain('Site,Supplier,Ordered,Expected,Key code,Kind,Quantity');
    expect(csv).toContain(`Northgate School,Locksmiths Ltd,${ukToday()},,K7007,User key,1`);

    // Receive it: a new key with a new tag.
    await expect(page.getByLabel('Line 1: locker A-007, user key (1 to come)')).toHaveValue('1');
    await page.getByRole('button', { name: 'Record as received' }).click();
    await expect(flash(page, '1 new key received, each with a new tag.')).toBeVisible();
    await expect(page.locator('header.page-head .badge')).toHaveText('Received');
    const received = section(page, 'Keys received');
    const newTag = (await received.locator('.tag').first().textContent()).trim();
    expect(newTag).toMatch(/^[A-Z0-9]{7}$/);
    expect(newTag).not.toBe(lost);
    found.push(...(await checkA11y(page, 'order, received')));
    await shots(page, 'order-received');

    // Print the new tags: only that key's tag, in the PDF.
    await page.getByRole('link', { name: 'Print the new key tags' }).click();
    await expect(page.getByRole('heading', { name: 'Print labels', level: 1 })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: /^1 key tag on 1 sheet/ })).toBeVisible();
    const tags = await printedText(page, 'tags');
    expect(tags).toContain(newTag);
    expect(tags).not.toContain(a7.tags[1]);

    // The case is closed; the locker and Sam's page count the loss.
    await page.goBack();
    await expect(page.getByRole('heading', { name: 'Order from Locksmiths Ltd', level: 1 })).toBeVisible();
    await page.getByRole('link', { name: `Lost key ${lost}` }).click();
    await expect(page.locator('header.page-head .badge')).toHaveText('Closed');
    await expect(page.getByText('Closed: the replacement was received')).toBeVisible();
    found.push(...(await checkA11y(page, 'case, closed')));
    await shots(page, 'case-closed');
    await page.getByRole('link', { name: 'Locker A-007' }).first().click();
    await expect(page.getByText('1 lost key at this locker.', { exact: false })).toBeVisible();
    await expect(historyLines(page).filter({ hasText: `Key ${lost} reported lost by Sam Jones` })).toHaveCount(1);
    await expect(historyLines(page).filter({ hasText: `Replacement keys received: ${newTag}` })).toHaveCount(1);
    await shots(page, 'locker');
  } finally {
    await context.setOffline(false);
  }
  expect(found).toEqual([]);
});

test('a key labelled with the locker number makes a lock change recommended; its scanned tag says it is lost, and it can be recorded as found', async ({
  page,
}) => {
  const found = [];
  const a7 = await keyOut(page);
  const lost = a7.tags[0];
  await openLocker(page, 'A-007');
  await reportLost(page, lost, { labelled: true });
  await expect(page.getByLabel('Change the lock')).toBeChecked();
  await page.getByLabel('Reason').fill('Labelled with the locker number');
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await expect(page.getByRole('link', { name: 'Change the lock' })).toBeVisible();

  // The person page counts the loss.
  await page.getByRole('link', { name: 'Sam Jones' }).click();
  await expect(page.getByRole('heading', { name: 'Sam Jones', level: 1 })).toBeVisible();
  await expect(page.getByText('1 lost key.')).toBeVisible();

  // The tag as a phone's camera opens it.
  await page.goto(`/k/${lost}`);
  await waitReady(page);
  await expect(page.getByRole('heading', { name: `Key ${lost}`, level: 1 })).toBeVisible();
  const alert = page.getByRole('alert').filter({ hasText: 'reported lost' });
  await expect(alert).toContainText(`This key was reported lost on ${ukToday()}.`);
  await expect(alert).toContainText('If you found it: record it as found, then hand it to the front desk.');
  found.push(...(await checkA11y(page, 'lost key page')));
  await shots(page, 'lost-key');
  await alert.getByRole('button', { name: 'Record as found' }).click();
  await expect(flash(page, `Key ${lost} recorded as found. Hand it to the front desk.`)).toBeVisible();
  await expect(page.getByRole('alert').filter({ hasText: 'reported lost' })).toHaveCount(0);
  await expect(page.locator('.facts dd').nth(1)).toHaveText('In store');

  // Set-up lists.
  await page.goto('/cases');
  await waitReady(page);
  await expect(page.getByRole('link', { name: new RegExp(`Key ${lost}, locker A-007 Closed`) })).toBeVisible();
  found.push(...(await checkA11y(page, 'cases')));
  await page.goto('/repeated-losses');
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Repeated losses', level: 1 })).toBeVisible();
  found.push(...(await checkA11y(page, 'repeated losses')));
  await page.goto('/orders');
  await waitReady(page);
  await expect(page.getByRole('heading', { name: 'Replacement orders', level: 1 })).toBeVisible();
  found.push(...(await checkA11y(page, 'orders')));
  await shots(page, 'orders');
  expect(found).toEqual([]);
});

/** A card of the current screen, found by its heading. */
function section(page, heading) {
  return page.locator('section, form.card').filter({ has: page.getByRole('heading', { name: heading, exact: true }) });
}
