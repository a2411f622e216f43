/**
 * Runs `fn`, turning a throw into undefined: browser storage throws in sandboxed frames, with cookies blocked or
 * when full, and none of that may break the page.
 */
export const attempt = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {}
};
