/**
 * The typed API clients (openapi-fetch over the types generated from each service's OpenAPI
 * document) and the calls the app makes with them. Every call turns failures into an ApiError
 * that names its service; list calls answer a Page with the next cursor from the Link header.
 */
import createClient, { type Client } from "openapi-fetch";
import type { RuntimeConfig } from "../config";
import type { components as ConnectionComponents, paths as ConnectionPaths } from "./generated/connection";
import type { components as LocationComponents, paths as LocationPaths } from "./generated/location";
import type { components as PersonComponents, paths as PersonPaths } from "./generated/person";
import { errorFromResponse, isAbortError, networkError, type ServiceName, ApiError } from "./errors";
import { collectPages, nextCursor, PagingError, type CollectedPages, type Page } from "./paging";

export type Person = PersonComponents["schemas"]["PersonPublic"];
export type PersonCreate = PersonComponents["schemas"]["PersonCreate"];
export type ExportFormat = PersonComponents["schemas"]["ExportFormat"];
export type DeletionAccepted = PersonComponents["schemas"]["DeletionAccepted"];
export type Contact = ConnectionComponents["schemas"]["Contact"];
export type ConnectionFeature = ConnectionComponents["schemas"]["ConnectionFeature"];
export type LocationFeature = LocationComponents["schemas"]["LocationFeature"];
type LocationPublic = LocationComponents["schemas"]["LocationPublic"];
type Connection = ConnectionComponents["schemas"]["Connection"];

export interface ApiClients {
  person: Client<PersonPaths>;
  location: Client<LocationPaths>;
  connection: Client<ConnectionPaths>;
  baseUrls: Record<Exclude<ServiceName, "venue">, string>;
  /** Whose clients these are (see SessionValue.sessionKey): the first part of every query key. */
  sessionKey: string;
}

export interface ClientAuth {
  /** Sent as `Authorization: Bearer <token>` on every call; null: no header at all. */
  token?: string | null;
  sessionKey?: string;
}

export function createApiClients(
  config: Pick<RuntimeConfig, "personApiUrl" | "locationApiUrl" | "connectionApiUrl">,
  fetchImpl?: (request: Request) => Promise<Response>,
  { token = null, sessionKey = "anonymous" }: ClientAuth = {},
): ApiClients {
  const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
  const options = (baseUrl: string) => ({ baseUrl, ...(headers && { headers }), ...(fetchImpl && { fetch: fetchImpl }) });
  return {
    person: createClient<PersonPaths>(options(config.personApiUrl)),
    location: createClient<LocationPaths>(options(config.locationApiUrl)),
    connection: createClient<ConnectionPaths>(options(config.connectionApiUrl)),
    baseUrls: {
      person: config.personApiUrl,
      location: config.locationApiUrl,
      connection: config.connectionApiUrl,
    },
    sessionKey,
  };
}

const GEOJSON = { Accept: "application/geo+json" } as const;

/** The parts of an openapi-fetch answer we look at. */
interface Answer<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/** Awaits a client call: a thrown fetch becomes a network ApiError, an error status a problem ApiError. */
async function settle<D>(
  api: ApiClients,
  service: Exclude<ServiceName, "venue">,
  call: () => Promise<Answer<D>>,
): Promise<{ data: D; response: Response }> {
  let answer: Answer<D>;
  try {
    answer = await call();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw networkError(service, api.baseUrls[service], error);
  }
  const { data, error, response } = answer;
  if (!response.ok || error !== undefined) throw errorFromResponse(service, response, error);
  if (data === undefined) {
    throw new ApiError({ service, status: response.status, title: "Empty answer", detail: `The ${service} service answered ${response.status} without a body.` });
  }
  return { data, response };
}

function pageOf<T>(service: Exclude<ServiceName, "venue">, response: Response, items: T[]): Page<T> {
  try {
    return { items, nextCursor: nextCursor(response.headers.get("Link")) };
  } catch (error) {
    if (error instanceof PagingError) {
      throw new ApiError({ service, status: response.status, title: "Unreadable paging link", detail: error.message });
    }
    throw error;
  }
}

// Persons ---------------------------------------------------------------------------------------

export async function listPersons(
  api: ApiClients,
  params: { q?: string | undefined; cursor?: string | undefined; limit?: number },
  signal?: AbortSignal,
): Promise<Page<Person>> {
  const { data, response } = await settle(api, "person", () =>
    api.person.GET("/api/persons", {
      params: { query: { q: params.q || undefined, cursor: params.cursor, limit: params.limit } },
      signal,
    }),
  );
  return pageOf("person", response, data);
}

export async function getPerson(api: ApiClients, id: string, signal?: AbortSignal): Promise<Person> {
  const { data } = await settle(api, "person", () =>
    api.person.GET("/api/persons/{person_id}", { params: { path: { person_id: id } }, signal }),
  );
  return data;
}

/** Accepts a new person: 202 with its id, stored shortly after. The key makes a retry safe. */
export async function createPerson(api: ApiClients, body: PersonCreate, idempotencyKey: string): Promise<Person> {
  const { data } = await settle(api, "person", () =>
    api.person.POST("/api/persons", { body, headers: { "Idempotency-Key": idempotencyKey } }),
  );
  return data;
}

/** The file name an export is saved as: the server's (Content-Disposition), else `udaconnect-<id>.<format>`. */
export function exportFilename(contentDisposition: string | null, personId: string, format: ExportFormat): string {
  const fallback = `udaconnect-${personId}.${format}`;
  if (!contentDisposition) return fallback;
  let name: string | undefined;
  const extended = /filename\*\s*=\s*utf-8''([^;]+)/i.exec(contentDisposition);
  if (extended?.[1]) {
    try {
      name = decodeURIComponent(extended[1].trim());
    } catch {
      name = undefined;
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(contentDisposition);
    name = plain?.[1]?.replace(/\\(.)/g, "$1") ?? plain?.[2];
  }
  // Only a plain file name: no folders, no control characters.
  const safe = name
    ?.split(/[/\\]/)
    .pop()
    ?.replace(/[\u0000-\u001f\u007f]/g, "")
    .trim();
  return safe && safe !== "." && safe !== ".." ? safe : fallback;
}

export interface PersonExport {
  blob: Blob;
  filename: string;
}

/** Everything stored about a person, as a file to save (the bearer token is sent, as on every call). */
export async function exportPerson(api: ApiClients, id: string, format: ExportFormat, signal?: AbortSignal): Promise<PersonExport> {
  const { data, response } = await settle(api, "person", () =>
    api.person.GET("/api/persons/{person_id}/export", {
      params: { path: { person_id: id }, query: { format } },
      parseAs: "blob",
      signal,
    }),
  );
  return { blob: data, filename: exportFilename(response.headers.get("Content-Disposition"), id, format) };
}

/** Asks to forget a person and every ping of theirs: 202, applied shortly after (GET then answers 404). */
export async function deletePerson(api: ApiClients, id: string): Promise<DeletionAccepted> {
  const { data } = await settle(api, "person", () => api.person.DELETE("/api/persons/{person_id}", { params: { path: { person_id: id } } }));
  return data;
}

// Encounters ------------------------------------------------------------------------------------

export interface EncounterQuery {
  start: string;
  end: string;
  distance: number;
  window: number | null;
}

function encounterParams(query: EncounterQuery) {
  return {
    start_date: query.start,
    end_date: query.end,
    distance: query.distance,
    window: query.window ?? undefined,
  };
}

export async function listContacts(
  api: ApiClients,
  personId: string,
  query: EncounterQuery,
  cursor: string | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<Page<Contact>> {
  const { data, response } = await settle(api, "connection", () =>
    api.connection.GET("/api/persons/{person_id}/contacts", {
      params: { path: { person_id: personId }, query: { ...encounterParams(query), cursor, limit } },
      signal,
    }),
  );
  return pageOf("connection", response, data);
}

/** Every contact (one row per person met), following pages up to `maxItems`. */
export function allContacts(
  api: ApiClients,
  personId: string,
  query: EncounterQuery,
  { maxItems = 5000, signal }: { maxItems?: number; signal?: AbortSignal } = {},
): Promise<CollectedPages<Contact>> {
  return collectPages((cursor) => listContacts(api, personId, query, cursor, 1000, signal), { maxItems, signal });
}

function connectionToFeature(connection: Connection): ConnectionFeature {
  const { location, person } = connection;
  return {
    type: "Feature",
    id: location.id,
    geometry: { type: "Point", coordinates: [location.longitude, location.latitude] },
    properties: { creation_time: location.creation_time, person_id: location.person_id, person },
  };
}

/** One page of the other persons' pings near the person's, as GeoJSON features. */
export async function listConnectionFeatures(
  api: ApiClients,
  personId: string,
  query: EncounterQuery,
  cursor: string | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<Page<ConnectionFeature>> {
  const { data, response } = await settle(api, "connection", () =>
    api.connection.GET("/api/persons/{person_id}/connection", {
      params: { path: { person_id: personId }, query: { ...encounterParams(query), cursor, limit } },
      headers: GEOJSON,
      signal,
    }),
  );
  // A server that ignores Accept answers the JSON array: same data, other shape.
  // (openapi-fetch widens the [lng, lat] tuple to number[]; the schema says two numbers.)
  const features = Array.isArray(data) ? data.map(connectionToFeature) : (data.features as ConnectionFeature[]);
  return pageOf("connection", response, features);
}

/** The other persons' pings near the person's, every page up to `maxItems` (for the map and timeline). */
export function allConnectionFeatures(
  api: ApiClients,
  personId: string,
  query: EncounterQuery,
  { maxItems = 3000, signal }: { maxItems?: number; signal?: AbortSignal } = {},
): Promise<CollectedPages<ConnectionFeature>> {
  return collectPages((cursor) => listConnectionFeatures(api, personId, query, cursor, Math.min(1000, maxItems), signal), {
    maxItems,
    signal,
  });
}

function locationToFeature(location: LocationPublic): LocationFeature {
  return {
    type: "Feature",
    id: location.id,
    geometry: { type: "Point", coordinates: [location.longitude, location.latitude] },
    properties: { creation_time: location.creation_time, person_id: location.person_id },
  };
}

export async function listLocationFeatures(
  api: ApiClients,
  personId: string,
  range: { start: string; end: string },
  cursor: string | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<Page<LocationFeature>> {
  const { data, response } = await settle(api, "location", () =>
    api.location.GET("/api/locations", {
      params: { query: { person_id: personId, start_date: range.start, end_date: range.end, cursor, limit } },
      headers: GEOJSON,
      signal,
    }),
  );
  const features = Array.isArray(data) ? data.map(locationToFeature) : (data.features as LocationFeature[]);
  return pageOf("location", response, features);
}

/** The person's own pings in the range, every page up to `maxItems`. */
export function allLocationFeatures(
  api: ApiClients,
  personId: string,
  range: { start: string; end: string },
  { maxItems = 5000, signal }: { maxItems?: number; signal?: AbortSignal } = {},
): Promise<CollectedPages<LocationFeature>> {
  return collectPages((cursor) => listLocationFeatures(api, personId, range, cursor, 1000, signal), {
    maxItems,
    signal,
  });
}
