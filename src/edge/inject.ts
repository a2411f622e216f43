/**
 * The tag injected into the store's HTML pages by workerd's streaming HTMLRewriter: before `</head>`, else at the
 * start of `<body>`, else at the end of the document; only on `200 text/html`, and never twice.
 */

/** The parts of workerd's HTMLRewriter this module uses (it is a global there, unknown to Node's and DOM's types). */
interface Rewriter {
  on(selector: string, handlers: { element(element: RewriterElement): void }): Rewriter;
  onDocument(handlers: { end(end: { append(html: string, options: { html: true }): void }): void }): Rewriter;
  transform(response: Response): Response;
}
interface RewriterElement {
  prepend(html: string, options: { html: true }): void;
  onEndTag(handler: (end: { before(html: string, options: { html: true }): void }) => void): void;
}
declare const HTMLRewriter: { new (): Rewriter };

/** The `inject` option of `createEdge`. */
export interface InjectOptions {
  /**
   * Extra `data-*` attributes of the injected tag, e.g. `{ 'data-consent': 'pending' }` (see the script tag's options).
   * @default {}
   */
  attributes?: Record<string, string>;
}

const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The tag, as HTML, with `data-endpoint` and the extra attributes. */
export function tagHtml(src: string, endpoint: string, attributes: Record<string, string>): string {
  const extra = Object.entries(attributes).map(([name, value]) => ` ${name}="${escape(value)}"`).join('');
  return `<script async src="${escape(src)}" data-endpoint="${escape(endpoint)}"${extra}></script>`;
}

/**
 * The nonce of the page's Content-Security-Policy for scripts, if it uses one: from the directive that governs
 * `<script src>` (`script-src-elem`, else `script-src`, else `default-src`), so the tag runs under that policy.
 */
export function cspNonce(policy: string | null): string | undefined {
  if (!policy) return;
  const directives = new Map(
    policy.split(/[;,]/).map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name.toLowerCase(), values] as const),
  );
  const values = directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src') ?? [];
  return values.map((v) => /^'nonce-([A-Za-z0-9+/=_-]+)'$/.exec(v)?.[1]).find(Boolean);
}

/** Whether a response is a page to inject into: a 200 whose body is HTML. */
export const isPage = (response: Response) => response.status == 200 && /^text\/html\b/i.test(response.headers.get('content-type') ?? '');

/** `page` with `tag` (HTML) injected, streamed; a tag already on the page (its `src` is `src`) is not doubled. */
export function inject(page: Response, tag: string, src: string): Response {
  const nonce = cspNonce(page.headers.get('content-security-policy'));
  const html = nonce ? tag.replace('<script ', `<script nonce="${escape(nonce)}" `) : tag;
  let done = false;
  const put = (write: (html: string, options: { html: true }) => void) => {
    if (!done) write(html, { html: true });
    done = true;
  };
  return new HTMLRewriter()
    .on(`script[src="${src.replace(/["\\]/g, '\\$&')}"]`, { element: () => void (done = true) })
    .on('head', { element: (head) => head.onEndTag((end) => put((h, o) => end.before(h, o))) })
    .on('body', { element: (body) => put((h, o) => body.prepend(h, o)) })
    .onDocument({ end: (end) => put((h, o) => end.append(h, o)) })
    .transform(page);
}
