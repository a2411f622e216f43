/** A minimal typed event emitter; a throwing listener is reported asynchronously and never stops the others. */
export function createEmitter<Events>() {
  const listeners = new Map<keyof Events, Set<(detail: never) => void>>();
  return {
    on<K extends keyof Events>(type: K, fn: (detail: Events[K]) => void): () => void {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set.add(fn as (detail: never) => void));
      return () => set.delete(fn as (detail: never) => void);
    },
    emit<K extends keyof Events>(type: K, detail: Events[K]): void {
      listeners.get(type)?.forEach((fn) => {
        try {
          (fn as (detail: Events[K]) => void)(detail);
        } catch (error) {
          setTimeout(() => {
            throw error;
          });
        }
      });
    },
    clear: () => listeners.clear(),
  };
}
