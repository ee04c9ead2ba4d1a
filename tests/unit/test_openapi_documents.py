"""Each API's OpenAPI document describes every endpoint, parameter and error a client can meet."""

from typing import Any

import pytest
from fastapi import FastAPI

from connection_api.app import create_app as create_connection_app
from location_api.app import create_app as create_location_app
from person_api.app import create_app as create_person_app
from tests.tokens import access_control


class Unused:
    """Stands in for the adapters: building the document calls none of them."""

    async def check(self) -> None:
        raise AssertionError("not called")


APPS: dict[str, FastAPI] = {
    "person": create_person_app(Unused(), Unused(), access=access_control()),  # type: ignore[arg-type]
    "location": create_location_app(Unused(), Unused(), access=access_control()),  # type: ignore[arg-type]
    "connection": create_connection_app(Unused(), access=access_control()),  # type: ignore[arg-type]
}


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("name", APPS)
def test_every_operation_has_a_summary_and_documents_its_errors(name: str) -> None:
    for path, method, operation in _operations(APPS[name]):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        assert "422" in responses, where
        if "{" in path and method != "delete":
            # A deletion of an unknown id is accepted like any other (idempotent): no 404.
            assert "404" in responses, where
        if method == "post":
            assert {"202", "400", "413", "503"} <= set(responses), where
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (where, status)


@pytest.mark.parametrize("name", APPS)
def test_the_problem_schema_is_defined(name: str) -> None:
    assert "Problem" in APPS[name].openapi()["components"]["schemas"]


@pytest.mark.parametrize("name", APPS)
def test_every_parameter_is_described(name: str) -> None:
    for path, method, operation in _operations(APPS[name]):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), f"{method.upper()} {path}: {parameter['name']}"


@pytest.mark.parametrize("name", APPS)
def test_request_and_response_bodies_carry_examples(name: str) -> None:
    schemas = APPS[name].openapi()["components"]["schemas"]
    for schema_name in ("PersonPublic", "PersonCreate", "LocationPublic", "LocationCreate", "Connection"):
        if schema_name in schemas:
            assert schemas[schema_name].get("examples"), schema_name


@pytest.mark.parametrize("name", APPS)
def test_every_api_operation_declares_the_bearer_scheme_and_its_401(name: str) -> None:
    document = APPS[name].openapi()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, method, operation in _operations(APPS[name]):
        assert operation.get("security") == [{"bearer": []}], f"{method.upper()} {path}"
        assert {"401", "403"} <= operation["responses"].keys(), f"{method.upper()} {path}"
    for path in ("/health", "/ready"):
        assert "security" not in document["paths"][path]["get"], path
