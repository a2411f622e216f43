/**
 * Makes the tabs of an origin take turns: runs `fn` only while this tab holds the Web Lock `name`, and returns
 * without running it when another tab holds it and `wait` is false. The browser releases a Web Lock when a tab dies,
 * so another tab takes over at once. Where Web Locks are missing or refused (opaque-origin frames, where storage
 * throws too and the queue is this page's alone), `fn` runs without a lock: at-least-once still holds, the order
 * across tabs is best effort.
 */
export async function withTabLock(name: string, wait: boolean, fn: () => Promise<void>) {
  let started = false;
  try {
    return await navigator.locks.request(`idcapture:${name}`, { ifAvailable: !wait }, async (lock) => {
      if (!lock) return;
      started = true;
      await fn();
    });
  } catch (error) {
    // Web Locks missing (navigator.locks undefined) or refused (a SecurityError) fail before `fn` starts; a failure of
    // `fn` itself is the caller's.
    if (started) throw error;
  }
  await fn();
}
