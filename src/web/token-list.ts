/**
 * The list view (`/tokens`): each token with its scopes, crate patterns, dates and an expiry badge;
 * "Regenerate" (crates.io's `/tokens/new?from=<id>`) and "Revoke" behind a confirmation dialog.
 */
import { listTokens, pagePath, revokeToken, session, type ApiToken } from './api.js';
import { byId, h, notice, showView, timeElement } from './dom.js';
import { capitalised, expiryBadge, type RegistryWords } from './format.js';

/** Loads and shows the caller's tokens; `now()` is the gateway's clock. */
export async function showTokenList(now: () => number, words: RegistryWords): Promise<void> {
  showView('list-view');
  const list = byId<HTMLUListElement>('token-list');
  byId('list-loading').hidden = false;
  try {
    const tokens = await listTokens();
    // Signed out while the list was on its way: sign-out forgot the list, and it stays forgotten.
    if (session.credential() === null) return;
    list.replaceChildren(...tokens.map((t) => tokenCard(t, now(), words.noun)));
    byId('list-empty').hidden = tokens.length > 0;
  } catch (e) {
    notice.error(`Your tokens could not be loaded: ${(e as Error).message}`);
  } finally {
    byId('list-loading').hidden = true;
  }
}

function tokenCard(token: ApiToken, now: number, noun: string): HTMLLIElement {
  const headingId = `token-${token.id}-name`;
  const badge = expiryBadge(token.expired_at, now);
  const hidden = (text: string): HTMLSpanElement => h('span', { class: 'visually-hidden' }, text);
  const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke', hidden(` token ${token.name}`));
  revoke.addEventListener('click', () => void confirmAndRevoke(token, card));
  const card = h('li', { class: `token-card${badge?.tone === 'expired' ? ' is-expired' : ''}`, 'data-token-id': String(token.id), 'aria-labelledby': headingId },
    h('div', { class: 'token-card-head' },
      h('h2', { id: headingId }, token.name),
      badge && h('span', { class: `badge badge-${badge.tone}` }, badge.text)),
    h('dl', { class: 'token-facts' },
      h('dt', {}, 'Scopes'), h('dd', {}, ...scopeList(token.endpoint_scopes)),
      h('dt', {}, capitalised(`${noun}s`)), h('dd', {}, ...crateList(token.crate_scopes, noun)),
      h('dt', {}, 'Created'), h('dd', {}, timeElement(token.created_at)),
      h('dt', {}, 'Last used'), h('dd', {}, token.last_used_at === null ? 'never' : timeElement(token.last_used_at)),
      h('dt', {}, badge?.tone === 'expired' ? 'Expired' : 'Expires'), h('dd', {}, token.expired_at === null ? 'never' : timeElement(token.expired_at))),
    h('div', { class: 'token-actions' },
      h('a', { class: 'button', href: pagePath(`/tokens/new?from=${token.id}`) }, 'Regenerate', hidden(` token ${token.name}`)),
      revoke));
  return card;
}

/** `a`, `b`, `c` as code, comma-separated. */
function codeList(items: readonly string[]): Node[] {
  return items.flatMap((item, i) => (i === 0 ? [h('code', {}, item)] : [document.createTextNode(', '), h('code', {}, item)]));
}

function scopeList(scopes: readonly string[] | null): Node[] {
  if (scopes === null) return [document.createTextNode('all (a legacy-style token with full access)')];
  return scopes.length === 0 ? [document.createTextNode('none')] : codeList(scopes);
}

function crateList(patterns: readonly string[] | null, noun: string): Node[] {
  return patterns === null || patterns.length === 0 ? [document.createTextNode(`all ${noun}s`)] : codeList(patterns);
}

/** Asks in a modal `<dialog>` (focus moves into it, Escape cancels), then revokes. */
async function confirmAndRevoke(token: ApiToken, card: HTMLLIElement): Promise<void> {
  if (!(await confirmRevoke(token.name))) return;
  try {
    await revokeToken(token.id);
  } catch (e) {
    notice.error(`Token “${token.name}” was not revoked: ${(e as Error).message}`);
    return;
  }
  card.remove();
  byId('list-empty').hidden = byId('token-list').childElementCount > 0;
  notice.status(`Token “${token.name}” revoked. Anything still using it is now refused.`);
  byId('list-heading').focus();
}

function confirmRevoke(name: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('revoke-dialog');
  byId('revoke-text').textContent = `“${name}” will stop working at once, everywhere it is used. This cannot be undone.`;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'revoke'), { once: true }));
}

/** Wires the dialog's buttons once (they close it with a return value; Escape closes it with none). */
export function setUpRevokeDialog(): void {
  const dialog = byId<HTMLDialogElement>('revoke-dialog');
  byId('revoke-cancel').addEventListener('click', () => dialog.close('cancel'));
  byId('revoke-confirm').addEventListener('click', () => dialog.close('revoke'));
}
