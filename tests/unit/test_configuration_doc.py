"""docs/configuration.md names every setting of every service, with its default, in that service's table.

The page has one table per kind of service. A setting's row must be in a table that applies to the
service, and its default cell must be the setting's default exactly; a service whose default differs from
the shared one (person-api's port) must be named with its value in the row's meaning.
"""

import json
import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from connection_api.settings import ConnectionApiSettings
from ingest_consumer.settings import IngestSettings
from location_api.settings import LocationApiSettings
from persistence_service.settings import PersistenceSettings
from person_api.settings import PersonApiSettings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
EVERY_SERVICE = "Every service"
APIS = "The HTTP APIs (person-api, location-api, connection-api)"
# Each settings class, the name the page gives its service, and the tables that apply to it.
SERVICES: dict[type[BaseSettings], tuple[str, tuple[str, ...]]] = {
    PersonApiSettings: ("person-api", (EVERY_SERVICE, APIS)),
    LocationApiSettings: ("location-api", (EVERY_SERVICE, APIS)),
    ConnectionApiSettings: ("connection-api", (EVERY_SERVICE, APIS)),
    IngestSettings: ("ingest-consumer", (EVERY_SERVICE, "ingest-consumer")),
    PersistenceSettings: ("persistence-service", (EVERY_SERVICE, "persistence-service")),
}


def tables(document: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Section heading -> variable -> (default cell, meaning cell), from the page's `| `NAME` | … |` rows."""
    sections: dict[str, dict[str, tuple[str, str]]] = {}
    heading = ""
    for line in document.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = {}
        row = re.fullmatch(r"\| `([A-Z0-9_]+)` \| (.*?) \| (.*) \|", line)
        if row and heading:
            sections[heading][row[1]] = (row[2].strip(), row[3].strip())
    return sections


def documented_default(value: object) -> str:
    """How the page writes a default: in backticks, tuples as JSON lists, an empty string as 'empty'."""
    if value == "":
        return "empty"
    if isinstance(value, tuple):
        return f"`{json.dumps(list(value))}`"
    return f"`{value}`"


@pytest.mark.parametrize("settings", SERVICES, ids=lambda cls: cls.__name__)
def test_every_setting_is_in_its_services_table_with_its_default(settings: type[BaseSettings]) -> None:
    service, headings = SERVICES[settings]
    page = tables(DOC)
    for name, field in settings.model_fields.items():
        variable = name.upper()
        rows = [page[heading][variable] for heading in headings if variable in page.get(heading, {})]
        assert rows, f"{variable} of {service} is in none of its tables ({', '.join(headings)})"
        default_cell, meaning = rows[-1]  # the most specific table wins
        expected = documented_default(field.default)
        if default_cell != expected:
            # A service-specific default, written in the meaning: "person-api 8001", "(location-api: 524288)".
            assert re.search(rf"{re.escape(service)}:? {re.escape(str(field.default))}\b", meaning), (
                f"{variable}: {service}'s default {expected} is neither the table's {default_cell} nor in {meaning!r}"
            )


def test_the_parser_sees_every_table() -> None:
    page = tables(DOC)
    assert {EVERY_SERVICE, APIS, "ingest-consumer", "persistence-service"} <= set(page)
    assert page[APIS]["HTTP_PORT"][0] == "`8000`"
    assert documented_default(("a", "b")) == '`["a", "b"]`'
