/**
 * The checks the schema cannot express (a URL that parses, a port in range, a duration that fits
 * a timer) and the conversions to the loaded form, run after schema validation. A value the schema
 * already reported is skipped, so each cause is reported once.
 */
import { isIP } from 'node:net';
import type { HostPort } from './types.js';
import { CONFIG_SCHEMA } from './schema.js';
import { notA, show, type Labeler, type Problem } from './problems.js';
import { parseDuration, parseSize } from './units.js';

/** A value that failed a check, with the complete message. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** Parses one config value; `label` names it in the message. */
export type FieldParser<T> = (value: unknown, label: string) => T | Invalid;

/** The validated (and defaulted) document, the problems found so far, and how to name values. */
export class Fields {
  constructor(
    private readonly document: Readonly<Record<string, unknown>>,
    readonly problems: Problem[],
    readonly label: Labeler,
  ) {}

  /** The value at a JSON pointer, or undefined. */
  value(pointer: string): unknown {
    let node: unknown = this.document;
    for (const key of pointer.split('/').slice(1)) {
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
    return node;
  }

  /** True when no problem concerns `pointer`, a value inside it, or a value containing it. */
  clean(pointer: string): boolean {
    return this.problems.every(
      (p) => p.pointer !== pointer && !p.pointer.startsWith(`${pointer}/`) && !pointer.startsWith(`${p.pointer}/`),
    );
  }

  /** Records a problem about the value at `pointer`. */
  report(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  /** The parsed value at `pointer`; undefined when it is invalid (now reported) or was reported before. */
  read<T>(pointer: string, parse: FieldParser<T>): T | undefined {
    if (!this.clean(pointer)) return undefined;
    const parsed = parse(this.value(pointer), this.label(pointer));
    if (!(parsed instanceof Invalid)) return parsed;
    this.report(pointer, parsed.message);
    return undefined;
  }
}

const defs = CONFIG_SCHEMA.$defs;

/** Longest delay a Node timer honours (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 24 * 86_400_000;

/** `127.0.0.1:8080`, `[::1]:8080` → `{ host, port }`. */
export const hostPort: FieldParser<HostPort> = (value, label) => {
  const match = /^\[?(.*?)\]?:([0-9]+)$/.exec(String(value));
  const port = Number(match?.[2]);
  if (match === null || match[1] === '') return new Invalid(notA(label, value, defs.hostPort));
  if (port > 65535) return new Invalid(`${label} ${show(value)} is out of range: expected a port from 0 to 65535`);
  return { host: match[1]!, port };
};

/** A list of `host:port`, each checked like {@link hostPort}. */
export const hostPorts: FieldParser<readonly HostPort[]> = (value, label) => {
  const list = Array.isArray(value) ? value : [];
  const parsed: HostPort[] = [];
  for (const [i, item] of list.entries()) {
    const one = hostPort(item, `${label}[${i}]`);
    if (one instanceof Invalid) return one;
    parsed.push(one);
  }
  return parsed;
};

/** An http(s) base URL, normalised, without trailing slashes. */
export const httpBaseUrl: FieldParser<string> = (value, label) => {
  const url = URL.canParse(String(value)) ? new URL(String(value)) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return new Invalid(notA(label, value, defs.httpUrl));
  // Not echoed: the value holds a secret. A URL's password would be logged wherever the URL is
  // (the start-up line names the upstream), and the proxy would send it as Basic auth besides the
  // credential the gateway sets; a service credential has its own setting.
  if (url.username !== '' || url.password !== '') {
    return new Invalid(`${label} has a user or password in it: put none in a URL; a credential for the registry goes in upstream.auth: static with upstream.credential_env`);
  }
  if (url.search !== '' || url.hash !== '') {
    return new Invalid(`${label} ${show(value)} has a query or fragment: expected a base URL, e.g. ${defs.httpUrl.examples.join(', ')}`);
  }
  // Port 0 means "any free port" to a listener; as a destination it reaches nothing.
  if (url.port === '0') return new Invalid(`${label} ${show(value)} has port 0: expected the port it listens on, e.g. ${defs.httpUrl.examples.join(', ')}`);
  return url.href.replace(/\/+$/, '');
};

/** An absolute http(s) URL kept as written (a webhook's query may carry its key). */
export const httpUrl: FieldParser<string> = (value, label) => {
  const url = URL.canParse(String(value)) ? new URL(String(value)) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return new Invalid(notA(label, value, defs.httpUrl));
  return String(value);
};

/** `memory`, or a redis:// / rediss:// URL that parses, with a database number or none. */
export const redisUrl: FieldParser<string> = (value, label) => {
  const text = String(value);
  if (text === 'memory') return text;
  if (!URL.canParse(text)) return new Invalid(notA(label, value, CONFIG_SCHEMA.properties.redis.properties.url));
  // ioredis would send any path as SELECT's argument, and the Sentinel setup reads a path that is
  // not a number as database 0: both a database other than the one named.
  const database = new URL(text).pathname.slice(1);
  if (database !== '' && !/^[0-9]+$/.test(database)) {
    return new Invalid(`${label} ${show(value)} names database ${show(database)}: expected a database number, e.g. redis://127.0.0.1:6379/0`);
  }
  return text;
};

/** A duration in milliseconds, at least `min`; at most `max`, which is a whole number of days. */
export function duration(min: number, max = Number.MAX_SAFE_INTEGER): FieldParser<number> {
  return (value, label) => {
    const ms = typeof value === 'string' ? parseDuration(value) : null;
    if (ms === null) return new Invalid(notA(label, value, defs.duration));
    if (ms < min) return new Invalid(`${label} ${show(value)} is out of range: expected at least ${min}ms`);
    if (ms > max) return new Invalid(`${label} ${show(value)} is out of range: expected at most ${max / 86_400_000}d`);
    return ms;
  };
}

/** A duration for a timer: 1ms to 24d. */
export const timerDuration = duration(1, MAX_TIMER_MS);

/** A time limit set on a timer, where `0s` means no limit. */
export const timerLimit = duration(0, MAX_TIMER_MS);

/** `null`, or what `parse` accepts. */
export function nullable<T>(parse: FieldParser<T>): FieldParser<T | null> {
  return (value, label) => (value === null ? null : parse(value, label));
}

/** A size in bytes, at least 1. */
export const size: FieldParser<number> = (value, label) => {
  const bytes = typeof value === 'string' || typeof value === 'number' ? parseSize(value) : null;
  if (bytes === null) return new Invalid(notA(label, value, defs.size));
  if (bytes < 1) return new Invalid(`${label} ${show(value)} is out of range: expected at least 1 byte`);
  return bytes;
};

/** Addresses and CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.10`), as written. */
export const cidrList: FieldParser<readonly string[]> = (value, label) => {
  const list = Array.isArray(value) ? value.map(String) : [];
  for (const [i, item] of list.entries()) {
    const [address = '', prefix] = item.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0) return new Invalid(`${label}[${i}] ${show(item)} is not an IP address or CIDR range: expected e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.10`);
    if (prefix !== undefined && !(Number(prefix) <= bits)) return new Invalid(`${label}[${i}] ${show(item)} is out of range: expected a prefix length from 0 to ${bits}`);
  }
  return list;
};
