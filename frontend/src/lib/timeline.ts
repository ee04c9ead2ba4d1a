/**
 * The timeline chart's arithmetic: a linear time scale, tick positions on round UTC times, and one
 * row per contact (the most encountered first) with the times of their loaded connection pings.
 */
import { fullName } from "./people";

export type Scale = (value: number) => number;

/** Maps [d0, d1] onto [r0, r1] linearly, clamping outside values to the ends. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  return (value) => {
    if (span <= 0) return r0;
    const t = Math.min(1, Math.max(0, (value - d0) / span));
    return r0 + t * (r1 - r0);
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/** The smallest round step giving at most `maxTicks` ticks across [start, end]. */
export function tickStep(startMs: number, endMs: number, maxTicks: number): number {
  const span = Math.max(0, endMs - startMs);
  return STEPS.find((step) => span / step <= maxTicks) ?? Math.ceil(span / maxTicks / DAY) * DAY;
}

/** Tick times on multiples of the step (UTC; multiples of a day fall on midnight UTC), within [start, end]. */
export function timeTicks(startMs: number, endMs: number, maxTicks = 8): { step: number; ticks: number[] } {
  if (!(endMs > startMs)) return { step: DAY, ticks: [] };
  const step = tickStep(startMs, endMs, maxTicks);
  const ticks: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) ticks.push(t);
  return { step, ticks };
}

export interface TimelineContact {
  person: { id: string; first_name: string; last_name: string };
  encounters: number;
  first_seen: string;
  last_seen: string;
}

export interface TimelinePing {
  properties: { person_id: string; creation_time: string };
}

export interface TimelineRow {
  personId: string;
  name: string;
  encounters: number;
  firstMs: number;
  lastMs: number;
  /** Times of this person's connection pings among those loaded, ascending. */
  pingMs: number[];
}

/** The top `maxRows` contacts by encounters (then name), each with its pings' times. */
export function timelineRows(
  contacts: readonly TimelineContact[],
  pings: readonly TimelinePing[],
  maxRows = 10,
): TimelineRow[] {
  const top = [...contacts]
    .sort((a, b) => b.encounters - a.encounters || fullName(a.person).localeCompare(fullName(b.person)) || a.person.id.localeCompare(b.person.id))
    .slice(0, maxRows);
  const wanted = new Map<string, number[]>(top.map((c) => [c.person.id, []]));
  for (const ping of pings) {
    const times = wanted.get(ping.properties.person_id);
    if (!times) continue;
    const ms = Date.parse(ping.properties.creation_time);
    if (!Number.isNaN(ms)) times.push(ms);
  }
  return top.map((contact) => ({
    personId: contact.person.id,
    name: fullName(contact.person),
    encounters: contact.encounters,
    firstMs: Date.parse(contact.first_seen),
    lastMs: Date.parse(contact.last_seen),
    pingMs: (wanted.get(contact.person.id) ?? []).sort((a, b) => a - b),
  }));
}

export interface TimelineLayout {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  rowHeight: number;
  x: Scale;
  /** Vertical centre of row i. */
  rowY: (index: number) => number;
  ticks: number[];
  tickStep: number;
}

/** Where everything goes in an SVG of the given width, for `rowCount` rows over [startMs, endMs]. */
export function timelineLayout(
  startMs: number,
  endMs: number,
  rowCount: number,
  { width = 800, labelWidth = 170, rowHeight = 28, axisHeight = 40, paddingRight = 16, maxTicks = 8 } = {},
): TimelineLayout {
  const plot = { left: labelWidth, right: width - paddingRight, top: 8, bottom: 8 + rowCount * rowHeight };
  const { ticks, step } = timeTicks(startMs, endMs, maxTicks);
  return {
    width,
    height: plot.bottom + axisHeight,
    plot,
    rowHeight,
    x: linearScale([startMs, endMs], [plot.left, plot.right]),
    rowY: (index) => plot.top + index * rowHeight + rowHeight / 2,
    ticks,
    tickStep: step,
  };
}

const HOUR_MS = 3_600_000;

/**
 * The span of the rows' encounters, widened to whole hours (UTC) and kept within `within`; null
 * when there is nothing to zoom to.
 */
export function dataExtent(rows: readonly TimelineRow[], within: [number, number]): [number, number] | null {
  let first = Infinity;
  let last = -Infinity;
  for (const row of rows) {
    if (Number.isFinite(row.firstMs)) first = Math.min(first, row.firstMs);
    if (Number.isFinite(row.lastMs)) last = Math.max(last, row.lastMs);
  }
  if (!Number.isFinite(first) || !Number.isFinite(last)) return null;
  const start = Math.max(within[0], Math.floor(first / HOUR_MS) * HOUR_MS);
  const end = Math.min(within[1], Math.max(Math.ceil(last / HOUR_MS) * HOUR_MS, start + HOUR_MS));
  return end > start ? [start, end] : null;
}
