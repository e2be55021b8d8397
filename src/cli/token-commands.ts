/**
 * `scopegate token create|list|show|revoke`: token management on the server's own store, with the
 * token API's rules (scopes, crate patterns, the expiry policy in core/expiry-policy.ts).
 *
 * Who owns a created token (DESIGN §2):
 * - per-token mode: the user's own registry credential, read from the environment variable
 *   `--credential-env` names (never a flag value, which would land in shell history and `ps`),
 *   is checked with the identity probe; its login is the account, and the credential is sealed
 *   into the token exactly as the token API does.
 * - static mode: the operator names the account (`--account`); the service credential is used.
 */
import http from 'node:http';
import type { CratePattern } from '../core/crate-pattern.js';
import { adapterFor } from '../registries/select.js';
import { formatInstant } from '../core/denial.js';
import { LATEST_EXPIRY, parseExpiredAt, resolveExpiry, type ExpiryRequest } from '../core/expiry-policy.js';
import { parseScope, SCOPES, type Scope } from '../core/scope.js';
import type { TokenRecord } from '../core/token-record.js';
import { printable, tokenNameProblem } from '../core/token-name.js';
import { parseDuration } from '../config/units.js';
import type { GatewayConfig } from '../config/types.js';
import { lookUpLogin } from '../http/identity.js';
import { renderToken } from '../http/token-api.js';
import { sealCredential } from '../store/credential-seal.js';
import { StoreUnavailableError } from '../store/token-store.js';
import type { ListedToken } from '../store/token-directory.js';
import { hashToken, mintToken } from '../store/token-secret.js';
import { createUpstreamClient } from '../upstream/client.js';
import { CliError, EXIT, loadCliConfig, parseFlags, parseId, table, withBackends, type Io } from './common.js';

export const TOKEN_HELP = `usage: scopegate token <create|list|show|revoke> [options]

  token create --name NAME (--scopes LIST | --unscoped) [--crates LIST] [--expires WHEN]
               [--credential-env VAR | --account NAME]
      Creates a token and prints its plaintext once.
      --scopes LIST         comma-separated: ${SCOPES.join(', ')}
      --unscoped            a legacy-style token with every scope (the token API's endpoint_scopes: null)
      --crates LIST         crate patterns, e.g. serde,serde-* (default: all crates)
      --expires WHEN        30d, 12h, 2026-12-31, 2026-12-31T12:00:00Z or never
                            (default: tokens.default_lifetime; limits: tokens.max_lifetime, tokens.allow_no_expiry)
      --credential-env VAR  per-token mode: the variable holding the owner's registry credential;
                            the registry's identity check names the account
      --account NAME        static mode: the account that owns the token
  token list [--account NAME] [--all]     live tokens, newest first (--all: also revoked and expired)
  token show ID                           one token, also revoked or expired
  token revoke ID... | --account NAME     revoke tokens, or every live token of an account

  Every command takes --config FILE (default $SCOPEGATE_CONFIG or config/cargo.yaml) and --json.
  Exit codes: 0 ok, 1 Redis or registry unreachable, 2 bad flags or config, 3 no such token.`;

const OPTIONS = {
  name: { type: 'string' }, scopes: { type: 'string' }, unscoped: { type: 'boolean' }, crates: { type: 'string' },
  expires: { type: 'string' }, 'credential-env': { type: 'string' }, account: { type: 'string' }, all: { type: 'boolean' },
} as const;

export async function tokenCommand(args: string[], io: Io): Promise<number> {
  // `token --help`: a flag where the subcommand goes is the subcommand's own flag.
  const flagFirst = args[0]?.startsWith('-') ?? false;
  const sub = flagFirst ? undefined : args[0];
  const rest = flagFirst ? args : args.slice(1);
  const { values, positionals } = parseFlags(rest, OPTIONS, 'token');
  if (values.help || sub === undefined || sub === 'help') {
    io.out(TOKEN_HELP);
    return sub === undefined && !values.help ? EXIT.USAGE : EXIT.OK;
  }
  const config = await loadCliConfig(values.config, io.env);
  switch (sub) {
    case 'create': return create(config, values, positionals, io);
    case 'list': return list(config, values, io);
    case 'show': return show(config, positionals, Boolean(values.json), io);
    case 'revoke': return revoke(config, values, positionals, io);
    default: throw new CliError(EXIT.USAGE, `unknown command "token ${sub}"\nsee: scopegate token --help`);
  }
}

type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

async function create(config: GatewayConfig, v: Values, positionals: string[], io: Io): Promise<number> {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `token create takes no arguments, got "${positionals.join(' ')}"`);
  if (v.name === undefined || v.name.trim() === '') throw new CliError(EXIT.USAGE, 'give the token a --name (name must have a value)');
  const nameProblem = tokenNameProblem(v.name);
  if (nameProblem !== null) throw new CliError(EXIT.USAGE, `invalid --name: ${nameProblem}`);
  const endpointScopes = readScopes(v.scopes, v.unscoped);
  const naming = adapterFor(config.registry).naming;
  const crateScopes = v.crates === undefined ? null : parseList(v.crates, (p) => naming.parsePattern(p), `invalid ${naming.noun} scope`);
  const now = Date.now();
  const expiry = resolveExpiry(readExpires(v.expires, now), config.tokens, now);
  if (!expiry.ok) throw new CliError(EXIT.USAGE, `invalid --expires: ${expiry.why}`);
  const owner = await readOwner(config, v, io.env);
  const plaintext = mintToken(config.tokens.prefix);
  const record = await withBackends(config, async ({ store, audit }) => {
    const created = await store.create({
      hash: hashToken(plaintext), account: owner.account, name: v.name!, endpointScopes, crateScopes, createdAt: now, expiredAt: expiry.expiredAt,
      sealedCredential: owner.credential === null ? null : sealCredential(owner.credential, plaintext),
    }, config.tokens.keepExpiredMs);
    audit.append({ ts: now, event: 'token.created', token: created.id, account: created.account, via: 'cli' });
    return created;
  });
  if (v.json) io.out(JSON.stringify({ api_token: { ...renderToken(record), account: record.account, token: plaintext } }));
  else io.out([`created token ${record.id} "${printable(record.name)}" for ${printable(record.account)}`, ...describe({ record, remindedAt: null }), 'token (shown once; store it now):', plaintext].join('\n'));
  return EXIT.OK;
}

function readScopes(scopes: string | undefined, unscoped: boolean | undefined): readonly Scope[] | null {
  if (scopes !== undefined && unscoped) throw new CliError(EXIT.USAGE, 'give either --scopes or --unscoped, not both');
  if (unscoped) return null;
  if (scopes === undefined) throw new CliError(EXIT.USAGE, `give --scopes (e.g. publish-update,yank; one of ${SCOPES.join(', ')}) or --unscoped for a full-access token`);
  return parseList(scopes, parseScope, 'invalid endpoint scope');
}

function parseList<T>(text: string, parse: (v: unknown) => T | null, message: string): T[] {
  return text.split(',').map((item) => {
    const parsed = parse(item.trim());
    if (parsed === null) throw new CliError(EXIT.USAGE, `${message}: ${JSON.stringify(item.trim())}`);
    return parsed;
  });
}

/** `never`, a duration from now (`30d`), a day (`2026-12-31`, midnight UTC) or an RFC 3339 instant. */
export function readExpires(text: string | undefined, now: number): ExpiryRequest {
  if (text === undefined) return { kind: 'default' };
  if (text === 'never') return { kind: 'never' };
  const ms = parseDuration(text);
  // Past the latest expiry (9999) the instant has no date to print; the policy refuses it.
  if (ms !== null) return { kind: 'at', at: now + ms, text: now + ms > LATEST_EXPIRY ? `${text} from now` : `${text} from now (${formatInstant(now + ms)})` };
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const parsed = parseExpiredAt(true, day);
  if ('invalid' in parsed) throw new CliError(EXIT.USAGE, `invalid --expires ${JSON.stringify(text)}: expected 30d, 2026-12-31, 2026-12-31T12:00:00Z or never`);
  return parsed.kind === 'at' ? { ...parsed, text } : parsed;
}

async function readOwner(config: GatewayConfig, v: Values, env: NodeJS.ProcessEnv): Promise<{ account: string; credential: string | null }> {
  const variable = v['credential-env'];
  if (config.upstream.auth === 'static') {
    if (variable !== undefined) throw new CliError(EXIT.USAGE, 'upstream.auth is static: tokens use the service credential; name the owner with --account instead of --credential-env');
    if (v.account === undefined || v.account === '') throw new CliError(EXIT.USAGE, 'upstream.auth is static: name the account that owns the token with --account');
    return { account: v.account, credential: null };
  }
  if (variable === undefined) throw new CliError(EXIT.USAGE, 'upstream.auth is per-token: name the environment variable holding the owner\'s registry credential with --credential-env VAR');
  const credential = env[variable];
  if (credential === undefined || credential === '') throw new CliError(EXIT.USAGE, `--credential-env ${variable}: the variable ${variable} is not set`);
  const agent = new http.Agent({ keepAlive: false });
  const outcome = await lookUpLogin(createUpstreamClient(config.upstream.url, agent), config, credential).finally(() => agent.destroy());
  if (outcome.kind === 'rejected') throw new CliError(EXIT.USAGE, `the registry did not accept the credential in ${variable} (its identity check answered ${outcome.status})`);
  if (outcome.kind === 'unavailable') throw new CliError(EXIT.RUNTIME, `could not confirm the credential's owner with the registry at ${config.upstream.url} (${outcome.why})`);
  if (v.account !== undefined && v.account !== outcome.account) throw new CliError(EXIT.USAGE, `--account ${v.account} does not match the credential's owner, ${outcome.account}`);
  return { account: outcome.account, credential };
}

async function list(config: GatewayConfig, v: Values, io: Io): Promise<number> {
  const now = Date.now();
  const listed = await withBackends(config, ({ directory }) => directory.listAll());
  const shown = listed.filter((t) => (v.account === undefined || t.record.account === v.account) && (v.all || status(t.record, now) === 'live'));
  if (v.json) io.out(JSON.stringify({ tokens: shown.map(render) }));
  else if (shown.length === 0) io.out('no tokens');
  else io.out(table(['ID', 'NAME', 'ACCOUNT', 'SCOPES', 'CRATES', 'EXPIRES', 'LAST USED', 'STATUS'], shown.map(({ record: r }) => [
    String(r.id), printable(r.name), printable(r.account), scopesText(r), cratesText(r), r.expiredAt === null ? 'never' : formatInstant(r.expiredAt),
    r.lastUsedAt === null ? '-' : formatInstant(r.lastUsedAt), status(r, now),
  ])));
  return EXIT.OK;
}

async function show(config: GatewayConfig, positionals: string[], json: boolean, io: Io): Promise<number> {
  if (positionals.length !== 1) throw new CliError(EXIT.USAGE, 'usage: scopegate token show ID');
  const id = parseId(positionals[0], 'ID');
  const found = (await withBackends(config, ({ directory }) => directory.listAll())).find((t) => t.record.id === id);
  if (found === undefined) throw new CliError(EXIT.NOT_FOUND_OR_DENIED, `no token with id ${id}`);
  io.out(json ? JSON.stringify({ token: render(found) }) : [`token ${id} "${printable(found.record.name)}" of ${printable(found.record.account)}`, ...describe(found)].join('\n'));
  return EXIT.OK;
}

/**
 * Revokes each target, carrying on past a store failure: in a leak response one token Redis did not
 * answer for must not leave the rest usable. Failures are listed and make the exit code 1 (revoking
 * again is safe); unknown ids alone make it 3.
 */
async function revoke(config: GatewayConfig, v: Values, positionals: string[], io: Io): Promise<number> {
  if ((positionals.length === 0) === (v.account === undefined)) throw new CliError(EXIT.USAGE, 'usage: scopegate token revoke ID... | --account NAME');
  const ids = positionals.map((p) => parseId(p, 'ID'));
  const now = Date.now();
  const { revoked, missing, failed } = await withBackends(config, async ({ store, audit }) => {
    const targets = v.account === undefined ? ids : (await store.listByAccount(v.account)).filter((r) => r.revokedAt === null).map((r) => r.id);
    const done: TokenRecord[] = [];
    const absent: number[] = [];
    const unrevoked: { id: number; error: string }[] = [];
    for (const id of targets) {
      let record: TokenRecord | null;
      try {
        record = await store.revoke(id, now, config.tokens.keepExpiredMs);
      } catch (e) {
        if (!(e instanceof StoreUnavailableError)) throw e;
        unrevoked.push({ id, error: e.message });
        continue;
      }
      if (record === null) absent.push(id);
      else {
        done.push(record);
        audit.append({ ts: now, event: 'token.revoked', token: id, account: record.account, via: 'cli' });
      }
    }
    return { revoked: done, missing: absent, failed: unrevoked };
  });
  if (v.json) io.out(JSON.stringify({ revoked: revoked.map((r) => r.id), not_found: missing, failed }));
  else {
    for (const r of revoked) io.out(`revoked token ${r.id} "${printable(r.name)}" of ${printable(r.account)}`);
    if (revoked.length === 0 && failed.length === 0 && v.account !== undefined) io.out(`${v.account} has no live tokens`);
  }
  for (const id of missing) io.err(`no token with id ${id}`);
  for (const f of failed) io.err(`could not revoke token ${f.id}: ${f.error}`);
  if (failed.length > 0) io.err('revoking again is safe: already revoked tokens keep their first revocation time');
  return failed.length > 0 ? EXIT.RUNTIME : missing.length > 0 ? EXIT.NOT_FOUND_OR_DENIED : EXIT.OK;
}

function status(r: TokenRecord, now: number): 'live' | 'revoked' | 'expired' {
  if (r.revokedAt !== null) return 'revoked';
  return r.expiredAt !== null && now >= r.expiredAt ? 'expired' : 'live';
}

const scopesText = (r: TokenRecord): string => (r.endpointScopes === null ? 'all (unscoped)' : r.endpointScopes.join(',') || '(none)');
const cratesText = (r: TokenRecord): string => (r.crateScopes === null || r.crateScopes.length === 0 ? 'all' : r.crateScopes.map((p: CratePattern) => p.source).join(','));

function describe({ record: r, remindedAt }: ListedToken): string[] {
  const at = (ms: number | null, none: string): string => (ms === null ? none : formatInstant(ms));
  return [
    `  scopes:     ${scopesText(r)}`, `  crates:     ${cratesText(r)}`, `  created:    ${formatInstant(r.createdAt)}`,
    `  expires:    ${at(r.expiredAt, 'never')}`, `  last used:  ${at(r.lastUsedAt, 'never')}`, `  revoked:    ${at(r.revokedAt, 'no')}`,
    `  reminded:   ${at(remindedAt, 'no')}`,
  ];
}

function render({ record, remindedAt }: ListedToken): Record<string, unknown> {
  const at = (ms: number | null): string | null => (ms === null ? null : formatInstant(ms));
  return { ...renderToken(record), account: record.account, revoked_at: at(record.revokedAt), reminded_at: at(remindedAt) };
}
