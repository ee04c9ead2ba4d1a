"""The demo venue's floor plan, in metres on a local east/north grid around the venue centre.

Everything lies within ``HALF_WIDTH_M`` east/west and ``HALF_DEPTH_M`` north/south of the centre (a
200 m x 150 m hall), every spot people head for at least ``EDGE_MARGIN_M`` inside that box, so that a
position plus the largest fidget and GPS noise the generator adds stays inside it too.

Layout (north is up)::

    y=67 +-----------+ WsA  +  WsB  +-----------+
         | Keynote   |101|102|103|104|  Lunch    |
    y=24 |  Hall     |   |   |   |   |   hall    |
    y=20 ==West entrance===== concourse ====== East entrance
    y=16 | lobby     |  expo floor: 6 x 6 booths, coffee bars |
         | (registr.)|                                      |
    y=-67+-- South entrance ---------------------------------+

People walk between zones along doors and the concourse (y=20), never through walls, so hallways
and doors see crowds too, as in a real venue.
"""

import math
from dataclasses import dataclass

Point = tuple[float, float]

HALF_WIDTH_M = 100.0
HALF_DEPTH_M = 75.0
EDGE_MARGIN_M = 8.0
CONCOURSE_Y = 20.0

SEAT_PITCH_M = 0.6  # seat centre to seat centre, along a row
ROW_PITCH_M = 1.0  # row to row


@dataclass(frozen=True, slots=True)
class Zone:
    """An area reached from the concourse along fixed waypoints (``route_in``), or straight in (``open_front``)."""

    name: str
    route_in: tuple[Point, ...] = ()
    # The expo floor opens onto the whole concourse: people step in where they are headed.
    open_front: tuple[float, float] | None = None  # the x range of the opening

    def entry_route(self, target: Point) -> list[Point]:
        if self.open_front is not None:
            x = min(max(target[0], self.open_front[0]), self.open_front[1])
            return [(x, CONCOURSE_Y), (x, CONCOURSE_Y - 4.0)]
        return list(self.route_in)


@dataclass(frozen=True, slots=True)
class Room:
    """A talk room: rows of seats facing a stage at the north wall."""

    name: str
    zone: Zone
    left_x: float  # seat centres of the outermost columns
    right_x: float
    front_y: float  # seat centres of the first and the last row
    back_y: float

    @property
    def columns(self) -> int:
        return int((self.right_x - self.left_x) / SEAT_PITCH_M) + 1

    @property
    def rows(self) -> int:
        return int((self.front_y - self.back_y) / ROW_PITCH_M) + 1

    @property
    def centre_x(self) -> float:
        return (self.left_x + self.right_x) / 2.0

    def seat(self, row: int, column_from_centre: float) -> Point:
        """Row 0 is the front row; columns count from the centre aisle (negative: west)."""
        return (self.centre_x + column_from_centre * SEAT_PITCH_M, self.front_y - row * ROW_PITCH_M)


@dataclass(frozen=True, slots=True)
class Spot:
    """A named place people stand at: a booth's counter, a coffee bar, a registration desk, a door."""

    name: str
    zone: Zone
    position: Point


CONCOURSE = Zone("concourse")
LOBBY = Zone("west lobby", route_in=((-76.0, CONCOURSE_Y),))
EXPO = Zone("expo floor", open_front=(-54.0, 90.0))
LUNCH = Zone("lunch hall", route_in=((66.0, CONCOURSE_Y), (66.0, 25.0)))

# Ordered by size: a small conference uses only the first few rooms (see ``tracks_for``).
ROOMS: tuple[Room, ...] = (
    Room("Keynote Hall", Zone("Keynote Hall", ((-67.0, CONCOURSE_Y), (-67.0, 25.0))), -90.0, -44.0, 60.0, 27.0),
    Room("Room 101", Zone("Room 101", ((-30.0, CONCOURSE_Y), (-30.0, 25.0))), -36.0, -24.0, 48.0, 27.0),
    Room("Room 102", Zone("Room 102", ((-12.0, CONCOURSE_Y), (-12.0, 25.0))), -18.0, -6.0, 48.0, 27.0),
    Room("Room 103", Zone("Room 103", ((6.0, CONCOURSE_Y), (6.0, 25.0))), 0.0, 12.0, 48.0, 27.0),
    Room("Room 104", Zone("Room 104", ((24.0, CONCOURSE_Y), (24.0, 25.0))), 18.0, 30.0, 48.0, 27.0),
    # Behind rooms 101-104, reached by the side corridors at x=-40 and x=36 and a back corridor at y=55.
    Room(
        "Workshop A",
        Zone("Workshop A", ((-40.0, CONCOURSE_Y), (-40.0, 55.0), (-21.0, 55.0), (-21.0, 58.0))),
        -34.0,
        -8.0,
        65.0,
        59.0,
    ),
    Room(
        "Workshop B",
        Zone("Workshop B", ((36.0, CONCOURSE_Y), (36.0, 55.0), (15.0, 55.0), (15.0, 58.0))),
        2.0,
        28.0,
        65.0,
        59.0,
    ),
)

BOOTH_COLUMNS_X: tuple[float, ...] = (-46.0, -20.0, 6.0, 32.0, 58.0, 84.0)
BOOTH_ROWS_Y: tuple[float, ...] = (10.0, -4.0, -18.0, -32.0, -46.0, -60.0)
BOOTH_COUNT = len(BOOTH_COLUMNS_X) * len(BOOTH_ROWS_Y)
# Between booth rows, so a queue for coffee does not stand in a booth.
COFFEE_BARS: tuple[Spot, ...] = (
    Spot("Coffee bar west", EXPO, (-7.0, 3.0)),
    Spot("Coffee bar centre", EXPO, (45.0, -39.0)),
    Spot("Coffee bar east", EXPO, (71.0, 3.0)),
)
REGISTRATION = Spot("Registration", LOBBY, (-76.0, 6.0))
ENTRANCES: tuple[Spot, ...] = (
    Spot("West entrance", CONCOURSE, (-90.0, CONCOURSE_Y)),
    Spot("East entrance", CONCOURSE, (90.0, CONCOURSE_Y)),
    Spot("South entrance", LOBBY, (-76.0, -65.0)),
)
# How attendees split over the entrances (the west one faces the transit station).
ENTRANCE_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)

LUNCH_TABLES: tuple[Point, ...] = tuple(
    (x, y) for y in (30.0, 38.0, 46.0, 54.0, 62.0) for x in (46.0, 54.0, 62.0, 70.0, 78.0, 86.0)
)
TABLE_RADIUS_M = 1.3  # chairs around a round table


def booth_spot(index: int) -> Point:
    """Where visitors of booth ``index`` (0..BOOTH_COUNT-1) stand: in the aisle in front of its counter."""
    row, column = divmod(index, len(BOOTH_COLUMNS_X))
    return (BOOTH_COLUMNS_X[column], BOOTH_ROWS_Y[row])


def route(from_zone: Zone, start: Point, to_zone: Zone, target: Point) -> list[Point]:
    """Waypoints from ``start`` to ``target``: out through the door, along the concourse, in through the door."""
    if from_zone is to_zone:
        return [target]
    out = from_zone.entry_route(start)
    out.reverse()
    return [*out, *to_zone.entry_route(target), target]


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres per degree of latitude and of longitude at ``latitude`` (spherical approximation, fine at 200 m)."""
    return 111_320.0, 111_320.0 * math.cos(math.radians(latitude))
