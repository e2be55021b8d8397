/**
 * The token page's entry module (served by src/http/web.ts). `/tokens` lists your tokens,
 * `/tokens/new[?from=<id>]` is the "New API Token" form. Until you sign in by pasting your registry
 * credential, either shows the sign-in form; the credential is checked by listing your tokens.
 */
import { listTokens, session, useBasePath } from './api.js';
import { byId, h, notice, setFieldError, showView } from './dom.js';
import { capitalised, credentialProblem, registryWords } from './format.js';
import type { TokenPagePolicy } from './policy.js';
import { forgetCreatedToken, setUpCreatedView } from './token-created.js';
import { setUpTokenForm, showTokenForm } from './token-form.js';
import { setUpRevokeDialog, showTokenList } from './token-list.js';

const policy = JSON.parse(byId('policy').textContent ?? '{}') as TokenPagePolicy;
/** The gateway's clock: the page's own, corrected by the offset seen when the page was rendered. */
const skew = policy.now - Date.now();
const now = (): number => Date.now() + skew;
/** crates.io's words for cargo, npm's for npm. */
const words = registryWords(policy.registry);

function showSignIn(): void {
  byId('sign-out').hidden = true;
  showView('sign-in-view');
}

/** Shows the view the address asks for, and moves focus to its heading. */
async function showRequestedView(): Promise<void> {
  byId('sign-out').hidden = false;
  // The end of the path only: in front of it is public_url's prefix, if any.
  if (location.pathname.replace(/\/+$/, '').endsWith('/tokens/new')) {
    const from = new URLSearchParams(location.search).get('from');
    await showTokenForm(from !== null && /^\d{1,15}$/.test(from) ? Number(from) : null);
  } else {
    await showTokenList(now, words);
  }
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const input = byId<HTMLInputElement>('credential');
  const credential = input.value.trim();
  notice.clear();
  const problem = credential === '' ? 'Paste your registry token' : credentialProblem(credential);
  if (problem !== null) {
    setFieldError(input, problem);
    input.focus();
    return;
  }
  setFieldError(input, null);
  session.signIn(credential);
  try {
    await listTokens();
  } catch (e) {
    session.signOut();
    notice.error(`Sign-in failed: ${(e as Error).message}`);
    input.focus();
    return;
  }
  input.value = '';
  await showRequestedView();
  if (credential.startsWith(policy.tokenPrefix) && policy.issuedBy === 'self') {
    notice.status('You signed in with a scopegate token: it can list and revoke tokens, but creating one needs the token your registry itself gave you.');
  }
}

function signOut(): void {
  session.signOut();
  // Signing out forgets what the session showed: a new token's plaintext (the Sign out button
  // sits above it), and the list of tokens.
  forgetCreatedToken();
  byId('token-list').replaceChildren();
  showSignIn();
  notice.status('Signed out. Your registry token is no longer kept in this tab.');
}

function start(): void {
  useBasePath(policy.basePath);
  for (const el of document.querySelectorAll('[data-public-url]')) el.textContent = policy.publicUrl;
  for (const el of document.querySelectorAll('[data-nouns]')) el.textContent = `${words.noun}s`;
  byId('patterns-legend').textContent = capitalised(`${words.noun}s`);
  byId('patterns-hint').replaceChildren(...words.patternHint.map((piece) => (typeof piece === 'string' ? piece : h('code', {}, piece.code))));
  // Static mode (`upstream.auth: static`): the operator issues tokens, so say so before anyone
  // pastes a registry credential the token API would refuse, and offer no "New token".
  const byOperator = policy.issuedBy === 'operator';
  byId('sign-in-lede').hidden = byOperator;
  byId('operator-note').hidden = !byOperator;
  byId('new-token-link').hidden = byOperator;
  setUpTokenForm(policy, words, now);
  setUpCreatedView();
  setUpRevokeDialog();
  byId('sign-in-form').addEventListener('submit', (e) => void signIn(e as SubmitEvent));
  byId('sign-out').addEventListener('click', signOut);
  if (session.credential() === null) showSignIn();
  else void showRequestedView();
}

start();
