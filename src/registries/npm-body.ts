/**
 * What an npm write body does (wire-facts §3.3). Pure.
 *
 * `PUT /<package>` and `PUT /<package>/-rev/<rev>` are overloaded: Verdaccio 6.8 (verdaccio
 * `api/endpoint/api/publish.js`) treats a body without `versions` but with `users` as a star; a
 * body with one version and one tarball in `_attachments` as a publish; and a `-rev` body, or a
 * `PUT /<package>` body with a `deprecated` field and no tarball, as a *change*, which
 * `local-storage.js#changePackage` applies by difference with what is stored: versions missing
 * from the body are unpublished, `deprecated` fields are set or cleared, and `dist-tags` and
 * `users` are replaced whole. A change's effect therefore depends on the stored document, so it is
 * classified by comparing the two (`needs-state`), not by its shape alone: a "deprecation" that
 * also drops a version is an unpublish too, and is refused rather than let through on the
 * deprecate route. A body is one operation or it is refused: scopegate forwards one kind of change
 * per request, and every shape it does not know.
 */
import type { BodyClassification, BodyRequest } from './registry.js';
import { npmNaming, packageSegment, parseNpmName } from './npm-naming.js';

/** The operations a body can be, as route `body` conditions name them. */
export const NPM_BODY_OPERATIONS = ['publish', 'deprecate', 'unpublish', 'dist-tag', 'owners', 'star'] as const;
export type NpmOperation = (typeof NPM_BODY_OPERATIONS)[number];

type Json = Record<string, unknown>;

const operation = (op: NpmOperation): BodyClassification => ({ kind: 'operation', operation: op });
const unrecognised = (why: string): BodyClassification => ({ kind: 'unrecognised', why });
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysOf = (v: unknown): string[] => (isObject(v) ? Object.keys(v) : []);

export function classifyNpmBody(request: BodyRequest): BodyClassification {
  const { method, segments, body } = request;
  const name = segments[0] ?? '';
  if (parseNpmName(name) === null) return { kind: 'error', error: npmNaming.nameError(name) };
  if (method !== 'PUT') return unrecognised(`only PUT bodies are classified, not ${method}`);
  if (segments.length === 2 && segments[1] !== '-rev') {
    // The legacy dist-tag route, `PUT /<package>/<tag>` with the version as a JSON string.
    return typeof body === 'string' ? operation('dist-tag') : unrecognised('a `PUT /<package>/<tag>` body is the version to tag, as a JSON string');
  }
  const revision = segments.length === 3 && segments[1] === '-rev';
  if (segments.length !== 1 && !revision) return unrecognised('the path is not `/<package>` or `/<package>/-rev/<rev>`');
  if (!isObject(body)) return unrecognised('the body is not a JSON object');
  for (const key of ['_id', 'name']) {
    if (key in body && body[key] !== name) return unrecognised(`its \`${key}\` is ${JSON.stringify(body[key])}, not the package in the path (\`${name}\`)`);
  }
  if (!('versions' in body)) {
    const partial = classifyPartial(body, revision);
    if (partial.kind !== 'operation' || partial.operation !== 'owners') return partial;
    if (request.state === undefined) return { kind: 'needs-state', path: `/${packageSegment(name)}?write=true`, crate: name };
    // npm owner add / rm's own `{_id, _rev, maintainers}` has no `name`. Verdaccio's
    // normalizeMetadata asserts `name` is the path's package before changing anything, so 6.8
    // answers it 422 and changes nothing; a registry that keeps owners changes just those.
    if (!('name' in body)) return classifyOwners(body.maintainers, request.state);
    // With a `name`, normalizeMetadata gives the body empty `versions` and `dist-tags`, and
    // changePackage then unpublishes every stored version and drops every tag: so this "owner
    // change" is classified by that effect.
    return classifyChange({ ...body, versions: {}, 'dist-tags': {} }, request.state, null);
  }
  if (!isObject(body.versions)) return unrecognised('its `versions` is not an object');
  const attachments = body._attachments;
  if (attachments !== undefined && attachments !== null && !isObject(attachments)) return unrecognised('its `_attachments` is not an object');
  if (keysOf(attachments).length > 0) return revision ? unrecognised('a `-rev` change must not carry a tarball') : classifyPublish(name, body);
  const deprecates = Object.values(body.versions).some((v) => isObject(v) && 'deprecated' in v);
  if (!revision && !deprecates) return unrecognised('a `PUT /<package>` body with `versions` but no tarball is only a deprecation (a version with `deprecated`)');
  if (!isObject(body['dist-tags'])) return unrecognised('a change must carry `dist-tags` (Verdaccio replaces them whole)');
  if (request.state === undefined) return { kind: 'needs-state', path: `/${packageSegment(name)}?write=true`, crate: name };
  return classifyChange(body, request.state, revision ? null : 'deprecate');
}

/** Bodies without `versions`: a star (`users`) or an owner change (`maintainers`, on `-rev`). */
function classifyPartial(body: Json, revision: boolean): BodyClassification {
  const extra = (allowed: string[]): string | undefined => Object.keys(body).find((k) => !allowed.includes(k));
  if (isObject(body.users)) {
    const other = extra(['_id', '_rev', 'name', 'users']);
    return other === undefined ? operation('star') : unrecognised(`a star body (\`users\`) must not carry \`${other}\``);
  }
  if (revision && 'maintainers' in body) {
    const other = extra(['_id', '_rev', 'name', 'maintainers']);
    return other === undefined ? operation('owners') : unrecognised(`an owner change (\`maintainers\`) must not carry \`${other}\``);
  }
  return unrecognised('a body without `versions` is only a star (`users`) or, on `-rev`, an owner change (`maintainers`)');
}

/** npm owner add / rm: an owner change if it names other maintainers than the stored ones. */
function classifyOwners(maintainers: unknown, state: unknown): BodyClassification {
  if (!isObject(state)) return unrecognised('the registry has no such package to change');
  return JSON.stringify(state.maintainers ?? null) === JSON.stringify(maintainers) ? unrecognised('it changes nothing') : operation('owners');
}

/**
 * npm publish: exactly one version and one tarball (Verdaccio refuses anything else), and every
 * dist-tag it sets points at that version, so a publish never moves another version's tag.
 */
function classifyPublish(name: string, body: Json): BodyClassification {
  const versions = Object.keys(body.versions as Json);
  if (versions.length !== 1 || keysOf(body._attachments).length !== 1) return unrecognised('a publish carries exactly one version and one tarball');
  const version = versions[0]!;
  const manifest = (body.versions as Json)[version];
  if (!isObject(manifest)) return unrecognised(`its version ${JSON.stringify(version)} is not an object`);
  if ('name' in manifest && manifest.name !== name) return unrecognised(`its version's \`name\` is ${JSON.stringify(manifest.name)}, not \`${name}\``);
  if ('version' in manifest && manifest.version !== version) return unrecognised(`its version ${JSON.stringify(version)} says it is ${JSON.stringify(manifest.version)}`);
  const tags = body['dist-tags'];
  if (tags !== undefined && !isObject(tags)) return unrecognised('its `dist-tags` is not an object');
  const moved = keysOf(tags).find((tag) => (tags as Json)[tag] !== version);
  if (moved !== undefined) return unrecognised(`a publish of ${version} must not point the \`${moved}\` tag at another version`);
  return operation('publish');
}

/** A change, by what it would do to the stored document (`changePackage`'s rules). */
function classifyChange(body: Json, state: unknown, declared: NpmOperation | null): BodyClassification {
  if (!isObject(state)) return unrecognised('the registry has no such package to change');
  const stored = state;
  const storedVersions: Json = isObject(stored.versions) ? stored.versions : {};
  const incoming = body.versions as Json;
  const removed = new Set(Object.keys(storedVersions).filter((v) => incoming[v] === undefined || incoming[v] === null));
  const effects = new Set<NpmOperation>();
  if (removed.size > 0) effects.add('unpublish');
  for (const [version, manifest] of Object.entries(storedVersions)) {
    const next = incoming[version];
    if (isObject(next) && 'deprecated' in next && deprecation(next.deprecated) !== deprecation(isObject(manifest) ? manifest.deprecated : undefined)) effects.add('deprecate');
  }
  const storedTags: Json = isObject(stored['dist-tags']) ? stored['dist-tags'] : {};
  const tags = body['dist-tags'] as Json;
  for (const tag of new Set([...Object.keys(storedTags), ...Object.keys(tags)])) {
    const before = storedTags[tag];
    const after = tags[tag];
    if (before === after) continue;
    // npm unpublish drops the tags of the versions it removes and moves `latest` to one that stays.
    const followsUnpublish = typeof before === 'string' && removed.has(before) && (after === undefined || (typeof after === 'string' && Object.hasOwn(storedVersions, after) && !removed.has(after)));
    if (!followsUnpublish) effects.add('dist-tag');
  }
  if (JSON.stringify(stored.users ?? {}) !== JSON.stringify(body.users ?? {})) effects.add('star');
  if ('maintainers' in body && JSON.stringify(stored.maintainers ?? null) !== JSON.stringify(body.maintainers)) effects.add('owners');
  const found = [...effects];
  if (found.length === 1) return operation(found[0]!);
  if (found.length > 1) return unrecognised(`it would ${found.map(describe).join(' and ')}; scopegate forwards one kind of change per request`);
  return declared !== null ? operation(declared) : unrecognised('it changes nothing');
}

/** How Verdaccio compares `deprecated` (loosely; a falsy value clears it). */
function deprecation(value: unknown): string {
  return value ? String(value) : '';
}

function describe(op: NpmOperation): string {
  switch (op) {
    case 'unpublish': return 'unpublish versions';
    case 'deprecate': return 'change deprecations';
    case 'dist-tag': return 'move dist-tags';
    case 'star': return 'change stars';
    case 'owners': return 'change maintainers';
    case 'publish': return 'publish';
  }
}
