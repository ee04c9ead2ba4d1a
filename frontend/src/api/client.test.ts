import { describe, expect, it } from "vitest";
import { fakeFetch, json, problem, TEST_CONFIG } from "../test/fakeFetch";
import {
  allContacts,
  allLocationFeatures,
  createApiClients,
  createPerson,
  getPerson,
  listConnectionFeatures,
  listPersons,
} from "./client";
import { ApiError } from "./errors";

const query = { start: "2026-06-01", end: "2026-06-02", distance: 5, window: 5 };
const person = { id: "p1", first_name: "Ada", last_name: "Lovelace", company_name: "Engines" };

function locationPage(ids: string[], next?: string) {
  return json(
    {
      type: "FeatureCollection",
      features: ids.map((id) => ({
        type: "Feature",
        id,
        geometry: { type: "Point", coordinates: [-122.401, 37.784] },
        properties: { person_id: "p1", creation_time: "2026-06-01T10:00:00Z" },
      })),
    },
    {
      headers: {
        "Content-Type": "application/geo+json",
        ...(next ? { Link: `<http://location.test/api/locations?person_id=p1&cursor=${next}>; rel="next"` } : {}),
      },
    },
  );
}

describe("listPersons", () => {
  it("sends q, limit and cursor, and answers the next cursor from the Link header", async () => {
    const { fetch, calls } = fakeFetch(() =>
      json([person], { headers: { Link: '<http://person.test/api/persons?limit=1&cursor=NEXT>; rel="next"' } }),
    );
    const api = createApiClients(TEST_CONFIG, fetch);
    const page = await listPersons(api, { q: "ada", cursor: "C1", limit: 1 });
    expect(page).toEqual({ items: [person], nextCursor: "NEXT" });
    const url = calls[0]!.url;
    expect(url.origin + url.pathname).toBe("http://person.test/api/persons");
    expect(Object.fromEntries(url.searchParams)).toEqual({ q: "ada", cursor: "C1", limit: "1" });
  });

  it("leaves out an empty search", async () => {
    const { fetch, calls } = fakeFetch(() => json([]));
    await listPersons(createApiClients(TEST_CONFIG, fetch), { q: "" });
    expect(calls[0]!.url.searchParams.has("q")).toBe(false);
  });
});

describe("following pages", () => {
  it("follows every location page with the same parameters and the next cursor", async () => {
    const { fetch, calls } = fakeFetch(({ url }) => {
      const cursor = url.searchParams.get("cursor");
      if (!cursor) return locationPage(["a", "b"], "c2");
      if (cursor === "c2") return locationPage(["c", "d"], "c3");
      return locationPage(["e"]);
    });
    const api = createApiClients(TEST_CONFIG, fetch);
    const result = await allLocationFeatures(api, "p1", query);
    expect(result.items.map((f) => f.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(result.truncated).toBe(false);
    expect(calls.map((c) => c.url.searchParams.get("cursor"))).toEqual([null, "c2", "c3"]);
    for (const call of calls) {
      expect(call.url.searchParams.get("person_id")).toBe("p1");
      expect(call.url.searchParams.get("start_date")).toBe("2026-06-01");
      expect(call.url.searchParams.get("end_date")).toBe("2026-06-02");
      expect(call.headers.get("Accept")).toBe("application/geo+json");
    }
  });

  it("stops at the cap", async () => {
    const { fetch, calls } = fakeFetch(({ url }) => locationPage([`x${url.searchParams.get("cursor") ?? 0}`], `${Number(url.searchParams.get("cursor") ?? 0) + 1}`));
    const result = await allLocationFeatures(createApiClients(TEST_CONFIG, fetch), "p1", query, { maxItems: 3 });
    expect(result.items).toHaveLength(3);
    expect(result.truncated).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it("sends the encounter parameters, leaving out window when there is none", async () => {
    const { fetch, calls } = fakeFetch(() => json([]));
    const api = createApiClients(TEST_CONFIG, fetch);
    await allContacts(api, "p1", { ...query, window: null, distance: 2.5 });
    const params = Object.fromEntries(calls[0]!.url.searchParams);
    expect(calls[0]!.url.pathname).toBe("/api/persons/p1/contacts");
    expect(params).toEqual({ start_date: "2026-06-01", end_date: "2026-06-02", distance: "2.5", limit: "1000" });
  });
});

describe("connections as GeoJSON", () => {
  it("reads a FeatureCollection", async () => {
    const feature = {
      type: "Feature",
      id: "l1",
      geometry: { type: "Point", coordinates: [-122.4, 37.78] },
      properties: { person_id: "p2", creation_time: "2026-06-01T10:00:00Z", person },
    };
    const { fetch, calls } = fakeFetch(() => json({ type: "FeatureCollection", features: [feature] }, { headers: { "Content-Type": "application/geo+json" } }));
    const page = await listConnectionFeatures(createApiClients(TEST_CONFIG, fetch), "p1", query, undefined, 100);
    expect(page.items).toEqual([feature]);
    expect(page.nextCursor).toBeUndefined();
    expect(calls[0]!.url.searchParams.get("window")).toBe("5");
  });

  it("also takes the JSON array a server sends when it ignores Accept", async () => {
    const connection = {
      person,
      location: { id: "l1", person_id: "p1", latitude: 37.78, longitude: -122.4, creation_time: "2026-06-01T10:00:00Z" },
    };
    const { fetch } = fakeFetch(() => json([connection]));
    const page = await listConnectionFeatures(createApiClients(TEST_CONFIG, fetch), "p1", query, undefined, 100);
    expect(page.items[0]?.geometry.coordinates).toEqual([-122.4, 37.78]);
    expect(page.items[0]?.properties.person).toEqual(person);
  });
});

describe("errors", () => {
  it("turns a problem document into an ApiError naming the service", async () => {
    const { fetch } = fakeFetch(() => problem(422, "Invalid request", "end_date: end_date (2026-06-01) is before start_date (2026-06-02)"));
    const error = await allContacts(createApiClients(TEST_CONFIG, fetch), "p1", query).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.service).toBe("connection");
    expect(apiError.status).toBe(422);
    expect(apiError.detail).toContain("before start_date");
    expect(apiError.isClientError).toBe(true);
    expect(apiError.message).toBe("Connection service: end_date: end_date (2026-06-01) is before start_date (2026-06-02)");
  });

  it("names the unreachable service when fetch throws", async () => {
    const api = createApiClients(TEST_CONFIG, async () => {
      throw new TypeError("Failed to fetch");
    });
    const error = (await getPerson(api, "p1").catch((e: unknown) => e)) as ApiError;
    expect(error.isNetworkError).toBe(true);
    expect(error.service).toBe("person");
    expect(error.title).toBe("Person service unreachable");
    expect(error.detail).toContain("http://person.test");
  });

  it("reads a 503 with Retry-After", async () => {
    const { fetch } = fakeFetch(() => json({ type: "about:blank", title: "Service unavailable", status: 503, detail: "The message broker is unavailable." }, { status: 503, headers: { "Retry-After": "2" } }));
    const error = (await createPerson(createApiClients(TEST_CONFIG, fetch), { first_name: "a", last_name: "b", company_name: "c" }, "k").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(2);
    expect(error.detail).toBe("The message broker is unavailable. Try again in 2 s.");
  });

  it("describes an answer that is not a problem document", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }));
    const error = (await getPerson(createApiClients(TEST_CONFIG, fetch), "p1").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.title).toBe("HTTP 502 Bad Gateway");
    expect(error.detail).toBe("The person service answered 502 Bad Gateway.");
  });

  it("reports a broken next link instead of dropping the rest", async () => {
    const { fetch } = fakeFetch(() => json([person], { headers: { Link: '<http://person.test/api/persons?limit=1>; rel="next"' } }));
    await expect(listPersons(createApiClients(TEST_CONFIG, fetch), {})).rejects.toThrow(/no cursor/);
  });
});

describe("createPerson", () => {
  it("posts the body with the Idempotency-Key", async () => {
    const { fetch, calls } = fakeFetch(() => json(person, { status: 202 }));
    const body = { first_name: "Ada", last_name: "Lovelace", company_name: "Engines" };
    expect(await createPerson(createApiClients(TEST_CONFIG, fetch), body, "key-1")).toEqual(person);
    expect(calls[0]!.method).toBe("POST");
    expect(calls[0]!.headers.get("Idempotency-Key")).toBe("key-1");
    expect(JSON.parse(calls[0]!.body)).toEqual(body);
  });
});

describe("the bearer token", () => {
  it("goes with every call of the three clients", async () => {
    const { fetch, calls } = fakeFetch(({ url }) => (url.host === "person.test" ? json(person) : json([])));
    const api = createApiClients(TEST_CONFIG, fetch, { token: "abc.def.ghi", sessionKey: "session-1" });
    await getPerson(api, "p1");
    await allContacts(api, "p1", query);
    await allLocationFeatures(api, "p1", query);
    await createPerson(api, { first_name: "Ada", last_name: "Lovelace", company_name: "Engines" }, "key-1");
    expect(calls.map((c) => c.url.host)).toEqual(["person.test", "connection.test", "location.test", "person.test"]);
    for (const call of calls) expect(call.headers.get("Authorization")).toBe("Bearer abc.def.ghi");
    // The call's own headers are kept beside it.
    expect(calls[2]!.headers.get("Accept")).toBe("application/geo+json");
    expect(calls[3]!.headers.get("Idempotency-Key")).toBe("key-1");
    expect(api.sessionKey).toBe("session-1");
  });

  it("is not sent when there is none", async () => {
    const { fetch, calls } = fakeFetch(() => json(person));
    await getPerson(createApiClients(TEST_CONFIG, fetch, { token: null }), "p1");
    await getPerson(createApiClients(TEST_CONFIG, fetch), "p1");
    expect(calls.map((c) => c.headers.has("Authorization"))).toEqual([false, false]);
  });
});
