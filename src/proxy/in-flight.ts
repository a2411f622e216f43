/**
 * The identities upstream now. Two upstream requests in flight at once may be applied in either order (the API is
 * asynchronous; a slow one lands late), so a browser request writing to one of these waits for its batch's answer.
 */
export function createInFlight() {
  /** Each identity key upstream now, with how many batches carry it. */
  const counts = new Map<string, number>();
  return {
    keys: (): Iterable<string> => counts.keys(),
    /** Counts `keys` as upstream while `work` runs, however it ends. */
    async during(keys: readonly string[], work: () => Promise<void>): Promise<void> {
      keys.forEach((key) => counts.set(key, (counts.get(key) ?? 0) + 1));
      try {
        await work();
      } finally {
        for (const key of keys) {
          const left = counts.get(key)! - 1;
          if (left) counts.set(key, left);
          else counts.delete(key);
        }
      }
    },
  };
}
