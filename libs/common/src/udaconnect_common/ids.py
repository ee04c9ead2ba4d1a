"""Record ids are made by the API that accepts the POST, so the id is known before the row exists."""

import uuid

import uuid_utils.compat

# One namespace per resource, so the same Idempotency-Key used for a person and for a
# location does not give both the same id. Fixed forever: changing them would break retries.
PERSON_ID_NAMESPACE = uuid.UUID("6f1c2d64-4b0e-4d7e-9a55-2b9a5e0c4f10")
LOCATION_ID_NAMESPACE = uuid.UUID("0c8a7e51-3d7f-4a8e-8f3e-6a1e9d2b7c44")


def new_id() -> uuid.UUID:
    """A fresh time-ordered UUIDv7: index-friendly (new rows land at the end of the btree)."""
    return uuid_utils.compat.uuid7()


def id_for_idempotency_key(namespace: uuid.UUID, key: str) -> uuid.UUID:
    """The same key always gives the same id (UUIDv5), so a client's retry cannot create a second record."""
    return uuid.uuid5(namespace, key)
