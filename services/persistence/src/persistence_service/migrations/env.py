"""Alembic environment: the URL comes from ``persistence-migrate`` (which reads the service's settings)."""

from alembic import context
from sqlalchemy import create_engine

from persistence_service.settings import PersistenceSettings
from udaconnect_common.tables import metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or PersistenceSettings().database_url
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
