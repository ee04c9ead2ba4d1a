/**
 * Dates and the person page's query. The APIs count in UTC days (`YYYY-MM-DD`, both ends
 * inclusive), so everything here is UTC: parsing, defaults, formatting.
 */
import type { EventInfo } from "../config";

/** The APIs' limits, checked against the connection API's OpenAPI document by `limits.test.ts`.
 * A date range has no maximum: the API bounds what a request costs, not how long its range is. */
export const MIN_DISTANCE_M = 0.01;
export const MAX_DISTANCE_M = 500;
export const MIN_WINDOW_MIN = 1;
export const MAX_WINDOW_MIN = 1440;
export const DEFAULT_DISTANCE_M = 5;
export const DEFAULT_WINDOW_MIN = 5;

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day written `YYYY-MM-DD` (so 2026-02-30 is not one). */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Midnight UTC at the start of a `YYYY-MM-DD` day, in epoch milliseconds. */
export function dayStartMs(isoDate: string): number {
  return Date.parse(`${isoDate}T00:00:00Z`);
}

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** How many days `start..end` covers, both ends included (the same day: 1). */
export function inclusiveDays(start: string, end: string): number {
  return Math.round((dayStartMs(end) - dayStartMs(start)) / DAY_MS) + 1;
}

/** The time range a query covers: from the start day's midnight to the midnight after the end day. */
export function rangeBoundsMs(start: string, end: string): [number, number] {
  return [dayStartMs(start), dayStartMs(end) + DAY_MS];
}

/** What the person page asks the APIs. `window: null` means no time check (any time in the range). */
export interface PersonQuery {
  start: string;
  end: string;
  distance: number;
  window: number | null;
}

/** The query as typed into the form or found in the URL, before validation. */
export interface PersonQueryInput {
  start: string;
  end: string;
  distance: string;
  /** Minutes, or "none" for no time window. */
  window: string;
}

export type PersonQueryField = keyof PersonQueryInput;
export type PersonQueryErrors = Partial<Record<PersonQueryField, string>>;

export type PersonQueryResult = { ok: true; query: PersonQuery } | { ok: false; errors: PersonQueryErrors };

/** The event's days when the config names an event, else today; distance 5 m, window 5 minutes. */
export function defaultPersonQuery(event: EventInfo | null, now: Date = new Date()): PersonQuery {
  const today = todayUtc(now);
  return {
    start: event?.startDate ?? today,
    end: event?.endDate ?? today,
    distance: DEFAULT_DISTANCE_M,
    window: DEFAULT_WINDOW_MIN,
  };
}

export function toInput(query: PersonQuery): PersonQueryInput {
  return {
    start: query.start,
    end: query.end,
    distance: String(query.distance),
    window: query.window === null ? "none" : String(query.window),
  };
}

/** Checks a query before any request is sent, with the same rules and limits as the APIs. */
export function validatePersonQuery(input: PersonQueryInput): PersonQueryResult {
  const errors: PersonQueryErrors = {};
  const start = input.start.trim();
  const end = input.end.trim();
  if (!isIsoDate(start)) errors.start = "Enter a start date (YYYY-MM-DD).";
  if (!isIsoDate(end)) errors.end = "Enter an end date (YYYY-MM-DD).";
  if (!errors.start && !errors.end) {
    if (end < start) errors.end = "The end date is before the start date.";
  }

  const distanceText = input.distance.trim();
  const distance = Number(distanceText);
  if (distanceText === "" || !Number.isFinite(distance)) errors.distance = "Enter a distance in metres.";
  else if (distance < MIN_DISTANCE_M || distance > MAX_DISTANCE_M)
    errors.distance = `The distance must be at least ${MIN_DISTANCE_M} m and at most ${MAX_DISTANCE_M} m.`;

  const windowText = input.window.trim().toLowerCase();
  let window: number | null = null;
  if (windowText !== "none") {
    const minutes = Number(windowText);
    if (windowText === "" || !Number.isInteger(minutes) || minutes < MIN_WINDOW_MIN || minutes > MAX_WINDOW_MIN)
      errors.window = `The window must be a whole number of minutes from ${MIN_WINDOW_MIN} to ${MAX_WINDOW_MIN}, or no window.`;
    else window = minutes;
  }

  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, query: { start, end, distance, window } };
}

const SEARCH_KEYS = { start: "start", end: "end", distance: "distance", window: "window" } as const;

/**
 * Reads the person page's query from its URL (`?start=&end=&distance=&window=`); what the URL
 * leaves out comes from `defaults`. `complete` says whether the URL already held every value.
 */
export function readPersonSearch(
  params: URLSearchParams,
  defaults: PersonQuery,
): { input: PersonQueryInput; result: PersonQueryResult; complete: boolean } {
  const fallback = toInput(defaults);
  const input: PersonQueryInput = {
    start: params.get(SEARCH_KEYS.start) ?? fallback.start,
    end: params.get(SEARCH_KEYS.end) ?? fallback.end,
    distance: params.get(SEARCH_KEYS.distance) ?? fallback.distance,
    window: params.get(SEARCH_KEYS.window) ?? fallback.window,
  };
  const complete = Object.values(SEARCH_KEYS).every((key) => params.has(key));
  return { input, result: validatePersonQuery(input), complete };
}

/** The URL query for a person page: `start=2026-06-01&end=2026-06-02&distance=5&window=5` (or `window=none`). */
export function writePersonSearch(query: PersonQuery): URLSearchParams {
  return writeInputSearch(toInput(query));
}

/** The same for values not (yet) validated, so a URL keeps what the person typed, valid or not. */
export function writeInputSearch(input: PersonQueryInput): URLSearchParams {
  return new URLSearchParams([
    [SEARCH_KEYS.start, input.start],
    [SEARCH_KEYS.end, input.end],
    [SEARCH_KEYS.distance, input.distance],
    [SEARCH_KEYS.window, input.window],
  ]);
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** `2026-06-02 09:52 UTC` (or with seconds): one format for every time the app shows. */
export function formatUtc(iso: string | number | Date, options: { seconds?: boolean } = {}): string {
  const date = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}${options.seconds ? `:${pad(date.getUTCSeconds())}` : ""}`;
  return `${day} ${time} UTC`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Jun 1` (a UTC day), for compact labels such as chart axes. */
export function formatUtcDayShort(ms: number): string {
  const date = new Date(ms);
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
}

/** `09:00` (UTC), for chart axes. */
export function formatUtcClock(ms: number): string {
  const date = new Date(ms);
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}

/** A human description of a range of UTC days: `2026-06-01 – 2026-06-02` or one day. */
export function describeRange(start: string, end: string): string {
  return start === end ? start : `${start} – ${end}`;
}
