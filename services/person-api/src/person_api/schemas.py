"""The HTTP shapes of a person, named by role."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from udaconnect_common.schemas import PersonPublic

__all__ = ["DeletionAccepted", "PersonCreate", "PersonPage", "PersonPublic"]

# PostgreSQL text cannot hold NUL: refuse it here rather than accept a write that can never be stored.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class PersonCreate(BaseModel):
    """Body of ``POST /api/persons``. Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"first_name": "Taco", "last_name": "Fargo", "company_name": "Alpha Omega Upholstery"}]
        },
    )

    first_name: Name
    last_name: Name
    company_name: Name


class PersonPage(BaseModel):
    """One page of persons and the sort key of its last row (for the next cursor)."""

    persons: list[PersonPublic]
    has_more: bool = Field(description="another page follows")


class DeletionAccepted(BaseModel):
    """A deletion the write path has accepted: the person and their pings are gone once it is applied."""

    person_id: uuid.UUID
    requested_at: datetime = Field(description="When the deletion was accepted (UTC)")
