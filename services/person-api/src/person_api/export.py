"""Everything stored about a person, as a download: JSON, GeoJSON or GPX, streamed as it is read.

A person's history can be long (a phone pinging every 30 s for a month is 86,000 pings), so the
document is written ping by ping from a server-side cursor and never held whole in memory.
"""

import enum
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import NamedTuple
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from person_api.schemas import PersonPublic


class ExportedPing(NamedTuple):
    id: str
    latitude: float
    longitude: float
    creation_time: datetime
    received_at: datetime


class ExportFormat(enum.StrEnum):
    JSON = "json"
    GEOJSON = "geojson"
    GPX = "gpx"


MEDIA_TYPES = {
    ExportFormat.JSON: "application/json",
    ExportFormat.GEOJSON: "application/geo+json",
    ExportFormat.GPX: "application/gpx+xml",
}
# Pings per chunk sent: small enough to stream, large enough not to cost a write per ping.
_CHUNK = 500


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _ping_json(ping: ExportedPing) -> dict[str, object]:
    return {
        "id": ping.id,
        "latitude": ping.latitude,
        "longitude": ping.longitude,
        "creation_time": _iso(ping.creation_time),
        "received_at": _iso(ping.received_at),
    }


async def _joined(items: AsyncIterator[str], separator: str) -> AsyncIterator[str]:
    first = True
    async for item in items:
        yield item if first else separator + item
        first = False


async def _chunked(parts: AsyncIterator[str]) -> AsyncIterator[bytes]:
    buffer: list[str] = []
    async for part in parts:
        buffer.append(part)
        if len(buffer) >= _CHUNK:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


async def _json(person: PersonPublic, pings: AsyncIterator[ExportedPing], exported_at: datetime) -> AsyncIterator[str]:
    head = {"person": person.model_dump(mode="json"), "exported_at": _iso(exported_at)}
    yield json.dumps(head)[:-1] + ', "locations": ['
    async for item in _joined((json.dumps(_ping_json(ping)) async for ping in pings), ", "):
        yield item
    yield "]}\n"


async def _geojson(person: PersonPublic, pings: AsyncIterator[ExportedPing]) -> AsyncIterator[str]:
    yield '{"type": "FeatureCollection", "features": ['
    features = (
        json.dumps(
            {
                "type": "Feature",
                "id": ping.id,
                # GeoJSON positions are [longitude, latitude].
                "geometry": {"type": "Point", "coordinates": [ping.longitude, ping.latitude]},
                "properties": {
                    "person_id": str(person.id),
                    "creation_time": _iso(ping.creation_time),
                    "received_at": _iso(ping.received_at),
                },
            }
        )
        async for ping in pings
    )
    async for item in _joined(features, ", "):
        yield item
    yield "]}\n"


def _attributes(**values: str) -> "AttributesImpl[str]":  # subscripted for type checkers only
    return AttributesImpl(values)


async def _gpx(person: PersonPublic, pings: AsyncIterator[ExportedPing]) -> AsyncIterator[str]:
    """GPX 1.1: one track of the pings in time order. XMLGenerator escapes every name and value."""
    out = io.StringIO()
    xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("gpx", _attributes(version="1.1", creator="UdaConnect", xmlns="http://www.topografix.com/GPX/1/1"))
    xml.startElement("trk", _attributes())
    xml.startElement("name", _attributes())
    xml.characters(f"{person.first_name} {person.last_name}")
    xml.endElement("name")
    xml.startElement("trkseg", _attributes())
    async for ping in pings:
        xml.startElement("trkpt", _attributes(lat=repr(ping.latitude), lon=repr(ping.longitude)))
        xml.startElement("time", _attributes())
        xml.characters(_iso(ping.creation_time))
        xml.endElement("time")
        xml.endElement("trkpt")
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    xml.endElement("trkseg")
    xml.endElement("trk")
    xml.endElement("gpx")
    yield out.getvalue() + "\n"


def export_document(
    person: PersonPublic, pings: AsyncIterator[ExportedPing], export_format: ExportFormat, exported_at: datetime
) -> AsyncIterator[bytes]:
    """The document's bytes, in chunks."""
    if export_format is ExportFormat.GEOJSON:
        return _chunked(_geojson(person, pings))
    if export_format is ExportFormat.GPX:
        return _chunked(_gpx(person, pings))
    return _chunked(_json(person, pings, exported_at))
