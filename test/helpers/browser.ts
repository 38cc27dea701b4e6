import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Where Chromium is looked for: CHROMIUM_PATH, then the usual system places
 * (Debian's package, which .ci/run installs, first). Browsers are never downloaded.
 */
const SYSTEM_CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium', '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'];

export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return given;
  return SYSTEM_CHROMIUMS.find((p) => fs.existsSync(p));
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless Chromium. Fails, never skips, when it is missing: a silent skip would hide a broken web app. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath || !fs.existsSync(executablePath)) {
    throw new Error(`找不到 Chromium / no Chromium at ${executablePath ?? `CHROMIUM_PATH nor ${SYSTEM_CHROMIUMS.join(', ')}`}: `
      + 'set CHROMIUM_PATH, or install it (Debian: apt-get install -y --no-install-recommends chromium fonts-noto-cjk), as .ci/run does');
  }
  return chromium.launch({ executablePath, args: ARGS, headless: true });
}

/** Fails the suite when the web bundle is missing (npm ci builds it), rather than testing a stale or empty page. */
export function requireWebBuild(repoRoot: string): void {
  if (!fs.existsSync(`${repoRoot}/dist/web/index.html`)) throw new Error('dist/web is not built: npm ci builds it (npm run build)');
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
