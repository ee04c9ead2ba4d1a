/**
 * What each screen fetches, as react-query options (keys, functions, paging), shared by the
 * components and by the prefetch that starts a person page's requests before its code arrives.
 */
import { infiniteQueryOptions, QueryClient, queryOptions } from "@tanstack/react-query";
import type { GeoJsonObject } from "geojson";
import { isGeoJson } from "../lib/geo";
import {
  allConnectionFeatures,
  allContacts,
  allLocationFeatures,
  getPerson,
  listConnectionFeatures,
  listPersons,
  type ApiClients,
  type EncounterQuery,
} from "./client";
import { ApiError, isApiError } from "./errors";

export const PEOPLE_PAGE_SIZE = 30;
/** The connections list: pages a person reads through. */
export const CONNECTIONS_PAGE_SIZE = 100;
/** Meeting places on the map and ticks on the timeline: the first few pages, up to this many pings. */
export const MAX_MEETING_PINGS = 3000;
/** Own pings drawn on the map: every page up to this many. */
export const MAX_OWN_PINGS = 5000;
export const MAX_CONTACTS = 5000;

function encounterKey(query: EncounterQuery) {
  return [query.start, query.end, query.distance, query.window ?? "none"] as const;
}

// Every API query key starts with the session's key: what one identity was answered is never shown
// to another, and a request still running for the previous one lands where nobody looks.

/** The start of every people list's key (to refresh them all once someone new is stored). */
export function personsListKey(api: ApiClients) {
  return [api.sessionKey, "persons", "list"] as const;
}

export function peopleQueryOptions(api: ApiClients, q: string) {
  return infiniteQueryOptions({
    queryKey: [...personsListKey(api), q],
    queryFn: ({ pageParam, signal }) => listPersons(api, { q: q || undefined, cursor: pageParam, limit: PEOPLE_PAGE_SIZE }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
}

export function personQueryOptions(api: ApiClients, id: string) {
  return queryOptions({
    queryKey: [api.sessionKey, "persons", "one", id],
    queryFn: ({ signal }) => getPerson(api, id, signal),
  });
}

export function contactsQueryOptions(api: ApiClients, id: string, query: EncounterQuery) {
  return queryOptions({
    queryKey: [api.sessionKey, "contacts", id, ...encounterKey(query)],
    queryFn: ({ signal }) => allContacts(api, id, query, { maxItems: MAX_CONTACTS, signal }),
  });
}

export function connectionsQueryOptions(api: ApiClients, id: string, query: EncounterQuery) {
  return infiniteQueryOptions({
    queryKey: [api.sessionKey, "connections", "list", id, ...encounterKey(query)],
    queryFn: ({ pageParam, signal }) => listConnectionFeatures(api, id, query, pageParam, CONNECTIONS_PAGE_SIZE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
}

export function meetingPingsQueryOptions(api: ApiClients, id: string, query: EncounterQuery) {
  return queryOptions({
    queryKey: [api.sessionKey, "connections", "sample", id, ...encounterKey(query)],
    queryFn: ({ signal }) => allConnectionFeatures(api, id, query, { maxItems: MAX_MEETING_PINGS, signal }),
  });
}

export function locationsQueryOptions(api: ApiClients, id: string, range: { start: string; end: string }) {
  return queryOptions({
    queryKey: [api.sessionKey, "locations", id, range.start, range.end],
    queryFn: ({ signal }) => allLocationFeatures(api, id, range, { maxItems: MAX_OWN_PINGS, signal }),
  });
}

const VENUE_KEY = "venue";

/** Removes every query of another session (their keys start with another session key); the floor plan, the same for all, stays. */
export function forgetOtherSessions(client: QueryClient, sessionKey: string): void {
  client.removeQueries({ predicate: ({ queryKey }) => queryKey[0] !== sessionKey && queryKey[0] !== VENUE_KEY });
}

/** The venue's floor plan: a static GeoJSON file on the page's own server (not one of the APIs). */
export function venueQueryOptions(url: string) {
  return queryOptions({
    queryKey: [VENUE_KEY, url],
    queryFn: async ({ signal }): Promise<GeoJsonObject> => {
      let response: Response;
      try {
        response = await fetch(url, { signal, headers: { Accept: "application/geo+json, application/json" } });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new ApiError({ service: "venue", status: null, title: "Floor plan unreachable", detail: `Cannot load the venue floor plan from ${url}.`, cause: error });
      }
      if (!response.ok) {
        throw new ApiError({ service: "venue", status: response.status, title: `HTTP ${response.status}`, detail: `The venue floor plan (${url}) answered ${response.status}.` });
      }
      const body: unknown = await response.json().catch(() => undefined);
      if (!isGeoJson(body)) {
        throw new ApiError({ service: "venue", status: response.status, title: "Not GeoJSON", detail: `The venue floor plan (${url}) is not a GeoJSON document.` });
      }
      return body;
    },
    staleTime: Infinity,
  });
}

/** Starts a person page's requests at once, in parallel, while its code is still loading: the map's floor
 * plan too, which the map's own (lazily loaded) code would otherwise only ask for once it arrived. */
export function prefetchPersonPage(
  client: QueryClient,
  api: ApiClients,
  id: string,
  query: EncounterQuery,
  venueUrl: string | null = null,
): void {
  if (venueUrl) void client.prefetchQuery(venueQueryOptions(venueUrl));
  void client.prefetchQuery(personQueryOptions(api, id));
  void client.prefetchQuery(contactsQueryOptions(api, id, query));
  void client.prefetchQuery(locationsQueryOptions(api, id, query));
  void client.prefetchInfiniteQuery(connectionsQueryOptions(api, id, query));
  void client.prefetchQuery(meetingPingsQueryOptions(api, id, query));
}

const MAX_RETRY_WAIT_SECONDS = 10;

/** Retries: never for a 4xx (asking again will not help), up to twice for network failures, 5xx and 429. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (isApiError(error) && error.isClientError) return false;
  // Asked to wait longer than we would: asking sooner is refused again, so say so at once.
  if (isApiError(error) && error.status === 429 && (error.retryAfterSeconds ?? 0) > MAX_RETRY_WAIT_SECONDS) return false;
  return failureCount < 2;
}

/** Waits between retries: Retry-After when the service sent one (capped), else 0.5 s, 1 s, 2 s … */
export function retryDelay(failureCount: number, error: unknown): number {
  if (isApiError(error) && error.retryAfterSeconds !== undefined) return Math.min(error.retryAfterSeconds, MAX_RETRY_WAIT_SECONDS) * 1000;
  return Math.min(500 * 2 ** failureCount, 4000);
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        retryDelay,
        staleTime: 30_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}
