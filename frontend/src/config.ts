/**
 * The runtime configuration: fetched from `/config.json` (same origin as the page) at startup, so
 * the same build runs against any deployment. Never baked into the bundle.
 */
import { isIsoDate } from "./lib/dates";

export interface EventInfo {
  name: string;
  /** First day of the event, `YYYY-MM-DD` (a UTC day). */
  startDate: string;
  /** Last day of the event, `YYYY-MM-DD`, inclusive. */
  endDate: string;
}

export type Role = "attendee" | "organizer";
export const ROLES: readonly Role[] = ["attendee", "organizer"];

/**
 * Someone the app may act as, with their bearer token: served by local runs (a demo organizer and
 * attendee) so that one can try both without an identity provider. Production serves none.
 */
export interface Identity {
  name: string;
  role: Role;
  /** The person an attendee is (their token's subject); null for an organizer. */
  personId: string | null;
  token: string;
}

export interface RuntimeConfig {
  personApiUrl: string;
  locationApiUrl: string;
  connectionApiUrl: string;
  /** A GeoJSON file with the venue's floor plan, drawn under the map; null: no floor plan. */
  venueUrl: string | null;
  event: EventInfo | null;
  /** Identities to choose from in the header; empty: sign in by pasting a token. */
  identities: readonly Identity[];
}

export const CONFIG_URL = "/config.json";

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(message: string, problems: string[] = []) {
    super(problems.length ? `${message}: ${problems.join("; ")}` : message);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An absolute http(s) URL, or a path on the page's own origin (for a server that proxies the APIs). */
function checkBaseUrl(raw: unknown, key: string, problems: string[]): string {
  if (typeof raw !== "string" || raw.trim() === "") {
    problems.push(`${key} must be a non-empty string`);
    return "";
  }
  const value = raw.trim();
  if (value.startsWith("/") && !value.startsWith("//")) return value.replace(/\/+$/, "");
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      problems.push(`${key} must be an http(s) URL, not ${url.protocol}`);
      return "";
    }
    if (url.search || url.hash) {
      problems.push(`${key} must not have a query or fragment`);
      return "";
    }
  } catch {
    problems.push(`${key} is not a URL: ${JSON.stringify(value)}`);
    return "";
  }
  return value.replace(/\/+$/, "");
}

function checkEvent(raw: unknown, problems: string[]): EventInfo | null {
  if (raw === undefined || raw === null) return null;
  if (!isRecord(raw)) {
    problems.push("event must be an object or null");
    return null;
  }
  const { name, startDate, endDate } = raw;
  const before = problems.length;
  if (typeof name !== "string" || name.trim() === "") problems.push("event.name must be a non-empty string");
  if (typeof startDate !== "string" || !isIsoDate(startDate)) problems.push("event.startDate must be a date YYYY-MM-DD");
  if (typeof endDate !== "string" || !isIsoDate(endDate)) problems.push("event.endDate must be a date YYYY-MM-DD");
  if (problems.length > before) return null;
  if ((endDate as string) < (startDate as string)) {
    problems.push("event.endDate is before event.startDate");
    return null;
  }
  return { name: (name as string).trim(), startDate: startDate as string, endDate: endDate as string };
}

function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

function checkIdentity(raw: unknown, key: string, problems: string[]): Identity | null {
  if (!isRecord(raw)) {
    problems.push(`${key} must be an object`);
    return null;
  }
  const { name, role, personId, token } = raw;
  const before = problems.length;
  if (typeof name !== "string" || name.trim() === "") problems.push(`${key}.name must be a non-empty string`);
  if (!isRole(role)) problems.push(`${key}.role must be one of ${ROLES.join(", ")}`);
  if (personId !== null && (typeof personId !== "string" || personId.trim() === "")) {
    problems.push(`${key}.personId must be a non-empty string or null`);
  }
  // No whitespace: it goes into an Authorization header as is.
  if (typeof token !== "string" || !/^\S+$/.test(token)) problems.push(`${key}.token must be a non-empty string without spaces`);
  if (problems.length > before) return null;
  return {
    name: (name as string).trim(),
    role: role as Role,
    personId: personId === null ? null : (personId as string).trim(),
    token: token as string,
  };
}

/** Optional: absent or null is none. Names must be unique, since the header's choice is kept by name. */
function checkIdentities(raw: unknown, problems: string[]): Identity[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push("identities must be an array or null");
    return [];
  }
  const identities: Identity[] = [];
  raw.forEach((item, index) => {
    const identity = checkIdentity(item, `identities[${index}]`, problems);
    if (!identity) return;
    if (identities.some((other) => other.name === identity.name)) {
      problems.push(`identities[${index}].name ${JSON.stringify(identity.name)} is used twice`);
      return;
    }
    identities.push(identity);
  });
  return identities;
}

/** Checks a parsed config.json; throws a ConfigError listing every problem found. */
export function parseConfig(raw: unknown): RuntimeConfig {
  if (!isRecord(raw)) throw new ConfigError("config.json must be a JSON object");
  const problems: string[] = [];
  const personApiUrl = checkBaseUrl(raw.personApiUrl, "personApiUrl", problems);
  const locationApiUrl = checkBaseUrl(raw.locationApiUrl, "locationApiUrl", problems);
  const connectionApiUrl = checkBaseUrl(raw.connectionApiUrl, "connectionApiUrl", problems);
  let venueUrl: string | null = null;
  if (raw.venueUrl !== undefined && raw.venueUrl !== null) {
    if (typeof raw.venueUrl === "string" && raw.venueUrl.trim() !== "") venueUrl = raw.venueUrl.trim();
    else problems.push("venueUrl must be a non-empty string or null");
  }
  const event = checkEvent(raw.event, problems);
  const identities = checkIdentities(raw.identities, problems);
  if (problems.length) throw new ConfigError("config.json is invalid", problems);
  return { personApiUrl, locationApiUrl, connectionApiUrl, venueUrl, event, identities };
}

/** Fetches and checks `/config.json`. Every failure is a ConfigError with a readable message. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetchImpl(CONFIG_URL, { cache: "no-store", headers: { Accept: "application/json" } });
  } catch (error) {
    throw new ConfigError(`Cannot load ${CONFIG_URL}: the web server did not answer (${String(error)})`);
  }
  if (!response.ok) {
    throw new ConfigError(`Cannot load ${CONFIG_URL}: the web server answered ${response.status} ${response.statusText}`.trim());
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ConfigError(`${CONFIG_URL} is not valid JSON`);
  }
  return parseConfig(body);
}
