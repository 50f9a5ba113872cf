// Master keys (procedure 4): a suite, its locks and master key, an authorised holder; a
// sign-out with a reason and its return; an emergency use by someone not authorised, flagged
// and then reviewed; a presence check; and, on two devices through the server, a lost master
// key's escalation shown on every screen until the admin resolves it. axe runs on every new
// screen, and screenshots at phone and tablet size go to /tmp/ui-master-*.png.

import { test, expect } from '@playwright/test';
import {
  addPerson,
  addRange,
  alerts,
  checkA11y,
  flash,
  nav,
  open,
  openLocker,
  openRegister,
  putOnServer,
  section,
  setUpSite,
  ukToday,
  screenshots,
} from './helpers.js';

const SUITE = 'Ward 7';
const suffix = Date.now().toString(36);
const ADMIN = `mk-admin-${suffix}`;
const STAFF = `mk-staff-${suffix}`;
const PASSWORD = 'locker-room-42';

/** Tomorrow as typed on a form (dd/mm/yyyy). */
function ukTomorrow() {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date(Date.now() + 24 * 3600 * 1000));
}

/** Today plus `days`, as the app shows a date. */
function ukInDays(days) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date(Date.now() + days * 24 * 3600 * 1000));
}

/** Screenshots of the current screen at phone and tablet width (/tmp/ui-master-<name>-*.png). */
function shoot(page, name) {
  return screenshots(page, `ui-master-${name}`);
}

/** Fits a keyed lock of suite `suite` to locker `number`; adds `count` keys of `kind`. */
async function fitSuiteLock(page, number, code, { suite = SUITE, kind = 'Master key', count = 1 } = {}) {
  await openLocker(page, number);
  await page.getByLabel('Lock type').selectOption('Keyed');
  await page.getByLabel('Lock code').fill(code);
  await page.getByLabel('Master-key suite (optional)').fill(suite);
  await page.getByRole('button', { name: 'Fit lock' }).click();
  await expect(flash(page, 'Lock fitted. Now add its keys.')).toBeVisible();
  await page.getByLabel('How many').fill(String(count));
  await page.getByLabel('Kind', { exact: true }).selectOption(kind);
  await page.getByRole('button', { name: 'Add keys' }).click();
  await expect(flash(page, 'added, each with its own tag.')).toBeVisible();
  return (await section(page, 'Keys').locator('.tag').allTextContents()).map((t) => t.trim());
}

/** Set-up → Master keys. */
async function openMaster(page) {
  await nav(page, 'Set-up').click();
  await page.getByRole('link', { name: 'Master keys', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Master keys', level: 1 })).toBeVisible();
}

async function defineSuite(page, name, days, witness = false) {
  const form = section(page, 'Define a suite');
  await form.getByLabel('Suite name').fill(name);
  await form.getByLabel('Check its master keys every (days)').fill(String(days));
  if (witness) await form.getByLabel('Every use needs a witness').check();
  await form.getByRole('button', { name: 'Define suite' }).click();
  await expect(flash(page, `Suite ${name} defined.`)).toBeVisible();
}

function suiteCard(page, name) {
  return section(page, `Suite ${name}`);
}

async function authorise(page, suite, person) {
  const card = suiteCard(page, suite);
  await card.getByRole('searchbox', { name: 'Person to authorise' }).fill(person.split(' ')[0]);
  await card.getByRole('button', { name: person }).click();
  await card.getByRole('button', { name: 'Authorise', exact: true }).click();
  await expect(flash(page, `${person} may now sign out this suite's master keys.`)).toBeVisible();
  await expect(card.locator('.key', { hasText: person })).toBeVisible();
}

/** A site with a suite of two locks (A-001 with the master key, A-002) and three people. */
async function siteWithSuite(page) {
  await setUpSite(page);
  await addRange(page, 'A-001', 'A-003', 3);
  const [tag] = await fitSuiteLock(page, 'A-001', 'M7001');
  await fitSuiteLock(page, 'A-002', 'M7002', { kind: 'User key' });
  await addPerson(page, { name: 'Sam Jones', kind: 'Staff', ref: 'S100' });
  await addPerson(page, { name: 'Ali Khan', kind: 'Staff', ref: 'S200' });
  await addPerson(page, { name: 'Wendy Witness', kind: 'Staff', ref: 'S300' });
  await openMaster(page);
  await defineSuite(page, SUITE, 7);
  const card = suiteCard(page, SUITE);
  await expect(card.getByRole('link', { name: 'A-001', exact: true })).toBeVisible();
  await expect(card.getByRole('link', { name: 'A-002', exact: true })).toBeVisible();
  await expect(card.getByRole('link', { name: new RegExp(`^${tag} `) })).toContainText('In place');
  await authorise(page, SUITE, 'Sam Jones');
  return tag;
}

async function openMasterKey(page, tag) {
  await suiteCard(page, SUITE).getByRole('link', { name: new RegExp(`^${tag} `) }).click();
  await expect(page.getByRole('heading', { name: `Master key ${tag}`, level: 1 })).toBeVisible();
}

async function returnMasterKey(page, tag) {
  const form = section(page, 'Return');
  await expect(form.getByLabel('Received by')).toHaveValue('Pat Caretaker');
  await form.getByRole('button', { name: 'Record return' }).click();
  await expect(flash(page, `Master key ${tag} returned and in its place.`)).toBeVisible();
}

test('master keys at phone width: suite, sign-out and return, emergency use and review, presence check', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const found = [];
  const scan = async (screen) => found.push(...(await checkA11y(page, screen)));

  const tag = await siteWithSuite(page);
  await expect(page.getByText('Next presence check due ' + ukInDays(7) + '.')).toBeVisible();
  await scan('master keys');
  await shoot(page, 'master');

  // Signed out to an authorised holder with a reason and a due time; then returned.
  await openMasterKey(page, tag);
  await expect(page.locator('.facts')).toContainText('In place');
  await scan('master key, in place');
  await page.getByRole('list', { name: 'Authorised holders' }).getByRole('button', { name: 'Sam Jones' }).click();
  await expect(page.getByText('Person taking the key: Sam Jones')).toBeVisible();
  await expect(page.getByText("Emergency use — flagged for an admin's review")).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(alerts(page)).toHaveText([
    'Enter the reason for taking the master key, for example “pupil locked out of locker C12”.',
  ]);
  await page.getByLabel('Reason', { exact: true }).fill('Pupil locked out of A-002');
  await page.getByLabel('Due back (optional)').fill(`${ukTomorrow()} 09:00`);
  await shoot(page, 'sign-out');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(flash(page, `Master key ${tag} signed out to Sam Jones.`)).toBeVisible();
  await expect(page.locator('.facts')).toContainText(`Out with Sam Jones since ${ukToday()}`);
  await expect(page.locator('.facts')).toContainText(`due back ${ukTomorrow()} 09:00`);
  await scan('master key, out');
  await returnMasterKey(page, tag);
  const use = section(page, 'Uses').getByRole('listitem').first();
  await expect(use).toContainText('Sam Jones: Pupil locked out of A-002');
  await expect(use).toContainText(new RegExp(`Out: ${ukToday()} \\d\\d:\\d\\d`));
  await expect(use).toContainText(new RegExp(`Back: ${ukToday()} \\d\\d:\\d\\d, received by Pat Caretaker`));

  // Someone not authorised: only the emergency route, with a reason, flagged for review.
  await page.getByRole('searchbox', { name: 'Person taking the key' }).fill('Ali');
  await page.getByRole('list', { name: 'People matching, person taking the key' }).getByRole('button', { name: /Ali Khan/ }).click();
  await expect(page.getByText("Emergency use — flagged for an admin's review")).toBeVisible();
  await expect(page.getByText(`Ali Khan is not an authorised holder of the ${SUITE} suite.`, { exact: false })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
  await page.getByRole('searchbox', { name: 'Witness (optional)' }).fill('Wendy');
  await page.getByRole('button', { name: /Wendy Witness/ }).click();
  await page.getByRole('button', { name: 'Record emergency use' }).click();
  await expect(alerts(page)).toHaveCount(1);
  await expect(alerts(page)).toContainText('Enter the reason for taking the master key');
  await page.getByLabel('Reason for the emergency use').fill('Fire alarm: ward cleared');
  await scan('sign-out, emergency use');
  await shoot(page, 'emergency');
  await page.getByRole('button', { name: 'Record emergency use' }).click();
  await expect(
    flash(page, `Emergency use of master key ${tag} by Ali Khan recorded and flagged for an admin's review.`),
  ).toBeVisible();
  await expect(section(page, 'Uses').getByRole('listitem').first()).toContainText(
    "Emergency use: waiting for an admin's review",
  );
  await expect(section(page, 'Uses').getByRole('listitem').first()).toContainText('Witness: Wendy Witness');
  await returnMasterKey(page, tag);
  await shoot(page, 'key');

  // The admin reviews it.
  await page.getByRole('link', { name: 'Master keys' }).first().click();
  await page.getByRole('link', { name: 'Emergency uses to review (1)' }).click();
  await expect(page.getByRole('heading', { name: 'Emergency uses to review', level: 1 })).toBeVisible();
  const review = page.locator('.card.review');
  await expect(review).toHaveCount(1);
  await expect(review).toContainText(`Master key ${tag} (${SUITE}) taken by Ali Khan`);
  await expect(review).toContainText('Fire alarm: ward cleared');
  await scan('emergency uses to review');
  await shoot(page, 'reviews');
  await review.getByRole('button', { name: 'Record review' }).click();
  await expect(alerts(page)).toHaveText([
    'Enter what the review found, for example “use justified, pupil locked out”.',
  ]);
  await review.getByLabel('Review notes').fill('Justified: fire drill, key back within the hour');
  await review.getByRole('button', { name: 'Record review' }).click();
  await expect(flash(page, 'Review recorded.')).toBeVisible();
  await expect(page.getByText('No use of a master key waits for review.')).toBeVisible();

  // A presence check: tap "Seen"; the next check moves on.
  await page.getByRole('link', { name: 'Master keys' }).first().click();
  await page.getByRole('link', { name: 'Check master keys' }).click();
  await expect(page.getByRole('heading', { name: 'Check master keys', level: 1 })).toBeVisible();
  await expect(page.locator('.check-row', { hasText: tag })).toContainText('Never checked');
  await scan('check master keys');
  await page.getByRole('button', { name: `Seen ${tag}` }).click();
  await expect(flash(page, `Master key ${tag} seen in its place. Next check due ${ukInDays(7)}.`)).toBeVisible();
  await expect(page.locator('.check-row', { hasText: tag })).toContainText(`Seen ${ukToday()}`);
  // The typed tag works too, and a wrong one is refused in plain words.
  await page.getByLabel('Tag id').fill('AAAAAAA');
  await page.getByRole('button', { name: 'Record seen' }).click();
  await expect(alerts(page)).toHaveCount(1);
  await page.getByLabel('Tag id').fill(tag.toLowerCase());
  await page.getByRole('button', { name: 'Record seen' }).click();
  await expect(flash(page, `Master key ${tag} seen in its place.`)).toBeVisible();
  await shoot(page, 'check');

  // Its locker's history tells the same story.
  await openLocker(page, 'A-001');
  await expect(section(page, 'History')).toContainText(`Master key ${tag} seen in its place`);
  await expect(section(page, 'History')).toContainText(`Master key ${tag} signed out to Ali Khan: Fire alarm: ward cleared`);
  // Its tag in the locker's key list opens the master key's own page, a full thumb high.
  const link = section(page, 'Keys').getByRole('link', { name: tag, exact: true });
  expect((await link.boundingBox()).height).toBeGreaterThanOrEqual(44);
  await link.click();
  await expect(page.getByRole('heading', { name: `Master key ${tag}`, level: 1 })).toBeVisible();

  expect(found, found.join('\n')).toEqual([]);
});

async function waitSynced(page) {
  await expect(page.locator('.statusbar .sync-chip')).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
}

function banner(page) {
  return page.getByRole('region', { name: 'Lost master key' });
}

test('a lost master key raises a banner on every screen of every device until the admin resolves it', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const found = [];
  const one = await browser.newContext();
  const two = await browser.newContext();
  const a = await one.newPage();
  const b = await two.newPage();

  const tag = await siteWithSuite(a);
  await putOnServer(a, { name: 'Pat Caretaker', username: ADMIN, password: PASSWORD });
  const form = a.locator('form', { has: a.getByRole('heading', { name: 'Add a user' }) });
  await form.getByLabel('Name', { exact: true }).fill('Sue Staff');
  await form.getByLabel('Username', { exact: true }).fill(STAFF);
  await form.getByLabel('Role').selectOption('staff');
  await form.getByLabel('First password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(a.getByText(`Sue Staff can now sign in as ${STAFF}.`)).toBeVisible();

  // Device B: a staff member signs in and has the whole register.
  await open(b, '/sync');
  await b.getByLabel('Username').fill(STAFF);
  await b.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await b.getByRole('button', { name: 'Sign in' }).click();
  await waitSynced(b);
  await openRegister(b);
  await expect(banner(b)).toHaveCount(0);

  // Device A reports the master key lost.
  await openMaster(a);
  await openMasterKey(a, tag);
  await a.getByLabel('What happened (optional)').fill('Not on its hook at the 08:00 check');
  await a.getByRole('button', { name: 'Report lost' }).click();
  await expect(a.getByRole('heading', { name: `Lost master key ${tag}`, level: 1 })).toBeVisible();
  await expect(banner(a)).toContainText(`Master key ${tag} is lost. Lockers at risk: A-001, A-002.`);
  await waitSynced(a);

  // Device B: the banner on every screen, naming the lockers at risk.
  await expect(banner(b)).toContainText(`Master key ${tag} is lost. Lockers at risk: A-001, A-002.`, {
    timeout: 20_000,
  });
  found.push(...(await checkA11y(b, 'register with the lost master key banner')));
  await shoot(b, 'banner-register');
  await openLocker(b, 'A-003');
  await expect(banner(b)).toContainText('Lockers at risk: A-001, A-002.');
  await nav(b, 'People').click();
  await expect(b.getByRole('heading', { name: 'People', level: 1 })).toBeVisible();
  await expect(banner(b)).toContainText('Lockers at risk: A-001, A-002.');
  await banner(b).getByRole('link', { name: 'What to do' }).click();
  await expect(b.getByRole('heading', { name: `Lost master key ${tag}`, level: 1 })).toBeVisible();
  const risk = section(b, 'Lockers at risk');
  await expect(risk.getByRole('link', { name: /^Change the lock of locker / })).toHaveCount(2);
  // Staff may not resolve it: no form, the reason is given.
  await expect(b.getByRole('button', { name: 'Resolve' })).toBeDisabled();
  await expect(b.getByText('Your role (staff) cannot manage master keys.', { exact: false })).toBeVisible();
  found.push(...(await checkA11y(b, 'escalation, staff')));
  await shoot(b, 'escalation-staff');
  await risk.getByRole('link', { name: 'Change the lock of locker A-002' }).click();
  await expect(b.getByRole('heading', { name: 'Locker A-002', level: 1 })).toBeVisible();

  // The admin resolves it on A; the banner goes on both.
  await expect(a.getByRole('heading', { name: `Lost master key ${tag}`, level: 1 })).toBeVisible();
  found.push(...(await checkA11y(a, 'escalation, admin')));
  await shoot(a, 'escalation-admin');
  await a.getByRole('button', { name: 'Resolve' }).click();
  await expect(alerts(a)).toHaveText([
    'Enter what was done about the lost master key, for example “found in the ward office” or “suite locks changed”.',
  ]);
  await a.getByLabel('Not found').check();
  await a.getByLabel('What was done').fill('Locks of A-001 and A-002 to be changed');
  await a.getByRole('button', { name: 'Resolve' }).click();
  await expect(flash(a, 'Escalation resolved.')).toBeVisible();
  await expect(a.getByText(/^Resolved by Pat Caretaker on .*: not found\. Locks of A-001 and A-002 to be changed$/)).toBeVisible();
  await expect(banner(a)).toHaveCount(0);
  await expect(banner(b)).toHaveCount(0, { timeout: 20_000 });
  await openRegister(b);
  await expect(banner(b)).toHaveCount(0);

  expect(found, found.join('\n')).toEqual([]);
  await one.close();
  await two.close();
});
