import { describe, expect, it, vi } from "vitest";
import { collectPages, nextCursor, nextLinkUrl, PagingError, parseLinkHeader, type Page } from "./paging";

describe("parseLinkHeader", () => {
  it("reads the APIs' next link", () => {
    const header = '<http://localhost:8001/api/persons?limit=3&cursor=WyJB>; rel="next"';
    expect(parseLinkHeader(header)).toEqual([
      { url: "http://localhost:8001/api/persons?limit=3&cursor=WyJB", rel: ["next"], params: { rel: "next" } },
    ]);
  });

  it("reads several links, unquoted and multi-valued rels, and commas inside URLs and quotes", () => {
    const header =
      '<http://x/a?cursor=1,2>; rel=prev, <http://x/b?cursor=3>; title="a, b"; rel="next last" ,<http://x/c>;rel=first';
    const links = parseLinkHeader(header);
    expect(links.map((l) => l.url)).toEqual(["http://x/a?cursor=1,2", "http://x/b?cursor=3", "http://x/c"]);
    expect(links[1]?.rel).toEqual(["next", "last"]);
    expect(links[1]?.params.title).toBe("a, b");
    expect(links[2]?.rel).toEqual(["first"]);
  });

  it("is case-insensitive for rel and empty for no header", () => {
    expect(nextLinkUrl('<http://x/?cursor=a>; REL="Next"')).toBe("http://x/?cursor=a");
    expect(parseLinkHeader(null)).toEqual([]);
    expect(parseLinkHeader("")).toEqual([]);
    expect(parseLinkHeader("garbage, more garbage")).toEqual([]);
  });
});

describe("nextCursor", () => {
  it("extracts and decodes the cursor from the next link", () => {
    expect(nextCursor('<http://localhost:8002/api/locations?person_id=p&cursor=WyIy%3D%3D>; rel="next"')).toBe("WyIy==");
  });

  it("is undefined on the last page (no next link)", () => {
    expect(nextCursor(null)).toBeUndefined();
    expect(nextCursor('<http://x/?cursor=a>; rel="prev"')).toBeUndefined();
  });

  it("accepts a relative next link", () => {
    expect(nextCursor('</api/persons?cursor=abc&limit=2>; rel="next"')).toBe("abc");
  });

  it("refuses a next link without a cursor rather than stopping silently", () => {
    expect(() => nextCursor('<http://x/api/persons?limit=2>; rel="next"')).toThrow(PagingError);
  });
});

describe("collectPages", () => {
  const pages: Record<string, Page<number>> = {
    first: { items: [1, 2], nextCursor: "b" },
    b: { items: [3, 4], nextCursor: "c" },
    c: { items: [5], nextCursor: undefined },
  };

  it("follows cursors to the last page", async () => {
    const fetchPage = vi.fn(async (cursor: string | undefined) => pages[cursor ?? "first"] as Page<number>);
    const result = await collectPages(fetchPage, { maxItems: 100 });
    expect(result).toEqual({ items: [1, 2, 3, 4, 5], truncated: false, pages: 3 });
    expect(fetchPage.mock.calls.map((c) => c[0])).toEqual([undefined, "b", "c"]);
  });

  it("stops at the cap and says so", async () => {
    const fetchPage = vi.fn(async (cursor: string | undefined) => pages[cursor ?? "first"] as Page<number>);
    const result = await collectPages(fetchPage, { maxItems: 3 });
    expect(result).toEqual({ items: [1, 2, 3], truncated: true, pages: 2 });
    expect(fetchPage).toHaveBeenCalledTimes(2);
  });

  it("stops after maxPages", async () => {
    const fetchPage = async (cursor: string | undefined): Promise<Page<number>> => ({ items: [0], nextCursor: `${cursor ?? ""}x` });
    const result = await collectPages(fetchPage, { maxItems: 1000, maxPages: 4 });
    expect(result.pages).toBe(4);
    expect(result.truncated).toBe(true);
  });

  it("fails on a cursor loop", async () => {
    const fetchPage = async (): Promise<Page<number>> => ({ items: [1], nextCursor: "same" });
    await expect(collectPages(fetchPage, { maxItems: 100 })).rejects.toThrow(/same next-page cursor/);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const fetchPage = async (): Promise<Page<number>> => {
      controller.abort();
      return { items: [1], nextCursor: "next" };
    };
    await expect(collectPages(fetchPage, { maxItems: 100, signal: controller.signal })).rejects.toThrow();
  });
});
