// The scanner, with Chromium's fake camera playing a video of a real label: a locker label opens
// the locker, a key tag of a key in store its quick issue screen, with the rqrr decoder forced
// and with the default one; manual entry; a label of another site; a refused camera.

import { test, expect } from '@playwright/test';
import { cameraBrowser, labelVideo, printLabels } from './camera.js';
import config from '../playwright.config.js';
import { addRange, checkA11y, fitLockWithKeys, open, setUpSite, storedLabels } from './helpers.js';


// Records when a locker or key page first shows, for the scan-to-page time.
const pageShown = () => {
  const observer = new MutationObserver(() => {
    const h1 = document.querySelector('main h1');
    if (h1 && /^(Locker|Key) /.test(h1.textContent) && !window.__shown) {
      window.__shown = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true });
};

test('a label in front of the camera opens its locker, and a key tag the key\'s quick issue', async ({ baseURL }) => {
  const { browser, video } = await cameraBrowser('scan');
  try {
    const context = await browser.newContext({ ...config.use, baseURL, permissions: ['camera'] });
    await context.addInitScript(pageShown);
    const page = await context.newPage();
    await setUpSite(page);
    await addRange(page, 'A-001', 'A-005');
    const { tags } = await fitLockWithKeys(page, 'A-003', 'K303', 1);
    await printLabels(page);
    const labels = await storedLabels(page);
    expect(labels).toHaveLength(5);

    const timings = [];
    for (const decoder of ['rqrr', 'default']) {
      for (const label of labels.slice(0, 2)) {
        labelVideo(`https://keys.somewhere-else.example/l/${label.label}`, video);
        await open(page, decoder === 'rqrr' ? '/scan?decoder=rqrr' : '/scan');
        await expect(page).toHaveURL(new RegExp(`/lockers/${label.locker}$`), { timeout: 15_000 });
        await expect(page.getByRole('heading', { name: /^Locker A-00\d$/, level: 1 })).toBeVisible();
        timings.push(
          await page.evaluate(() => window.__shown - performance.getEntriesByName('keyward:scan-decoded')[0].startTime),
        );
      }
    }
    console.log(`scan: decoded frame → locker page shown: ${timings.map((t) => `${t.toFixed(1)} ms`).join(', ')}`);

    // The default decoder: BarcodeDetector where Chromium has one, rqrr otherwise; say which.
    labelVideo('https://example.org/not-a-keyward-label', video);
    await open(page, '/scan');
    await expect(page.getByRole('alert')).toHaveText('That code is not a Keyward label.', { timeout: 15_000 });
    const decoder = await page.locator('[data-decoder]').getAttribute('data-decoder');
    console.log(`scan: the default decoder in this Chromium is ${decoder}`);
    expect(['BarcodeDetector', 'rqrr']).toContain(decoder);

    labelVideo(`https://keys.example.org/k/${tags[0]}`, video);
    await open(page, '/scan?decoder=rqrr');
    await expect(page.getByRole('heading', { name: `Issue key ${tags[0]}`, level: 1 })).toBeVisible({ timeout: 15_000 });
    await expect(page.getByRole('button', { name: 'Issue key' })).toBeVisible();
  } finally {
    await browser.close();
  }
});

test('typing a code works without a camera, and says where a code belongs', async ({ page }) => {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-005');
  const { tags } = await fitLockWithKeys(page, 'A-002', 'K202', 1);

  // No camera here (or it is refused): the reason, and the manual box still works.
  await open(page, '/scan');
  await expect(page.getByRole('status').filter({ hasText: 'Type the code below' })).toBeVisible();
  expect(await checkA11y(page, 'scan, no camera')).toEqual([]);
  await page.getByLabel('Tag id or locker number').fill(' a-002 ');
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('heading', { name: 'Locker A-002', level: 1 })).toBeVisible();

  await open(page, '/scan');
  await page.getByLabel('Tag id or locker number').fill(tags[0].toLowerCase());
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('heading', { name: `Issue key ${tags[0]}`, level: 1 })).toBeVisible();

  await open(page, '/scan');
  await page.getByLabel('Tag id or locker number').fill('Z-999');
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('alert')).toContainText('No locker or key “Z-999” in this register.');

  // A label of another site on this device: which site, and a way there.
  await open(page, '/setup');
  await page.getByLabel('New site').fill('Southgate Leisure');
  await page.getByRole('button', { name: 'Create site' }).click();
  // The screen is rebuilt for the new site: wait for it before typing.
  await expect(page.locator('header.topbar .site-name')).toHaveText('Southgate Leisure');
  await expect(page.getByRole('listitem').filter({ hasText: 'Science block' })).toHaveCount(0);
  await page.getByLabel('New area').fill('Pool');
  await page.getByRole('button', { name: 'Add area' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'Pool' })).toBeVisible();
  await addRange(page, 'P-1', 'P-2');
  await printLabels(page);
  const pool = (await storedLabels(page)).at(-1);
  await open(page, '/setup');
  await page.getByLabel('Northgate School').check();
  await open(page, '/scan');
  await page.getByLabel('Tag id or locker number').fill(`https://old.example/l/${pool.label}`);
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page.getByRole('alert')).toContainText('That label belongs to Southgate Leisure');
  await page.getByRole('button', { name: 'Switch site and open it' }).click();
  await expect(page.getByRole('heading', { name: /^Locker P-[12]$/, level: 1 })).toBeVisible();
  await expect(page.locator('header.topbar .site-name')).toHaveText('Southgate Leisure');
});
