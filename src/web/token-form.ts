/**
 * The "New API Token" form (`/tokens/new`), as on crates.io: name; expiration (none, presets, or a
 * custom date, within the operator's policy); scope checkboxes; crate patterns, checked as you type
 * by the registry's own `PackageNaming`, the server's rules. `?from=<id>` prefills it from an existing token.
 */
import type { PackageNaming } from '../core/crate-pattern.js';
import { parseScope, type Scope } from '../core/scope.js';
import { createToken, showToken, type NewToken } from './api.js';
import { byId, h, notice, setFieldError, showView } from './dom.js';
import { capitalised, customDateBounds, customExpiry, expiryChoices, matchingChoice, patternProblem, type RegistryWords } from './format.js';
import type { TokenPagePolicy } from './policy.js';
import { namingFor } from './naming.js';
import { showCreatedToken } from './token-created.js';

let policy: TokenPagePolicy;
let naming: PackageNaming;
/** The pattern fields' name: `Crate pattern` (npm: `Package pattern`). */
let patternLabel = 'Crate pattern';
let now: () => number;
let patternCount = 0;

const nameInput = (): HTMLInputElement => byId('token-name');
const expirySelect = (): HTMLSelectElement => byId('expiry');
const expiryDate = (): HTMLInputElement => byId('expiry-date');
const scopeBoxes = (): HTMLInputElement[] => [...document.querySelectorAll<HTMLInputElement>('#scope-list input[type=checkbox]')];
const patternInputs = (): HTMLInputElement[] => [...document.querySelectorAll<HTMLInputElement>('#pattern-list input')];

/** Builds the policy-dependent parts of the form and wires its events; once per page load. */
export function setUpTokenForm(pagePolicy: TokenPagePolicy, words: RegistryWords, clock: () => number): void {
  policy = pagePolicy;
  naming = namingFor(policy.registry);
  patternLabel = `${capitalised(words.noun)} pattern`;
  now = clock;
  const { choices, defaultValue } = expiryChoices(policy.expiry);
  expirySelect().replaceChildren(...choices.map((c) => h('option', { value: c.value, selected: c.value === defaultValue }, c.label)));
  byId('scope-list').replaceChildren(...Object.entries(words.scopes).map(([scope, text]) => scopeChoice(scope, text)));
  expirySelect().addEventListener('change', updateExpiry);
  expiryDate().addEventListener('input', updateExpiry);
  byId('add-pattern').addEventListener('click', () => addPattern('').focus());
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  updateExpiry();
}

function scopeChoice(scope: string, description: string): HTMLLIElement {
  const id = `scope-${scope}`;
  return h('li', { class: 'choice' },
    h('input', { type: 'checkbox', id, name: 'scope', value: scope, 'aria-describedby': `${id}-description` }),
    h('label', { for: id }, h('code', {}, scope)),
    h('p', { id: `${id}-description`, class: 'hint' }, description));
}

/** Shows the form; with `fromId`, prefilled from that token ("Regenerate"). */
export async function showTokenForm(fromId: number | null): Promise<void> {
  showView('new-view');
  if (fromId === null) return;
  try {
    const token = await showToken(fromId);
    nameInput().value = token.name;
    for (const box of scopeBoxes()) box.checked = token.endpoint_scopes?.includes(box.value as Scope) ?? false;
    byId('pattern-list').replaceChildren();
    for (const pattern of token.crate_scopes ?? []) addPattern(pattern);
    const choice = matchingChoice(expiryChoices(policy.expiry).choices, token.created_at, token.expired_at);
    if (choice !== null) expirySelect().value = choice;
    updateExpiry();
    const note = byId('regenerate-note');
    note.textContent = `Settings copied from “${token.name}”. The new token is separate: “${token.name}” stays valid until it expires or you revoke it.`;
    note.hidden = false;
  } catch (e) {
    notice.error(`The token to copy could not be loaded: ${(e as Error).message}`);
  }
}

/** Adds a crate-pattern row, validated as you type; returns its input. */
function addPattern(value: string): HTMLInputElement {
  const id = `pattern-${++patternCount}`;
  const input = h('input', { id, type: 'text', value, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': `${id}-error patterns-hint` });
  const remove = h('button', { type: 'button', class: 'remove' }, 'Remove', h('span', { class: 'visually-hidden' }, ' pattern'));
  const row = h('li', { class: 'pattern-row' },
    h('label', { for: id, class: 'visually-hidden' }, patternLabel),
    input, remove,
    h('p', { id: `${id}-error`, class: 'field-error' }));
  input.addEventListener('input', () => setFieldError(input, patternProblem(input.value.trim(), naming)));
  remove.addEventListener('click', () => {
    row.remove();
    numberPatterns();
    byId('add-pattern').focus();
  });
  byId('pattern-list').append(row);
  numberPatterns();
  setFieldError(input, patternProblem(value, naming));
  return input;
}

/** "Crate pattern 2" (npm: "Package pattern 2") / "Remove pattern 2": each row's controls have their own accessible names. */
function numberPatterns(): void {
  document.querySelectorAll('#pattern-list .pattern-row').forEach((row, i) => {
    row.querySelector('label')!.textContent = `${patternLabel} ${i + 1}`;
    row.querySelector('.remove .visually-hidden')!.textContent = ` pattern ${i + 1}`;
  });
}

/** Shows the custom date only for "Custom…", and says when the token will expire. */
function updateExpiry(): void {
  const custom = expirySelect().value === 'custom';
  byId('expiry-custom').hidden = !custom;
  const bounds = customDateBounds(now(), policy.expiry.maxMs);
  expiryDate().min = bounds.min;
  if (bounds.max !== null) expiryDate().max = bounds.max;
  const at = chosenExpiry();
  byId('expiry-summary').textContent = 'problem' in at ? '' : at.expiredAt === null ? 'The token will never expire.'
    : `The token will expire on ${new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(at.expiredAt))}.`;
}

/** The `expired_at` the form asks for, or why it cannot. */
function chosenExpiry(): { expiredAt: string | null } | { problem: string } {
  const value = expirySelect().value;
  if (value === 'never') return { expiredAt: null };
  if (value === 'custom') return customExpiry(expiryDate().value, now(), policy.expiry.maxMs);
  return { expiredAt: new Date(now() + Number.parseInt(value, 10)).toISOString() };
}

/** Checks every field (each message beside its field), or returns the request to send. */
function readForm(): { input: NewToken } | { invalid: HTMLElement[] } {
  const invalid: HTMLElement[] = [];
  const check = (field: HTMLElement, problem: string | null): void => {
    setFieldError(field, problem);
    if (problem !== null) invalid.push(field);
  };
  const name = nameInput().value.trim();
  check(nameInput(), name === '' ? 'Enter a name, so you can tell this token from your others' : null);
  const expiry = chosenExpiry();
  if (expirySelect().value === 'custom') check(expiryDate(), 'problem' in expiry ? expiry.problem : null);
  const scopes = scopeBoxes().filter((b) => b.checked).map((b) => parseScope(b.value)).filter((s): s is Scope => s !== null);
  check(byId('scopes'), scopes.length === 0 ? 'Select at least one scope' : null);
  const patterns: string[] = [];
  for (const input of patternInputs()) {
    const value = input.value.trim();
    check(input, patternProblem(value, naming));
    if (value !== '' && naming.parsePattern(value) !== null) patterns.push(value);
  }
  if (invalid.length > 0 || 'problem' in expiry) return { invalid };
  return { input: { name, endpoint_scopes: scopes, crate_scopes: patterns.length === 0 ? null : patterns, expired_at: expiry.expiredAt } };
}

async function submit(): Promise<void> {
  notice.clear();
  const form = readForm();
  if ('invalid' in form) {
    const count = form.invalid.length;
    notice.error(`The token was not created: ${count === 1 ? 'one field needs' : `${count} fields need`} your attention.`);
    const first = form.invalid[0]!;
    (first instanceof HTMLInputElement ? first : first.querySelector<HTMLElement>('input') ?? first).focus();
    return;
  }
  const button = byId<HTMLButtonElement>('create');
  button.disabled = true;
  button.textContent = 'Generating…';
  try {
    const created = await createToken(form.input);
    showCreatedToken(policy, created);
  } catch (e) {
    notice.error(`The token was not created: ${(e as Error).message}`);
  } finally {
    button.disabled = false;
    button.textContent = 'Generate token';
  }
}
