"""The demo venue's floor plan as GeoJSON (RFC 7946): the base layer of the front end's map.

The map has no tile server (it must work offline), so the venue's outline, rooms, booths and doors are
what make the pings mean something. Shapes are drawn from the same floor plan the generator walks people
through (``venue``), placed at the conference's centre with the same metres-per-degree the pings use.
"""

from typing import Any

from udaconnect_demo import venue
from udaconnect_demo.generator import ConferenceSpec

# Walls drawn this far outside the outermost seats; the stage is deeper, at the north wall.
ROOM_SIDE_MARGIN_M = 2.0
ROOM_STAGE_DEPTH_M = 5.0
BOOTH_HALF_WIDTH_M = 3.0
BOOTH_DEPTH_M = 3.0  # the counter's booth lies north of the aisle spot its visitors stand at

Box = tuple[float, float, float, float]  # west, south, east, north in venue metres


def _rooms() -> list[tuple[str, str, Box]]:
    rooms = [
        (
            room.name,
            "room",
            (
                room.left_x - ROOM_SIDE_MARGIN_M,
                room.back_y - ROOM_SIDE_MARGIN_M,
                room.right_x + ROOM_SIDE_MARGIN_M,
                room.front_y + ROOM_STAGE_DEPTH_M,
            ),
        )
        for room in venue.ROOMS
    ]
    booths = [
        (
            f"Booth {index + 1}",
            "booth",
            (x - BOOTH_HALF_WIDTH_M, y + 0.5, x + BOOTH_HALF_WIDTH_M, y + 0.5 + BOOTH_DEPTH_M),
        )
        for index in range(venue.BOOTH_COUNT)
        for x, y in [venue.booth_spot(index)]
    ]
    lunch_x = [x for x, _ in venue.LUNCH_TABLES]
    lunch_y = [y for _, y in venue.LUNCH_TABLES]
    west, east, south, north = -venue.HALF_WIDTH_M, venue.HALF_WIDTH_M, -venue.HALF_DEPTH_M, venue.HALF_DEPTH_M
    concourse_south, concourse_north = venue.CONCOURSE_Y - 3.0, venue.CONCOURSE_Y + 3.0
    areas = [
        ("Venue", "outline", (west, south, east, north)),
        ("Concourse", "hall", (west, concourse_south, east, concourse_north)),
        ("Lunch hall", "hall", (min(lunch_x) - 6.0, min(lunch_y) - 6.0, max(lunch_x) + 6.0, max(lunch_y) + 6.0)),
        ("West lobby", "hall", (west, south, -60.0, concourse_south)),
        ("Expo floor", "hall", (-60.0, south, east, concourse_south)),
    ]
    return areas + rooms + booths


def _spots() -> list[tuple[str, str, venue.Point]]:
    return [
        *((spot.name, "entrance", spot.position) for spot in venue.ENTRANCES),
        *((spot.name, "coffee", spot.position) for spot in venue.COFFEE_BARS),
        (venue.REGISTRATION.name, "desk", venue.REGISTRATION.position),
    ]


def floor_plan_geojson(spec: ConferenceSpec) -> dict[str, Any]:
    """The venue of ``spec`` as a FeatureCollection of named polygons (areas, rooms, booths) and points
    (entrances, coffee bars, registration); ``properties.kind`` says which, for styling."""
    lat_m, lon_m = venue.metres_per_degree(spec.center_latitude)

    def position(x: float, y: float) -> list[float]:
        # [longitude, latitude], rounded to 1e-7 degree (1 cm) as the pings are.
        return [round(spec.center_longitude + x / lon_m, 7), round(spec.center_latitude + y / lat_m, 7)]

    features: list[dict[str, Any]] = []
    for name, kind, (west, south, east, north) in _rooms():
        ring = [position(west, south), position(east, south), position(east, north), position(west, north)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},  # closed, counter-clockwise
                "properties": {"name": name, "kind": kind},
            }
        )
    for name, kind, (x, y) in _spots():
        point = {"type": "Point", "coordinates": position(x, y)}
        features.append({"type": "Feature", "geometry": point, "properties": {"name": name, "kind": kind}})
    return {"type": "FeatureCollection", "name": "UdaConnect demo venue", "features": features}
