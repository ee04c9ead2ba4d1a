"""Keyset paging with opaque cursors and RFC 8288 ``Link: <...>; rel="next"`` headers.

A cursor is the sort key of the last row of a page, base64url-encoded JSON; clients must treat it as
opaque. No next link means the last page: nothing is ever cut off silently.
"""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from starlette.datastructures import URL


class InvalidCursor(ValueError):
    pass


def encode_cursor(sort_key: list[Any]) -> str:
    raw = json.dumps(sort_key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not one this API made") from exc
    if not isinstance(value, list) or len(value) != length:
        raise InvalidCursor("cursor is not one this API made")
    return value


def read_cursor(cursor: str | None, *fields: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The sort key in ``cursor``, each value converted by its field's parser; None for the first page.

    Raises :class:`InvalidCursor` (answered as a 422 by every API) for anything this API did not make.
    """
    if cursor is None:
        return None
    values = decode_cursor(cursor, len(fields))
    try:
        return tuple(parse(value) for parse, value in zip(fields, values, strict=True))
    except (TypeError, ValueError) as exc:
        raise InvalidCursor("cursor is not one this API made") from exc


def next_link(request_url: URL, cursor: str) -> str:
    return f'<{request_url.include_query_params(cursor=cursor)}>; rel="next"'
