// Keyward as a phone on the site's network gets it: over HTTPS on a name that is not
// localhost (keyward.test, mapped to 127.0.0.1 inside Chromium), with the server's own
// certificate authority trusted by that Chromium's certificate store (the NSS database in the
// browser's HOME, as `certutil` fills it on a Linux desktop). Then the service worker registers,
// the app reloads offline and the scanner gets the camera. Over plain HTTP on the same name the
// app says why offline use and the camera are unavailable, and what to do.

import { test, expect, chromium } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelVideo, printLabels } from './camera.js';
import config from '../playwright.config.js';
import {
  addRange,
  checkA11y,
  distDir,
  open,
  screenshots,
  setUpSite,
  storedLabels,
  waitForServiceWorker,
  waitReady,
} from './helpers.js';

const NAME = 'keyward.test';
const INSECURE =
  'This address is not secure (http), so Keyward cannot work offline here or use the camera to scan.';

/** Starts keyward-server with its own CA for `keyward.test`, HTTPS and a plain-HTTP listener;
 * resolves with the process, both ports and the data folder once it prints its addresses. */
function startHttpsServer(dir) {
  const data = join(dir, 'data');
  const child = spawn(
    process.env.KEYWARD_SERVER_BIN,
    [
      '--dist', distDir(),
      '--data', data,
      '--addr', '127.0.0.1:0',
      '--tls-local',
      '--tls-name', NAME,
      '--http-redirect', '127.0.0.1:0',
      '--backup-every', '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no address from the server:\n${out}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const https = out.match(/Keyward is running at https:\/\/127\.0\.0\.1:(\d+)\//);
      const plain = out.match(/Plain HTTP at http:\/\/127\.0\.0\.1:(\d+)\/ redirects/);
      if (https && plain) {
        clearTimeout(timer);
        resolve({ child, port: Number(https[1]), plainPort: Number(plain[1]), data });
      }
    });
  });
}

/** A HOME whose NSS database trusts `caFile` for websites, as a person installing the CA would. */
function homeTrusting(dir, caFile) {
  const home = join(dir, 'home');
  const db = `sql:${join(home, '.pki', 'nssdb')}`;
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync('certutil', ['-N', '-d', db, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', db, '-t', 'C,,', '-n', 'Keyward test CA', '-i', caFile]);
  return home;
}

test('over HTTPS on a name, with the CA trusted: offline, the service worker and the camera work', async () => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'keyward-https-'));
  const server = await startHttpsServer(dir);
  const video = join(dir, 'label.y4m');
  const launch = config.use.launchOptions;
  const browser = await chromium.launch({
    ...launch,
    env: { ...process.env, HOME: homeTrusting(dir, join(server.data, 'tls', 'ca.pem')) },
    args: [
      ...launch.args,
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1`,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const base = `https://${NAME}:${server.port}`;
    const context = await browser.newContext({ ...config.use, baseURL: base, permissions: ['camera'] });
    const page = await context.newPage();

    // The phone's first stop: the CA page on the plain-HTTP listener, no warning yet.
    await page.goto(`http://${NAME}:${server.plainPort}/ca`);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByRole('link', { name: /ca\.pem|Download/i }).first()).toBeVisible();
    expect(await checkA11y(page, 'the CA page')).toEqual([]);
    await screenshots(page, 'https-ca-page');

    // The plain address redirects to HTTPS, and the certificate is trusted (no interstitial:
    // an untrusted one fails the navigation with net::ERR_CERT_AUTHORITY_INVALID).
    const response = await page.goto(`http://${NAME}:${server.plainPort}/`);
    expect(page.url()).toBe(`https://${NAME}:${server.port}/`);
    expect(response.status()).toBe(200);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    await waitReady(page);
    expect(response.headers()['strict-transport-security']).toBe('max-age=31536000');

    await setUpSite(page);
    await expect(page.getByText(INSECURE)).toHaveCount(0);
    await addRange(page, 'H-001', 'H-003');
    await waitForServiceWorker(page);

    // The camera: a label in front of it opens its locker.
    console.log('https: site set up, service worker active; printing labels');
    await printLabels(page);
    const [label] = await storedLabels(page);
    labelVideo(`https://keys.example.org/l/${label.label}`, video);
    await open(page, '/scan');
    await expect(page).toHaveURL(new RegExp(`/lockers/${label.locker}$`), { timeout: 15_000 });

    console.log('https: the camera opened the locker; going offline');
    // No network at all: the app still opens, from the service worker, with its register.
    await context.setOffline(true);
    await open(page, '/');
    await expect(page.getByRole('link', { name: /H-001/ }).first()).toBeVisible();
    await page.reload();
    await waitReady(page);
    await expect(page.getByRole('link', { name: /H-003/ }).first()).toBeVisible();
    await context.setOffline(false);
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('over plain HTTP on a name, the app says why offline use and the camera are unavailable', async () => {
  const port = new URL(process.env.KEYWARD_URL).port;
  const launch = config.use.launchOptions;
  const browser = await chromium.launch({
    ...launch,
    args: [...launch.args, `--host-resolver-rules=MAP ${NAME} 127.0.0.1`, '--use-fake-ui-for-media-stream'],
  });
  try {
    const context = await browser.newContext({ ...config.use, baseURL: `http://${NAME}:${port}` });
    const page = await context.newPage();
    await open(page, '/');
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    expect(await page.evaluate(() => 'serviceWorker' in navigator)).toBe(false);
    const banner = page.locator('.banner.insecure');
    await expect(banner).toContainText(INSECURE);
    await banner.getByText('How to fix it').click();
    await expect(banner.getByText(/open Keyward at its https address/)).toBeVisible();
    expect(await checkA11y(page, 'the first-run screen over plain HTTP')).toEqual([]);
    await screenshots(page, 'https-insecure-banner');

    await setUpSite(page, { site: 'Plain Site' });
    await open(page, '/scan');
    await expect(page.getByRole('status').filter({ hasText: 'The camera works only' })).toHaveText(
      'The camera works only when Keyward is opened at an https address, and this one is http. Type the code below, or ask whoever runs the Keyward server for its https address.',
    );
    expect(await checkA11y(page, 'the scanner over plain HTTP')).toEqual([]);
    await screenshots(page, 'https-insecure-scan');
  } finally {
    await browser.close();
  }
});
