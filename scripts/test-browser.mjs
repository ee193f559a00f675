// A browser for tests, usable wherever a program opens "the user's browser": as
// $BROWSER (xdg-open and the `open` package hand it the URL), as msal-node's
// openBrowser, or from a test directly. It drives Debian's Chromium through
// playwright-core, signs in on Tessera's pages as the user the environment names,
// approves, and saves a PNG of every page it sees.
//
//   node scripts/test-browser.mjs URL
//
// Environment:
//   TESSERA_TEST_BROWSER_USER, TESSERA_TEST_BROWSER_PASSWORD   who signs in
//   TESSERA_TEST_SCREENSHOTS   directory for the PNGs (default test-output/screenshots)
//   TESSERA_TEST_BROWSER_TAG   file-name prefix for the PNGs (default "browser")
//   TESSERA_TEST_BROWSER_USER_CODE  on the device-code page, the code to enter
//   TESSERA_TEST_BROWSER_RESULT  a file to write {"ok", "url", "finalUrl", "error"} to when
//                              done (xdg-open and `open` run this with stdio ignored, so a
//                              test learns here what the browser saw)
//
// Exits 0 once the browser has left Tessera for a loopback redirect (the client's) or
// reached a page that says the sign-in is done; 1 otherwise. Plain Node.js.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The launch options every test uses: Debian's Chromium, headless, no network chatter. */
export const CHROMIUM_LAUNCH = {
  executablePath: process.env.TESSERA_TEST_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
};

export function screenshotDir() {
  const dir = process.env.TESSERA_TEST_SCREENSHOTS ?? path.join(ROOT, 'test-output', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Signs in through whatever Tessera page `url` leads to; resolves with the final URL. */
export async function signInThroughBrowser(url, { username, password, userCode, tag = 'browser' } = {}) {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  const dir = screenshotDir();
  let shot = 0;
  const snap = async (page, name) => page.screenshot({ path: path.join(dir, `${tag}-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  try {
    // The tests' servers use a self-signed CA the browser does not know.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    let left = false;
    const origin = new URL(url).origin;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && !frame.url().startsWith(origin) && /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(frame.url())) left = true;
    });
    await page.goto(url, { waitUntil: 'load' });
    for (let step = 0; step < 8 && !left; step++) {
      await page.waitForLoadState('load');
      if (left) break;
      const text = await page.locator('main').innerText().catch(() => '');
      if (await page.locator('input[name=user_code]').count()) {
        await snap(page, 'device-code');
        await page.fill('input[name=user_code]', userCode ?? '');
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      } else if (await page.locator('input[name=password]').count()) {
        await snap(page, 'sign-in');
        await page.fill('input[name=username]', username ?? '');
        await page.fill('input[name=password]', password ?? '');
        await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('button[value=signin]')]);
      } else if (await page.locator('button[value=approve]').count()) {
        await snap(page, 'consent');
        await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      } else if (await page.locator('button[value=continue]').count()) {
        await snap(page, 'pick-account');
        await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('button[value=continue]')]);
      } else {
        await snap(page, 'done');
        if (/Signing in/.test(text)) {
          // A form_post page submits itself; give it the moment it needs (with JavaScript
          // off, press its Continue button).
          const gone = await page.waitForURL((u) => !u.href.startsWith(origin), { timeout: 10_000 }).then(() => true, () => false);
          if (!gone && (await page.locator('form button[type=submit]').count())) await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('form button[type=submit]')]);
          continue;
        }
        if (/signed in/i.test(text)) {
          // The device-code flow ends on Tessera's own page ("You're signed in").
          left = true;
          break;
        }
        throw new Error(`the browser stopped on a page it does not know: ${text.slice(0, 300)}`);
      }
    }
    if (!left) throw new Error('the sign-in did not finish');
    if (!page.url().startsWith(origin)) {
      // What the client showed at its redirect URI.
      await page.waitForLoadState('load').catch(() => undefined);
      await snap(page, 'client').catch(() => undefined);
    }
    return page.url();
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.argv[2];
  if (!url) {
    process.stderr.write('usage: node scripts/test-browser.mjs URL\n');
    process.exit(2);
  }
  const resultFile = process.env.TESSERA_TEST_BROWSER_RESULT;
  const report = (result) => {
    if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ url, ...result }) + '\n');
  };
  signInThroughBrowser(url, {
    username: process.env.TESSERA_TEST_BROWSER_USER,
    password: process.env.TESSERA_TEST_BROWSER_PASSWORD,
    userCode: process.env.TESSERA_TEST_BROWSER_USER_CODE,
    tag: process.env.TESSERA_TEST_BROWSER_TAG ?? 'browser',
  }).then(
    (finalUrl) => {
      report({ ok: true, finalUrl });
      process.exit(0);
    },
    (err) => {
      const error = err instanceof Error ? err.message : String(err);
      report({ ok: false, error });
      process.stderr.write(`test-browser: ${error}\n`);
      process.exit(1);
    },
  );
}
