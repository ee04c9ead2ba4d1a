import type { FeatureCollection } from "geojson";
import { describe, expect, it } from "vitest";
import {
  boundsOfLatLngs,
  featureName,
  geoJsonBounds,
  isGeoJson,
  mergeBounds,
  pointLatLngs,
  toLatLng,
  toLeafletBounds,
} from "./geo";

const ping = (lng: number, lat: number) => ({
  type: "Feature" as const,
  geometry: { type: "Point" as const, coordinates: [lng, lat] },
  properties: {},
});

describe("GeoJSON to Leaflet order", () => {
  it("swaps [longitude, latitude] to [lat, lng]", () => {
    expect(toLatLng([-122.401, 37.784])).toEqual([37.784, -122.401]);
  });

  it("takes point features in order and skips anything else", () => {
    const features = [
      ping(-122.4018, 37.784),
      { geometry: null },
      { geometry: { type: "LineString", coordinates: [0, 0] } },
      ping(Number.NaN, 1),
      ping(-122.4011, 37.7845),
      ping(200, 10),
    ];
    expect(pointLatLngs(features)).toEqual([
      [37.784, -122.4018],
      [37.7845, -122.4011],
    ]);
  });
});

describe("bounds", () => {
  it("of points", () => {
    expect(boundsOfLatLngs([])).toBeNull();
    expect(
      boundsOfLatLngs([
        [37.784, -122.4018],
        [37.7845, -122.4011],
        [37.7832, -122.4002],
      ]),
    ).toEqual({ south: 37.7832, west: -122.4018, north: 37.7845, east: -122.4002 });
  });

  it("of any GeoJSON: polygons, multipolygons, features and geometries", () => {
    const venue: FeatureCollection = {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          properties: { name: "Hall" },
          geometry: {
            type: "Polygon",
            coordinates: [
              [
                [-122.402, 37.783],
                [-122.4, 37.783],
                [-122.4, 37.785],
                [-122.402, 37.785],
                [-122.402, 37.783],
              ],
            ],
          },
        },
        {
          type: "Feature",
          properties: {},
          geometry: { type: "MultiPolygon", coordinates: [[[[-122.403, 37.7845], [-122.4025, 37.7845], [-122.4025, 37.786], [-122.403, 37.7845]]]] },
        },
      ],
    };
    expect(geoJsonBounds(venue)).toEqual({ south: 37.783, west: -122.403, north: 37.786, east: -122.4 });
    expect(geoJsonBounds({ type: "Point", coordinates: [1, 2] } as never)).toEqual({ south: 2, west: 1, north: 2, east: 1 });
    expect(geoJsonBounds({ type: "FeatureCollection", features: [] } as never)).toBeNull();
  });

  it("merge and convert to Leaflet's [[south, west], [north, east]]", () => {
    const merged = mergeBounds(null, { south: 1, west: 2, north: 3, east: 4 }, { south: 0, west: 3, north: 5, east: 3.5 }, undefined);
    expect(merged).toEqual({ south: 0, west: 2, north: 5, east: 4 });
    expect(toLeafletBounds(merged!)).toEqual([
      [0, 2],
      [5, 4],
    ]);
    expect(mergeBounds(null, undefined)).toBeNull();
  });
});

describe("venue helpers", () => {
  it("recognise GeoJSON documents", () => {
    expect(isGeoJson({ type: "FeatureCollection", features: [] })).toBe(true);
    expect(isGeoJson({ type: "Polygon", coordinates: [] })).toBe(true);
    expect(isGeoJson({ type: "FeatureCollection" })).toBe(false);
    expect(isGeoJson({ hello: "world" })).toBe(false);
    expect(isGeoJson(null)).toBe(false);
  });

  it("read a feature's name", () => {
    expect(featureName({ properties: { name: " Keynote Hall " } })).toBe("Keynote Hall");
    expect(featureName({ properties: { name: "" } })).toBeUndefined();
    expect(featureName({ properties: null })).toBeUndefined();
    expect(featureName(undefined)).toBeUndefined();
  });
});
