/**
 * Small DOM helpers for the token page. Text always goes in as text nodes (never HTML), so a token
 * name or a server message cannot inject markup; the CSP forbids inline script and style anyway.
 */

type Child = Node | string | null | undefined | false;

/** `h('p', { class: 'hint' }, 'text', child)`: an element with attributes (true: empty, false/undefined: absent). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

/** The element with this id; the page's markup guarantees it exists. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`token page markup has no #${id}`);
  return element as T;
}

/**
 * Shows one of the page's views (the `<section>`s in `<main>`), hides the others, focuses its
 * heading, and names the tab after it ("New API Token · scopegate"), as a page of its own would be.
 */
export function showView(id: string, focus = true): void {
  for (const view of document.querySelectorAll<HTMLElement>('main > section')) view.hidden = view.id !== id;
  const heading = byId(id).querySelector<HTMLElement>('h1');
  document.title = `${heading?.textContent ?? 'API Tokens'} · scopegate`;
  if (focus) heading?.focus();
}

/**
 * The two live regions: `#error` (role=alert: read at once) and `#status` (role=status: read when
 * idle). Setting one clears the other, so a stale message never sits beside a new one.
 */
export const notice = {
  error(message: string): void {
    byId('status').textContent = '';
    byId('error').textContent = message;
  },
  status(message: string): void {
    byId('error').textContent = '';
    byId('status').textContent = message;
  },
  clear(): void {
    byId('error').textContent = '';
    byId('status').textContent = '';
  },
};

/** Marks a field invalid (or valid again) with its message in `#<id>-error`, which it is described by. */
export function setFieldError(field: HTMLElement, message: string | null): void {
  const slot = document.getElementById(`${field.id}-error`);
  if (slot !== null) slot.textContent = message ?? '';
  if (message === null) field.removeAttribute('aria-invalid');
  else field.setAttribute('aria-invalid', 'true');
}

/** A `<time>` showing an instant in the reader's locale, with the exact UTC instant as its title. */
export function timeElement(iso: string): HTMLTimeElement {
  const text = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
  return h('time', { datetime: iso, title: iso }, text);
}
