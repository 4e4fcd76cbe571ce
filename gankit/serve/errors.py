"""A bad request as one exception: its HTTP status, one clear message, and any headers."""

from __future__ import annotations


class RequestError(Exception):
    """A request the server refuses; the app answers ``{"error": message}`` with ``status``.

    Example:
        >>> err = RequestError(404, "no model named 'x'; served: a, b")
        >>> err.status, str(err)
        (404, "no model named 'x'; served: a, b")
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
