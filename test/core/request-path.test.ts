/** normaliseRequestTarget(): one canonical reading of the path before routing (wire-facts §1.1). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseRequestTarget, type NormalisedPath, type PathRules } from '../../src/core/request-path.js';

const ok = (path: string, segments: string[], forwardPath: string, query = ''): NormalisedPath => ({ ok: true, path, segments, forwardPath, query });
const refused = (why: string): NormalisedPath => ({ ok: false, why });

const DOT = refused('`.` and `..` segments are not allowed');
const SLASH = refused('encoded `/` or `\\` (%2F, %5C) is not allowed in a path segment');
const RAW = refused('it contains spaces, control or non-ASCII characters');

const rows: { name: string; input: string; expected: NormalisedPath }[] = [
  // Accepted.
  { name: 'a plain path is kept as it is', input: '/api/v1/crates/new', expected: ok('/api/v1/crates/new', ['api', 'v1', 'crates', 'new'], '/api/v1/crates/new') },
  { name: 'a leading `//` (cargo with a trailing slash on `api`) collapses to `/`', input: '//api/v1/crates/new', expected: ok('/api/v1/crates/new', ['api', 'v1', 'crates', 'new'], '/api/v1/crates/new') },
  { name: 'several leading slashes collapse to one', input: '///index/config.json', expected: ok('/index/config.json', ['index', 'config.json'], '/index/config.json') },
  { name: 'an inner `//` is kept as an empty segment (routes then refuse it)', input: '/api//v1', expected: ok('/api//v1', ['api', '', 'v1'], '/api//v1') },
  { name: 'the query is preserved verbatim, with its `?`', input: '/api/v1/crates?q=serde%20json&per_page=10', expected: ok('/api/v1/crates', ['api', 'v1', 'crates'], '/api/v1/crates', '?q=serde%20json&per_page=10') },
  { name: 'an empty query keeps its `?`', input: '/api/v1/crates?', expected: ok('/api/v1/crates', ['api', 'v1', 'crates'], '/api/v1/crates', '?') },
  { name: 'a `+` in a version stays a literal `+`', input: '/api/v1/crates/foo/1.0.0+build.5/yank', expected: ok('/api/v1/crates/foo/1.0.0+build.5/yank', ['api', 'v1', 'crates', 'foo', '1.0.0+build.5', 'yank'], '/api/v1/crates/foo/1.0.0+build.5/yank') },
  { name: 'an encoded `+` decodes, and is forwarded as a plain `+`', input: '/api/v1/crates/foo/1.0.0%2Bbuild/yank', expected: ok('/api/v1/crates/foo/1.0.0+build/yank', ['api', 'v1', 'crates', 'foo', '1.0.0+build', 'yank'], '/api/v1/crates/foo/1.0.0+build/yank') },
  { name: 'unreserved escapes decode once and are forwarded unescaped', input: '/api/v1/crates/%73erde/owners', expected: ok('/api/v1/crates/serde/owners', ['api', 'v1', 'crates', 'serde', 'owners'], '/api/v1/crates/serde/owners') },
  { name: 'an encoded space is a space in the segment and re-encoded when forwarded', input: '/api/v1/crates/a%20b', expected: ok('/api/v1/crates/a b', ['api', 'v1', 'crates', 'a b'], '/api/v1/crates/a%20b') },
  { name: 'an encoded `%` is decoded once and re-encoded (no double decoding)', input: '/x/%252e%252e', expected: ok('/x/%2e%2e', ['x', '%2e%2e'], '/x/%252e%252e') },
  { name: 'sub-delimiters and `:@` are forwarded as they are', input: "/x/a:b@c!$&'()*,;=~", expected: ok("/x/a:b@c!$&'()*,;=~", ['x', "a:b@c!$&'()*,;=~"], "/x/a:b@c!$&'()*,;=~") },
  { name: 'characters that must be escaped are escaped in upper-case hex', input: '/x/%22%3C%3E%5E%60%7B%7C%7D%23%3F', expected: ok('/x/"<>^`{|}#?', ['x', '"<>^`{|}#?'], '/x/%22%3C%3E%5E%60%7B%7C%7D%23%3F') },
  { name: 'lower-case hex escapes are forwarded in upper case', input: '/x/%3c', expected: ok('/x/<', ['x', '<'], '/x/%3C') },
  { name: 'a segment starting with a dot is not a dot segment', input: '/index/.well-known', expected: ok('/index/.well-known', ['index', '.well-known'], '/index/.well-known') },
  { name: 'the root path is one empty segment', input: '/', expected: ok('/', [''], '/') },
  // Refused.
  { name: 'a `..` segment is refused', input: '/index/../api/v1/me', expected: DOT },
  { name: 'a `.` segment is refused', input: '/index/./config.json', expected: DOT },
  { name: 'an encoded `..` (%2e%2e) is refused', input: '/index/%2e%2e/api', expected: DOT },
  { name: 'an upper-case encoded `..` (%2E%2E) is refused', input: '/index/%2E%2E/api', expected: DOT },
  { name: 'a half-encoded `..` (.%2e) is refused', input: '/index/.%2e/api', expected: DOT },
  { name: 'a trailing `..` is refused', input: '/index/..', expected: DOT },
  { name: 'an encoded `/` (%2F) is refused', input: '/api/v1/crates/a%2Fb/owners', expected: SLASH },
  { name: 'a lower-case encoded `/` (%2f) is refused', input: '/api/v1/crates/a%2fb/owners', expected: SLASH },
  { name: 'an encoded `\\` (%5C) is refused', input: '/api/v1/crates/a%5Cb/owners', expected: SLASH },
  { name: 'a raw `\\` is refused', input: '/api/v1/crates/a\\b/owners', expected: SLASH },
  { name: 'a malformed escape is refused, naming the segment', input: '/api/%zz/x', expected: refused('`%zz` has a malformed percent-escape') },
  { name: 'a truncated escape is refused', input: '/api/a%2', expected: refused('`a%2` has a malformed percent-escape') },
  { name: 'an escape that is not UTF-8 is refused', input: '/api/%C3', expected: refused('`%C3` has a malformed percent-escape') },
  { name: 'raw non-ASCII is refused', input: '/api/v1/crates/café/owners', expected: RAW },
  { name: 'encoded non-ASCII (%C3%A9) is refused, naming the segment', input: '/api/v1/crates/caf%C3%A9/owners', expected: refused('`caf%C3%A9` decodes to non-ASCII or control characters') },
  { name: 'an encoded control character is refused', input: '/api/a%00b', expected: refused('`a%00b` decodes to non-ASCII or control characters') },
  { name: 'a raw space is refused', input: '/api/v1/crates/a b', expected: RAW },
  { name: 'a raw space in the query is refused too', input: '/api/v1/crates?q=a b', expected: RAW },
  { name: 'a raw tab is refused', input: '/api/\tx', expected: RAW },
  { name: 'a target that is not origin-form is refused', input: 'http://evil/api/v1/me', expected: refused('it must start with `/`') },
  { name: 'the asterisk form is refused', input: '*', expected: refused('it must start with `/`') },
  { name: 'an empty target is refused', input: '', expected: refused('it must start with `/`') },
];

describe('normaliseRequestTarget', () => {
  for (const row of rows) it(row.name, () => assert.deepEqual(normaliseRequestTarget(row.input), row.expected));
});

/**
 * npm's exception (PathRules.scopedPackageSegments): `@scope/name` is one segment, whether sent as
 * `@scope%2Fname` (npm) or `@scope/name` (Verdaccio accepts both), and is always forwarded encoded.
 */
const NPM: PathRules = { scopedPackageSegments: true, exactPaths: [] };
const npmRows: { name: string; input: string; expected: NormalisedPath }[] = [
  { name: 'an unscoped package path is unchanged', input: '/left-pad', expected: ok('/left-pad', ['left-pad'], '/left-pad') },
  { name: 'npm\'s `@scope%2fname` is one segment, forwarded with the slash still encoded', input: '/@acme%2fweb', expected: ok('/@acme%2Fweb', ['@acme/web'], '/@acme%2Fweb') },
  { name: 'an upper-case `%2F` reads the same', input: '/@acme%2Fweb', expected: ok('/@acme%2Fweb', ['@acme/web'], '/@acme%2Fweb') },
  { name: 'Verdaccio\'s `@scope/name` reads as the same one segment', input: '/@acme/web', expected: ok('/@acme%2Fweb', ['@acme/web'], '/@acme%2Fweb') },
  { name: 'an encoded `@` (%40) reads the same', input: '/%40acme%2fweb', expected: ok('/@acme%2Fweb', ['@acme/web'], '/@acme%2Fweb') },
  { name: 'a tarball path keeps its other segments', input: '/@acme/web/-/web-1.0.0.tgz', expected: ok('/@acme%2Fweb/-/web-1.0.0.tgz', ['@acme/web', '-', 'web-1.0.0.tgz'], '/@acme%2Fweb/-/web-1.0.0.tgz') },
  { name: 'a `-rev` path with the encoded form', input: '/@acme%2fweb/-rev/3-abc', expected: ok('/@acme%2Fweb/-rev/3-abc', ['@acme/web', '-rev', '3-abc'], '/@acme%2Fweb/-rev/3-abc') },
  { name: 'a scoped name mid-path (dist-tags) is one segment too', input: '/-/package/@acme%2fweb/dist-tags/beta', expected: ok('/-/package/@acme%2Fweb/dist-tags/beta', ['-', 'package', '@acme/web', 'dist-tags', 'beta'], '/-/package/@acme%2Fweb/dist-tags/beta') },
  { name: 'an unencoded scoped name mid-path is joined as Verdaccio joins it', input: '/-/package/@acme/web/dist-tags', expected: ok('/-/package/@acme%2Fweb/dist-tags', ['-', 'package', '@acme/web', 'dist-tags'], '/-/package/@acme%2Fweb/dist-tags') },
  { name: 'a last `@…` segment stays alone (Verdaccio leaves it too)', input: '/left-pad/@next', expected: ok('/left-pad/@next', ['left-pad', '@next'], '/left-pad/@next') },
  { name: 'the query is kept', input: '/@acme%2fweb?write=true', expected: ok('/@acme%2Fweb', ['@acme/web'], '/@acme%2Fweb', '?write=true') },
  // Still refused.
  { name: 'an encoded `/` in an unscoped segment is refused', input: '/left%2fpad', expected: SLASH },
  { name: 'an encoded `/` making two slashes is refused', input: '/@acme%2fweb%2fx', expected: SLASH },
  { name: 'an encoded `/` with an empty name is refused', input: '/@acme%2f', expected: SLASH },
  { name: 'an encoded `/` with an empty scope is refused', input: '/@%2fweb', expected: SLASH },
  { name: 'an encoded `\\` is refused', input: '/@acme%5cweb', expected: SLASH },
  { name: 'a `@scope` joined with an already scoped segment is refused (Verdaccio would read one name)', input: '/@a/@b%2fc', expected: refused('a `@scope` segment must be followed by a package name (`@scope/name`)') },
  { name: 'a `@scope` followed by an empty segment is refused', input: '/@acme//x', expected: refused('a `@scope` segment must be followed by a package name (`@scope/name`)') },
  { name: 'a lone `@` joined with a name is refused', input: '/@/web', expected: refused('a `@scope` segment must be followed by a package name (`@scope/name`)') },
  { name: 'an encoded `..` as the name is refused', input: '/@acme/%2e%2e', expected: DOT },
];

describe('normaliseRequestTarget with npm\'s scoped-package segments', () => {
  for (const row of npmRows) it(row.name, () => assert.deepEqual(normaliseRequestTarget(row.input, NPM), row.expected));
  it('without the exception (cargo) the same scoped path is refused', () => assert.deepEqual(normaliseRequestTarget('/@acme%2fweb'), SLASH));
  it('without the exception a raw `@scope/name` stays two segments', () => {
    assert.deepEqual(normaliseRequestTarget('/@acme/web'), ok('/@acme/web', ['@acme', 'web'], '/@acme/web'));
  });
});

/** cargo's exact path (PathRules.exactPaths): config.json is served rewritten, so only at exactly that path. */
describe('normaliseRequestTarget with cargo\'s exact config.json path', () => {
  const LOOKALIKE = refused('`/index/config.json` is served only at exactly that path (no trailing or doubled `/`, `;parameter` or other letter case)');
  const rows: { name: string; input: string; expected: NormalisedPath }[] = [
    { name: 'the exact path is read as always', input: '/index/config.json', expected: ok('/index/config.json', ['index', 'config.json'], '/index/config.json') },
    { name: 'the exact path with a query is too', input: '/index/config.json?x=1', expected: ok('/index/config.json', ['index', 'config.json'], '/index/config.json', '?x=1') },
    { name: 'a trailing `/` is refused', input: '/index/config.json/', expected: LOOKALIKE },
    { name: 'a `;parameter` is refused', input: '/index/config.json;x', expected: LOOKALIKE },
    { name: 'an encoded `;parameter` is refused', input: '/index/config.json%3Bx', expected: LOOKALIKE },
    { name: 'a `;parameter` on the directory is refused', input: '/index;a/config.json', expected: LOOKALIKE },
    { name: 'a doubled `/` inside is refused', input: '/index//config.json', expected: LOOKALIKE },
    { name: 'another letter case is refused', input: '/index/Config.JSON', expected: LOOKALIKE },
    { name: 'another index file is not a look-alike', input: '/index/co/nf/config', expected: ok('/index/co/nf/config', ['index', 'co', 'nf', 'config'], '/index/co/nf/config') },
  ];
  for (const row of rows) it(row.name, async () => {
    const { cargoAdapter } = await import('../../src/registries/cargo.js');
    assert.deepEqual(normaliseRequestTarget(row.input, cargoAdapter.pathRules), row.expected);
  });
});
