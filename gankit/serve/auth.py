"""The optional API key: compared in constant time, accepted the ways clients send one.

A client sends the key as ``Authorization: Bearer KEY``, as ``X-API-Key: KEY``, or as the
password of HTTP Basic authentication (any user name): the last is what a browser asks for when
the page answers 401, so the web page needs no key handling of its own.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from gankit.serve.errors import RequestError

# The challenge that makes a browser ask for the key (as a password) and send it with every call.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="gankit serve", charset="UTF-8"'}


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request carries, from whichever header holds one (None: no key sent).

    Example:
        >>> presented_key("Bearer s3cret", None), presented_key(None, "s3cret")
        ('s3cret', 's3cret')
        >>> presented_key("Basic " + base64.b64encode(b"me:s3cret").decode(), None)
        's3cret'
    """
    if x_api_key is not None:
        return x_api_key
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


def check_key(expected: str, authorization: str | None, x_api_key: str | None) -> None:
    """Raise a 401 :class:`RequestError` unless the request carries ``expected``."""
    key = presented_key(authorization, x_api_key)
    if key is None:
        raise RequestError(
            401,
            "this server needs an API key: send Authorization: Bearer KEY or X-API-Key: KEY",
            CHALLENGE,
        )
    # compare_digest on bytes: the time taken does not reveal how much of the key matched.
    if not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise RequestError(401, "wrong API key", CHALLENGE)
