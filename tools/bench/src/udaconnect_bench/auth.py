"""The bench calls the APIs as an organizer, with the token its run put in ``UDACONNECT_TOKEN``.

An environment variable rather than an argument through every measurement: wrk's Lua scripts read it too.
"""

import os

ENVIRONMENT_NAME = "UDACONNECT_TOKEN"


def authorize(token: str) -> None:
    os.environ[ENVIRONMENT_NAME] = token


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {os.environ[ENVIRONMENT_NAME]}"}
