/**
 * Whether this build carries the full diagnostic text and the debug output: true in the npm build (where the proxy,
 * the emulator and the server client import the shared profile rules too) and in the debug tag
 * (`dist/idcapture.debug.js`). The production tag's build replaces this module with `false` (rollup.config.mjs), so
 * the minifier drops every branch written as `VERBOSE ? full : short` or `if (VERBOSE)`.
 */
export const VERBOSE: boolean = true;
