/**
 * GeoJSON (RFC 7946: positions are [longitude, latitude]) to what Leaflet takes ([latitude,
 * longitude]), and bounds. Kept free of Leaflet so it can be tested without a DOM.
 */
import type { Feature, FeatureCollection, GeoJsonObject, Geometry, Position } from "geojson";

export type LatLng = [lat: number, lng: number];

export interface Bounds {
  south: number;
  west: number;
  north: number;
  east: number;
}

/** A GeoJSON position as Leaflet's [lat, lng]. */
export function toLatLng(position: Position): LatLng {
  const [lng, lat] = position;
  return [lat as number, lng as number];
}

function isFiniteLatLng([lat, lng]: LatLng): boolean {
  return Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180;
}

/** Point features as [lat, lng] pairs, in their order; features without a valid point are skipped. */
export function pointLatLngs(features: ReadonlyArray<{ geometry: { type: string; coordinates: Position } | null }>): LatLng[] {
  const out: LatLng[] = [];
  for (const feature of features) {
    const geometry = feature.geometry;
    if (!geometry || geometry.type !== "Point" || geometry.coordinates.length < 2) continue;
    const latLng = toLatLng(geometry.coordinates);
    if (isFiniteLatLng(latLng)) out.push(latLng);
  }
  return out;
}

/** The smallest box around the points; null for none. */
export function boundsOfLatLngs(points: Iterable<LatLng>): Bounds | null {
  let bounds: Bounds | null = null;
  for (const [lat, lng] of points) {
    if (!isFiniteLatLng([lat, lng])) continue;
    if (!bounds) bounds = { south: lat, west: lng, north: lat, east: lng };
    else {
      bounds.south = Math.min(bounds.south, lat);
      bounds.north = Math.max(bounds.north, lat);
      bounds.west = Math.min(bounds.west, lng);
      bounds.east = Math.max(bounds.east, lng);
    }
  }
  return bounds;
}

function* positionsOfGeometry(geometry: Geometry | null): Generator<Position> {
  if (!geometry) return;
  switch (geometry.type) {
    case "Point":
      yield geometry.coordinates;
      break;
    case "MultiPoint":
    case "LineString":
      yield* geometry.coordinates;
      break;
    case "MultiLineString":
    case "Polygon":
      for (const line of geometry.coordinates) yield* line;
      break;
    case "MultiPolygon":
      for (const polygon of geometry.coordinates) for (const ring of polygon) yield* ring;
      break;
    case "GeometryCollection":
      for (const part of geometry.geometries) yield* positionsOfGeometry(part);
      break;
  }
}

/** Every position in any GeoJSON object (feature collection, feature or geometry). */
export function* positionsOf(object: GeoJsonObject): Generator<Position> {
  if (object.type === "FeatureCollection") {
    for (const feature of (object as FeatureCollection).features) yield* positionsOf(feature);
  } else if (object.type === "Feature") {
    yield* positionsOfGeometry((object as Feature).geometry);
  } else {
    yield* positionsOfGeometry(object as Geometry);
  }
}

export function geoJsonBounds(object: GeoJsonObject): Bounds | null {
  function* latLngs() {
    for (const position of positionsOf(object)) if (position.length >= 2) yield toLatLng(position);
  }
  return boundsOfLatLngs(latLngs());
}

export function mergeBounds(...all: Array<Bounds | null | undefined>): Bounds | null {
  let merged: Bounds | null = null;
  for (const b of all) {
    if (!b) continue;
    merged = merged
      ? {
          south: Math.min(merged.south, b.south),
          west: Math.min(merged.west, b.west),
          north: Math.max(merged.north, b.north),
          east: Math.max(merged.east, b.east),
        }
      : { ...b };
  }
  return merged;
}

/** Bounds as Leaflet's `[[south, west], [north, east]]`. */
export function toLeafletBounds(bounds: Bounds): [LatLng, LatLng] {
  return [
    [bounds.south, bounds.west],
    [bounds.north, bounds.east],
  ];
}

/** A GeoJSON document we can draw: a FeatureCollection, a Feature or a geometry. */
export function isGeoJson(value: unknown): value is GeoJsonObject {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  if (type === "FeatureCollection") return Array.isArray((value as { features?: unknown }).features);
  return (
    typeof type === "string" &&
    ["Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"].includes(type)
  );
}

/** The feature's display name (`properties.name`), if it has a non-empty one. */
export function featureName(feature: { properties?: unknown } | undefined): string | undefined {
  const properties = feature?.properties;
  if (typeof properties !== "object" || properties === null) return undefined;
  const name = (properties as { name?: unknown }).name;
  return typeof name === "string" && name.trim() ? name.trim() : undefined;
}
