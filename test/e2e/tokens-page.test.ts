/**
 * The `/tokens` page in headless Debian chromium, against a real gateway (real Redis, the test
 * registry): sign in, list, create (shown once, copied, with the cargo setup), validation, revoke,
 * regenerate, the operator's expiry policy, a phone-width layout — and, the point of it all, a
 * token made on the page publishes with the real `cargo` through the gateway.
 * Screenshots go to test-artifacts/tokens-page/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot, watchForProblems } from '../support/browser.js';
import { cargoPublish, cleanup, makeCargoHome, makeCrate } from '../support/cargo-cli.js';
import { freePort, startGateway, type TestGateway } from '../support/gateway.js';
import { startNpmGateway } from '../support/npm-gateway.js';
import { hashToken, mintToken } from '../../src/store/token-secret.js';
import { ANSWER_TIMEOUT_MS } from '../../src/web/api.js';

const DAY = 86_400_000;
const ALICE = 'alice-upstream-secret';
const SHOTS = 'tokens-page';
/** The registry name cargo-cli.ts configures, so the page's cargo setup can be used verbatim. */
const useRegistryNameGw = (yaml: string): string => yaml.replace(/^(\s*)registry_name: \S+$/m, '$1registry_name: gw');

let browser: Browser;
let gw: TestGateway;
const contexts: BrowserContext[] = [];

before(async () => {
  // The browser first: without chromium this fails at once, before a gateway is started that
  // nothing would close (started alongside, it kept the file alive until its 3-minute timeout).
  browser = await launchChromium();
  gw = await startGateway({ editYaml: useRegistryNameGw });
});
after(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await gw?.close();
  await cleanup();
});

/** A fresh browser profile (own sessionStorage) on `url`, watched for page errors. */
async function openPage(url: string, viewport = { width: 1000, height: 800 }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const page = await context.newPage();
  const problems = watchForProblems(page);
  await page.goto(url);
  return { page, problems };
}

/** Signs in and waits until the page has checked the credential and accepted it. */
async function signIn(page: Page, credential = ALICE): Promise<void> {
  await page.getByLabel('Registry token').fill(credential);
  await page.getByRole('button', { name: 'Sign in' }).click();
  try {
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  } catch (e) {
    // Say what the page showed instead: a timeout alone does not tell a refusal from a stall.
    const shown = await page.getByRole('alert').allTextContents().catch(() => [] as string[]);
    throw new Error(`not signed in at ${page.url()}; the page's alerts: ${JSON.stringify(shown)}`, { cause: e });
  }
  // Signed in on the list view, the page loads the list after showing it: a test that navigates
  // on at once aborts that request, which then shows as a problem (a CI run failed so).
  await page.locator('#list-loading').waitFor({ state: 'hidden' });
}

const alert = (page: Page) => page.getByRole('alert');
const card = (page: Page, name: string) => page.locator('.token-card').filter({ has: page.getByRole('heading', { name, exact: true }) });
const focusedId = (page: Page): Promise<string> => page.evaluate(() => document.activeElement?.id ?? '');

/** Fills the New API Token form; `expiry` is an option label ("30 days", "Custom…"). */
async function fillForm(page: Page, form: { name: string; scopes: string[]; patterns?: string[]; expiry?: string }): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill(form.name);
  if (form.expiry !== undefined) await page.getByLabel('Expiration').selectOption({ label: form.expiry });
  for (const scope of form.scopes) await page.getByRole('checkbox', { name: scope, exact: true }).check();
  for (const [i, pattern] of (form.patterns ?? []).entries()) {
    await page.getByRole('button', { name: 'Add pattern' }).click();
    await page.getByLabel(`Crate pattern ${i + 1}`).fill(pattern);
  }
}

async function createOnPage(page: Page, form: Parameters<typeof fillForm>[1]): Promise<string> {
  await page.goto(`${gw.url}/tokens/new`);
  await fillForm(page, form);
  await page.getByRole('button', { name: 'Generate token' }).click();
  await page.getByRole('heading', { name: 'Token created' }).waitFor();
  return (await page.locator('#new-token').textContent()) ?? '';
}

async function recordOf(token: string, on: Pick<TestGateway, 'store'> = gw) {
  const record = await on.store.findByHash(hashToken(token));
  assert.ok(record, 'the token the page showed is not in the store');
  return record;
}

describe('the /tokens page in chromium', () => {
  test('signs in with the registry credential, kept in sessionStorage only, and lists tokens with expiry badges', async () => {
    const real = Date.now();
    gw.setNow(real - 3 * DAY);
    await gw.createToken({ name: 'expired-ci', endpoint_scopes: ['yank'], expired_at: new Date(real - DAY).toISOString() });
    gw.setNow(null);
    await gw.createToken({ name: 'soon-ci', endpoint_scopes: ['publish-update'], crate_scopes: ['serde', 'serde-*'], expired_at: new Date(real + 2 * DAY + 60_000).toISOString() });

    const { page, problems } = await openPage(`${gw.url}/tokens`);
    await screenshot(page, SHOTS, '01-sign-in');
    await page.getByLabel('Registry token').fill('not-a-registry-credential');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await assert.doesNotReject(alert(page).getByText(/Sign-in failed: the registry did not accept this credential/).waitFor());
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    await signIn(page);
    await page.getByRole('heading', { name: 'API Tokens' }).waitFor();
    assert.equal(await focusedId(page), 'list-heading');
    assert.equal(await page.locator('#error').textContent(), '', 'the sign-in error is still shown');
    const soon = card(page, 'soon-ci');
    assert.equal(await soon.locator('.badge').textContent(), 'expires in 2 days');
    assert.match((await soon.locator('dl').innerText()).replace(/\s+/g, ' '), /Scopes publish-update Crates serde, serde-\* Created .+ Last used never Expires .+/);
    assert.equal(await card(page, 'expired-ci').locator('.badge').textContent(), 'expired');
    assert.equal(await card(page, 'expired-ci').locator('dd').nth(1).textContent(), 'all crates');
    await screenshot(page, SHOTS, '02-list');

    assert.deepEqual(await page.evaluate(() => Object.entries(sessionStorage)), [['scopegate.credential', ALICE]]);
    assert.deepEqual(await page.context().cookies(), []);
    assert.ok(!page.url().includes(ALICE));
    await page.reload();
    await card(page, 'soon-ci').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.deepEqual(problems, []);
    assert.ok(!gw.registry.requests.some((r) => r.url.startsWith('/tokens')), 'a page request reached the registry');
  });

  test('a pasted token carrying a character no token has is refused beside the field, not blamed on the connection', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens`);
    let calls = 0;
    page.on('request', (r) => void (new URL(r.url()).pathname.startsWith('/api/') && calls++));
    const field = page.getByLabel('Registry token');
    const cases: [string, string][] = [
      [`${ALICE}\u200b`, 'it contains U+200B, which'],
      [`\u201c${ALICE}\u201d`, 'it contains “\u201c” (U+201C), which'],
    ];
    for (const [pasted, contains] of cases) {
      await field.fill(pasted);
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.locator('#credential-error').textContent(),
        `This is not the token as your registry gave it: ${contains} no token has. Copy the token again, without anything around it`);
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.equal(await focusedId(page), 'credential');
      assert.equal(await page.locator('#error').textContent(), '', 'the alert region blames something else');
    }
    assert.equal(calls, 0, 'the page tried to send it');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await signIn(page);
    assert.equal(await field.getAttribute('aria-invalid'), null);
    assert.deepEqual(problems, []);
  });

  test('works behind a proxy that serves the gateway at public_url\'s path prefix (…/reg/tokens → /tokens)', async () => {
    const proxyPort = await freePort();
    let gatewayPort = 0;
    const proxy = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (!url.startsWith('/reg/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not the gateway');
        return;
      }
      const forwarded = http.request({ host: '127.0.0.1', port: gatewayPort, method: req.method, path: url.slice('/reg'.length), headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
    const publicUrl = `http://127.0.0.1:${proxyPort}/reg`;
    const behind = await startGateway({ env: { SCOPEGATE_PUBLIC_URL: publicUrl } });
    gatewayPort = behind.port;
    try {
      const { page, problems } = await openPage(`${publicUrl}/tokens`);
      await signIn(page);
      await page.getByRole('link', { name: 'New token' }).click();
      await page.getByRole('heading', { name: 'New API Token' }).waitFor();
      assert.equal(page.url(), `${publicUrl}/tokens/new`);
      await fillForm(page, { name: 'behind-a-proxy', scopes: ['yank'] });
      await page.getByRole('button', { name: 'Generate token' }).click();
      await page.getByRole('heading', { name: 'Token created' }).waitFor();
      const record = await recordOf((await page.locator('#new-token').textContent()) ?? '', behind);
      assert.equal(record.name, 'behind-a-proxy');
      await page.getByRole('link', { name: 'Back to your tokens' }).click();
      await card(page, 'behind-a-proxy').waitFor();
      assert.equal(page.url(), `${publicUrl}/tokens`);
      assert.equal(await card(page, 'behind-a-proxy').getByRole('link', { name: /^Regenerate/ }).getAttribute('href'), `/reg/tokens/new?from=${record.id}`);
      assert.deepEqual(problems, []);
    } finally {
      await behind.close();
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  test('each view names the tab after its heading, as a page of its own would', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    assert.equal(await page.title(), 'Sign in · scopegate');
    await signIn(page);
    await page.getByRole('heading', { name: 'New API Token' }).waitFor();
    assert.equal(await page.title(), 'New API Token · scopegate');
    await createOnPage(page, { name: 'titled', scopes: ['yank'] });
    assert.equal(await page.title(), 'Token created · scopegate');
    await page.getByRole('link', { name: 'Back to your tokens' }).click();
    await card(page, 'titled').waitFor();
    assert.equal(await page.title(), 'API Tokens · scopegate');
    assert.deepEqual(problems, []);
  });

  test('signing out right after creating a token forgets its plaintext and the token list', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens`);
    await signIn(page);
    const token = await createOnPage(page, { name: 'then-sign-out', scopes: ['yank'] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const html = await page.content();
    assert.ok(!html.includes(token.slice(3, 20)), 'the new token is still in the page');

    await page.goto(`${gw.url}/tokens`);
    await signIn(page);
    await card(page, 'then-sign-out').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.locator('.token-card').count(), 0, 'the token list is still in the page');
    assert.deepEqual(problems, []);
  });

  test('signing out while the token list is still on its way keeps it forgotten', async () => {
    const { page } = await openPage(`${gw.url}/tokens`);
    await signIn(page);
    await createOnPage(page, { name: 'late-list', scopes: ['yank'] });
    // The next list answer is held back until the page has signed out.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    let seen: () => void = () => {};
    const requested = new Promise<void>((resolve) => { seen = resolve; });
    await page.route('**/api/v1/me/tokens?expired_days=30', async (route) => {
      seen();
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    await page.getByRole('link', { name: 'Back to your tokens' }).click();
    await requested;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    release();
    // The list's loading line is hidden (its own attribute, not its hidden view) once the answer was handled.
    await page.waitForFunction(() => document.getElementById('list-loading')?.hidden === true);
    assert.equal(await page.locator('.token-card').count(), 0, 'the list came back after signing out');
  });

  test('creates a token: shown once with a copy button and the cargo setup, then listed', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    await signIn(page);
    await page.getByRole('heading', { name: 'New API Token' }).waitFor();
    assert.equal(await page.getByLabel('Expiration').inputValue(), `${90 * DAY}ms`, '90 days is not preselected');
    const token = await createOnPage(page, { name: 'release', scopes: ['publish-new', 'publish-update'], patterns: ['serde', 'serde-*'] });

    assert.match(token, /^sg_[0-9A-Za-z]{38}$/);
    assert.equal(await focusedId(page), 'created-heading');
    assert.equal(await page.locator('#cargo-config').textContent(), `[registries.gw]\nindex = "sparse+${gw.url}/index/"`);
    assert.equal(await page.locator('#cargo-env').textContent(), `CARGO_REGISTRIES_GW_TOKEN=${token}`);
    assert.equal(await page.locator('#cargo-login').textContent(), 'cargo login --registry gw');
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').getByText('Token copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await screenshot(page, SHOTS, '03-created');

    const record = await recordOf(token);
    assert.deepEqual({ name: record.name, scopes: record.endpointScopes, crates: record.crateScopes?.map((p) => p.source) },
      { name: 'release', scopes: ['publish-new', 'publish-update'], crates: ['serde', 'serde-*'] });
    assert.ok(Math.abs(record.expiredAt! - (record.createdAt + 90 * DAY)) < 60_000, 'not 90 days');

    await page.getByRole('link', { name: 'Back to your tokens' }).click();
    await card(page, 'release').waitFor();
    assert.ok(!(await page.content()).includes(token), 'the plaintext is still on the page');
    assert.equal(await page.evaluate((t) => JSON.stringify(sessionStorage).includes(t), token), false);
    await page.goBack();
    await page.getByRole('heading', { name: 'New API Token' }).waitFor();
    assert.ok(!(await page.content()).includes(token), 'going back shows the plaintext again');
    assert.deepEqual(problems, []);
  });

  test('validates as you type with the server\'s rules, and shows refusals in the alert region', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    await signIn(page);
    await page.getByRole('button', { name: 'Add pattern' }).click();
    const pattern = page.getByLabel('Crate pattern 1');
    assert.equal(await focusedId(page), 'pattern-1', 'Add pattern did not focus the new field');
    await page.keyboard.type('ser*de');
    assert.equal(await pattern.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#pattern-1-error').textContent() ?? '', /`ser\*de`: `\*` may only stand once, at the end/);
    await screenshot(page, SHOTS, '04-bad-pattern');
    await pattern.fill('Serde_*');
    assert.equal(await pattern.getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('#pattern-1-error').textContent(), '');

    let puts = 0;
    page.on('request', (r) => void (r.method() === 'PUT' && puts++));
    await page.getByRole('button', { name: 'Generate token' }).click();
    await alert(page).getByText('The token was not created: 2 fields need your attention.').waitFor();
    assert.equal(await focusedId(page), 'token-name');
    assert.equal(await page.locator('#token-name-error').textContent(), 'Enter a name, so you can tell this token from your others');
    assert.equal(await page.locator('#scopes-error').textContent(), 'Select at least one scope');
    await screenshot(page, SHOTS, '05-empty-name');
    assert.equal(puts, 0, 'an invalid form reached the server');

    // A refusal only the server can make: an (unscoped) scopegate token may list tokens, not create them.
    const { token: unscoped } = await gw.createToken({ name: 'unscoped', endpoint_scopes: null });
    const other = await openPage(`${gw.url}/tokens/new`);
    await signIn(other.page, unscoped);
    await fillForm(other.page, { name: 'from-a-token', scopes: ['yank'] });
    await other.page.getByRole('button', { name: 'Generate token' }).click();
    await alert(other.page).getByText('The token was not created: a scopegate token cannot create tokens; authenticate with your own registry credential').waitFor();
    await screenshot(other.page, SHOTS, '06-server-error');
    assert.deepEqual([...problems, ...other.problems], []);
  });

  test('revokes only after confirmation in a dialog, by keyboard too', async () => {
    const { id } = await gw.createToken({ name: 'to-revoke', endpoint_scopes: ['yank'] });
    const { page, problems } = await openPage(`${gw.url}/tokens`);
    await signIn(page);
    const revoke = card(page, 'to-revoke').getByRole('button', { name: 'Revoke token to-revoke' });
    await revoke.click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this token?' });
    await dialog.waitFor();
    assert.equal(await focusedId(page), 'revoke-cancel', 'the dialog does not focus Cancel');
    await screenshot(page, SHOTS, '07-revoke-dialog', false); // a modal's backdrop covers the viewport only
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await gw.store.findById(id))?.revokedAt, null, 'Escape revoked the token');

    await revoke.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focusedId(page), 'revoke-confirm');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Token “to-revoke” revoked. Anything still using it is now refused.').waitFor();
    assert.equal(await card(page, 'to-revoke').count(), 0);
    assert.equal(await focusedId(page), 'list-heading');
    assert.notEqual((await gw.store.findById(id))?.revokedAt, null, 'the token was not revoked');
    assert.deepEqual(problems, []);
  });

  test('regenerates a token with the same settings (crates.io\'s /tokens/new?from=<id>)', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    await signIn(page);
    const original = await createOnPage(page, { name: 'nightly', scopes: ['publish-update', 'yank'], patterns: ['tokio', 'tokio-*'], expiry: '30 days' });
    const { id } = await recordOf(original);

    await page.goto(`${gw.url}/tokens`);
    await card(page, 'nightly').getByRole('link', { name: 'Regenerate token nightly' }).click();
    await page.waitForURL(`${gw.url}/tokens/new?from=${id}`);
    await page.locator('#regenerate-note').getByText('Settings copied from “nightly”').waitFor();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'nightly');
    const checked = await page.locator('#scope-list input:checked').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    assert.deepEqual(checked, ['publish-update', 'yank']);
    assert.deepEqual(await page.locator('#pattern-list input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value)), ['tokio', 'tokio-*']);
    assert.equal(await page.getByLabel('Expiration').inputValue(), `${30 * DAY}ms`);
    await screenshot(page, SHOTS, '08-regenerate');

    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByRole('heading', { name: 'Token created' }).waitFor();
    const copy = await recordOf((await page.locator('#new-token').textContent()) ?? '');
    assert.notEqual(copy.id, id);
    assert.deepEqual([copy.name, copy.endpointScopes, copy.crateScopes?.map((p) => p.source)], ['nightly', ['publish-update', 'yank'], ['tokio', 'tokio-*']]);
    assert.ok(Math.abs(copy.expiredAt! - (copy.createdAt + 30 * DAY)) < 60_000, 'not 30 days');
    assert.deepEqual(problems, []);
  });

  test('a custom expiry date is sent as that day\'s UTC midnight', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    await signIn(page);
    await page.getByLabel('Expiration').selectOption({ label: 'Custom…' });
    const day = new Date(Date.now() + 45 * DAY).toISOString().slice(0, 10);
    await page.getByLabel('Expiry date (UTC midnight)').fill(day);
    assert.match(await page.locator('#expiry-summary').textContent() ?? '', /^The token will expire on /);
    await fillForm(page, { name: 'custom-expiry', scopes: ['read'] });
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByRole('heading', { name: 'Token created' }).waitFor();
    const token = (await page.locator('#new-token').textContent()) ?? '';
    assert.equal((await recordOf(token)).expiredAt, Date.parse(`${day}T00:00:00Z`));
    assert.deepEqual(problems, []);
  });

  test('offers only the expiries the operator allows', async () => {
    const strict = await startGateway({ editYaml: (y) => y.replace(/max_lifetime: \S+/, 'max_lifetime: 60d').replace(/default_lifetime: \S+/, 'default_lifetime: 30d').replace(/allow_no_expiry: \S+/, 'allow_no_expiry: true') });
    try {
      const { page, problems } = await openPage(`${strict.url}/tokens/new`);
      await signIn(page);
      const expiry = page.getByLabel('Expiration');
      assert.deepEqual(await expiry.locator('option').allTextContents(), ['No expiration', '7 days', '30 days', '60 days', 'Custom…']);
      assert.equal(await expiry.locator('option:checked').textContent(), '30 days');
      await expiry.selectOption({ label: 'No expiration' });
      assert.equal(await page.locator('#expiry-summary').textContent(), 'The token will never expire.');
      await fillForm(page, { name: 'forever', scopes: ['read'] });
      await page.getByRole('button', { name: 'Generate token' }).click();
      await page.getByRole('heading', { name: 'Token created' }).waitFor();
      assert.equal((await recordOf((await page.locator('#new-token').textContent()) ?? '', strict)).expiredAt, null);
      assert.deepEqual(problems, []);
    } finally {
      await strict.close();
    }
  });

  test('with upstream.auth: static, says up front that the operator issues tokens, and shows the API\'s refusal', async () => {
    const svc = await startGateway({ editYaml: (y) => y.replace('auth: per-token', 'auth: static'), env: { SCOPEGATE_UPSTREAM_CREDENTIAL: 'svc-secret' } });
    try {
      const { page, problems } = await openPage(`${svc.url}/tokens`);
      await page.getByText('are issued by its operator').waitFor();
      assert.equal(await page.locator('#sign-in-lede').isVisible(), false);
      await page.getByLabel('Registry token').fill(ALICE);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await alert(page).getByText('Sign-in failed: tokens on this registry are issued by its operator (`scopegate token create --account NAME`), not through the token API').waitFor();
      // What `scopegate token create --account team --unscoped` stores.
      const token = mintToken(svc.config.tokens.prefix);
      await svc.store.create({ hash: hashToken(token), account: 'team', name: 'team-admin', endpointScopes: null, crateScopes: null, createdAt: Date.now(), expiredAt: Date.now() + DAY, sealedCredential: null }, DAY);
      await signIn(page, token);
      await card(page, 'team-admin').waitFor();
      assert.equal(await page.getByRole('link', { name: 'New token' }).isVisible(), false);
      await screenshot(page, SHOTS, 'static-mode');
      assert.deepEqual(problems, []);
    } finally {
      await svc.close();
    }
  });

  test('a call the gateway never answers is given up after a while, with a message that says so', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens`);
    await page.clock.install();
    // The listing that checks the credential gets lost on the way: no answer, ever.
    await page.route('**/api/v1/me/tokens**', () => undefined);
    await page.getByLabel('Registry token').fill(ALICE);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.clock.runFor(ANSWER_TIMEOUT_MS - 1_000);
    assert.equal((await alert(page).allTextContents()).join(''), '', 'still waiting, nothing shown yet');
    await page.clock.runFor(1_000);
    await alert(page).getByText(`Sign-in failed: the gateway did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; try again`).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
    assert.ok(problems.every((p) => p.startsWith('request failed:') && p.includes('/api/v1/me/tokens')), JSON.stringify(problems));
  });

  test('fits a 375 px phone screen without sideways scrolling', async () => {
    await gw.createToken({ name: 'a-rather-long-token-name-for-the-deploy-pipeline-of-serde', endpoint_scopes: ['publish-new', 'publish-update', 'yank', 'change-owners'], crate_scopes: ['serde-json-schema-derive-*'] });
    const { page, problems } = await openPage(`${gw.url}/tokens`, { width: 375, height: 812 });
    const overflow = (): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await signIn(page);
    await card(page, 'a-rather-long-token-name-for-the-deploy-pipeline-of-serde').waitFor();
    assert.equal(await overflow(), 0, 'the list scrolls sideways');
    await screenshot(page, SHOTS, '09-phone-list');
    await page.goto(`${gw.url}/tokens/new`);
    await fillForm(page, { name: 'phone', scopes: ['yank'], patterns: ['1bad'] });
    assert.equal(await overflow(), 0, 'the form scrolls sideways');
    await screenshot(page, SHOTS, '10-phone-form');
    await page.getByLabel('Crate pattern 1').fill('phone-*');
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByRole('heading', { name: 'Token created' }).waitFor();
    assert.equal(await overflow(), 0, 'the new token scrolls sideways');
    await screenshot(page, SHOTS, '11-phone-created');
    assert.deepEqual(problems, []);
  });

  test('in front of npm, the page speaks of packages and npm\'s name rules, not of crates', async () => {
    const npm = await startNpmGateway();
    try {
      const { page, problems } = await openPage(`${npm.url}/tokens/new`);
      await signIn(page, npm.registry.credential('alice'));
      await page.getByRole('heading', { name: 'New API Token' }).waitFor();
      assert.equal(await page.locator('#patterns-legend').textContent(), 'Packages');
      assert.match(await page.locator('#patterns-hint').innerText(), /^Limit the token to packages matching these patterns: .*@acme\/\*.*Names are lower-case.*all your packages\.$/s);
      assert.equal(await page.locator('#scope-yank-description').textContent(), 'Unpublish package versions');
      assert.doesNotMatch(await page.locator('#new-view').innerText(), /crate/i);
      await fillForm(page, { name: 'npm-page', scopes: ['publish-update'] });
      await page.getByRole('button', { name: 'Add pattern' }).click();
      await page.getByLabel('Package pattern 1').fill('@acme/*');
      await page.getByRole('button', { name: 'Generate token' }).click();
      await page.getByRole('heading', { name: 'Token created' }).waitFor();
      const token = (await page.locator('#new-token').textContent()) ?? '';
      assert.deepEqual((await recordOf(token, npm)).crateScopes?.map((p) => p.source), ['@acme/*']);
      // npm's setup, not cargo's (test/e2e/npm.test.ts runs that setup with the real npm).
      assert.equal(await page.locator('#cargo-setup').isVisible(), false);
      assert.equal(await page.locator('#npm-config').textContent(), `registry=${npm.url}/\n//${new URL(npm.url).host}/:_authToken=\${NPM_TOKEN}`);
      assert.equal(await page.locator('#npm-env').textContent(), `NPM_TOKEN=${token}`);
      await page.getByRole('link', { name: 'Back to your tokens' }).click();
      const listed = card(page, 'npm-page');
      await listed.waitFor();
      assert.match((await listed.locator('dl').innerText()).replace(/\s+/g, ' '), /Scopes publish-update Packages @acme\/\* Created/);
      assert.doesNotMatch(await page.locator('#list-view').innerText(), /crate/i);
      assert.deepEqual(problems, []);
    } finally {
      await npm.close();
    }
  });

  test('a token made on the page publishes with the real cargo through the gateway', async () => {
    const { page, problems } = await openPage(`${gw.url}/tokens/new`);
    await signIn(page);
    await createOnPage(page, { name: 'cargo-e2e', scopes: ['publish-new'], patterns: ['gw-web-*'] });
    // Use exactly what the page told the user to put in cargo's config and environment.
    const config = (await page.locator('#cargo-config').textContent()) ?? '';
    const index = /^index = "(.+)"$/m.exec(config)?.[1];
    const [variable, token] = ((await page.locator('#cargo-env').textContent()) ?? '').split('=');
    assert.equal(index, `sparse+${gw.url}/index/`);
    assert.equal(variable, 'CARGO_REGISTRIES_GW_TOKEN');

    const name = `gw-web-${process.pid}`;
    const published = await cargoPublish(await makeCrate(name, '0.1.0'), { cargoHome: await makeCargoHome(index!), token: token! });
    assert.equal(published.code, 0, `cargo publish failed:\n${published.stderr}`);
    assert.deepEqual(gw.registry.indexLines(name).map((l) => l.vers), ['0.1.0']);
    const upload = gw.registry.requests.find((r) => r.method === 'PUT' && r.url === '/api/v1/crates/new');
    assert.equal(upload?.headers.authorization, ALICE, 'the upload did not carry the swapped credential');
    assert.deepEqual(problems, []);
  });
});
