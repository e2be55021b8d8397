/**
 * classifyNpmBody: what an npm write body does, by shape and, for changes, by difference with the
 * stored packument (Verdaccio 6.8's `publishPackage` and `changePackage`, wire-facts §3.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyNpmBody } from '../../src/registries/npm-body.js';
import { npmNaming } from '../../src/registries/npm-naming.js';
import type { BodyClassification, BodyRequest } from '../../src/registries/registry.js';
import { npmPublishBody } from '../support/npm-publish-body.js';

const PKG = '@acme/web';
const op = (operation: string): BodyClassification => ({ kind: 'operation', operation });
const unrecognised = (why: string): BodyClassification => ({ kind: 'unrecognised', why });
const NEEDS_STATE: BodyClassification = { kind: 'needs-state', path: '/@acme%2Fweb?write=true', crate: PKG };

/** A stored packument: versions (with optional deprecation), dist-tags, stars. */
function stored(versions: Record<string, string | null>, tags: Record<string, string>, users: Record<string, boolean> = {}): Record<string, unknown> {
  return {
    _id: PKG, name: PKG, _rev: '7-abc', users, 'dist-tags': tags,
    versions: Object.fromEntries(Object.entries(versions).map(([v, deprecated]) => [v, { name: PKG, version: v, ...(deprecated === null ? {} : { deprecated }) }])),
    _attachments: {},
  };
}

const STORED = stored({ '1.0.0': null, '1.1.0': null, '2.0.0': null }, { latest: '2.0.0', beta: '1.1.0' }, { bob: true });

/** `STORED` as npm sends it back, after `edit`. */
function changed(edit: (doc: any) => void): Record<string, unknown> {
  const doc = structuredClone(STORED) as any;
  edit(doc);
  return doc;
}

const put = (segments: string[], body: unknown, state?: unknown): BodyRequest => ({ method: 'PUT', segments, body, ...(state === undefined ? {} : { state }) });
const REV = [PKG, '-rev', '7-abc'];

describe('PUT /<package>: publish, deprecate or star, by shape', () => {
  const rows: { name: string; request: BodyRequest; expected: BodyClassification }[] = [
    { name: 'npm publish (one version, one tarball) is a publish', request: put([PKG], npmPublishBody(PKG, '1.0.0')), expected: op('publish') },
    { name: 'npm publish --tag beta is a publish', request: put([PKG], npmPublishBody(PKG, '1.0.0', { tag: 'beta' })), expected: op('publish') },
    {
      name: 'a publish that points a tag at another version is refused',
      request: put([PKG], { ...npmPublishBody(PKG, '1.0.1'), 'dist-tags': { latest: '1.0.1', stable: '0.9.0' } }),
      expected: unrecognised('a publish of 1.0.1 must not point the `stable` tag at another version'),
    },
    {
      name: 'a publish with two versions is refused (Verdaccio allows one)',
      request: put([PKG], { ...npmPublishBody(PKG, '1.0.0'), versions: { '1.0.0': { name: PKG, version: '1.0.0' }, '1.0.1': { name: PKG, version: '1.0.1' } } }),
      expected: unrecognised('a publish carries exactly one version and one tarball'),
    },
    {
      name: 'a publish whose version names another package is refused',
      request: put([PKG], { ...npmPublishBody(PKG, '1.0.0'), versions: { '1.0.0': { name: '@acme/other', version: '1.0.0' } } }),
      expected: unrecognised('its version\'s `name` is "@acme/other", not `@acme/web`'),
    },
    {
      name: 'a body naming another package than the path is refused',
      request: put([PKG], npmPublishBody('@acme/other', '1.0.0')),
      expected: unrecognised('its `_id` is "@acme/other", not the package in the path (`@acme/web`)'),
    },
    { name: 'npm deprecate (versions with `deprecated`, no tarball) needs the stored packument', request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = 'old'; })), expected: NEEDS_STATE },
    { name: 'npm star (`users`, no `versions`) is a star', request: put([PKG], { _id: PKG, _rev: '7-abc', users: { alice: true } }), expected: op('star') },
    { name: 'a star carrying anything else is refused', request: put([PKG], { _id: PKG, users: { alice: true }, 'dist-tags': {} }), expected: unrecognised('a star body (`users`) must not carry `dist-tags`') },
    {
      name: 'versions without a tarball or a deprecation are refused (Verdaccio would create an empty package)',
      request: put([PKG], { _id: PKG, name: PKG, versions: {}, 'dist-tags': {} }),
      expected: unrecognised('a `PUT /<package>` body with `versions` but no tarball is only a deprecation (a version with `deprecated`)'),
    },
    { name: 'an owner change on `PUT /<package>` (not `-rev`) is refused', request: put([PKG], { _id: PKG, maintainers: [] }), expected: unrecognised('a body without `versions` is only a star (`users`) or, on `-rev`, an owner change (`maintainers`)') },
    { name: 'a JSON array is refused', request: put([PKG], []), expected: unrecognised('the body is not a JSON object') },
    { name: 'a JSON string is refused on `PUT /<package>`', request: put([PKG], '1.0.0'), expected: unrecognised('the body is not a JSON object') },
    { name: '`versions` that is not an object is refused', request: put([PKG], { versions: [] }), expected: unrecognised('its `versions` is not an object') },
    { name: '`_attachments` that is not an object is refused', request: put([PKG], { versions: {}, _attachments: 'x' }), expected: unrecognised('its `_attachments` is not an object') },
    { name: 'an invalid package name is npm\'s name error', request: put(['Left-Pad'], {}), expected: { kind: 'error', error: npmNaming.nameError('Left-Pad') } },
    { name: 'a DELETE body is not classified', request: { method: 'DELETE', segments: [PKG], body: {} }, expected: unrecognised('only PUT bodies are classified, not DELETE') },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(classifyNpmBody(row.request), row.expected));
});

describe('PUT /<package>/-rev/<rev>: unpublish, owners or star; changes by difference with what is stored', () => {
  const rows: { name: string; request: BodyRequest; expected: BodyClassification }[] = [
    { name: 'a change body first asks for the stored packument', request: put(REV, changed((d) => { delete d.versions['1.0.0']; })), expected: NEEDS_STATE },
    { name: 'npm unpublish pkg@version (one version gone) is an unpublish', request: put(REV, changed((d) => { delete d.versions['1.0.0']; }), STORED), expected: op('unpublish') },
    {
      name: 'unpublishing the tagged version may drop its tag and move latest to a version that stays',
      request: put(REV, changed((d) => { delete d.versions['2.0.0']; d['dist-tags'].latest = '1.1.0'; }), STORED),
      expected: op('unpublish'),
    },
    { name: 'a removed version\'s other tag may simply go', request: put(REV, changed((d) => { delete d.versions['1.1.0']; delete d['dist-tags'].beta; }), STORED), expected: op('unpublish') },
    {
      name: 'an unpublish that also moves an unrelated tag is refused',
      request: put(REV, changed((d) => { delete d.versions['1.0.0']; d['dist-tags'].beta = '2.0.0'; }), STORED),
      expected: unrecognised('it would unpublish versions and move dist-tags; scopegate forwards one kind of change per request'),
    },
    {
      name: 'a removed version\'s tag may not move to another removed version',
      request: put(REV, changed((d) => { delete d.versions['2.0.0']; delete d.versions['1.1.0']; d['dist-tags'].latest = '1.1.0'; delete d['dist-tags'].beta; }), STORED),
      expected: unrecognised('it would unpublish versions and move dist-tags; scopegate forwards one kind of change per request'),
    },
    {
      name: 'an unpublish that also deprecates is refused',
      request: put(REV, changed((d) => { delete d.versions['1.0.0']; d.versions['1.1.0'].deprecated = 'x'; }), STORED),
      expected: unrecognised('it would unpublish versions and change deprecations; scopegate forwards one kind of change per request'),
    },
    {
      name: 'an unpublish that drops the stars is refused',
      request: put(REV, changed((d) => { delete d.versions['1.0.0']; delete d.users; }), STORED),
      expected: unrecognised('it would unpublish versions and change stars; scopegate forwards one kind of change per request'),
    },
    { name: 'a deprecation through `-rev` is a deprecation', request: put(REV, changed((d) => { d.versions['1.0.0'].deprecated = 'old'; }), STORED), expected: op('deprecate') },
    { name: 'moving a tag through `-rev` is a dist-tag change', request: put(REV, changed((d) => { d['dist-tags'].beta = '2.0.0'; }), STORED), expected: op('dist-tag') },
    { name: 'a change that changes nothing is refused', request: put(REV, changed(() => undefined), STORED), expected: unrecognised('it changes nothing') },
    { name: 'a change for a package the registry does not have is refused', request: put(REV, changed((d) => { delete d.versions['1.0.0']; }), null), expected: unrecognised('the registry has no such package to change') },
    { name: 'npm owner add/rm (`{_id, _rev, maintainers}`) first asks for the stored packument', request: put(REV, { _id: PKG, _rev: '7-abc', maintainers: [{ name: 'bob' }] }), expected: NEEDS_STATE },
    {
      // Verdaccio fills in empty `versions` and `dist-tags` and unpublishes every stored version.
      name: 'an owner change without `versions` is what Verdaccio makes of it: an unpublish of everything, refused as mixed',
      request: put(REV, { _id: PKG, _rev: '7-abc', name: PKG, maintainers: [{ name: 'bob' }] }, STORED),
      expected: unrecognised('it would unpublish versions and change stars and change maintainers; scopegate forwards one kind of change per request'),
    },
    {
      // Verdaccio 6.8 answers it 422 (normalizeMetadata asserts `name`), and changes nothing.
      name: 'npm owner add/rm\'s own body (no `name`) naming other maintainers is an owner change',
      request: put(REV, { _id: PKG, _rev: '7-abc', maintainers: [{ name: 'alice' }, {}] }, STORED),
      expected: op('owners'),
    },
    {
      name: 'npm owner add/rm\'s own body naming the stored maintainers changes nothing, and is refused',
      request: put(REV, { _id: PKG, _rev: '7-abc', maintainers: [{ name: 'bob' }] }, { ...STORED, users: {}, maintainers: [{ name: 'bob' }] }),
      expected: unrecognised('it changes nothing'),
    },
    {
      name: 'npm owner add/rm\'s own body for a package the registry does not have is refused',
      request: put(REV, { _id: PKG, _rev: '7-abc', maintainers: [{ name: 'bob' }] }, null),
      expected: unrecognised('the registry has no such package to change'),
    },
    { name: 'the stored packument with other maintainers is an owner change', request: put(REV, changed((d) => { d.maintainers = [{ name: 'bob' }]; }), STORED), expected: op('owners') },
    { name: 'an owner change carrying anything else is refused', request: put(REV, { _id: PKG, maintainers: [], 'dist-tags': {} }), expected: unrecognised('an owner change (`maintainers`) must not carry `dist-tags`') },
    { name: 'a star through `-rev` is a star', request: put(REV, { _id: PKG, _rev: '7-abc', users: {} }), expected: op('star') },
    { name: 'a `-rev` change carrying a tarball is refused (Verdaccio would also publish it)', request: put(REV, { ...npmPublishBody(PKG, '3.0.0') }), expected: unrecognised('a `-rev` change must not carry a tarball') },
    { name: 'a change without dist-tags is refused (Verdaccio replaces them whole)', request: put(REV, { _id: PKG, versions: {} }), expected: unrecognised('a change must carry `dist-tags` (Verdaccio replaces them whole)') },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(classifyNpmBody(row.request), row.expected));
});

describe('PUT /<package> deprecations, by difference with what is stored', () => {
  const rows: { name: string; request: BodyRequest; expected: BodyClassification }[] = [
    { name: 'npm deprecate is a deprecation', request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = 'use 2'; }), STORED), expected: op('deprecate') },
    {
      name: 'un-deprecating (an empty message) is a deprecation',
      request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = ''; }), stored({ '1.0.0': 'old', '1.1.0': null, '2.0.0': null }, { latest: '2.0.0', beta: '1.1.0' }, { bob: true })),
      expected: op('deprecate'),
    },
    { name: 'a deprecation that changes nothing stored is still a deprecation', request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = ''; }), STORED), expected: op('deprecate') },
    {
      name: '★ a "deprecation" that also drops a version is refused: it would unpublish',
      request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = 'x'; delete d.versions['2.0.0']; }), STORED),
      expected: unrecognised('it would unpublish versions and change deprecations; scopegate forwards one kind of change per request'),
    },
    {
      name: '★ a "deprecation" that only drops a version is an unpublish, which no `PUT /<package>` route allows',
      request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = ''; delete d.versions['2.0.0']; d['dist-tags'].latest = '1.1.0'; }), STORED),
      expected: op('unpublish'),
    },
    {
      name: 'a deprecation that moves a tag is refused',
      request: put([PKG], changed((d) => { d.versions['1.0.0'].deprecated = 'x'; d['dist-tags'].latest = '1.0.0'; }), STORED),
      expected: unrecognised('it would change deprecations and move dist-tags; scopegate forwards one kind of change per request'),
    },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(classifyNpmBody(row.request), row.expected));
});

describe('PUT /<package>/<tag>: the legacy dist-tag route', () => {
  it('a JSON string (the version) is a dist-tag change', () => assert.deepEqual(classifyNpmBody(put([PKG, 'beta'], '1.0.0')), op('dist-tag')));
  it('anything else is refused (Verdaccio\'s publish route also matches this path)', () => {
    assert.deepEqual(classifyNpmBody(put([PKG, 'beta'], STORED)), unrecognised('a `PUT /<package>/<tag>` body is the version to tag, as a JSON string'));
  });
});
