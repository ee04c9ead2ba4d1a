"""The demo venue's floor plan: valid GeoJSON, placed where the demo pings are."""

import itertools

from udaconnect_demo import SMALL, generate
from udaconnect_demo.floor_plan import floor_plan_geojson


def test_every_feature_is_valid_rfc7946_and_named() -> None:
    plan = floor_plan_geojson(SMALL)
    assert plan["type"] == "FeatureCollection"
    kinds = {feature["properties"]["kind"] for feature in plan["features"]}
    assert {"outline", "room", "booth", "entrance"} <= kinds
    for feature in plan["features"]:
        assert feature["properties"]["name"]
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            (ring,) = geometry["coordinates"]
            assert ring[0] == ring[-1], "a closed linear ring"
            assert len(ring) == 5
            # RFC 7946: exterior rings counter-clockwise (positive shoelace area).
            area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
            assert area > 0
        else:
            assert geometry["type"] == "Point"


def test_the_outline_holds_every_demo_ping_longitude_first() -> None:
    plan = floor_plan_geojson(SMALL)
    (outline,) = [f for f in plan["features"] if f["properties"]["kind"] == "outline"]
    longitudes = [lon for lon, _ in outline["geometry"]["coordinates"][0]]
    latitudes = [lat for _, lat in outline["geometry"]["coordinates"][0]]
    conference = generate(SMALL)
    pings = list(conference.iter_person_pings(0)) + list(conference.iter_person_pings(7))
    assert pings
    for ping in pings:
        assert min(longitudes) <= ping.longitude <= max(longitudes)
        assert min(latitudes) <= ping.latitude <= max(latitudes)
