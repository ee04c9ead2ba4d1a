"""Earth-centred cubes: the cells the proximity search finds pings by, the same size everywhere on Earth.

A ping's ``space_time`` is its position in Earth-centred, Earth-fixed metres (X, Y, Z; migration 0002).
Space is cut into axis-aligned cubes of a fixed size, numbered by ``floor(coordinate / size)`` on each
axis, and a ping is filed under the cube it lies in (``location.cube_fine`` and ``location.cube_coarse``,
migration 0004), with a btree on (cube, time). Cubes are as wide at the poles as at the equator, so a
search near a pole or across the antimeridian reads as many cells as anywhere else: there is no
latitude or longitude in the arithmetic at all.

The functions here are written once and evaluated two ways: on Python numbers (the unit tests, and
anyone checking a cell by hand) and on SQLAlchemy columns, compiled into the queries (``SQL_OPS``). So
the arithmetic the tests check is the arithmetic the database runs.
"""

import math
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import BigInteger, Float, func, literal

# WGS84: the equatorial and polar radii, and the first eccentricity squared, f (2 - f).
WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)
WGS84_E2 = WGS84_F * (2 - WGS84_F)

# A cube's number is its three axis numbers, each moved to be positive and given 21 bits, in one bigint:
# (x + OFFSET) * 2^42 + (y + OFFSET) * 2^21 + (z + OFFSET). A 6.25 m cube number reaches 1,020,503 at the
# equatorial radius, under OFFSET = 2^20, so 63 bits hold every cube on (or near) the Earth.
AXIS_BITS = 21
AXIS_OFFSET = 1 << (AXIS_BITS - 1)


@dataclass(frozen=True, slots=True)
class CubeSize:
    """One size of cube: the column that holds each ping's cube of this size, and its edge in metres."""

    column: str
    metres: float


FINE = CubeSize("cube_fine", 6.25)
COARSE = CubeSize("cube_coarse", 50.0)
# Up to this distance the fine cubes are searched; beyond it the coarse ones. At 25 m a search reaches
# 9 fine cubes along each axis of the surface; 50 m cubes would read over ten times the rows needed.
FINE_UP_TO_M = 25.0
# The search reaches this much further than the distance, so that floating-point rounding in a cube
# number never loses a ping on a cube's edge (a wider search only reads a few more candidates; the
# exact check decides).
REACH_MARGIN_M = 0.01


def size_for(distance_m: float) -> CubeSize:
    """The cube size a search for pings within ``distance_m`` reads."""
    return FINE if distance_m <= FINE_UP_TO_M else COARSE


class Ops(Protocol):
    """The few operations the arithmetic needs beyond + - * /: from ``math``, or SQL functions."""

    def floor(self, value: Any) -> Any: ...

    def sqrt(self, value: Any) -> Any: ...

    def abs(self, value: Any) -> Any: ...

    def integer(self, value: int) -> Any: ...


class _PythonOps:
    def floor(self, value: Any) -> Any:
        return math.floor(value)

    def sqrt(self, value: Any) -> Any:
        return math.sqrt(value)

    def abs(self, value: Any) -> Any:
        return abs(value)

    def integer(self, value: int) -> Any:
        return value


class _SqlOps:
    def floor(self, value: Any) -> Any:
        return func.floor(value).cast(BigInteger)

    def sqrt(self, value: Any) -> Any:
        return func.sqrt(value, type_=Float)

    def abs(self, value: Any) -> Any:
        return func.abs(value, type_=Float)

    def integer(self, value: int) -> Any:
        # A bigint: the multipliers of a cube key do not fit the integer SQLAlchemy would bind them as.
        return literal(value, BigInteger)


PYTHON_OPS: Ops = _PythonOps()
SQL_OPS: Ops = _SqlOps()


def axis_number(coordinate_m: Any, size_m: Any, ops: Ops = PYTHON_OPS) -> Any:
    """The number, along one axis, of the cube a coordinate (metres) lies in."""
    return ops.floor(coordinate_m / size_m)


def cube_key(x_number: Any, y_number: Any, z_number: Any, ops: Ops = PYTHON_OPS) -> Any:
    """One bigint for a cube from its three axis numbers (only + and *: the same in Python and SQL)."""
    offset = ops.integer(AXIS_OFFSET)
    return (
        (x_number + offset) * ops.integer(1 << (2 * AXIS_BITS))
        + (y_number + offset) * ops.integer(1 << AXIS_BITS)
        + (z_number + offset)
    )


def reach(coordinate_m: Any, distance_m: Any, size_m: Any, ops: Ops = PYTHON_OPS) -> tuple[Any, Any]:
    """The first and last cube numbers along one axis that hold points within ``distance_m`` of a coordinate."""
    reach_m = distance_m + REACH_MARGIN_M
    return axis_number(coordinate_m - reach_m, size_m, ops), axis_number(coordinate_m + reach_m, size_m, ops)


# A cube can hold a ping only if the WGS84 ellipsoid (every ping lies on it: height 0) passes through it,
# that is within half a diagonal of its centre. SURFACE_SLACK_M covers what the radial estimate below
# leaves out: the ellipsoid's normal is at most 0.2 degrees off the radial direction (a factor of
# 1.00001) and the surface's curve over half a cube's diagonal (under a millimetre).
SURFACE_SLACK_M = 0.05


def surface_gap(x_number: Any, y_number: Any, z_number: Any, size_m: Any, ops: Ops = PYTHON_OPS) -> Any:
    """How far the ellipsoid is from a cube's centre, less half the cube's diagonal: a cube with a gap above
    ``SURFACE_SLACK_M`` holds no ping and is never searched.

    The distance is taken along the ray from the Earth's centre: the centre's distance from the Earth's
    centre times |1 - 1/sqrt(q)|, where q = (x^2 + y^2) / a^2 + z^2 / b^2 is 1 on the ellipsoid.
    """
    x, y, z = ((number + 0.5) * size_m for number in (x_number, y_number, z_number))
    radius_sq = x * x + y * y + z * z
    q = (x * x + y * y) / (WGS84_A * WGS84_A) + z * z / (WGS84_B * WGS84_B)
    return ops.sqrt(radius_sq) * ops.abs(1.0 - 1.0 / ops.sqrt(q)) - size_m * (math.sqrt(3.0) / 2.0)


def earth_centred(latitude: float, longitude: float) -> tuple[float, float, float]:
    """A point on the WGS84 ellipsoid (height 0) in Earth-centred, Earth-fixed metres, as EPSG:4978."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * math.sin(phi) ** 2)
    return n * math.cos(phi) * math.cos(lam), n * math.cos(phi) * math.sin(lam), n * (1.0 - WGS84_E2) * math.sin(phi)


def cube_of(latitude: float, longitude: float, size: CubeSize) -> int:
    """The cube a ping at ``latitude``, ``longitude`` is filed under (what the migration's column holds)."""
    x, y, z = (axis_number(coordinate, size.metres) for coordinate in earth_centred(latitude, longitude))
    key: int = cube_key(x, y, z)
    return key


def cube_sql(size: CubeSize) -> str:
    """The generated column's expression: ``cube_of`` in SQL, from the ping's ``coordinate``."""
    return f"earth_cube(coordinate, {size.metres})"


# The SQL function the generated columns call (migration 0004 creates it): the arithmetic of
# ``earth_centred``, ``axis_number`` and ``cube_key`` on the ping's latitude and longitude. Plain floating
# point, no PROJ call, equal to ``space_time`` to nanometres (REACH_MARGIN_M covers far more). IMMUTABLE,
# so a generated column may use it, and one expression without FROM, so the planner inlines it.
_PHI = "radians(ST_Y(coordinate::geometry))"
_LAM = "radians(ST_X(coordinate::geometry))"
_N = f"({WGS84_A!r} / sqrt(1.0 - {WGS84_E2!r} * sin({_PHI}) ^ 2))"
_AXES_SQL = (
    f"{_N} * cos({_PHI}) * cos({_LAM})",
    f"{_N} * cos({_PHI}) * sin({_LAM})",
    f"{_N} * {1.0 - WGS84_E2!r} * sin({_PHI})",
)
_NUMBERS_SQL = [f"(floor({axis} / size)::bigint + {AXIS_OFFSET})" for axis in _AXES_SQL]
EARTH_CUBE_FUNCTION_SQL = (
    "CREATE FUNCTION earth_cube(coordinate geography, size double precision) RETURNS bigint\n"
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$\nSELECT "
    f"{_NUMBERS_SQL[0]} * {1 << (2 * AXIS_BITS)}\n + {_NUMBERS_SQL[1]} * {1 << AXIS_BITS}\n + {_NUMBERS_SQL[2]}\n$$"
)
