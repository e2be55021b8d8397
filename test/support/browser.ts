/**
 * Headless Debian `chromium` driven by `playwright-core` (which never downloads a browser of its
 * own). `.ci/run` installs the package; without it the browser tests fail rather than skip.
 */
import { access, mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './gateway.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots land here (gitignored), for a person to look at. */
export const ARTIFACTS = new URL('test-artifacts/', REPO_ROOT);

export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Saves a screenshot (of the whole page unless `fullPage: false`) as `test-artifacts/<dir>/<name>.png`. */
export async function screenshot(page: Page, dir: string, name: string, fullPage = true): Promise<void> {
  const folder = new URL(`${dir}/`, ARTIFACTS);
  await mkdir(folder, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, folder).pathname, fullPage });
}

/**
 * Collects what a page reports as broken — uncaught exceptions, console errors (CSP violations are
 * console errors), failed requests and error answers to anything but the token API (whose refusals
 * the tests provoke and check themselves) — so a test can assert there were none.
 */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  const isApi = (url: string): boolean => new URL(url).pathname.startsWith('/api/');
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // An HTTP error answer is also logged to the console; the 'response' listener judges those.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded')) problems.push(`console error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !isApi(r.url())) problems.push(`${r.status()} for ${r.url()}`);
  });
  return problems;
}
