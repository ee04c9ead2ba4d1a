"""Which representation a list answers, from the request's Accept header."""

import pytest

from udaconnect_common.geojson import prefers_geojson


@pytest.mark.parametrize(
    "accept",
    [
        "application/geo+json",
        "application/geo+json, application/json;q=0.5",
        "application/json;q=0.9, application/geo+json",
        "application/json, application/geo+json",  # both named, equal weight: the client named GeoJSON on purpose
        "*/*;q=0.1, APPLICATION/GEO+JSON",
        "application/geo+json;q=bogus",
    ],
)
def test_geojson_when_asked_for_at_least_as_much_as_json(accept: str) -> None:
    assert prefers_geojson(accept)


@pytest.mark.parametrize(
    "accept",
    [None, "", "*/*", "application/json", "application/geo+json;q=0", "application/geo+json;q=0.5, */*", "text/html"],
)
def test_json_otherwise(accept: str | None) -> None:
    assert not prefers_geojson(accept)
