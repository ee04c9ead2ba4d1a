"""The database writes. Set-based and idempotent by id: a redelivered batch stores nothing twice."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, TIMESTAMP, UUID
from sqlalchemy.types import Text

from persistence_service.records import LocationRecord, PersonRecord


@dataclass
class StoreResult:
    inserted: int
    already_stored: int
    # Locations not stored because their person is not (yet) in the database.
    unknown_person_ids: set[uuid.UUID] = field(default_factory=set)


# One statement per batch: arrays in, unnest, ON CONFLICT DO NOTHING for idempotency.
_INSERT_PERSONS = text(
    """
    INSERT INTO person (id, first_name, last_name, company_name, created_at)
    SELECT * FROM unnest(:ids, :first_names, :last_names, :company_names, :created_ats)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("first_names", type_=ARRAY(Text)),
    bindparam("last_names", type_=ARRAY(Text)),
    bindparam("company_names", type_=ARRAY(Text)),
    bindparam("created_ats", type_=ARRAY(TIMESTAMP(timezone=True))),
)

_EXISTING_PERSONS = text("SELECT id FROM person WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
)

# ST_MakePoint(x, y): longitude is X, latitude is Y.
_INSERT_LOCATIONS = text(
    """
    INSERT INTO location (id, person_id, coordinate, creation_time, received_at)
    SELECT t.id, t.person_id, ST_SetSRID(ST_MakePoint(t.longitude, t.latitude), 4326)::geography,
           t.creation_time, t.received_at
    FROM unnest(:ids, :person_ids, :longitudes, :latitudes, :creation_times, :received_ats)
         AS t(id, person_id, longitude, latitude, creation_time, received_at)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("person_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("longitudes", type_=ARRAY(DOUBLE_PRECISION)),
    bindparam("latitudes", type_=ARRAY(DOUBLE_PRECISION)),
    bindparam("creation_times", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("received_ats", type_=ARRAY(TIMESTAMP(timezone=True))),
)


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save_persons(self, persons: Sequence[PersonRecord]) -> StoreResult:
        unique = list({person.id: person for person in persons}.values())
        with self._engine.begin() as connection:
            inserted = connection.execute(
                _INSERT_PERSONS,
                {
                    "ids": [p.id for p in unique],
                    "first_names": [p.first_name for p in unique],
                    "last_names": [p.last_name for p in unique],
                    "company_names": [p.company_name for p in unique],
                    "created_ats": [p.created_at for p in unique],
                },
            ).all()
        return StoreResult(inserted=len(inserted), already_stored=len(persons) - len(inserted))

    def save_locations(self, locations: Sequence[LocationRecord]) -> StoreResult:
        with self._engine.begin() as connection:
            wanted = list({location.person_id for location in locations})
            known = set(connection.execute(_EXISTING_PERSONS, {"ids": wanted}).scalars())
            # A person deleted between this check and the insert fails the foreign key and so the whole
            # batch (IntegrityError); the caller retries and then sees the person as unknown.
            storable = list({loc.id: loc for loc in locations if loc.person_id in known}.values())
            inserted = connection.execute(
                _INSERT_LOCATIONS,
                {
                    "ids": [loc.id for loc in storable],
                    "person_ids": [loc.person_id for loc in storable],
                    "longitudes": [loc.longitude for loc in storable],
                    "latitudes": [loc.latitude for loc in storable],
                    "creation_times": [loc.creation_time for loc in storable],
                    "received_ats": [loc.received_at for loc in storable],
                },
            ).all()
        unknown = {loc.person_id for loc in locations} - known
        stored_or_present = sum(1 for loc in locations if loc.person_id in known)
        return StoreResult(
            inserted=len(inserted),
            already_stored=stored_or_present - len(inserted),
            unknown_person_ids=unknown,
        )
