/**
 * A new token, shown once: the plaintext with a copy button, and the cargo or npm setup to use it. The
 * plaintext lives only in this view's DOM — never in storage — so leaving the page forgets it.
 */
import type { ApiToken } from './api.js';
import { byId, notice, showView } from './dom.js';
import { cargoSetup, npmSetup } from './format.js';
import type { TokenPagePolicy } from './policy.js';

export function showCreatedToken(policy: TokenPagePolicy, created: ApiToken & { token: string }): void {
  byId('new-token').textContent = created.token;
  byId('created-name').textContent = created.name;
  const cargo = policy.registry === 'cargo' ? cargoSetup(policy, created.token) : null;
  showSetup('cargo-setup', cargo && { 'cargo-config': cargo.config, 'cargo-env': cargo.env, 'cargo-login': cargo.login, 'cargo-publish': cargo.publish });
  const npm = policy.registry === 'npm' ? npmSetup(policy, created.token) : null;
  showSetup('npm-setup', npm && { 'npm-config': npm.npmrc, 'npm-env': npm.env, 'npm-publish': npm.publish });
  showView('created-view');
  notice.status(`Token “${created.name}” created. Copy it now: it is shown only once.`);
}

/** Shows the client setup section with these texts (by element id), or hides it (null: another client's). */
function showSetup(section: string, texts: Record<string, string> | null): void {
  byId(section).hidden = texts === null;
  for (const [id, text] of Object.entries(texts ?? {})) byId(id).textContent = text;
}

/**
 * Wires the copy button once (the Clipboard API, else selecting the token and `execCommand('copy')`),
 * and forgets the token when the page is left.
 */
export function setUpCreatedView(): void {
  byId('copy-token').addEventListener('click', () => void copyToken());
  // Leaving the page forgets the token, even where the browser keeps the page for Back (bfcache).
  addEventListener('pagehide', forgetCreatedToken);
  addEventListener('pageshow', (event) => {
    if (event.persisted && !byId('created-view').hidden) location.reload();
  });
}

/** Removes the new token's plaintext from the page (leaving it, signing out). */
export function forgetCreatedToken(): void {
  for (const id of ['new-token', 'cargo-env', 'npm-env']) byId(id).textContent = '';
}

async function copyToken(): Promise<void> {
  const token = byId('new-token');
  const text = token.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No Clipboard API (plain http on a non-local host) or no permission: copy the selection instead.
    const range = document.createRange();
    range.selectNodeContents(token);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    if (!document.execCommand('copy')) {
      notice.error('Your browser did not let the page copy the token; it is selected: copy it with Ctrl+C or ⌘C.');
      return;
    }
  }
  notice.status('Token copied to the clipboard.');
}
