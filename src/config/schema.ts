/**
 * The JSON Schema (draft 2020-12) of scopegate's YAML config. It is the config's documentation:
 * every property has a `description`, `examples` and, where one is meaningful, a `default` (the
 * loader fills defaults from here, so the schema is the only place they are written). A `title`
 * names the kind of value, and problem messages use it with `enum`/`examples`:
 * `tokens.keep_expired "30 days" is not a duration: expected e.g. 30d, 12h, 100ms`.
 */
import { ROUTE_NEEDS } from '../core/scope.js';
import { REGISTRY_NAMES } from '../registries/select.js';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.js';

/** The methods a route may name. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** pino's level names. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const definitions = {
  hostPort: {
    title: 'host:port',
    description: 'An address to listen on: IPv4 address, host name or [IPv6] address, then a port (0 picks a free one).',
    type: 'string',
    pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
    examples: ['127.0.0.1:8080', '0.0.0.0:8080', '[::1]:8080'],
  },
  httpUrl: {
    title: 'http(s) URL',
    description: 'An absolute http or https URL, optionally with a path prefix; a trailing slash is ignored.',
    type: 'string',
    pattern: '^https?://\\S+$',
    examples: ['http://127.0.0.1:8000', 'https://crates.example.com'],
  },
  duration: {
    title: 'duration',
    description: 'A whole number followed by a unit: ms, s, m, h or d.',
    type: 'string',
    pattern: DURATION_PATTERN,
    examples: ['30d', '12h', '100ms'],
  },
  size: {
    title: 'size',
    description: 'A number of bytes, or a whole number followed by KiB, MiB or GiB.',
    type: ['string', 'integer'],
    pattern: SIZE_PATTERN,
    examples: ['64KiB', '1MiB', 1048576],
  },
  method: {
    title: 'HTTP method',
    description: 'An HTTP method, upper case.',
    type: 'string',
    enum: HTTP_METHODS,
    examples: ['GET', 'PUT'],
  },
  scope: {
    title: 'scope',
    description: 'What a route needs: one of the endpoint scopes, `publish` (publish-new or publish-update, whichever the upstream says) or `authenticated` (any token, but no scoped one).',
    type: 'string',
    enum: ROUTE_NEEDS,
    examples: ['read', 'publish', 'yank'],
  },
} as const;

const duration = (description: string, byDefault: string, examples: string[]) =>
  ({ $ref: '#/$defs/duration', description, default: byDefault, examples }) as const;

const size = (description: string, byDefault: string, examples: (string | number)[]) =>
  ({ $ref: '#/$defs/size', description, default: byDefault, examples }) as const;

const upstream = {
  description: 'The unmodified registry scopegate forwards allowed requests to.',
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  examples: [{ url: 'http://127.0.0.1:8000', auth: 'per-token' }],
  properties: {
    url: { $ref: '#/$defs/httpUrl', description: 'Base URL of the registry. Overridden by SCOPEGATE_UPSTREAM.', examples: ['http://127.0.0.1:8000', 'https://registry.internal'] },
    auth: {
      title: 'upstream auth mode',
      description: 'per-token: each scopegate token carries its owner\'s own registry credential, sealed with the token. static: one service credential (from `credential_env`) is sent on every allowed request.',
      type: 'string',
      enum: ['per-token', 'static'],
      default: 'per-token',
      examples: ['per-token', 'static'],
    },
    identity: {
      description: 'How per-token mode learns who is creating a token: GET `path` with the user\'s registry credential and read the login at JSON pointer `login`.',
      type: 'object',
      additionalProperties: false,
      default: {},
      examples: [{ path: '/api/v1/me', login: '/user/login' }, { path: '/-/whoami', login: '/username' }],
      properties: {
        path: { title: 'URL path', description: 'Path of the identity endpoint on the upstream.', type: 'string', pattern: '^/', default: '/api/v1/me', examples: ['/api/v1/me', '/-/whoami'] },
        login: {
          title: 'JSON pointer',
          description: 'RFC 6901 JSON pointer to the login in the identity response.',
          type: 'string',
          pattern: '^(/([^~/]|~[01])*)+$',
          default: '/user/login',
          examples: ['/user/login', '/username'],
        },
      },
    },
    credential_env: {
      title: 'environment variable name',
      description: 'Static mode: the environment variable holding the credential to send upstream (never written in the config).',
      type: 'string',
      pattern: '^[A-Z_][A-Z0-9_]*$',
      default: 'SCOPEGATE_UPSTREAM_CREDENTIAL',
      examples: ['SCOPEGATE_UPSTREAM_CREDENTIAL', 'REGISTRY_TOKEN'],
    },
    timeout: duration('How long to wait for the upstream\'s response headers before answering 504, counted from the last chunk of the request body it took (an upload may take longer in all).', '30s', ['30s', '2m']),
    probe_timeout: duration('Timeout of an existence or identity probe; a probe that fails denies (fail closed).', '2s', ['2s', '500ms']),
    probe_cache: duration('How long an existence probe\'s "exists" is reused (0s: never); a "new" is asked again every time, since a publish through any process makes it stale.', '5s', ['5s', '0s']),
    index_lag: duration(
      'How long a package counts as existing, whatever the existence probe says, after the upstream accepted a publish of it through the gateway: '
        + 'covers the time the registry\'s index takes to show a publish (crates.io writes it seconds after answering). Remembered in Redis, so every '
        + 'process and host knows. Far above any real lag costs nothing; 0s turns it off, for a registry whose probe answers at once.',
      '10m', ['10m', '1h', '0s']),
  },
} as const;

const redis = {
  description: 'Where token records, the audit stream and the revocation channel live.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ url: 'redis://127.0.0.1:6379/0' }, { url: 'memory' }],
  properties: {
    url: {
      title: 'Redis URL',
      description: 'redis:// or rediss:// URL; `memory` selects the in-process store (one process, development only). Overridden by REDIS_URL.',
      type: 'string',
      pattern: '^(memory|rediss?://\\S+)$',
      default: 'redis://127.0.0.1:6379/0',
      examples: ['redis://127.0.0.1:6379/0', 'rediss://:secret@redis.internal:6380/1', 'memory'],
    },
    command_timeout: duration('Longest wait for one Redis command; slower means 503 (fail closed).', '100ms', ['100ms', '1s']),
    key_prefix: {
      title: 'key prefix',
      description: 'Prefix of every Redis key, so several gateways can share one Redis.',
      type: 'string',
      pattern: '^[!-~]{0,32}$',
      default: 'sg:',
      examples: ['sg:', 'sg:staging:'],
    },
    sentinels: {
      title: 'list of host:port',
      description: 'Redis Sentinel: the sentinels to ask for the current master of `name`. `url` then supplies only the password, database and TLS (rediss://); its host is ignored. null: no Sentinel.',
      type: ['array', 'null'],
      items: { $ref: '#/$defs/hostPort' },
      minItems: 1,
      default: null,
      examples: [['10.0.0.1:26379', '10.0.0.2:26379', '10.0.0.3:26379'], null],
    },
    name: {
      title: 'Sentinel master name',
      description: 'With `sentinels`: the name of the master set the sentinels monitor.',
      type: 'string',
      pattern: '^[!-~]{1,64}$',
      default: 'mymaster',
      examples: ['mymaster', 'scopegate'],
    },
    cluster_nodes: {
      title: 'list of host:port',
      description: 'Redis Cluster: some of its nodes (the rest are discovered). `url` then supplies only the password and TLS (rediss://); its host is ignored and its database must be 0. null: not a cluster.',
      type: ['array', 'null'],
      items: { $ref: '#/$defs/hostPort' },
      minItems: 1,
      default: null,
      examples: [['10.0.0.1:7000', '10.0.0.2:7000', '10.0.0.3:7000'], null],
    },
  },
} as const;

const cache = {
  description: 'The per-process token cache: token records (never verdicts: expiry is checked on every request) kept briefly, so a request costs no Redis round trip; revocations reach every process at once through a Redis pub/sub channel.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ enabled: true, ttl: '10s', max_entries: 50000 }],
  properties: {
    enabled: {
      description: 'Whether token records are cached. false: one Redis round trip per request. Opened upstream credentials are remembered (masked, up to max_entries for ttl) either way; they are used only after the record just read allows the request.',
      type: 'boolean',
      default: true,
      examples: [true, false],
    },
    ttl: duration('How long a cached record (or a cached "no such token") is used before Redis is asked again; bounds staleness should a revocation message ever be lost.', '10s', ['10s', '1m']),
    max_entries: {
      title: 'whole number',
      description: 'Most records kept per process; the oldest go first. "No such token" answers are kept apart, up to as many again (about 170 bytes each), so a flood of made-up tokens cannot push out the records of real ones.',
      type: 'integer',
      minimum: 1,
      default: 50000,
      examples: [50000, 200000],
    },
  },
} as const;

const tokens = {
  description: 'The tokens scopegate issues.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ prefix: 'sg_', max_lifetime: '365d', allow_no_expiry: false }],
  properties: {
    prefix: {
      title: 'token prefix',
      description: 'Start of every token, so secret scanners can recognise it: a lower-case letter, then up to 15 lower-case letters, digits or underscores.',
      type: 'string',
      pattern: '^[a-z][a-z0-9_]{0,15}$',
      default: 'sg_',
      examples: ['sg_', 'acme_'],
    },
    registry_name: {
      title: 'registry name',
      description: 'The name the token page uses for this registry in the client setup it shows with a new token (cargo: `[registries.NAME]`, `CARGO_REGISTRIES_NAME_TOKEN`, `cargo login --registry NAME`).',
      type: 'string',
      pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$',
      default: 'scopegate',
      examples: ['scopegate', 'acme'],
    },
    max_lifetime: {
      title: 'duration',
      description: 'Longest expiry a new token may have; null: no maximum.',
      type: ['string', 'null'],
      pattern: DURATION_PATTERN,
      default: '365d',
      examples: ['365d', '90d', null],
    },
    default_lifetime: duration('Expiry offered by default on the token page (crates.io: 90 days).', '90d', ['90d', '30d']),
    allow_no_expiry: {
      description: 'Whether a token may be created without an expiry date.',
      type: 'boolean',
      default: false,
      examples: [false, true],
    },
    keep_expired: duration('How long an expired token\'s record is kept (to say "this token expired" and list it) before Redis drops it.', '30d', ['30d', '7d']),
    remind_before: duration('A token this close to its expiry is announced once (`scopegate notify-expiring`, `reminders`), and publishes with it carry a warning cargo prints (crates.io: 3 days).', '3d', ['3d', '7d']),
  },
} as const;

const reminders = {
  description: 'Expiry reminders: each token within `tokens.remind_before` of its expiry is announced once, by a log line and, if set, a webhook POST.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ webhook_url: 'https://hooks.example.com/scopegate', interval: '1h' }],
  properties: {
    webhook_url: {
      title: 'http(s) URL',
      description: 'Receives one JSON POST per reminder (account, token id, name, expires, regenerate URL); a non-2xx answer is retried on a later run. null: log lines only. Overridden by SCOPEGATE_REMINDER_WEBHOOK.',
      type: ['string', 'null'],
      pattern: '^https?://\\S+$',
      default: null,
      examples: ['https://hooks.example.com/scopegate', null],
    },
    interval: {
      title: 'duration',
      description: 'Run the reminders inside the gateway this often; null: only when `scopegate notify-expiring` runs (e.g. from cron).',
      type: ['string', 'null'],
      pattern: DURATION_PATTERN,
      default: null,
      examples: ['1h', '15m', null],
    },
  },
} as const;

const audit = {
  description: 'The audit trail: every decision on a write route and every token lifecycle event, in one capped Redis stream (`<key_prefix>audit`), read with `scopegate audit`.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ max_entries: 100000 }],
  properties: {
    max_entries: {
      title: 'whole number',
      description: 'About how many entries the stream keeps (XADD MAXLEN ~); older ones are trimmed.',
      type: 'integer',
      minimum: 100,
      default: 100000,
      examples: [100000, 1000000],
    },
  },
} as const;

const limits = {
  description: 'Bounds on what the gateway reads from a request and how long it waits for it, and on failed credential checks per client.',
  type: 'object',
  additionalProperties: false,
  default: {},
  examples: [{ publish_json_max: '1MiB', publish_body_max: '128MiB' }],
  properties: {
    publish_json_max: size('Largest JSON head of a publish body the gateway reads to find the crate name.', '1MiB', ['1MiB', '256KiB']),
    publish_body_max: size('Largest whole publish body (JSON head and .crate file) forwarded upstream.', '128MiB', ['128MiB', '10MiB']),
    api_body_max: size('Largest body of a token-management request.', '64KiB', ['64KiB', 65536]),
    json_body_max: size('Largest body read whole to classify it before deciding (routes with `body`, npm\'s `PUT /<package>`), and largest package document read to tell what a change does. 10MiB is Verdaccio\'s own `max_body_size`.', '10MiB', ['10MiB', '50MiB']),
    request_timeout: duration(
      'Longest a client may take to send a whole request, body included, before it is answered 408 and nothing more is forwarded (Node\'s `requestTimeout`): '
        + 'a publish of `publish_body_max` needs an upload of at least `publish_body_max` ÷ this (128MiB in 10m: ~0.22 MB/s). `0s`: no limit. Headers alone must arrive within 60s.',
      '10m', ['10m', '30m', '0s'],
    ),
    auth_failures: {
      title: 'failure count',
      description: 'Most credentials the registry may refuse per client address within `auth_failures_window` (the token API\'s identity probe; a non-scopegate credential passed through with `legacy_tokens: pass`, except on public reads); the client is then answered 429 with `Retry-After`, and nothing is sent upstream, until the window ends. '
        + 'Only refusals stay counted (a check is counted while under way, so guesses sent at once cannot all pass), so clients behind one NAT creating tokens are never limited for succeeding; requests with scopegate tokens are never counted or checked. Counted in Redis, shared by every process and host. '
        + '20 lets a person mistype a credential many times, and bounds a guesser to about 2,900 a day per address, and the registry\'s view of the gateway to that rate of refusals. `0`: no limit.',
      type: 'integer',
      minimum: 0,
      default: 20,
      examples: [20, 100, 0],
    },
    auth_failures_window: duration(
      'The window `auth_failures` counts in, fixed from the first check of the client\'s credentials counted in it; the client may try again when it ends. 10m is long enough to make guessing slow, short enough that a fixed credential works again within minutes.',
      '10m', ['10m', '1h'],
    ),
    trusted_proxies: {
      title: 'trusted proxy addresses',
      description: 'Addresses or CIDR ranges (IPv4 or IPv6) of the load balancers and proxies in front of the gateway. When the socket\'s peer is one, the client counted by `auth_failures` is the right-most `X-Forwarded-For` address that is not one; an `X-Forwarded-For` from any other peer is ignored. Empty: the client is the socket\'s peer. '
        + 'An IPv4-mapped peer (`::ffff:10.1.2.3`) is the IPv4 address; IPv6 clients are counted by /64.',
      type: 'array',
      items: { title: 'address or CIDR range', type: 'string', pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$', examples: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.10'] },
      uniqueItems: true,
      default: [],
      examples: [['10.0.0.0/8'], ['192.0.2.10', '2001:db8:100::/48']],
    },
  },
} as const;

const route = {
  description: 'One route: requests with one of these methods whose path matches need this scope.',
  type: 'object',
  additionalProperties: false,
  required: ['method', 'path', 'scope'],
  properties: {
    id: {
      title: 'route id',
      description: 'Short kebab-case name, logged as `route.id`; defaults to the methods and path (`GET /index/*`).',
      type: 'string',
      pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
      examples: ['publish', 'owners-change'],
    },
    method: {
      title: 'HTTP method or list of methods',
      description: 'The method, or a list of methods, the route matches. A route for GET also matches HEAD, with the same scope.',
      anyOf: [{ $ref: '#/$defs/method' }, { type: 'array', items: { $ref: '#/$defs/method' }, minItems: 1, uniqueItems: true }],
      examples: ['GET', ['PUT', 'DELETE']],
    },
    path: {
      title: 'route path',
      description: 'Literal segments, `:name` parameters (one segment each) and an optional trailing `*` (one or more segments).',
      type: 'string',
      pattern: '^/',
      examples: ['/api/v1/crates/new', '/api/v1/crates/:crate/:version/yank', '/index/*'],
    },
    scope: { $ref: '#/$defs/scope', description: 'The scope a token needs on this route.', examples: ['read', 'yank'] },
    body: {
      title: 'body operation',
      description: 'Match only requests whose body the registry adapter classifies as this operation (npm: publish, deprecate, unpublish, dist-tag, owners, star). The body is read whole (at most `limits.json_body_max`) before deciding and forwarded byte for byte; a body the adapter does not recognise is refused.',
      type: 'string',
      pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
      examples: ['publish', 'deprecate'],
    },
    crate: {
      description: 'Where the route finds the crate it acts on, which a token\'s crate patterns are checked against. Without it the route names no crate.',
      type: 'object',
      additionalProperties: false,
      required: ['from'],
      examples: [{ from: 'path' }, { from: 'publish-body' }],
      properties: {
        from: { title: 'crate source', description: '`path`: a path parameter; `publish-body`: the name in the publish body\'s JSON head.', type: 'string', enum: ['path', 'publish-body'], examples: ['path', 'publish-body'] },
        param: { title: 'path parameter name', description: 'With `from: path`, the parameter holding the name.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'crate', examples: ['crate', 'name'] },
      },
    },
  },
} as const;

/** The config schema; `$defs` name the value kinds that problem messages refer to. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:scopegate:config',
  title: 'scopegate config',
  description: 'Configuration of a scopegate gateway: where it listens, the registry behind it, the token rules and the route table.',
  type: 'object',
  additionalProperties: false,
  required: ['public_url', 'upstream', 'routes'],
  properties: {
    registry: { title: 'registry', description: 'Selects the adapter: package-name rules, body parsing and classification, existence probe, error format.', type: 'string', enum: REGISTRY_NAMES, default: 'cargo', examples: ['cargo', 'npm'] },
    listen: { $ref: '#/$defs/hostPort', description: 'Public listener. Overridden by SCOPEGATE_LISTEN.', default: '127.0.0.1:8080', examples: ['127.0.0.1:8080', '0.0.0.0:8080'] },
    public_url: { $ref: '#/$defs/httpUrl', description: 'The URL clients reach the gateway at (written into the sparse index and error messages). Overridden by SCOPEGATE_PUBLIC_URL.', examples: ['http://127.0.0.1:8080', 'https://crates.example.com'] },
    upstream,
    redis,
    cache,
    workers: {
      title: 'worker count',
      description: 'Processes serving requests on this host (node:cluster, one listener shared): `auto` is one per CPU core; 1 serves from the main process itself.',
      anyOf: [{ type: 'integer', minimum: 1, maximum: 256 }, { type: 'string', const: 'auto' }],
      default: 1,
      examples: [1, 'auto', 4],
    },
    reads: { title: 'reads mode', description: 'public: read routes need no token; token: every request needs one (the index sets auth-required).', type: 'string', enum: ['public', 'token'], default: 'public', examples: ['public', 'token'] },
    legacy_tokens: { title: 'legacy tokens mode', description: 'What to do with a credential that is not a scopegate token. pass: forward it unchanged and let the registry decide (drop-in); deny: refuse it.', type: 'string', enum: ['pass', 'deny'], default: 'pass', examples: ['pass', 'deny'] },
    tokens,
    limits,
    reminders,
    audit,
    admin: {
      description: 'The admin API (its key comes from SCOPEGATE_ADMIN_KEY, never from the config).',
      type: 'object',
      additionalProperties: false,
      default: {},
      examples: [{ listen: '127.0.0.1:9090' }],
      properties: { listen: { $ref: '#/$defs/hostPort', description: 'Admin listener; keep it private. Overridden by SCOPEGATE_ADMIN_LISTEN.', default: '127.0.0.1:9090', examples: ['127.0.0.1:9090'] } },
    },
    log: {
      description: 'Logging: one structured line per request.',
      type: 'object',
      additionalProperties: false,
      default: {},
      examples: [{ level: 'info' }],
      properties: { level: { title: 'log level', description: 'Lowest level written.', type: 'string', enum: LOG_LEVELS, default: 'info', examples: ['info', 'debug'] } },
    },
    routes: {
      description: 'The route table: first match wins; a request no route matches is denied.',
      type: 'array',
      minItems: 1,
      items: route,
      examples: [[{ id: 'index', method: 'GET', path: '/index/*', scope: 'read' }]],
    },
  },
  $defs: definitions,
} as const;
