"""Schemathesis against each API's own OpenAPI document, on the real running services.

Bounded (a fixed number of examples per operation, a fixed seed) and run through Schemathesis' CLI, its
most stable interface. Every check is on except ``positive_data_acceptance``: it expects every
schema-valid request to succeed, but some rules cannot be written in OpenAPI (``end_date`` not before
``start_date``, cursors this API made, a question too costly for a request's budget), so those requests
rightly get a 422.
``negative_data_rejection`` (schema-invalid input must be refused with a 4xx) stays on.
"""

import subprocess
from pathlib import Path

import pytest

from udaconnect_devstack.services import venv_script
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 30
SEED = 20261124


@pytest.mark.parametrize("service", ["person-api", "location-api", "connection-api"])
def test_api_answers_every_generated_input_as_documented(stack: LocalStack, service: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            venv_script("schemathesis"),
            "run",
            f"{stack.url(service)}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--no-color",
            # An organizer's token: every operation is reachable. The checks include that a request
            # without it is refused (schemathesis's ignored_auth).
            "--header",
            f"Authorization: Bearer {stack.organizer_token()}",
        ],
        cwd=tmp_path,  # its example database stays out of the repository
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout[result.stdout.find("SUMMARY") :]
    print(summary)
    assert result.returncode == 0, result.stdout[-6000:]
    assert " passed" in summary
