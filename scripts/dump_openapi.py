"""Writes each API's OpenAPI document to ``<out>/<name>.json``: what the front end's typed client is made from.

Usage: uv run python scripts/dump_openapi.py <out-dir>   (scripts/gen-api-client.sh calls it)
"""

import json
import sys
from pathlib import Path

from fastapi import FastAPI

from connection_api.app import create_app as create_connection_app
from location_api.app import create_app as create_location_app
from person_api.app import create_app as create_person_app


class Unused:
    """Stands in for the adapters: building the document calls none of them."""

    async def check(self) -> None:
        raise AssertionError("not called")


def documents() -> dict[str, FastAPI]:
    return {
        "person": create_person_app(Unused(), Unused(), access=Unused()),  # type: ignore[arg-type]
        "location": create_location_app(Unused(), Unused(), access=Unused()),  # type: ignore[arg-type]
        "connection": create_connection_app(Unused(), access=Unused()),  # type: ignore[arg-type]
    }


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, app in documents().items():
        text = json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (out / f"{name}.json").write_text(text)


if __name__ == "__main__":
    main()
