"""One log format for every service: timestamp, level, logger, message (to stderr, collected by the runner)."""

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
