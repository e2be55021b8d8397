/** Shared by the per-process caches whose maps are kept in age order (oldest first). */

/**
 * Makes room for one more entry in `entries`, a map in age order (insertion order; a refreshed
 * entry is deleted and re-added). It deletes the expired entries at the old end, stopping at the
 * first live one: that is every expired entry, at one step per entry dropped. Then, if the map is
 * still at `maxEntries`, it deletes the oldest live one. Called as entries are added, so a cache
 * holds what is live rather than up to its bound of dead entries.
 */
export function makeRoom<K, V extends { readonly until: number }>(entries: Map<K, V>, now: number, maxEntries: number): void {
  for (const [key, entry] of entries) {
    if (entry.until > now) break;
    entries.delete(key);
  }
  if (entries.size >= maxEntries) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
}
