import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "./config";

const valid = {
  personApiUrl: "http://localhost:8001/",
  locationApiUrl: "http://localhost:8002",
  connectionApiUrl: "https://connections.example.org/v1",
  venueUrl: "/venue.geojson",
  event: { name: "Demo conference", startDate: "2026-06-01", endDate: "2026-06-02" },
};

describe("parseConfig", () => {
  it("accepts a full config and strips trailing slashes", () => {
    expect(parseConfig(valid)).toEqual({ ...valid, personApiUrl: "http://localhost:8001", identities: [] });
  });

  it("takes null or absent venue and event", () => {
    const { venueUrl: _v, event: _e, ...minimal } = valid;
    expect(parseConfig(minimal)).toMatchObject({ venueUrl: null, event: null });
    expect(parseConfig({ ...valid, venueUrl: null, event: null })).toMatchObject({ venueUrl: null, event: null });
  });

  it("accepts same-origin paths for a server that proxies the APIs", () => {
    expect(parseConfig({ ...valid, personApiUrl: "/person-api/" }).personApiUrl).toBe("/person-api");
  });

  it("lists every problem", () => {
    try {
      parseConfig({
        personApiUrl: "",
        locationApiUrl: "ftp://x",
        connectionApiUrl: "not a url",
        venueUrl: 3,
        event: { name: "", startDate: "2026-06-02", endDate: "June" },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(6);
      expect(problems.join("\n")).toMatch(/personApiUrl must be a non-empty string/);
      expect(problems.join("\n")).toMatch(/locationApiUrl must be an http\(s\) URL/);
      expect(problems.join("\n")).toMatch(/connectionApiUrl is not a URL/);
      expect(problems.join("\n")).toMatch(/venueUrl/);
      expect(problems.join("\n")).toMatch(/event.name/);
      expect(problems.join("\n")).toMatch(/event.endDate must be a date/);
    }
  });

  it("rejects an event that ends before it starts, and non-objects", () => {
    expect(() => parseConfig({ ...valid, event: { name: "x", startDate: "2026-06-02", endDate: "2026-06-01" } })).toThrow(/before/);
    expect(() => parseConfig([])).toThrow(ConfigError);
    expect(() => parseConfig(null)).toThrow(ConfigError);
    expect(() => parseConfig({ ...valid, personApiUrl: "//evil.example" })).toThrow(ConfigError);
  });
});

describe("identities", () => {
  const organizer = { name: "Organizer", role: "organizer", personId: null, token: "t.org.sig" };
  const attendee = { name: "Ada Lovelace (attendee)", role: "attendee", personId: "7f1c4c2e-0000-4000-8000-000000000001", token: "t.att.sig" };

  it("are none when absent or null", () => {
    expect(parseConfig(valid).identities).toEqual([]);
    expect(parseConfig({ ...valid, identities: null }).identities).toEqual([]);
    expect(parseConfig({ ...valid, identities: [] }).identities).toEqual([]);
  });

  it("keeps their order, trimming names and person ids", () => {
    const identities = parseConfig({ ...valid, identities: [organizer, { ...attendee, name: ` ${attendee.name} `, personId: ` ${attendee.personId}` }] }).identities;
    expect(identities).toEqual([organizer, attendee]);
  });

  it("lists every problem of every entry", () => {
    try {
      parseConfig({
        ...valid,
        identities: [
          organizer,
          "Organizer",
          { name: "", role: "admin", personId: 7, token: "has a space" },
          { ...attendee, token: undefined },
          { ...organizer, token: "other" },
        ],
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        "identities[1] must be an object",
        "identities[2].name must be a non-empty string",
        "identities[2].role must be one of attendee, organizer",
        "identities[2].personId must be a non-empty string or null",
        "identities[2].token must be a non-empty string without spaces",
        "identities[3].token must be a non-empty string without spaces",
        'identities[4].name "Organizer" is used twice',
      ]);
    }
  });

  it("must be an array", () => {
    expect(() => parseConfig({ ...valid, identities: organizer })).toThrow("identities must be an array or null");
  });
});

describe("loadConfig", () => {
  it("fetches /config.json and parses it", async () => {
    let asked = "";
    const config = await loadConfig(async (input) => {
      asked = String(input);
      return new Response(JSON.stringify(valid), { headers: { "Content-Type": "application/json" } });
    });
    expect(asked).toBe("/config.json");
    expect(config.event?.name).toBe("Demo conference");
  });

  it("explains a missing file, bad JSON and an unreachable server", async () => {
    await expect(loadConfig(async () => new Response("nope", { status: 404, statusText: "Not Found" }))).rejects.toThrow(
      "Cannot load /config.json: the web server answered 404 Not Found",
    );
    await expect(loadConfig(async () => new Response("<html>"))).rejects.toThrow("/config.json is not valid JSON");
    await expect(
      loadConfig(async () => {
        throw new TypeError("Failed to fetch");
      }),
    ).rejects.toThrow(/did not answer/);
  });
});
