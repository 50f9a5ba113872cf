// Security of the app against keyward-server: the whole app runs under the server's content
// security policy (made stricter here: no inline style attributes either) with nothing blocked;
// the event stream opens with a ticket, never the token; a person changes their password; an
// admin signs out a user's lost device and resets a password; a PIN keeps a shared tablet's
// sign-ins encrypted, five wrong PINs wipe one, and its changes wait, then go once that
// person signs in again; signing out offline ends the session when back online.

import { test, expect } from '@playwright/test';
import { cameraBrowser, labelVideo } from './camera.js';
import config from '../playwright.config.js';
import {
  addPerson,
  addRange,
  checkA11y,
  fitLockWithKeys,
  flash,
  issueKey,
  open,
  openLocker,
  putOnServer,
  screenshots,
  section,
  setUpSite,
  storedLabels,
} from './helpers.js';

const suffix = Date.now().toString(36);
const PASSWORD = 'locker-room-42';

function syncChip(page) {
  return page.locator('.statusbar .sync-chip');
}

async function waitSynced(page) {
  await expect(syncChip(page)).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
}

/** The device's settings as stored (localStorage `keyward.device`), raw and parsed. */
async function stored(page) {
  const raw = await page.evaluate(() => localStorage.getItem('keyward.device'));
  return { raw, settings: JSON.parse(raw) };
}

async function tokenOf(page, username) {
  const { settings } = await stored(page);
  return settings.accounts.find((a) => a.username === username)?.token;
}

async function signIn(page, username, password = PASSWORD) {
  await open(page, '/sync');
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Sign in', exact: true }) });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await waitSynced(page);
}

async function addUser(page, { name, username, role }) {
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'Add a user' }) });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('Role').selectOption(role);
  await form.getByLabel('First password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText(`${name} can now sign in as ${username}.`)).toBeVisible();
}

/** Switches user on /sync with a PIN; returns the alert or flash text. */
async function switchTo(page, label, pin) {
  const form = section(page, 'Switch user');
  await form.getByLabel(label).check();
  await form.getByLabel('Their PIN').fill(pin);
  await form.getByRole('button', { name: 'Switch' }).click();
}

// Collects every CSP violation the page reports, from its first script on.
const listenForViolations = () => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`),
  );
};

test('the whole app runs under the CSP with nothing blocked, and the stream never carries the token', async ({
  baseURL,
}) => {
  test.setTimeout(240_000);
  const { browser, video } = await cameraBrowser('csp');
  try {
    // The service worker would answer navigations itself, out of reach of the route below.
    const context = await browser.newContext({
      ...config.use,
      baseURL,
      permissions: ['camera'],
      serviceWorkers: 'block',
    });
    await context.addInitScript(listenForViolations);
    // The policy of every page the server sends, as the browser gets it.
    const policies = [];
    context.on('response', (response) => {
      if (response.request().resourceType() !== 'document') return;
      const headers = response.headers();
      policies.push({ policy: headers['content-security-policy'] || '', headers });
    });
    const page = await context.newPage();
    const consoleCsp = [];
    page.on('console', (msg) => {
      if (msg.text().includes('Content Security Policy')) consoleCsp.push(msg.text());
    });
    const urls = [];
    page.on('request', (request) => urls.push(request.url()));

    // A site made on the device, its labels printed (the label sheet positions every label).
    await setUpSite(page);
    await addRange(page, 'A-001', 'A-003');
    const { tags } = await fitLockWithKeys(page, 'A-001', 'K1001', 1);
    await open(page, '/labels');
    await page.getByLabel('Found keys go to').fill('the school office');
    await page.getByRole('button', { name: 'Save address' }).click();
    await page.evaluate(() => {
      window.print = () => (window.__printed = true);
    });
    await page.getByRole('button', { name: 'Print', exact: true }).click();
    await expect.poll(() => page.evaluate(() => window.__printed === true)).toBe(true);
    await expect(page.locator('.sheet .label').first()).toBeVisible();
    const box = await page.locator('.sheet .label').first().evaluate((el) => getComputedStyle(el).width);
    expect(parseFloat(box)).toBeGreaterThan(100); // sized by its style, not collapsed

    // Put on the server; a change recorded and synced; the stream opened.
    const admin = `csp-${suffix}`;
    await putOnServer(page, { username: admin, password: PASSWORD });
    const policy = policies.at(-1);
    expect(policy.policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(policy.policy).toContain("frame-ancestors 'none'");
    expect(policy.policy).toContain("connect-src 'self'");
    expect(policy.policy).not.toMatch(/'unsafe-inline'/);
    expect(policy.headers['referrer-policy']).toBe('no-referrer');
    expect(policy.headers['permissions-policy']).toContain('camera=(self)');
    await addPerson(page, { name: 'Sam Jones', ref: 'P100' });
    await openLocker(page, 'A-001');
    await issueKey(page, tags[0], 'Sam Jones');
    await waitSynced(page);
    await expect.poll(() => urls.some((u) => u.includes('/api/stream?ticket=')), { timeout: 15_000 }).toBe(true);

    // The scanner: camera, video, and the QR decoder's worker (wasm in a worker).
    const labels = await storedLabels(page);
    labelVideo(`https://keys.example.org/l/${labels[0].label}`, video);
    await open(page, '/scan?decoder=rqrr');
    await expect(page.getByRole('heading', { name: /^Locker A-00\d$/, level: 1 })).toBeVisible({ timeout: 20_000 });
    labelVideo(`https://keys.example.org/k/${tags[0]}`, video);
    await open(page, '/scan');
    await expect(page.getByRole('heading', { name: `Key ${tags[0]}`, level: 1 })).toBeVisible({ timeout: 20_000 });

    await open(page, '/sync');
    await waitSynced(page);
    expect(await page.evaluate(() => window.__csp)).toEqual([]);
    expect(consoleCsp).toEqual([]);

    // The token is in no URL the app asked for; each stream opened with its own ticket.
    const token = await tokenOf(page, admin);
    expect(token).toBeTruthy();
    expect(urls.filter((u) => u.includes(token))).toEqual([]);
    expect(urls.filter((u) => u.includes('token='))).toEqual([]);
    const tickets = urls.filter((u) => u.includes('/api/stream?ticket=')).map((u) => new URL(u).searchParams.get('ticket'));
    expect(new Set(tickets).size).toBe(tickets.length);
  } finally {
    await browser.close();
  }
});

test('passwords, a lost device, a shared tablet with PINs, and signing out offline', async ({ browser }) => {
  test.setTimeout(300_000);
  const ADMIN = `ad-${suffix}`;
  const JO = `jo-${suffix}`;
  const SAM = `sam-${suffix}`;
  const NEW_PASSWORD = 'tulip gravel oboe';
  const RESET_PASSWORD = 'amber otter violin';
  const one = await browser.newContext();
  const two = await browser.newContext();
  // Here the service worker serves the app as it does for people: nothing blocked either.
  await one.addInitScript(listenForViolations);
  await two.addInitScript(listenForViolations);
  const a = await one.newPage();
  const b = await two.newPage();

  // Device A: the admin's site, with two colleagues.
  await setUpSite(a);
  await putOnServer(a, { name: 'Pat Caretaker', username: ADMIN, password: PASSWORD });
  await addUser(a, { name: 'Jo Custodian', username: JO, role: 'custodian' });
  await addUser(a, { name: 'Sam Staff', username: SAM, role: 'staff' });

  // Device B (the shared tablet): Jo signs in and changes her password.
  await open(b, '/');
  await b.getByRole('link', { name: 'Sign in to a site' }).click();
  await signIn(b, JO);
  const change = section(b, 'Change your password');
  await change.getByLabel('Current password').fill('not my password');
  await change.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await change.getByLabel('New password again').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(change.getByRole('alert')).toContainText('That is not your current password.');
  await change.getByLabel('Current password').fill(PASSWORD);
  await change.getByLabel('New password', { exact: true }).fill('password123');
  await change.getByLabel('New password again').fill('password123');
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(change.getByRole('alert')).toContainText('Choose a password that is harder to guess');
  await change.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await change.getByLabel('New password again').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(change.getByRole('status')).toHaveText(/^Password changed\./);
  expect(await checkA11y(b, 'sync page, own devices and password')).toEqual([]);
  await screenshots(b, 'security-own-account');

  // Signing out and in again: the old password no longer works, the new one does.
  await b.getByRole('button', { name: 'Sign out of this device' }).click();
  await expect(flash(b, 'Jo Custodian is signed out of this device.')).toBeVisible();
  await open(b, '/sync');
  const signInForm = b.locator('form', { has: b.getByRole('button', { name: 'Sign in', exact: true }) });
  await signInForm.getByLabel('Username').fill(JO);
  await signInForm.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await signInForm.getByRole('button', { name: 'Sign in' }).click();
  await expect(signInForm.getByRole('alert')).toContainText('do not match');
  await signIn(b, JO, NEW_PASSWORD);

  // The tablet is lost: the admin signs it out. Its next sync asks Jo to sign in again.
  await open(a, '/sync');
  const jo = a.locator('li.user', { hasText: `(${JO})` });
  await jo.getByRole('button', { name: 'Devices and password of Jo Custodian' }).click();
  await expect(jo.locator('li.device')).toHaveCount(1);
  expect(await checkA11y(a, 'sync page, a user\'s devices')).toEqual([]);
  await screenshots(a, 'security-admin-devices');
  await jo.getByRole('button', { name: /^Sign out this device/ }).click();
  await expect(jo.getByRole('status')).toContainText('is signed out. Its next sync asks to sign in again.');
  await expect(jo.getByText('Not signed in on any device.')).toBeVisible();
  await b.getByRole('button', { name: 'Sync now' }).click();
  await expect(section(b, 'Sync').getByRole('alert')).toHaveText('Your sign-in has ended. Sign in again.');
  await expect(b.getByText('Your sign-in has ended. Sign in again below to send your changes.')).toBeVisible();

  // The admin gives Jo a new password; Jo signs in with it.
  await jo.getByLabel('New password for Jo Custodian').fill(RESET_PASSWORD);
  await jo.getByRole('button', { name: 'Set new password' }).click();
  await expect(a.getByText('Jo Custodian has a new password and is signed out on every device.')).toBeVisible();
  await signIn(b, JO, RESET_PASSWORD);

  // A PIN: Jo's token leaves localStorage, sealed under it (salt, IV, ciphertext only).
  const joToken = await tokenOf(b, JO);
  expect(joToken).toBeTruthy();
  await b.getByLabel('PIN for switching to you on this device').fill('2468');
  await b.getByRole('button', { name: 'Set PIN' }).click();
  await expect(b.getByText('PIN saved.')).toBeVisible({ timeout: 15_000 });
  let { raw, settings } = await stored(b);
  expect(raw).not.toContain(joToken);
  const sealed = settings.accounts.find((a) => a.username === JO).sealed;
  expect(Object.keys(sealed).sort()).toEqual(['ciphertext', 'failures', 'iterations', 'iv', 'salt']);
  expect(sealed.iterations).toBeGreaterThanOrEqual(600_000);
  expect(raw).not.toContain('2468');
  expect(await checkA11y(b, 'sync page, PIN set')).toEqual([]);
  await screenshots(b, 'security-pin');

  // Sam signs in on the tablet and sets a PIN; Jo's token is still nowhere in clear.
  await signIn(b, SAM);
  await b.getByLabel('PIN for switching to you on this device').fill('1357');
  await b.getByRole('button', { name: 'Set PIN' }).click();
  await expect(b.getByText('PIN saved.')).toBeVisible({ timeout: 15_000 });
  ({ raw } = await stored(b));
  expect(raw).not.toContain(joToken);

  // Offline, Jo switches in with her PIN, adds a person, and Sam switches back.
  await two.setOffline(true);
  await switchTo(b, 'Jo Custodian', '2468');
  await expect(flash(b, 'Jo Custodian is now using this device.')).toBeVisible({ timeout: 15_000 });
  await addPerson(b, { name: 'Ali Khan', ref: 'P200' });
  await open(b, '/sync');
  // The page was loaded again: Jo's sign-in is locked in it until her PIN is entered.
  await expect(b.getByLabel('Your PIN')).toBeVisible();
  expect(await checkA11y(b, 'sync page, sign-in locked until the PIN')).toEqual([]);
  await screenshots(b, 'security-locked');
  await switchTo(b, 'Sam Staff', '1357');
  await expect(flash(b, 'Sam Staff is now using this device.')).toBeVisible({ timeout: 15_000 });
  ({ raw } = await stored(b));
  expect(raw).not.toContain(joToken);

  // Back online, Jo's change waits for Jo.
  await two.setOffline(false);
  await b.getByRole('button', { name: 'Sync now' }).click();
  // Headless Chromium does not keep a site's storage for good, so the status says so.
  await expect(syncChip(b)).toHaveText(
    "1 change waiting for Jo Custodian's PIN · only on this device, which may clear them",
    { timeout: 20_000 },
  );
  await expect(section(b, 'Sync').getByRole('alert')).toContainText("1 change waits for Jo Custodian's PIN");
  expect(await checkA11y(b, 'sync page, a change waiting for a PIN')).toEqual([]);
  await screenshots(b, 'security-waiting-for-pin');

  // Five wrong PINs wipe Jo's sealed sign-in; her change stays until she signs in again.
  for (let left = 4; left >= 1; left--) {
    await switchTo(b, 'Jo Custodian', '0000');
    await expect(section(b, 'Switch user').getByRole('alert')).toHaveText(
      `That PIN is not right. ${left} ${left === 1 ? 'try' : 'tries'} left before Jo Custodian's sign-in on this device is wiped.`,
      { timeout: 15_000 },
    );
  }
  await switchTo(b, 'Jo Custodian', '0000');
  await expect(section(b, 'Switch user').getByRole('alert')).toContainText(
    "Wrong PIN 5 times, so Jo Custodian's sign-in on this device was wiped.",
    { timeout: 15_000 },
  );
  ({ settings } = await stored(b));
  const wiped = settings.accounts.find((a) => a.username === JO);
  expect(wiped.sealed).toBeUndefined();
  expect(wiped.token).toBeNull();
  await expect(syncChip(b)).toHaveText(
    '1 change waiting for Jo Custodian to sign in · only on this device, which may clear them',
  );
  await switchTo(b, 'Jo Custodian', '2468');
  await expect(section(b, 'Switch user').getByRole('alert')).toContainText(
    'Jo Custodian has no PIN on this device. They sign in with their password below.',
  );
  await signIn(b, JO, RESET_PASSWORD);
  await open(a, '/people');
  await expect(a.getByText('Ali Khan')).toBeVisible({ timeout: 20_000 });

  // Signing out offline: gone from the tablet at once, the session ends when back online.
  await switchTo(b, 'Sam Staff', '1357');
  await expect(flash(b, 'Sam Staff is now using this device.')).toBeVisible({ timeout: 15_000 });
  await two.setOffline(true);
  await b.getByRole('button', { name: 'Sign out of this device' }).click();
  await expect(flash(b, 'Sam Staff is signed out of this device. The server cannot be reached now')).toBeVisible();
  ({ settings } = await stored(b));
  expect(settings.accounts.map((a) => a.username)).not.toContain(SAM);
  const ending = settings.ending.find((e) => e.username === SAM);
  expect(ending).toBeTruthy();
  await expect(b.getByLabel('Sam Staff (Staff)')).toHaveCount(0);
  await two.setOffline(false);
  await expect.poll(async () => (await stored(b)).settings.ending ?? [], { timeout: 45_000 }).toEqual([]);
  const me = await b.evaluate(
    (token) => fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status),
    ending.token,
  );
  expect(me).toBe(401);
  for (const page of [a, b]) expect(await page.evaluate(() => window.__csp)).toEqual([]);

  await one.close();
  await two.close();
});
