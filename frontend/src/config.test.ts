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
    expect(parseConfig(valid)).toEqual({ ...valid, personApiUrl: "http://localhost:8001" });
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
