"""docs/configuration.md names every setting of every service, with its default."""

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from connection_api.settings import ConnectionApiSettings
from ingest_consumer.settings import IngestSettings
from location_api.settings import LocationApiSettings
from persistence_service.settings import PersistenceSettings
from person_api.settings import PersonApiSettings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
SETTINGS = [PersonApiSettings, LocationApiSettings, ConnectionApiSettings, IngestSettings, PersistenceSettings]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda cls: cls.__name__)
def test_every_setting_is_documented_with_its_default(settings: type[BaseSettings]) -> None:
    for name, field in settings.model_fields.items():
        assert f"`{name.upper()}`" in DOC, f"{name.upper()} of {settings.__name__} is not in docs/configuration.md"
        default = field.default
        values = [str(item) for item in default] if isinstance(default, tuple) else [str(default)]
        for value in values:
            if value:
                assert value in DOC, f"the default of {name.upper()} ({value}) is not in docs/configuration.md"
