import { describe, expect, it } from "vitest";
import {
  defaultPersonQuery,
  formatUtc,
  formatUtcClock,
  formatUtcDayShort,
  inclusiveDays,
  isIsoDate,
  rangeBoundsMs,
  readPersonSearch,
  todayUtc,
  validatePersonQuery,
  writeInputSearch,
  writePersonSearch,
  type PersonQuery,
} from "./dates";

const event = { name: "Demo", startDate: "2026-06-01", endDate: "2026-06-02" };

describe("isIsoDate", () => {
  it("accepts real calendar days only", () => {
    expect(isIsoDate("2026-06-01")).toBe(true);
    expect(isIsoDate("2024-02-29")).toBe(true);
    expect(isIsoDate("2026-02-29")).toBe(false);
    expect(isIsoDate("2026-13-01")).toBe(false);
    expect(isIsoDate("2026-6-1")).toBe(false);
    expect(isIsoDate("2026-06-01T00:00:00Z")).toBe(false);
    expect(isIsoDate("")).toBe(false);
  });
});

describe("defaults", () => {
  it("are the event's days, 5 m and 5 minutes", () => {
    expect(defaultPersonQuery(event)).toEqual({ start: "2026-06-01", end: "2026-06-02", distance: 5, window: 5 });
  });

  it("are today (UTC) without an event", () => {
    // 23:30 in New York on May 31 is already June 1 in UTC.
    const now = new Date("2026-06-01T03:30:00Z");
    expect(todayUtc(now)).toBe("2026-06-01");
    expect(defaultPersonQuery(null, now)).toEqual({ start: "2026-06-01", end: "2026-06-01", distance: 5, window: 5 });
  });
});

describe("the person page's URL", () => {
  const defaults: PersonQuery = { start: "2026-06-01", end: "2026-06-02", distance: 5, window: 5 };

  it("round-trips a query", () => {
    const query: PersonQuery = { start: "2026-06-02", end: "2026-06-02", distance: 12.5, window: null };
    const params = writePersonSearch(query);
    expect(params.toString()).toBe("start=2026-06-02&end=2026-06-02&distance=12.5&window=none");
    const read = readPersonSearch(new URLSearchParams(params.toString()), defaults);
    expect(read.complete).toBe(true);
    expect(read.result).toEqual({ ok: true, query });
  });

  it("writes the documented form", () => {
    expect(writePersonSearch(defaults).toString()).toBe("start=2026-06-01&end=2026-06-02&distance=5&window=5");
  });

  it("fills what the URL leaves out from the defaults", () => {
    const read = readPersonSearch(new URLSearchParams("distance=20"), defaults);
    expect(read.complete).toBe(false);
    expect(read.result).toEqual({ ok: true, query: { ...defaults, distance: 20 } });
    expect(writeInputSearch(read.input).toString()).toBe("start=2026-06-01&end=2026-06-02&distance=20&window=5");
  });

  it("keeps invalid values so they can be shown with their errors", () => {
    const read = readPersonSearch(new URLSearchParams("start=2026-06-02&end=2026-06-01&distance=abc&window=5"), defaults);
    expect(read.input.distance).toBe("abc");
    expect(read.result.ok).toBe(false);
    if (!read.result.ok) {
      expect(read.result.errors.end).toBe("The end date is before the start date.");
      expect(read.result.errors.distance).toBe("Enter a distance in metres.");
    }
  });
});

describe("validatePersonQuery", () => {
  const valid = { start: "2026-06-01", end: "2026-06-02", distance: "5", window: "5" };

  it("accepts a valid query", () => {
    expect(validatePersonQuery(valid)).toEqual({ ok: true, query: { start: "2026-06-01", end: "2026-06-02", distance: 5, window: 5 } });
    expect(validatePersonQuery({ ...valid, window: "none" })).toMatchObject({ ok: true, query: { window: null } });
    expect(validatePersonQuery({ ...valid, end: "2026-06-01" }).ok).toBe(true);
  });

  it("rejects an end before the start before any request", () => {
    expect(validatePersonQuery({ ...valid, start: "2026-06-02", end: "2026-06-01" })).toEqual({
      ok: false,
      errors: { end: "The end date is before the start date." },
    });
  });

  it("accepts any length of range, as the API does (the legacy front end asks for a year)", () => {
    expect(validatePersonQuery({ ...valid, start: "2020-01-01", end: "2020-12-30" }).ok).toBe(true);
  });

  it("checks dates, distance and window", () => {
    const result = validatePersonQuery({ start: "2026-02-30", end: "", distance: "0", window: "1441" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(["distance", "end", "start", "window"]);
    expect(validatePersonQuery({ ...valid, distance: "500" }).ok).toBe(true);
    expect(validatePersonQuery({ ...valid, distance: "500.1" }).ok).toBe(false);
    expect(validatePersonQuery({ ...valid, distance: "-1" }).ok).toBe(false);
    expect(validatePersonQuery({ ...valid, window: "2.5" }).ok).toBe(false);
    expect(validatePersonQuery({ ...valid, window: "0" }).ok).toBe(false);
    expect(validatePersonQuery({ ...valid, window: "1440" }).ok).toBe(true);
  });
});

describe("UTC formatting", () => {
  it("formats every time the same way, in UTC, labelled", () => {
    expect(formatUtc("2026-06-02T09:52:04.984000Z")).toBe("2026-06-02 09:52 UTC");
    expect(formatUtc("2026-06-02T09:52:04.984000Z", { seconds: true })).toBe("2026-06-02 09:52:04 UTC");
    // An offset is converted, not shown as local time.
    expect(formatUtc("2026-06-02T02:00:00-07:00")).toBe("2026-06-02 09:00 UTC");
    expect(formatUtc("not a time")).toBe("—");
  });

  it("has compact axis labels", () => {
    const t = Date.parse("2026-06-01T06:00:00Z");
    expect(formatUtcDayShort(t)).toBe("Jun 1");
    expect(formatUtcClock(t)).toBe("06:00");
  });

  it("counts and bounds ranges of UTC days", () => {
    expect(inclusiveDays("2026-06-01", "2026-06-01")).toBe(1);
    expect(inclusiveDays("2026-06-01", "2026-07-01")).toBe(31);
    expect(rangeBoundsMs("2026-06-01", "2026-06-02")).toEqual([Date.parse("2026-06-01T00:00:00Z"), Date.parse("2026-06-03T00:00:00Z")]);
  });
});
