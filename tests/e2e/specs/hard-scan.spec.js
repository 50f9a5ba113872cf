// The scanner with a hard video: a key tag filmed at 640×480 from a step away (the code a fifth
// of the frame), turned and tilted, out of focus and noisy, with Chromium's fake camera. The
// app's own decoder (the worker, as on browsers without BarcodeDetector) must read it and open
// the key, and the locker's label the same way.

import { test, expect } from '@playwright/test';
import { cameraBrowser, labelVideo, printLabels } from './camera.js';
import config from '../playwright.config.js';
import { addRange, checkA11y, fitLockWithKeys, open, screenshots, setUpSite, storedLabels } from './helpers.js';


test('a small, blurred, tilted label a step away is read by the worker and opens its key and locker', async ({
  baseURL,
}) => {
  const { browser, video } = await cameraBrowser('hard-scan');
  try {
    const context = await browser.newContext({ ...config.use, baseURL, permissions: ['camera'] });
    const page = await context.newPage();
    await setUpSite(page);
    await addRange(page, 'A-001', 'A-003');
    const { tags } = await fitLockWithKeys(page, 'A-002', 'K202', 1);
    await printLabels(page);
    const [label] = await storedLabels(page);

    // Both payload styles: a key tag's URL as the app prints it today, a locker label's in
    // upper case (QR's alphanumeric mode).
    for (const payload of [`https://keys.example.org/k/${tags[0]}`, `HTTPS://KEYS.EXAMPLE.ORG/L/${label.label}`]) {
      labelVideo(payload, video, ['--hard']);
      const started = Date.now();
      await open(page, '/scan?decoder=rqrr');
      await expect(page.locator('[data-decoder]')).toHaveAttribute('data-decoder', 'rqrr');
      // A key tag in store opens its quick issue; a locker with no key in store, the locker.
      await expect(page).toHaveURL(/\/(keys|lockers)\/[^/?]+(\/issue\?key=[^&]+&quick=1)?$/, { timeout: 10_000 });
      console.log(`hard scan: ${payload} read and opened in ${Date.now() - started} ms`);
      if (payload.includes('/k/')) {
        await expect(page.getByRole('heading', { name: `Issue key ${tags[0]}`, level: 1 })).toBeVisible();
        await screenshots(page, 'hard-scan-key');
        expect(await checkA11y(page, 'key opened by a hard scan')).toEqual([]);
      } else {
        await expect(page).toHaveURL(new RegExp(`/lockers/${label.locker}$`));
        await expect(page.getByRole('heading', { name: /^Locker A-00\d$/, level: 1 })).toBeVisible();
      }
    }
  } finally {
    await browser.close();
  }
});
