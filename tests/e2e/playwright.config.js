// Playwright configuration for the Keyward browser tests.
//
// Run them with `cargo xtask test` from the workspace root: it builds the PWA, starts
// keyward-server on a free port and sets, for the tests:
//   KEYWARD_URL         the server's base URL, e.g. http://127.0.0.1:41234/
//   KEYWARD_SERVER_PID  the server's process id (a test may kill it to check offline mode)
//   KEYWARD_SERVER_CMD  the full shell command line that restarts it on the same address
//   KEYWARD_SERVER_ADDR the host:port it listens on, KEYWARD_DATA_DIR its data folder
// A test that restarts the server must stop its own copy before it ends.
//
// Chromium is Debian's /usr/bin/chromium: never run `playwright install` (it downloads).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './specs',
  workers: 1,
  retries: 0,
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    baseURL: process.env.KEYWARD_URL,
    viewport: { width: 390, height: 844 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      // Playwright gives each browser its own temporary user-data-dir.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
