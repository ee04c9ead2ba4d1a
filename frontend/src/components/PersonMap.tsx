/**
 * The map: no tile layer at all (it must work offline). The venue's floor plan is the base layer,
 * the person's own pings a line with dots, and the other persons' pings where they met them dots
 * in a second colour. Loaded lazily: Leaflet is not part of the first bundle.
 */
import { useQuery } from "@tanstack/react-query";
import type { Feature } from "geojson";
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef, useState } from "react";
import type { ConnectionFeature, LocationFeature } from "../api/client";
import { venueQueryOptions } from "../api/queries";
import { formatUtc } from "../lib/dates";
import {
  boundsOfLatLngs,
  featureName,
  geoJsonBounds,
  mergeBounds,
  pointLatLngs,
  toLeafletBounds,
  type Bounds,
} from "../lib/geo";
import { MARK_MAP_DRAWN } from "../lib/marks";
import { fullName } from "../lib/people";
import { ErrorMessage, Loading } from "./StatusViews";

// The same colours as the legend's swatches (styles.css: --own, --met).
const OWN = "#1d4ed8";
const MET = "#c2410c";
const MET_EDGE = "#7c2d12";

/** Floor-plan styles by `properties.kind` when the file has one; anything else is a plain room. */
function venueStyle(feature: Feature | undefined): L.PathOptions {
  const kind = (feature?.properties as { kind?: unknown } | null | undefined)?.kind;
  switch (kind) {
    case "outline":
      return { color: "#475569", weight: 2, fillColor: "#f8fafc", fillOpacity: 1 };
    case "hall":
      return { color: "#cbd5e1", weight: 1, fillColor: "#f1f5f9", fillOpacity: 1 };
    case "booth":
      return { color: "#a5b4fc", weight: 1, fillColor: "#e0e7ff", fillOpacity: 1 };
    case "entrance":
    case "coffee":
    case "desk":
      // Points of the plan (doors, coffee bars, the registration desk), drawn as small dots.
      return { color: "#475569", weight: 1, fillColor: "#ffffff", fillOpacity: 1, radius: 4 } as L.CircleMarkerOptions;
    default:
      return { color: "#94a3b8", weight: 1, fillColor: "#e9edf3", fillOpacity: 1 };
  }
}

interface Props {
  venueUrl: string | null;
  personName: string;
  ownPings: readonly LocationFeature[] | undefined;
  ownTruncated: boolean;
  metPings: readonly ConnectionFeature[];
  metTruncated: boolean;
  /** "map drawn" is marked once per distinct key. */
  drawKey: string;
}

export default function PersonMap({ venueUrl, personName, ownPings, ownTruncated, metPings, metTruncated, drawKey }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const bounds = useRef<{ venue: Bounds | null; own: Bounds | null }>({ venue: null, own: null });
  const markedKey = useRef<string | null>(null);
  // One canvas for everything (thousands of dots draw fast, and every layer gets its tooltips:
  // a second canvas or SVG pane would sit over the others and swallow their pointer events).
  // Drawing order is kept by hand: floor plan at the bottom, others' pings, the person's on top.
  const [renderer] = useState(() => L.canvas({ padding: 0.5, tolerance: 2 }));
  const layers = useRef<{ venue: L.GeoJSON | null; own: L.FeatureGroup | null }>({ venue: null, own: null });
  const venue = useQuery({ ...venueQueryOptions(venueUrl ?? ""), enabled: venueUrl !== null });

  // The map itself, once.
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const map = L.map(element, {
      attributionControl: false,
      zoomSnap: 0.25,
      minZoom: 3,
      maxZoom: 22,
      renderer,
    });
    map.setView([0, 0], 3);
    mapRef.current = map;
    // The layout around the map can change its size (a phone turned, the grid reflowing).
    const resize = new ResizeObserver(() => map.invalidateSize({ animate: false }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      map.remove();
      mapRef.current = null;
    };
  }, [renderer]);

  /** Shows everything drawn: the venue and the person's pings. */
  const fit = () => {
    const map = mapRef.current;
    const merged = mergeBounds(bounds.current.venue, bounds.current.own);
    if (map && merged) map.fitBounds(toLeafletBounds(merged), { padding: [12, 12], animate: false });
  };

  // The venue's floor plan.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !venue.data) return;
    const layer = L.geoJSON(venue.data, {
      style: (feature) => ({ ...venueStyle(feature), renderer }),
      // Points as dots, not Leaflet's default markers (images from the network, and no bringToBack).
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { ...venueStyle(feature), renderer }),
      onEachFeature: (feature, featureLayer) => {
        const name = featureName(feature);
        if (name) featureLayer.bindTooltip(name, { sticky: true, direction: "top", className: "map-tooltip" });
      },
    }).addTo(map);
    // To the back, last feature first, so the file's own order (outline under rooms) holds.
    [...layer.getLayers()].reverse().forEach((part) => {
      if (part instanceof L.Path) part.bringToBack();
    });
    layers.current.venue = layer;
    bounds.current.venue = geoJsonBounds(venue.data);
    fit();
    return () => {
      layer.remove();
      layers.current.venue = null;
      bounds.current.venue = null;
    };
  }, [venue.data, renderer]);

  // The person's own pings.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !ownPings) return;
    const points = pointLatLngs(ownPings);
    const group = L.featureGroup();
    if (points.length > 1) {
      L.polyline(points, { color: OWN, weight: 1.5, opacity: 0.4, renderer, interactive: false }).addTo(group);
    }
    ownPings.forEach((feature, i) => {
      const latLng = points[i];
      if (!latLng) return;
      L.circleMarker(latLng, { radius: 3, color: OWN, weight: 1, fillColor: OWN, fillOpacity: 0.9, renderer })
        .bindTooltip(`${personName}, ${formatUtc(feature.properties.creation_time, { seconds: true })}`, { className: "map-tooltip" })
        .addTo(group);
    });
    group.addTo(map);
    group.bringToFront();
    layers.current.own = group;
    bounds.current.own = boundsOfLatLngs(points);
    fit();
    if (markedKey.current !== drawKey) {
      markedKey.current = drawKey;
      // The canvas is painted on the next frame.
      requestAnimationFrame(() => performance.mark(MARK_MAP_DRAWN, { detail: { key: drawKey, points: points.length } }));
    }
    return () => {
      group.remove();
      layers.current.own = null;
      bounds.current.own = null;
    };
  }, [ownPings, personName, renderer, drawKey]);

  // Where they met others.
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const points = pointLatLngs(metPings);
    const group = L.featureGroup();
    metPings.forEach((feature, i) => {
      const latLng = points[i];
      if (!latLng) return;
      L.circleMarker(latLng, { radius: 4.5, color: MET_EDGE, weight: 1, fillColor: MET, fillOpacity: 0.7, renderer })
        .bindTooltip(
          `${fullName(feature.properties.person)}, ${formatUtc(feature.properties.creation_time, { seconds: true })}`,
          { className: "map-tooltip" },
        )
        .addTo(group);
    });
    group.addTo(map);
    layers.current.own?.bringToFront();
    return () => {
      group.remove();
    };
  }, [metPings, renderer]);

  const ownCount = ownPings?.length ?? 0;
  return (
    <div className="map-wrap">
      {venue.isError && (
        <ErrorMessage
          error={venue.error}
          onRetry={() => void venue.refetch()}
          title="The venue floor plan could not be loaded"
          compact
        />
      )}
      <div className="map-frame">
        <div
          ref={container}
          className="map"
          role="region"
          aria-label={`Map of ${personName}'s pings and where they met others`}
          aria-describedby="map-legend"
        />
        {!ownPings && (
          <div className="map-overlay">
            <Loading label="Loading the person's pings" />
          </div>
        )}
        {ownPings && ownCount === 0 && (
          <div className="map-overlay map-overlay--note">
            <p>No pings of {personName} in this range.</p>
          </div>
        )}
      </div>
      <ul className="legend" id="map-legend" aria-label="Legend">
        <li>
          <span className="legend__swatch legend__swatch--own" aria-hidden="true" />
          {personName}'s pings ({ownCount.toLocaleString("en")}
          {ownTruncated ? ", the first ones only" : ""})
        </li>
        <li>
          <span className="legend__swatch legend__swatch--met" aria-hidden="true" />
          Others' pings where they met ({metPings.length.toLocaleString("en")}
          {metTruncated ? ", the first ones only" : ""})
        </li>
        {venueUrl && (
          <li>
            <span className="legend__swatch legend__swatch--venue" aria-hidden="true" />
            Venue floor plan (hover a room for its name)
          </li>
        )}
      </ul>
    </div>
  );
}
