/**
 * A 64-bit FNV-1a digest of `text`, in base 36: short, fast, not cryptographic. For telling values apart where a
 * collision costs little (see its callers), never for secrets.
 */
export function digest64(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x0100019d);
  }
  return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36);
}
