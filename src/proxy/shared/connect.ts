/**
 * Opens ioredis for a `redis://` URL. Only idcapture/proxy's own `createProxy` (Node, Deno, Bun) imports this file, so
 * the edge's Worker bundle never holds an import of it, and the import of ioredis is by a name that is not a literal,
 * so no bundler follows it: the package is loaded only when a URL is given.
 */
import type { RedisLike } from './store';

export async function connectRedis(url: string, retryMs: number): Promise<RedisLike> {
  const name = 'ioredis';
  let Redis: new (url: string, options: object) => RedisLike & { on(event: string, fn: (e: unknown) => void): void };
  try {
    Redis = (await import(name)).default;
  } catch {
    throw new Error('shared.redis is a URL but the ioredis package is not installed (npm install ioredis)');
  }
  // Fails fast while disconnected (no offline queue: the fallback answers instead), reconnects on its own.
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(times * 100, retryMs),
  });
  // Errors are answered by the fallback, with one warning per outage: the client's own event would only repeat them.
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.on('ready', () => resolve()));
  return client;
}
