/**
 * Paging as the APIs do it (RFC 8288): a list answers one page, and when more follow its `Link`
 * header holds `<url>; rel="next"` whose opaque `cursor` asks for the next page. No such link: the
 * last page. We pass the cursor back through the typed client, with the same other parameters.
 */

export interface LinkValue {
  url: string;
  /** Relation types, lower case (`rel="next last"` gives two). */
  rel: string[];
  params: Record<string, string>;
}

/**
 * Parses a `Link` header into its links. Tolerates whitespace, quoted values and commas inside <…> or quotes.
 * Written here rather than taken from `http-link-header`: that package (1.1.4) misreads RFC 8288's optional
 * whitespace before a comma (`…; rel="next" ,<…>`) and throws on a malformed header, where paging should
 * simply find no next link.
 */
export function parseLinkHeader(header: string | null | undefined): LinkValue[] {
  if (!header) return [];
  const links: LinkValue[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i] as string)) i++;
  };
  while (i < n) {
    skip(" \t,");
    if (i >= n) break;
    if (header[i] !== "<") {
      // Not a link-value: skip to the next top-level comma.
      while (i < n && header[i] !== ",") i++;
      continue;
    }
    const close = header.indexOf(">", i + 1);
    if (close < 0) break;
    const url = header.slice(i + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = {};
    for (;;) {
      skip(" \t");
      if (header[i] !== ";") break;
      i++;
      skip(" \t");
      let name = "";
      while (i < n && !"=;, \t".includes(header[i] as string)) name += header[i++];
      skip(" \t");
      let value = "";
      if (header[i] === "=") {
        i++;
        skip(" \t");
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === "\\" && i + 1 < n) i++;
            value += header[i++];
          }
          i++; // closing quote
        } else {
          while (i < n && !";, \t".includes(header[i] as string)) value += header[i++];
        }
      }
      name = name.toLowerCase();
      if (name && !(name in params)) params[name] = value;
    }
    const rel = (params.rel ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    links.push({ url, rel, params });
    skip(" \t");
    // Anything else up to the next comma is ignored.
    while (i < n && header[i] !== ",") i++;
  }
  return links;
}

/** The URL of the `rel="next"` link, if any. */
export function nextLinkUrl(header: string | null | undefined): string | undefined {
  return parseLinkHeader(header).find((link) => link.rel.includes("next"))?.url;
}

export class PagingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PagingError";
  }
}

/**
 * The cursor for the next page, from a `Link` header; undefined on the last page. A next link
 * without a cursor is an error, not the end: stopping there would silently drop the rest.
 */
export function nextCursor(header: string | null | undefined): string | undefined {
  const url = nextLinkUrl(header);
  if (url === undefined) return undefined;
  let cursor: string | null;
  try {
    cursor = new URL(url, "http://relative.invalid/").searchParams.get("cursor");
  } catch {
    throw new PagingError(`The next-page link is not a URL: ${url}`);
  }
  if (!cursor) throw new PagingError(`The next-page link has no cursor: ${url}`);
  return cursor;
}

export interface Page<T> {
  items: T[];
  /** The cursor of the next page; undefined on the last one. */
  nextCursor: string | undefined;
}

export interface CollectedPages<T> {
  items: T[];
  /** True when more pages were left: the cap was reached. */
  truncated: boolean;
  pages: number;
}

export interface CollectOptions {
  /** Stop once this many items are collected (the result is cut to it and marked truncated). */
  maxItems: number;
  /** Stop after this many pages at most (a guard against a server that never ends). */
  maxPages?: number;
  signal?: AbortSignal | undefined;
}

/** Follows next-page cursors from the first page until the last page or a cap. */
export async function collectPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  { maxItems, maxPages = 100, signal }: CollectOptions,
): Promise<CollectedPages<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    signal?.throwIfAborted();
    const page = await fetchPage(cursor);
    pages++;
    items.push(...page.items);
    if (page.nextCursor === undefined) return { items, truncated: false, pages };
    if (items.length >= maxItems || pages >= maxPages) {
      return { items: items.slice(0, maxItems), truncated: true, pages };
    }
    if (seen.has(page.nextCursor)) throw new PagingError("The server sent the same next-page cursor twice");
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
