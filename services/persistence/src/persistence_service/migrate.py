"""``persistence-migrate``: bring the database schema to the newest Alembic revision."""

from alembic import command
from alembic.config import Config

from persistence_service.settings import PersistenceSettings
from udaconnect_common.logs import configure_logging


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "persistence_service:migrations")
    # Escape % so a password containing it survives ConfigParser interpolation.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def main() -> None:
    settings = PersistenceSettings()
    configure_logging(settings.log_level, settings.log_format)
    command.upgrade(alembic_config(settings.database_url), "head")
