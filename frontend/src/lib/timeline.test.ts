import { describe, expect, it } from "vitest";
import { dataExtent, linearScale, tickStep, timelineLayout, timelineRows, timeTicks } from "./timeline";

const H = 3_600_000;
const D = 24 * H;
const t0 = Date.parse("2026-06-01T00:00:00Z");

const contact = (id: string, encounters: number, first: string, last: string, name = id) => ({
  person: { id, first_name: name, last_name: "X" },
  encounters,
  first_seen: first,
  last_seen: last,
});
const ping = (personId: string, time: string) => ({ properties: { person_id: personId, creation_time: time } });

describe("linearScale", () => {
  it("maps the domain onto the range and clamps", () => {
    const x = linearScale([t0, t0 + 2 * D], [100, 500]);
    expect(x(t0)).toBe(100);
    expect(x(t0 + D)).toBe(300);
    expect(x(t0 + 2 * D)).toBe(500);
    expect(x(t0 - D)).toBe(100);
    expect(x(t0 + 3 * D)).toBe(500);
  });

  it("copes with an empty domain", () => {
    expect(linearScale([5, 5], [0, 10])(5)).toBe(0);
  });
});

describe("ticks", () => {
  it("picks round steps for the span", () => {
    expect(tickStep(t0, t0 + 2 * D, 8)).toBe(6 * H);
    expect(tickStep(t0, t0 + 8 * H, 8)).toBe(H);
    expect(tickStep(t0, t0 + 31 * D, 8)).toBe(7 * D);
  });

  it("falls on UTC hours and midnights within the range", () => {
    const { ticks, step } = timeTicks(t0, t0 + 2 * D, 8);
    expect(step).toBe(6 * H);
    expect(ticks[0]).toBe(t0);
    expect(ticks.at(-1)).toBe(t0 + 2 * D);
    expect(ticks).toHaveLength(9);
    const offset = timeTicks(t0 + 30 * 60_000, t0 + 5 * H, 8).ticks;
    expect(offset[0]).toBe(t0 + H);
  });

  it("is empty for an empty range", () => {
    expect(timeTicks(t0, t0).ticks).toEqual([]);
  });
});

describe("timelineRows", () => {
  const contacts = [
    contact("b", 5, "2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z", "Bea"),
    contact("a", 9, "2026-06-01T09:00:00Z", "2026-06-02T12:00:00Z", "Ann"),
    contact("c", 5, "2026-06-01T08:00:00Z", "2026-06-01T08:30:00Z", "Al"),
    contact("d", 1, "2026-06-01T08:00:00Z", "2026-06-01T08:30:00Z", "Dan"),
  ];

  it("keeps the top contacts by encounters, ties by name", () => {
    expect(timelineRows(contacts, [], 3).map((r) => r.personId)).toEqual(["a", "c", "b"]);
  });

  it("gives each row its first/last times and its pings' times, sorted", () => {
    const pings = [
      ping("a", "2026-06-01T11:00:00Z"),
      ping("b", "2026-06-01T10:30:00Z"),
      ping("a", "2026-06-01T09:00:00Z"),
      ping("zzz", "2026-06-01T09:00:00Z"),
      ping("a", "garbage"),
    ];
    const [a, , b] = timelineRows(contacts, pings, 3);
    expect(a).toMatchObject({
      name: "Ann X",
      encounters: 9,
      firstMs: Date.parse("2026-06-01T09:00:00Z"),
      lastMs: Date.parse("2026-06-02T12:00:00Z"),
      pingMs: [Date.parse("2026-06-01T09:00:00Z"), Date.parse("2026-06-01T11:00:00Z")],
    });
    expect(b?.pingMs).toEqual([Date.parse("2026-06-01T10:30:00Z")]);
  });
});

describe("layout and zoom", () => {
  it("places rows and the plot", () => {
    const layout = timelineLayout(t0, t0 + D, 3, { width: 800, labelWidth: 170, rowHeight: 28, axisHeight: 40, paddingRight: 16 });
    expect(layout.plot).toEqual({ left: 170, right: 784, top: 8, bottom: 8 + 84 });
    expect(layout.height).toBe(8 + 84 + 40);
    expect(layout.rowY(0)).toBe(22);
    expect(layout.rowY(2)).toBe(78);
    expect(layout.x(t0)).toBe(170);
    expect(layout.x(t0 + D)).toBe(784);
  });

  it("zooms to whole hours around the encounters, within the range", () => {
    const rows = timelineRows(
      [contact("a", 1, "2026-06-02T09:52:00Z", "2026-06-02T16:59:00Z"), contact("b", 1, "2026-06-02T10:10:00Z", "2026-06-02T17:20:00Z")],
      [],
    );
    expect(dataExtent(rows, [t0, t0 + 2 * D])).toEqual([Date.parse("2026-06-02T09:00:00Z"), Date.parse("2026-06-02T18:00:00Z")]);
    expect(dataExtent([], [t0, t0 + D])).toBeNull();
  });
});
