"""Errors raised by the local infrastructure helpers."""


class InfrastructureError(RuntimeError):
    """A local infrastructure process (PostgreSQL, Kafka, Maven, ...) could not be set up, started or stopped.

    The message is meant for a developer reading a failed `make up` or test run, so it carries the
    relevant tail of the process log when there is one.
    """
