// Shared steps for the Keyward browser tests: set up a site, add lockers, fit locks and keys,
// add people, issue and return keys, run axe, and stop/restart the server for the offline test.
//
// Every step waits for the app's own confirmation (the flash message, a heading, a count), so
// a step that did not happen fails right there, with the screen it was on.

import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const USER = 'Pat Caretaker';
export const SITE = 'Northgate School';
export const AREA = 'Science block';

/** Today as the app shows it (dd/mm/yyyy, Europe/London as in playwright.config.js). */
export function ukToday() {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date());
}

/** Escapes text for use inside a RegExp. */
export function re(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Locators

/** The confirmation the last action left ("30 lockers added, A-001 to A-030."). */
export function flash(page, text) {
  return page.locator('p.flash[role="status"]').filter({ hasText: text });
}

/** The refusal messages on screen (role=alert). */
export function alerts(page) {
  return page.getByRole('alert');
}

/** A card of the current screen, found by its heading ("Keys", "History", "Service"). */
export function section(page, heading) {
  return page
    .locator('section, form.card')
    .filter({ has: page.getByRole('heading', { name: heading, exact: true }) });
}

/** The lines of the "History" card, newest first. */
export function historyLines(page) {
  return section(page, 'History').getByRole('listitem');
}

/** The state badge beside a locker's heading ("Free", "In use", "No lock"). */
export function lockerStatus(page) {
  return page.locator('header.page-head .badge');
}

/** The register's count line ("30 lockers"). */
export function registerCount(page) {
  return page.locator('p.count');
}

export function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

// ---------------------------------------------------------------------------------------------
// Steps

/** Opens `path` and waits until the register has been read from IndexedDB. */
export async function open(page, url = '/') {
  await page.goto(url);
  await waitReady(page);
}

/** Waits until the app has started and opened the register. */
export async function waitReady(page) {
  await expect(page.locator('#boot')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByText('Opening the register…')).toHaveCount(0, { timeout: 15_000 });
}

/** The first-run walk-through: your name, the site, its first area. Ends on the empty register. */
export async function setUpSite(page, { user = USER, site = SITE, area = AREA } = {}) {
  await open(page, '/');
  await expect(page.getByRole('heading', { name: 'Welcome to Keyward', level: 1 })).toBeVisible();
  await page.getByLabel('Your name').fill(user);
  await page.getByLabel('Site name').fill(site);
  await page.getByLabel('First area').fill(area);
  await page.getByRole('button', { name: 'Create site' }).click();
  await expect(flash(page, 'Site set up. Now add its lockers.')).toBeVisible();
  await expect(page.getByText('This site has no lockers yet.')).toBeVisible();
  await expect(page.locator('header.topbar .site-name')).toHaveText(site);
}

/** Goes to Set-up → Add lockers. */
export async function gotoAddLockers(page) {
  await nav(page, 'Set-up').click();
  await expect(page.getByRole('heading', { name: 'Set-up', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Add lockers' }).click();
  await expect(page.getByRole('heading', { name: 'Add lockers', level: 1 })).toBeVisible();
}

/** Fills and submits the range form (no check of the outcome). */
export async function submitRange(page, from, to) {
  await gotoAddLockers(page);
  await page.getByLabel('A range').check();
  await page.getByLabel('From', { exact: true }).fill(from);
  await page.getByLabel('To', { exact: true }).fill(to);
  await page.getByRole('button', { name: 'Add lockers' }).click();
}

/** Adds lockers `from` to `to` and waits for the confirmation. */
export async function addRange(page, from, to, count) {
  await submitRange(page, from, to);
  const n = count ?? Number(to.match(/\d+$/)[0]) - Number(from.match(/\d+$/)[0]) + 1;
  await expect(flash(page, `${n} lockers added, ${from} to ${to}.`)).toBeVisible();
  await expect(alerts(page)).toHaveCount(0);
}

/** Fills and submits the one-locker form (no check of the outcome). */
export async function submitOneLocker(page, number) {
  await gotoAddLockers(page);
  await page.getByLabel('One locker').check();
  await page.getByLabel('Locker number').fill(number);
  await page.getByRole('button', { name: 'Add lockers' }).click();
}

/** Opens the register with the bottom navigation and clears its search. */
export async function openRegister(page) {
  await nav(page, 'Register').click();
  const search = page.getByRole('searchbox', { name: 'Search lockers' });
  await expect(search).toBeVisible();
  await search.fill('');
  return search;
}

/** The register row of a locker: its link is named "A-012 Science block No lock". */
export function lockerRow(page, number) {
  return page.getByRole('link', { name: new RegExp(`^${re(number)} `) });
}

/** Opens a locker's page from the register, by searching for its number. */
export async function openLocker(page, number) {
  const search = await openRegister(page);
  await search.fill(number);
  await lockerRow(page, number).click();
  await expect(page.getByRole('heading', { name: `Locker ${number}`, level: 1 })).toBeVisible();
  return page.url();
}

/** The tags of the keys that can be issued now ("Issue key <TAG>" links) on a locker page. */
export async function issuableTags(page) {
  return page
    .getByRole('link', { name: /^Issue key / })
    .evaluateAll((links) => links.map((a) => a.getAttribute('aria-label').replace('Issue key ', '')));
}

/**
 * Fits a keyed lock with `code` to locker `number` and adds `count` user keys.
 * Returns { url, tags } of the locker page.
 */
export async function fitLockWithKeys(page, number, code, count = 2) {
  const url = await openLocker(page, number);
  await expect(lockerStatus(page)).toHaveText('No lock');
  await page.getByLabel('Lock type').selectOption('Keyed');
  await page.getByLabel('Lock code').fill(code);
  await page.getByRole('button', { name: 'Fit lock' }).click();
  await expect(flash(page, 'Lock fitted. Now add its keys.')).toBeVisible();
  const facts = section(page, 'Lock');
  await expect(facts.locator('dd').nth(1)).toHaveText(code);

  await page.getByLabel('How many').fill(String(count));
  await page.getByLabel('Kind', { exact: true }).selectOption('User key');
  await page.getByRole('button', { name: 'Add keys' }).click();
  await expect(flash(page, `${count} key${count === 1 ? '' : 's'} added, each with its own tag.`)).toBeVisible();
  await expect(page.getByRole('link', { name: /^Issue key / })).toHaveCount(count);
  await expect(lockerStatus(page)).toHaveText('Free');
  const tags = await issuableTags(page);
  expect(new Set(tags).size).toBe(count);
  return { url, tags };
}

/** Adds a person from People → Add person. Returns the URL of their page. */
export async function addPerson(page, { name, kind = 'Pupil', ref = '', dept = '' }) {
  await nav(page, 'People').click();
  await expect(page.getByRole('heading', { name: 'People', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Add person' }).click();
  await expect(page.getByRole('heading', { name: 'Add a person', level: 1 })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Kind', { exact: true }).selectOption(kind);
  await page.getByLabel('Pupil or staff number (optional)').fill(ref);
  await page.getByLabel('Department, form or year (optional)').fill(dept);
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(flash(page, `${name} added.`)).toBeVisible();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  return page.url();
}

/** On a locker page: opens the issue form for key `tag`. */
export async function openIssueForm(page, tag) {
  await page.getByRole('link', { name: `Issue key ${tag}`, exact: true }).click();
  await expect(page.getByRole('heading', { name: /^Issue a key: locker / })).toBeVisible();
  await expect(page.getByLabel('Key', { exact: true }).locator('option:checked')).toContainText(tag);
}

/**
 * On the issue or handover form: searches for a person and taps their name. Unless `typeName`
 * is false, the person then types their own name where the form asks for it (it is never
 * filled in for them).
 */
export async function choosePerson(page, name, { typeName = true } = {}) {
  await page.getByLabel('A person').check();
  await page.getByRole('searchbox', { name: 'Person', exact: true }).fill(name);
  await page.getByRole('list', { name: 'Matching people' }).getByRole('button', { name }).click();
  await expect(page.getByText(`Person: ${name}`)).toBeVisible();
  const typed = page.getByLabel('Name typed by the person taking the key');
  if (typeName && (await typed.isVisible())) {
    await expect(typed).toHaveValue('');
    await typed.fill(name);
  }
}

/** On a locker page: issues key `tag` to `person` with a typed name; back on the locker page. */
export async function issueKey(page, tag, person) {
  await openIssueForm(page, tag);
  await choosePerson(page, person, { typeName: false });
  await expect(page.getByLabel('Date issued')).toHaveValue(ukToday());
  // Never filled in for the person taking the key: they type it.
  const typed = page.getByLabel('Name typed by the person taking the key');
  await expect(typed).toHaveValue('');
  await typed.fill(person);
  await page.getByRole('button', { name: 'Issue key' }).click();
  await expect(flash(page, `Key ${tag} issued to ${person}.`)).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Locker /, level: 1 })).toBeVisible();
}

/** On a locker or person page: returns key `tag` in good condition; ends on the locker page. */
export async function returnKey(page, tag) {
  await page.getByRole('link', { name: `Return key ${tag}`, exact: true }).click();
  await expect(page.getByRole('heading', { name: `Return key ${tag}`, level: 1 })).toBeVisible();
  await page.getByLabel('Fine').check();
  await page.getByRole('button', { name: 'Record return' }).click();
  await expect(flash(page, `Key ${tag} returned and back in store.`)).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Locker /, level: 1 })).toBeVisible();
}

// ---------------------------------------------------------------------------------------------
// Putting a site on the server

// The server's set-up code (KEYWARD_SETUP_CODE, set by xtask) works once; which spec uses it
// first depends on which specs run, so the first use is marked in a file named after this run.
const CODE_USED = path.join(
  os.tmpdir(),
  `keyward-e2e-setup-code-${path.basename(process.env.KEYWARD_DATA_DIR || 'none')}.used`,
);

/**
 * A set-up code for putting a new site on the server: the one xtask started it with, the first
 * time; after that a fresh one from `keyward-server setup-code` on the same data.
 */
export function setupCode() {
  const code = process.env.KEYWARD_SETUP_CODE;
  if (!code) throw new Error('KEYWARD_SETUP_CODE is not set: run through `cargo xtask e2e`');
  if (!fs.existsSync(CODE_USED)) {
    fs.writeFileSync(CODE_USED, code);
    return code;
  }
  const out = execFileSync(
    process.env.KEYWARD_SERVER_BIN,
    ['setup-code', '--data', process.env.KEYWARD_DATA_DIR],
    { encoding: 'utf8' },
  );
  const fresh = out.match(/Set-up code for a new site[^:]*:\s*(\S+)/);
  if (!fresh) throw new Error(`no set-up code in: ${out}`);
  return fresh[1];
}

/**
 * On /sync of a device that has not signed in: puts its site on the server with a set-up
 * code, as its admin `username`; ends when the status says it is synced.
 */
export async function putOnServer(page, { name = USER, username, password }) {
  await open(page, '/sync');
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Put the site on the server' }) });
  await form.getByLabel('Set-up code').fill(setupCode());
  await form.getByLabel('Your name').fill(name);
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Choose a password').fill(password);
  await form.getByRole('button', { name: 'Put the site on the server' }).click();
  await expect(page.locator('.statusbar .sync-chip')).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
}

// ---------------------------------------------------------------------------------------------
// Accessibility

/**
 * Runs axe (WCAG 2.0/2.1 A and AA) on the current screen. Returns the serious and critical
 * violations as readable lines (rule, impact, selector, message) and prints them.
 */
export async function checkA11y(page, screen, { print = true } = {}) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const lines = [];
  for (const v of results.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    for (const node of v.nodes) {
      const summary = (node.failureSummary || '').replace(/\s+/g, ' ').trim();
      lines.push(
        `[${screen}] ${v.id} (${v.impact}) at ${node.target.join(' ')}: ${v.help}. ${summary} (${v.helpUrl})`,
      );
    }
  }
  if (lines.length && print) console.log(`axe, ${screen}:\n  ${lines.join('\n  ')}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The server (offline test)

const BASE_URL = process.env.KEYWARD_URL;

// The server may have been restarted by an earlier test (and Playwright starts a new worker
// process after a failure), so its current pid is kept in a file named after the first one.
const PID_FILE = path.join(os.tmpdir(), `keyward-e2e-server-${process.env.KEYWARD_SERVER_PID}.pid`);

/** Whether `pid` is a keyward-server this run restarted (its command line has our address). */
function isRestartedServer(pid) {
  const addr = process.env.KEYWARD_SERVER_ADDR || new URL(BASE_URL).host;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0].endsWith('keyward-server') && argv.includes(addr);
  } catch {
    return false;
  }
}

/** The pid of the server now running: the one a test restarted, else the one xtask started. */
export function currentServerPid() {
  try {
    const pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
    if (pid > 0 && isRestartedServer(pid)) return pid;
  } catch {
    // No restart yet: the server xtask started.
  }
  return Number(process.env.KEYWARD_SERVER_PID);
}

/** Whether the server answers at KEYWARD_URL. */
export async function serverAnswers() {
  try {
    const res = await fetch(BASE_URL, { signal: AbortSignal.timeout(1500), cache: 'no-store' });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitFor(condition, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

/** Stops the server (SIGTERM to its current pid) and waits until it no longer answers. */
export async function stopServer() {
  const pid = currentServerPid();
  if (!pid) throw new Error('KEYWARD_SERVER_PID is not set: run through `cargo xtask test`');
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    if (e.code !== 'ESRCH') throw e;
  }
  await waitFor(async () => !(await serverAnswers()), 'the server stops answering', 10_000);
}

/** Starts the server again with KEYWARD_SERVER_CMD (unless it answers) and waits for it. */
export async function restartServer() {
  if (await serverAnswers()) return;
  const cmd = process.env.KEYWARD_SERVER_CMD;
  if (!cmd) throw new Error('KEYWARD_SERVER_CMD is not set: run through `cargo xtask test`');
  // `exec` makes the shell become the server, so the child's pid is the server's.
  const child = spawn('sh', ['-c', `exec ${cmd}`], { detached: true, stdio: 'ignore' });
  child.unref();
  fs.writeFileSync(PID_FILE, String(child.pid));
  await waitFor(serverAnswers, `the server answers again at ${BASE_URL}`, 30_000);
}

/** The folder the server serves (for the service-worker update test). */
export function distDir() {
  return process.env.KEYWARD_DIST
    ? path.resolve(process.env.KEYWARD_DIST)
    : fileURLToPath(new URL('../../../dist/', import.meta.url));
}

/** Waits until the service worker is active and controls `page` (reloading once if needed). */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = () => page.evaluate(() => navigator.serviceWorker.controller !== null);
  if (!(await controlled())) {
    await page.reload();
    await waitReady(page);
  }
  await expect.poll(controlled, { message: 'the service worker controls the page' }).toBe(true);
}

/** The label references made so far (LockerLabelsIssued events in IndexedDB: log and outbox). */
export async function storedLabels(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('keyward');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction(['events', 'outbox']);
          const confirmed = tx.objectStore('events').getAll();
          const pending = tx.objectStore('outbox').getAll();
          tx.oncomplete = () => {
            req.result.close();
            const events = [
              ...confirmed.result.map((json) => JSON.parse(json)),
              ...pending.result.map((json) => JSON.parse(json).event),
            ];
            resolve(
              events
                .map((event) => event.change)
                .filter((c) => c.type === 'LockerLabelsIssued')
                .flatMap((c) => c.labels),
            );
          };
        };
      }),
  );
}

/**
 * Full-page screenshots of the current screen at phone (390×844) and tablet (768×1024) width,
 * `/tmp/<name>-390.png` and `/tmp/<name>-768.png`, for a person to look at; back to phone width.
 */
export async function screenshots(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `/tmp/${name}-390.png`, fullPage: true });
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: `/tmp/${name}-768.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
}
