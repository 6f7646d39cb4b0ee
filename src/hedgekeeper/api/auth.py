"""The bearer token every ``/api`` endpoint and ``/metrics`` require.

The token is compared in constant time. A missing or wrong token is a 401 with
``WWW-Authenticate: Bearer``; the token itself is never logged or echoed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pydantic
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="The service's API token (HEDGEKEEPER_API_TOKEN or its token file)")


def token_check(token: pydantic.SecretStr) -> Callable[..., None]:
    """Return the dependency that refuses a request without ``token`` as its bearer token."""
    expected = token.get_secret_value().encode()

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
        if not secrets.compare_digest(credentials.credentials.encode(), expected):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    return check
