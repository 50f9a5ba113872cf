// "Forgot your password?" in the browser, against a keyward-server of this test's own that
// mails through an SMTP sink the test starts (the server xtask starts sends no mail, and
// there the link is not offered): the admin keeps an e-mail address on the Sync screen; on
// another device the sign-in form offers the link; the mailed link opens the page that sets a
// new password, takes the token out of the address bar, and works once; the new password
// signs in.

import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { distDir, open, setUpSite } from './helpers.js';

const SETUP_CODE = 'MAIL-TEST-CODE-2345';
const PASSWORD = 'locker-room-42';
const NEW_PASSWORD = 'violet harbour tractor';
const USERNAME = `pat-${Date.now().toString(36)}`;

/** A small SMTP sink on 127.0.0.1: every mail's body (quoted-printable decoded). */
function startSink() {
  const mails = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let data = [];
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(decode(data.join('\n')));
            data = [];
            socket.write('250 queued\r\n');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') socket.write('250-sink\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
        } else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, mails, port: server.address().port }));
  });
}

function decode(message) {
  const split = message.indexOf('\n\n');
  const headers = message.slice(0, split);
  let body = message.slice(split + 2);
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    body = body
      .replace(/=\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { headers, body };
}

function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** keyward-server with mail set up; resolves once it says where it runs. */
async function startServer(smtpPort) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-mail-e2e-'));
  const child = spawn(
    process.env.KEYWARD_SERVER_BIN,
    ['--dist', distDir(), '--data', data, '--addr', `127.0.0.1:${port}`],
    {
      env: {
        ...process.env,
        KEYWARD_SETUP_CODE: SETUP_CODE,
        KEYWARD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=none`,
        KEYWARD_MAIL_FROM: 'Keyward <keyward@test.example.org>',
        KEYWARD_PUBLIC_URL: url,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      if (out.includes('Keyward is running at')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`keyward-server exited (${code}): ${out}`)));
  });
  return { child, url, data };
}

async function waitForMail(mails, count) {
  await expect.poll(() => mails.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(count);
  return mails[count - 1];
}

test('a forgotten password is set again through a mailed link, once', async ({ browser }) => {
  const sink = await startSink();
  const server = await startServer(sink.port);
  try {
    // The admin's device: the site on this server, and an e-mail address kept.
    const admin = await browser.newContext({ baseURL: server.url });
    const desk = await admin.newPage();
    await setUpSite(desk, { user: 'Pat Caretaker', site: 'Mailing School', area: 'Main block' });
    await open(desk, '/sync');
    const put = desk.locator('form', { has: desk.getByRole('button', { name: 'Put the site on the server' }) });
    await put.getByLabel('Set-up code').fill(SETUP_CODE);
    await put.getByLabel('Username').fill(USERNAME);
    await put.getByLabel('Choose a password').fill(PASSWORD);
    await put.getByRole('button', { name: 'Put the site on the server' }).click();
    await expect(desk.locator('.statusbar .sync-chip')).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });
    const email = desk.locator('form', { has: desk.getByRole('heading', { name: 'Your e-mail address' }) });
    await email.getByLabel('E-mail address').fill('pat@');
    await email.getByRole('button', { name: 'Save e-mail address' }).click();
    await expect(email.getByRole('alert')).toContainText('whole e-mail address');
    await email.getByLabel('E-mail address').fill('pat@mailing.example.org');
    await email.getByRole('button', { name: 'Save e-mail address' }).click();
    await expect(email.getByRole('status')).toContainText('Mail for you now goes to pat@mailing.example.org.');

    // Another device, not signed in: the sign-in form offers the link.
    const other = await browser.newContext({ baseURL: server.url });
    const phone = await other.newPage();
    await open(phone, '/sync');
    await phone.getByRole('button', { name: 'Forgot your password?' }).click();
    await phone.getByLabel('Your username').fill(USERNAME);
    await phone.getByRole('button', { name: 'Send me a link' }).click();
    await expect(phone.getByRole('status').filter({ hasText: 'a link to set a new password is on its way' })).toBeVisible();
    const mail = await waitForMail(sink.mails, 1);
    expect(mail.headers).toContain('To: pat@mailing.example.org');
    const link = mail.body.match(/http:\/\/127\.0\.0\.1:\d+\/reset#token=[0-9a-f]{64}/)[0];
    expect(link.startsWith(server.url)).toBe(true);

    // The link: a new password, twice; the token leaves the address bar.
    await phone.goto(link);
    await expect(phone.getByRole('heading', { name: 'Set a new password', level: 1 })).toBeVisible();
    await expect(phone).toHaveURL(/\/reset$/);
    await phone.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await phone.getByLabel('New password again').fill(NEW_PASSWORD);
    await phone.getByRole('button', { name: 'Set new password' }).click();
    await expect(phone.getByText('Your password is changed')).toBeVisible();

    // The new password signs in; the old one does not.
    await open(phone, '/sync');
    const signIn = phone.locator('form', { has: phone.getByRole('button', { name: 'Sign in', exact: true }) });
    await signIn.getByLabel('Username').fill(USERNAME);
    await signIn.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await expect(signIn.getByRole('alert')).toContainText('do not match');
    await signIn.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await expect(phone.locator('.statusbar .sync-chip')).toHaveText(/^Synced \d\d:\d\d$/, { timeout: 20_000 });

    // The same link again: used.
    const again = await other.newPage();
    await again.goto(link);
    await again.getByLabel('New password', { exact: true }).fill('orange cloud ladder');
    await again.getByLabel('New password again').fill('orange cloud ladder');
    await again.getByRole('button', { name: 'Set new password' }).click();
    await expect(again.getByRole('alert')).toContainText('has expired or has been used');
    await admin.close();
    await other.close();
  } finally {
    server.child.kill('SIGTERM');
    sink.server.close();
    fs.rmSync(server.data, { recursive: true, force: true });
  }
});
