/**
 * Expiry reminders ★ (DESIGN §3; crates.io's `send_token_expiry_notifications`, cratesio-tokens
 * §4): a live token within `tokens.remind_before` of its expiry is announced once, and every
 * publish made with it carries a warning that cargo prints. Pure: which tokens, and what is said.
 */
import { formatInstant } from './denial.js';
import type { TokenRecord } from './token-record.js';
import { printable } from './token-name.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** True while the token is live and expires within `remindBeforeMs` of `now`. */
export function expiresSoon(token: Pick<TokenRecord, 'expiredAt' | 'revokedAt'>, now: number, remindBeforeMs: number): boolean {
  return token.revokedAt === null && token.expiredAt !== null && now < token.expiredAt && token.expiredAt - now <= remindBeforeMs;
}

/** Where the token page offers a new token with the same settings (crates.io's `?from=<id>`). */
export function regenerateUrl(publicUrl: string, id: number): string {
  return `${publicUrl}/tokens/new?from=${id}`;
}

/** `in 2 days`, `in 5 hours`, `in 12 minutes`: rounded down, never "in 0". */
export function timeLeft(ms: number): string {
  const unit = (n: number, word: string): string => `in ${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms >= DAY_MS) return unit(Math.floor(ms / DAY_MS), 'day');
  if (ms >= HOUR_MS) return unit(Math.floor(ms / HOUR_MS), 'hour');
  return unit(Math.max(1, Math.floor(ms / 60_000)), 'minute');
}

/** The line a publish response carries (cargo prints it as `warning: …`). */
export function expiryWarning(token: Pick<TokenRecord, 'id' | 'expiredAt'>, now: number, publicUrl: string): string {
  const at = token.expiredAt ?? now;
  return `this token expires at ${formatInstant(at)} (${timeLeft(at - now)}); create a new one at ${regenerateUrl(publicUrl, token.id)}`;
}

/**
 * The webhook body, one per reminder (documented in README "Expiry reminders"). `delivery_id`
 * is the same on every retry of one reminder, so a receiver can drop a duplicate.
 */
export interface ReminderPayload {
  readonly event: 'token.expiring';
  readonly delivery_id: string;
  readonly account: string;
  readonly token_id: number;
  readonly name: string;
  readonly expires_at: string;
  readonly regenerate_url: string;
  /** One sentence for chat webhooks (Slack and Mattermost show `text`). */
  readonly text: string;
}

export function reminderPayload(token: Pick<TokenRecord, 'id' | 'account' | 'name' | 'expiredAt'>, now: number, publicUrl: string): ReminderPayload {
  const at = token.expiredAt ?? now;
  const expiresAt = formatInstant(at);
  const url = regenerateUrl(publicUrl, token.id);
  return {
    event: 'token.expiring',
    delivery_id: `token-${token.id}-expiring-${expiresAt}`,
    account: token.account,
    token_id: token.id,
    name: token.name,
    expires_at: expiresAt,
    regenerate_url: url,
    // `text` is printed by `notify-expiring` in a terminal: names stored before the name check are escaped.
    text: `scopegate token "${printable(token.name)}" (id ${token.id}) of ${printable(token.account)} expires at ${expiresAt} (${timeLeft(at - now)}); create a new one at ${url}`,
  };
}
