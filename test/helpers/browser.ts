import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs; browsers are never downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless Chromium. Fails, never skips, when it is missing: a silent skip would hide a broken web app. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y --no-install-recommends chromium), as .ci/run does`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** Fails the suite when the web bundle is missing (npm ci builds it), rather than testing a stale or empty page. */
export function requireWebBuild(repoRoot: string): void {
  if (!fs.existsSync(`${repoRoot}/dist/web/index.html`)) throw new Error('dist/web is not built: npm ci runs npm run build:web');
}

export interface SignedIn {
  page: Page;
  /** Uncaught errors of the page, for a test to assert none. */
  errors: string[];
}

/**
 * A fresh browser context signed in through the login page, in Chinese and
 * Beijing time as the staff use it; resolves once the header names the user.
 */
export async function signIn(browser: Browser, url: string, user: string, password: string, viewport = { width: 1280, height: 800 }): Promise<SignedIn> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/`);
  await page.waitForURL('**/login');
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.locator('#current-user').filter({ hasText: user }).waitFor();
  return { page, errors };
}
