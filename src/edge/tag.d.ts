/**
 * The production tag, embedded at build time by rollup.config.mjs (`embedTag`): the exact bytes of
 * dist/idcapture.js and a strong validator of them, so the edge serves the tag with no file system and no hashing.
 */
declare module 'idcapture:tag' {
  /** dist/idcapture.js as text. */
  export const code: string;
  /** A strong ETag: the first 16 bytes of the SHA-256 of `code`, in hex and in quotes. */
  export const etag: string;
}
