/** Reading a request body without ever holding more than a limit: shared by the proxy and the emulator (Web APIs only). */

/** Returned instead of bytes when the body is over the limit. */
export const TOO_LARGE = Symbol('too large');

/**
 * The body's bytes, `TOO_LARGE`, or undefined when it cannot be read (the client went away). `Content-Length` is
 * checked first, so a declared oversize body is refused unread; bytes are still counted while streaming, because a
 * chunked body declares nothing and a declared length is only a claim.
 */
export async function readBody(request: Pick<Request, 'headers' | 'body'>, maxBytes: number): Promise<Uint8Array | typeof TOO_LARGE | undefined> {
  const declared = request.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= maxBytes)) return TOO_LARGE;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        // Not awaited: the answer should go out now, whatever the client is still sending.
        reader.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(value);
    }
  } catch {
    return;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
