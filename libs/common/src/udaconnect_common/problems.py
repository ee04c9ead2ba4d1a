"""The exception a route (or a dependency) raises to answer with an RFC 9457 problem document."""

from collections.abc import Mapping


class ProblemError(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
