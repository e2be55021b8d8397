/**
 * An in-process token store for single-process development and tests of the layers above.
 * It keeps records in their stored string form and parses them on every read, exactly as the
 * Redis store does, so both behave alike down to what survives a round trip. Drop times are
 * honoured lazily: an entry past its drop time is deleted when next read, as Redis does.
 * Nothing is shared between processes: not for `node:cluster` or several hosts.
 */
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import { parseTokenRecord, storeTokenRecord, type StoredTokenFields, type TokenRecord } from '../core/token-record.js';
import { AccountFullError, dropAt, StoreUnavailableError, type AccountLimit, type NewTokenRecord, type TokenStore } from './token-store.js';
import { claimBlocks, formatClaim, type ListedToken, type TokenDirectory } from './token-directory.js';

interface Entry {
  fields: StoredTokenFields;
  /** Epoch ms after which the entry counts as gone; null: kept for ever. */
  dropAt: number | null;
}

/** {@link TokenStore} and {@link TokenDirectory} in process memory. */
export class MemoryTokenStore implements TokenStore, TokenDirectory {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashById = new Map<number, string>();
  private readonly idsByAccount = new Map<string, Set<number>>();
  private lastId = 0;
  private closed = false;

  /** `naming`: the registry's name rules, which stored crate patterns are parsed by (default cargo's). */
  constructor(private readonly naming: PackageNaming = cargoNaming) {}

  async create(fresh: NewTokenRecord, keepExpiredMs: number, limit?: AccountLimit): Promise<TokenRecord> {
    this.assertOpen();
    if (this.live(fresh.hash) !== undefined) {
      throw new Error(`a token with hash ${fresh.hash.slice(0, 8)}… already exists`);
    }
    // Counted and written with no await in between: nothing else runs meanwhile in this process.
    if (limit !== undefined && this.storedCount(fresh.account) >= limit.perAccount) throw new AccountFullError(fresh.account, limit.perAccount);
    const { hash, account, name, endpointScopes, crateScopes, createdAt, expiredAt, sealedCredential } = fresh;
    const id = ++this.lastId;
    const record: TokenRecord = {
      id, hash, account, name, endpointScopes, crateScopes, createdAt, expiredAt, sealedCredential,
      lastUsedAt: null, revokedAt: null,
    };
    this.byHash.set(hash, { fields: storeTokenRecord(record), dropAt: dropAt(record, keepExpiredMs) });
    this.hashById.set(id, hash);
    const ids = this.idsByAccount.get(account) ?? new Set<number>();
    this.idsByAccount.set(account, ids.add(id));
    return record;
  }

  /** The account's records still stored (what listByAccount returns), counted synchronously. */
  private storedCount(account: string): number {
    let count = 0;
    for (const id of this.idsByAccount.get(account) ?? []) {
      const hash = this.hashById.get(id);
      if (hash !== undefined && this.live(hash) !== undefined) count++;
    }
    return count;
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    this.assertOpen();
    const entry = this.live(hash);
    return entry === undefined ? null : parseTokenRecord(entry.fields, this.naming);
  }

  async findById(id: number): Promise<TokenRecord | null> {
    this.assertOpen();
    const hash = this.hashById.get(id);
    const record = hash === undefined ? null : await this.findByHash(hash);
    return record !== null && record.id === id ? record : null;
  }

  async listByAccount(account: string): Promise<TokenRecord[]> {
    this.assertOpen();
    const ids = [...(this.idsByAccount.get(account) ?? [])].sort((a, b) => b - a);
    const records: TokenRecord[] = [];
    for (const id of ids) {
      const record = await this.findById(id);
      if (record !== null && record.account === account) records.push(record);
    }
    return records;
  }

  async revoke(id: number, now: number, keepExpiredMs: number): Promise<TokenRecord | null> {
    this.assertOpen();
    const hash = this.hashById.get(id);
    const entry = hash === undefined ? undefined : this.live(hash);
    if (entry === undefined) return null;
    // The first revocation wins, as in the Redis store's script.
    if (entry.fields.revoked_at === '') entry.fields = { ...entry.fields, revoked_at: String(now) };
    const record = parseTokenRecord(entry.fields, this.naming);
    if (record === null || record.id !== id) return null;
    entry.dropAt = dropAt(record, keepExpiredMs);
    return record;
  }

  async touch(uses: ReadonlyMap<string, number>): Promise<void> {
    this.assertOpen();
    for (const [hash, now] of uses) {
      const entry = this.live(hash);
      if (entry === undefined) continue;
      const last = entry.fields.last_used_at;
      // Only forwards, like the Redis store (processes and batches may race).
      if (last === '' || last === undefined || Number(last) < now) {
        entry.fields = { ...entry.fields, last_used_at: String(now) };
      }
    }
  }

  async listAll(): Promise<ListedToken[]> {
    this.assertOpen();
    return this.listed([...this.hashById.keys()].sort((a, b) => b - a));
  }

  async findListed(id: number): Promise<ListedToken | null> {
    this.assertOpen();
    return this.listed([id])[0] ?? null;
  }

  async listExpiring(from: number, to: number): Promise<ListedToken[]> {
    const all = await this.listAll();
    return all
      .filter(({ record: r }) => r.expiredAt !== null && r.expiredAt >= from && r.expiredAt <= to)
      .sort((a, b) => a.record.expiredAt! - b.record.expiredAt!);
  }

  async claimReminder(hash: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    this.assertOpen();
    const entry = this.live(hash);
    const f = entry?.fields;
    if (entry === undefined || f === undefined || f.revoked_at !== '' || (f.reminded_at ?? '') !== '') return false;
    if (claimBlocks(f.remind_claim, owner, now)) return false;
    entry.fields = { ...f, remind_claim: formatClaim(owner, leaseUntil) };
    return true;
  }

  async completeReminder(hash: string, owner: string, now: number): Promise<boolean> {
    return this.settleReminder(hash, owner, String(now));
  }

  async releaseReminder(hash: string, owner: string): Promise<void> {
    await this.settleReminder(hash, owner, null);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async settleReminder(hash: string, owner: string, remindedAt: string | null): Promise<boolean> {
    this.assertOpen();
    const entry = this.live(hash);
    const claim = entry?.fields.remind_claim ?? '';
    if (entry === undefined || claim === '' || claim.slice(0, claim.lastIndexOf('|')) !== owner) return false;
    entry.fields = { ...entry.fields, remind_claim: '', ...(remindedAt === null ? {} : { reminded_at: remindedAt }) };
    return true;
  }

  private listed(ids: readonly number[]): ListedToken[] {
    const found: ListedToken[] = [];
    for (const id of ids) {
      const hash = this.hashById.get(id);
      const entry = hash === undefined ? undefined : this.live(hash);
      const record = entry === undefined ? null : parseTokenRecord(entry.fields, this.naming);
      if (entry === undefined || record === null) continue;
      const reminded = entry.fields.reminded_at;
      found.push({ record, remindedAt: reminded ? Number(reminded) : null });
    }
    return found;
  }

  /** The entry for `hash` unless it is absent or past its drop time (then it is removed). */
  private live(hash: string): Entry | undefined {
    const entry = this.byHash.get(hash);
    if (entry === undefined || entry.dropAt === null || Date.now() < entry.dropAt) return entry;
    this.byHash.delete(hash);
    const id = Number(entry.fields.id);
    this.hashById.delete(id);
    const account = entry.fields.account;
    if (account !== undefined) this.idsByAccount.get(account)?.delete(id);
    return undefined;
  }

  /** A closed store refuses work, as a closed Redis connection does. */
  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('memory store is closed');
  }
}
