"""The cube arithmetic the proximity search runs in SQL, checked on Python numbers (the same functions)."""

import itertools
import math
import random

import pytest
from geographiclib.geodesic import Geodesic

from udaconnect_common import cubes
from udaconnect_common.cubes import (
    AXIS_BITS,
    AXIS_OFFSET,
    COARSE,
    FINE,
    SURFACE_SLACK_M,
    CubeSize,
    axis_number,
    cube_key,
    cube_of,
    earth_centred,
    reach,
    size_for,
    surface_gap,
)

# Places where a latitude/longitude grid goes wrong, and ordinary ones.
PLACES = {
    "north pole": (89.99999, 0.0),
    "south pole": (-89.9999, -120.0),
    "antimeridian": (-16.8, 179.99997),
    "equator": (0.0, 0.0),
    "sydney": (-33.8568, 151.2153),
    "svalbard": (78.2232, 15.6267),
}


def _unpack(key: int) -> tuple[int, int, int]:
    mask = (1 << AXIS_BITS) - 1
    return (key >> (2 * AXIS_BITS)) - AXIS_OFFSET, ((key >> AXIS_BITS) & mask) - AXIS_OFFSET, (key & mask) - AXIS_OFFSET


def test_earth_centred_coordinates_are_those_of_epsg_4978() -> None:
    assert earth_centred(0.0, 0.0) == pytest.approx((cubes.WGS84_A, 0.0, 0.0))
    assert earth_centred(0.0, 90.0) == pytest.approx((0.0, cubes.WGS84_A, 0.0), abs=1e-6)
    assert earth_centred(90.0, 0.0) == pytest.approx((0.0, 0.0, cubes.WGS84_B), abs=1e-6)
    assert earth_centred(-90.0, 0.0) == pytest.approx((0.0, 0.0, -cubes.WGS84_B), abs=1e-6)


def test_a_cube_key_holds_its_three_numbers_for_every_cube_on_earth() -> None:
    extremes = [(0.0, 0.0), (0.0, 180.0), (0.0, 90.0), (0.0, -90.0), (90.0, 0.0), (-90.0, 0.0)]
    for size, (latitude, longitude) in itertools.product((FINE, COARSE), extremes):
        numbers = tuple(axis_number(c, size.metres) for c in earth_centred(latitude, longitude))
        key = cube_of(latitude, longitude, size)
        assert 0 <= key < 2**63  # a bigint, never negative
        assert _unpack(key) == numbers
        # One step along any axis is another key, in the order of that axis.
        for axis in range(3):
            x, y, z = (number + (axis == i) for i, number in enumerate(numbers))
            assert cube_key(x, y, z) > key
            assert _unpack(cube_key(x, y, z)) == (x, y, z)


def test_the_size_follows_the_distance() -> None:
    assert size_for(0.01) is FINE
    assert size_for(25.0) is FINE
    assert size_for(25.01) is COARSE
    assert size_for(500.0) is COARSE


def _surface_cubes_in_reach(latitude: float, longitude: float, distance: float, size: CubeSize) -> set[int]:
    """What the search lists for one ping: the cubes of its D-box that the ellipsoid passes through."""
    ranges = [reach(c, distance, size.metres) for c in earth_centred(latitude, longitude)]
    return {
        cube_key(x, y, z)
        for x, y, z in itertools.product(*(range(first, last + 1) for first, last in ranges))
        if surface_gap(x, y, z, size.metres) <= SURFACE_SLACK_M
    }


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("distance", [0.01, 5.0, 25.0, 60.0, 500.0])
def test_the_reach_holds_every_point_within_the_distance_and_costs_the_same_everywhere(
    place: str, distance: float
) -> None:
    latitude, longitude = PLACES[place]
    size = size_for(distance)
    listed = _surface_cubes_in_reach(latitude, longitude, distance, size)
    rng = random.Random(f"{place}/{distance}")
    # Points on the ellipsoid up to D away in every direction, the edge included.
    for _ in range(400):
        metres = distance * math.sqrt(rng.random()) if rng.random() < 0.7 else distance
        point = Geodesic.WGS84.Direct(latitude, longitude, rng.uniform(0, 360), metres)
        assert cube_of(point["lat2"], point["lon2"], size) in listed, (point, metres)
    # As many cubes as a flat square of side 2D over cubes of this size can touch, tilted any way:
    # nothing grows near the poles.
    per_axis = math.floor(2 * (distance + cubes.REACH_MARGIN_M) / size.metres) + 2
    assert len(listed) <= 3 * per_axis**2


def test_a_cube_away_from_the_ellipsoid_is_never_searched_and_one_on_it_always_is() -> None:
    rng = random.Random(4978)
    for _ in range(2000):
        latitude, longitude = math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)
        size = rng.choice((FINE, COARSE))
        x, y, z = (axis_number(c, size.metres) for c in earth_centred(latitude, longitude))
        assert surface_gap(x, y, z, size.metres) <= SURFACE_SLACK_M
        # Twice the cube's diagonal straight up or down: off the surface.
        up = [c * (1 + 2 * math.sqrt(3) * size.metres / cubes.WGS84_B) for c in earth_centred(latitude, longitude)]
        x, y, z = (axis_number(c, size.metres) for c in up)
        assert surface_gap(x, y, z, size.metres) > SURFACE_SLACK_M
