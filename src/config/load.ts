/**
 * Loads the gateway's config (DESIGN §4): YAML → environment overrides → JSON Schema (defaults
 * filled) → checks the schema cannot express → compiled route table → one frozen
 * {@link GatewayConfig}. Every problem is reported at once, each with its YAML path.
 */
import { readFile } from 'node:fs/promises';
// The named export: under NodeNext, TypeScript types the default import of this CommonJS module as
// its namespace, not the class (ajv issue 2132).
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileRouteTable, type BodyOperations, type RouteSpec, type RouteTable } from '../core/route-table.js';
import { ADAPTERS, type RegistryName } from '../registries/select.js';
import type { GatewayConfig } from './types.js';
import { CONFIG_SCHEMA } from './schema.js';
import { schemaProblems, show, yamlPath, type Problem } from './problems.js';
import { decodeUtf8, parseYamlSource } from './yaml-source.js';
import { unknownVariables } from './unknown-variables.js';
import { Fields, cidrList, duration, hostPort, hostPorts, httpBaseUrl, httpUrl, nullable, redisUrl, size, timerDuration, timerLimit } from './fields.js';

/** The outcome of loading: the config, or every problem found, one line each. */
export type ConfigResult =
  /** `warnings`: what is suspicious but may be meant, for the start log (unknown SCOPEGATE_* variables). */
  | { readonly ok: true; readonly config: GatewayConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Names the config file when `loadConfig` is given no path. */
export const CONFIG_PATH_VARIABLE = 'SCOPEGATE_CONFIG';
/** The config file read when neither a path nor {@link CONFIG_PATH_VARIABLE} is given. */
export const DEFAULT_CONFIG_PATH = 'config/cargo.yaml';
/** Holds the admin API key (a secret, so never in the YAML). */
export const ADMIN_KEY_VARIABLE = 'SCOPEGATE_ADMIN_KEY';
/** Set by a cluster primary in each worker's environment: its slot (src/workers.ts). */
export const WORKER_INDEX_VARIABLE = 'SCOPEGATE_WORKER_INDEX';

/** Environment variables that replace one deployment value each, so one config serves every deployment. */
export const ENV_OVERRIDES: readonly { readonly variable: string; readonly pointer: string }[] = [
  { variable: 'SCOPEGATE_LISTEN', pointer: '/listen' },
  { variable: 'SCOPEGATE_PUBLIC_URL', pointer: '/public_url' },
  { variable: 'SCOPEGATE_UPSTREAM', pointer: '/upstream/url' },
  { variable: 'REDIS_URL', pointer: '/redis/url' },
  { variable: 'SCOPEGATE_ADMIN_LISTEN', pointer: '/admin/listen' },
  { variable: 'SCOPEGATE_REMINDER_WEBHOOK', pointer: '/reminders/webhook_url' },
];

// Compiled once, at module load; `verbose` gives each error its schema node, whose `title`,
// `enum` and `examples` the messages use.
const validate = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true }).compile(CONFIG_SCHEMA);

/**
 * Reads and loads the config file: `options.path`, else `$SCOPEGATE_CONFIG`, else
 * `config/cargo.yaml`. `options.env` defaults to `process.env`.
 */
export async function loadConfig(options: { path?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ConfigResult> {
  const env = options.env ?? process.env;
  const path = options.path ?? env[CONFIG_PATH_VARIABLE] ?? DEFAULT_CONFIG_PATH;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    // Name where the path came from: a hint to set the variable misleads whoever passed --config.
    const fix = options.path !== undefined ? 'check the path given (--config)'
      : env[CONFIG_PATH_VARIABLE] !== undefined ? `set ${CONFIG_PATH_VARIABLE} (or serve's --config) to the config file's path`
      : `run from the repository's root, or point ${CONFIG_PATH_VARIABLE} (or --config) at the config file`;
    return failure([`${path} cannot be read (${(error as Error).message}): ${fix}`]);
  }
  const text = decodeUtf8(bytes, path);
  return typeof text === 'string' ? buildConfig(text, env, path) : failure(text.problems);
}

/**
 * Loads a config from its text; pure (the environment is passed in). `sourceName` names the text
 * in messages. Overrides are written into the document before schema validation, so an override
 * can supply a value the file leaves out and is checked by the same schema, under its own name.
 */
export function buildConfig(yamlText: string, env: NodeJS.ProcessEnv, sourceName: string): ConfigResult {
  const source = parseYamlSource(yamlText, sourceName);
  if ('problems' in source) return failure(source.problems);
  const document = source.document;
  const origins = applyEnvOverrides(document, env);
  const label = (pointer: string) => origins.get(pointer) ?? yamlPath(pointer);
  const problems = validate(document) ? [] : schemaProblems(validate.errors ?? [], label);
  const fields = new Fields(document, problems, label);
  const values = convert(fields, env);
  checkAtMost(fields, '/tokens/default_lifetime', values.defaultLifetimeMs, '/tokens/max_lifetime', values.maxLifetimeMs);
  checkAtMost(fields, '/limits/publish_json_max', values.publishJsonMaxBytes, '/limits/publish_body_max', values.publishBodyMaxBytes);
  checkRedisTopology(fields, values.redisUrl);
  const routes = compileRoutes(fields);
  if (problems.length > 0) return failure(inFileOrder(problems, source.offsetOf));
  if (routes === undefined || !isComplete(values)) throw new Error('config: a value failed without a reported problem');
  return { ok: true, config: deepFreeze(assemble(fields, values, routes)), warnings: Object.freeze(unknownVariables(env, knownVariables(fields))) };
}

/** Every variable the gateway reads: the overrides, the config path, the admin key, the static credential, a worker's slot. */
function knownVariables(fields: Fields): string[] {
  return [...ENV_OVERRIDES.map((o) => o.variable), CONFIG_PATH_VARIABLE, ADMIN_KEY_VARIABLE, String(fields.value('/upstream/credential_env')), WORKER_INDEX_VARIABLE];
}

function failure(problems: readonly string[]): ConfigResult {
  return { ok: false, problems: Object.freeze([...problems]) };
}

/** Orders problems as the reader meets them in the file (stable: ties keep the order found). */
function inFileOrder(problems: readonly Problem[], offsetOf: (pointer: string) => number): string[] {
  return problems
    .map((problem) => ({ problem, offset: offsetOf(problem.pointer) }))
    .sort((a, b) => a.offset - b.offset)
    .map(({ problem }) => problem.message);
}

/** Writes each set override into the document; returns pointer → variable, to name it in messages. */
function applyEnvOverrides(document: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const origins = new Map<string, string>();
  for (const { variable, pointer } of ENV_OVERRIDES) {
    const value = env[variable];
    if (value === undefined) continue;
    const keys = pointer.split('/').slice(1);
    const last = keys.pop()!;
    let parent: Record<string, unknown> | null = document;
    for (const key of keys) {
      parent[key] ??= {};
      const child: unknown = parent[key];
      parent = isMapping(child) ? child : null;
      if (parent === null) break; // not a mapping: the schema reports it
    }
    if (parent === null) continue;
    parent[last] = value;
    origins.set(pointer, variable);
  }
  return origins;
}

function convert(fields: Fields, env: NodeJS.ProcessEnv) {
  return {
    listen: fields.read('/listen', hostPort),
    publicUrl: fields.read('/public_url', httpBaseUrl),
    upstreamUrl: fields.read('/upstream/url', httpBaseUrl),
    credential: readCredential(fields, env),
    timeoutMs: fields.read('/upstream/timeout', timerDuration),
    probeTimeoutMs: fields.read('/upstream/probe_timeout', timerDuration),
    probeCacheMs: fields.read('/upstream/probe_cache', duration(0)),
    indexLagMs: fields.read('/upstream/index_lag', duration(0)),
    redisUrl: fields.read('/redis/url', redisUrl),
    commandTimeoutMs: fields.read('/redis/command_timeout', timerDuration),
    sentinels: fields.read('/redis/sentinels', nullable(hostPorts)),
    clusterNodes: fields.read('/redis/cluster_nodes', nullable(hostPorts)),
    cacheTtlMs: fields.read('/cache/ttl', timerDuration),
    maxLifetimeMs: fields.read('/tokens/max_lifetime', nullable(duration(1))),
    defaultLifetimeMs: fields.read('/tokens/default_lifetime', duration(1)),
    keepExpiredMs: fields.read('/tokens/keep_expired', duration(0)),
    remindBeforeMs: fields.read('/tokens/remind_before', duration(0)),
    reminderWebhookUrl: fields.read('/reminders/webhook_url', nullable(httpUrl)),
    reminderIntervalMs: fields.read('/reminders/interval', nullable(timerDuration)),
    publishJsonMaxBytes: fields.read('/limits/publish_json_max', size),
    publishBodyMaxBytes: fields.read('/limits/publish_body_max', size),
    apiBodyMaxBytes: fields.read('/limits/api_body_max', size),
    jsonBodyMaxBytes: fields.read('/limits/json_body_max', size),
    requestTimeoutMs: fields.read('/limits/request_timeout', timerLimit),
    authFailuresWindowMs: fields.read('/limits/auth_failures_window', timerDuration),
    trustedProxies: fields.read('/limits/trusted_proxies', cidrList),
    adminListen: fields.read('/admin/listen', hostPort),
    adminKey: readAdminKey(fields, env),
  };
}

type Values = ReturnType<typeof convert>;
type CompleteValues = { [K in keyof Values]: Exclude<Values[K], undefined> };

function isComplete(values: Values): values is CompleteValues {
  return Object.values(values).every((value) => value !== undefined);
}

/** Static mode: the credential from the variable `upstream.credential_env` names; else null. */
function readCredential(fields: Fields, env: NodeJS.ProcessEnv): string | null | undefined {
  if (fields.value('/upstream/auth') !== 'static') return null;
  if (!fields.clean('/upstream/credential_env')) return undefined;
  const variable = String(fields.value('/upstream/credential_env'));
  const credential = env[variable];
  if (credential !== undefined && credential !== '') return credential;
  fields.report('/upstream/auth', `${fields.label('/upstream/auth')} is static but ${variable} is not set: set ${variable} to the credential scopegate sends upstream`);
  return undefined;
}

/** Shortest admin key accepted: 24 base64 characters are 144 random bits (the demo's). */
const ADMIN_KEY_MIN_LENGTH = 24;

function readAdminKey(fields: Fields, env: NodeJS.ProcessEnv): string | null | undefined {
  const key = env[ADMIN_KEY_VARIABLE];
  if (key === undefined) return null;
  const fix = 'set it to a long random secret (e.g. `openssl rand -base64 32`), or unset it';
  if (key === '') fields.report('/admin/key', `${ADMIN_KEY_VARIABLE} is set but empty: ${fix}`);
  // The header is trimmed before comparing, so such a key could never be presented: a lock-out.
  else if (key.trim() !== key) fields.report('/admin/key', `${ADMIN_KEY_VARIABLE} starts or ends with whitespace, which no Authorization header can carry: ${fix}`);
  else if (key.length < ADMIN_KEY_MIN_LENGTH) fields.report('/admin/key', `${ADMIN_KEY_VARIABLE} is ${key.length} characters, shorter than ${ADMIN_KEY_MIN_LENGTH}: ${fix}`);
  else return key;
  return undefined;
}

/** Reports the value at `pointer` when it exceeds the (already valid) value at `limitPointer`. */
function checkAtMost(fields: Fields, pointer: string, value: number | null | undefined, limitPointer: string, limit: number | null | undefined): void {
  if (typeof value !== 'number' || typeof limit !== 'number' || value <= limit) return;
  const limitText = `${yamlPath(limitPointer)} (${String(fields.value(limitPointer))})`;
  fields.report(pointer, `${fields.label(pointer)} ${show(fields.value(pointer))} is out of range: expected at most ${limitText}`);
}

/**
 * One topology at a time, and none with the in-process store: `memory` lives in one process,
 * so it can neither be shared by workers nor sit behind Sentinel or Cluster.
 */
function checkRedisTopology(fields: Fields, url: string | undefined): void {
  const sentinels = fields.value('/redis/sentinels') ?? null;
  const cluster = fields.value('/redis/cluster_nodes') ?? null;
  if (sentinels !== null && cluster !== null) {
    fields.report('/redis/cluster_nodes', `${fields.label('/redis/cluster_nodes')} and redis.sentinels are both set: expected at most one of them`);
  }
  if (url === 'memory') {
    for (const pointer of ['/redis/sentinels', '/redis/cluster_nodes']) {
      if (fields.value(pointer) !== null && fields.value(pointer) !== undefined) fields.report(pointer, `${fields.label(pointer)} is set but redis.url is memory: expected a redis:// URL`);
    }
    const workers = fields.value('/workers');
    if (workers !== 1 && workers !== undefined) fields.report('/workers', `${fields.label('/workers')} ${show(workers)} needs a shared store but redis.url is memory: expected 1, or a redis:// URL`);
  }
  if (cluster !== null && url !== undefined && url !== 'memory' && URL.canParse(url) && !['', '/', '/0'].includes(new URL(url).pathname)) {
    fields.report('/redis/url', `${fields.label('/redis/url')} ${show(url)} selects a database, which Redis Cluster does not have: expected /0 or none with redis.cluster_nodes`);
  }
}

type NumberedSpec = { readonly spec: RouteSpec; readonly index: number };

/**
 * Checks ids and compiles the routes the schema accepted. Routes the schema rejected are left out;
 * shadowing is pairwise, so the others are still checked, and indices are mapped back.
 */
function compileRoutes(fields: Fields): RouteTable | undefined {
  const list = fields.value('/routes');
  if (!Array.isArray(list) || fields.problems.some((p) => p.pointer === '/routes')) return undefined;
  const valid = list.flatMap((spec: RouteSpec, index): NumberedSpec[] => (fields.clean(`/routes/${index}`) ? [{ spec, index }] : []));
  checkUniqueIds(fields, valid);
  const compiled = compileRouteTable(valid.map((v) => v.spec), bodyOperations(fields));
  if ('table' in compiled) return valid.length === list.length ? compiled.table : undefined;
  const renumber = (text: string) => text.replace(/routes\[([0-9]+)\]/g, (_, k: string) => `routes[${valid[Number(k)]?.index ?? k}]`);
  for (const problem of compiled.problems) {
    const path = renumber(problem.path);
    const pointer = `/${path.replace(/\[([0-9]+)\]/g, '.$1').split('.').join('/')}`;
    fields.report(pointer, `${path} ${renumber(problem.message)}`);
  }
  return undefined;
}

/** What the selected adapter classifies bodies as; every adapter's operations when `registry` is itself invalid (reported already). */
function bodyOperations(fields: Fields): BodyOperations {
  if (fields.clean('/registry')) {
    const registry = fields.value('/registry') as RegistryName;
    return { registry, operations: ADAPTERS[registry].bodyOperations };
  }
  return { registry: 'selected', operations: Object.values(ADAPTERS).flatMap((a) => a.bodyOperations) };
}

/** Route ids name routes in logs, so two routes may not share one. */
function checkUniqueIds(fields: Fields, routes: readonly NumberedSpec[]): void {
  const firstWithId = new Map<string, number>();
  for (const { spec, index } of routes) {
    if (spec.id === undefined) continue;
    const earlier = firstWithId.get(spec.id);
    if (earlier === undefined) firstWithId.set(spec.id, index);
    else fields.report(`/routes/${index}/id`, `${fields.label(`/routes/${index}/id`)} ${show(spec.id)} is already used by routes[${earlier}]: expected a unique id`);
  }
}

function assemble(fields: Fields, v: CompleteValues, routes: RouteTable): GatewayConfig {
  const at = <T>(pointer: string) => fields.value(pointer) as T;
  return {
    registry: at('/registry'),
    listen: v.listen,
    publicUrl: v.publicUrl,
    upstream: {
      url: v.upstreamUrl,
      auth: at('/upstream/auth'),
      identity: { path: at('/upstream/identity/path'), login: at('/upstream/identity/login') },
      credential: v.credential,
      timeoutMs: v.timeoutMs,
      probeTimeoutMs: v.probeTimeoutMs,
      probeCacheMs: v.probeCacheMs,
      indexLagMs: v.indexLagMs,
    },
    redis: {
      url: v.redisUrl, commandTimeoutMs: v.commandTimeoutMs, keyPrefix: at('/redis/key_prefix'),
      sentinels: v.sentinels, name: at('/redis/name'), clusterNodes: v.clusterNodes,
    },
    cache: { enabled: at('/cache/enabled'), ttlMs: v.cacheTtlMs, maxEntries: at('/cache/max_entries') },
    workers: at('/workers'),
    reads: at('/reads'),
    legacyTokens: at('/legacy_tokens'),
    tokens: {
      prefix: at('/tokens/prefix'),
      registryName: at('/tokens/registry_name'),
      maxLifetimeMs: v.maxLifetimeMs,
      defaultLifetimeMs: v.defaultLifetimeMs,
      allowNoExpiry: at('/tokens/allow_no_expiry'),
      keepExpiredMs: v.keepExpiredMs,
      remindBeforeMs: v.remindBeforeMs,
    },
    reminders: { webhookUrl: v.reminderWebhookUrl, intervalMs: v.reminderIntervalMs },
    audit: { maxEntries: at('/audit/max_entries') },
    limits: { publishJsonMaxBytes: v.publishJsonMaxBytes, publishBodyMaxBytes: v.publishBodyMaxBytes, apiBodyMaxBytes: v.apiBodyMaxBytes, jsonBodyMaxBytes: v.jsonBodyMaxBytes, requestTimeoutMs: v.requestTimeoutMs,
      authFailures: at('/limits/auth_failures'), authFailuresWindowMs: v.authFailuresWindowMs, trustedProxies: v.trustedProxies,
    },
    admin: { listen: v.adminListen, key: v.adminKey },
    log: { level: at('/log/level') },
    routeSpecs: at('/routes'),
    routes,
  };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}
