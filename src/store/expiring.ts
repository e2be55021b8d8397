/** Shared by the per-process caches whose maps are kept in age order (oldest first). */

/**
 * Deletes the expired entries at the old end of `entries`, stopping at the first live one: with
 * insertion order as age order, that is every expired entry, at a cost of one step per entry
 * dropped. Called as entries are added, so a cache holds what is live rather than up to its
 * bound of dead entries.
 */
export function dropExpired<K, V extends { readonly until: number }>(entries: Map<K, V>, now: number): void {
  for (const [key, entry] of entries) {
    if (entry.until > now) return;
    entries.delete(key);
  }
}
