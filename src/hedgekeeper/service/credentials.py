"""Secrets: exchange API keys and the API's bearer token, read from the environment or owner-only files.

A secret is held as ``pydantic.SecretStr`` from the moment it is read: its repr and
str show ``**********``, so it never reaches a log line, an API answer or the
store. A key or token file must be readable by its owner only (mode 0600 or
0400): a file that its group or others may read is refused with the mode and the
``chmod`` that fixes it.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pydantic

from hedgekeeper.errors import ConfigError
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig


def check_owner_only(path: Path) -> None:
    """Refuse a secret file that its group or others may read or write.

    Raises
    ------
    ConfigError
        Naming the file, its mode and the fix.
    """
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path}: secret file has mode {mode:04o}, readable by group or others; "
                          f"run: chmod 600 {path}")


def read_key_file(path: str | Path) -> dict[str, pydantic.SecretStr]:
    """Return the secrets of an owner-only TOML key file (``api_key``, ``api_secret``, ``api_password``).

    Raises
    ------
    ConfigError
        If the file is missing, malformed, readable by others, or has another key
        (never showing a value).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{path}: no such key file")
    check_owner_only(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: malformed TOML: {error}") from None
    allowed = {"api_key", "api_secret", "api_password"}
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown keys {unknown}; a key file holds {sorted(allowed)}")
    if not all(isinstance(document.get(k), str) and document[k] for k in ("api_key", "api_secret")):
        raise ConfigError(f"{path}: api_key and api_secret must be non-empty strings")
    return {key: pydantic.SecretStr(value) for key, value in document.items()}


def venue_environment(venue: CcxtVenueConfig, key_file: str | None,
                      environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment ``venues.ccxt`` reads the credentials from: the key file's, or the process's.

    The key file's values are put under the variable names the venue's configuration
    gives, so the ccxt adapter reads them as it reads the environment.
    """
    if key_file is None:
        return dict(os.environ if environment is None else environment)
    keys = read_key_file(key_file)
    out = {venue.api_key_env: keys["api_key"].get_secret_value(),
           venue.api_secret_env: keys["api_secret"].get_secret_value()}
    if venue.api_password_env is not None and "api_password" in keys:
        out[venue.api_password_env] = keys["api_password"].get_secret_value()
    return out


def api_token(token_env: str, token_file: str | Path, environment: Mapping[str, str] | None = None
              ) -> tuple[pydantic.SecretStr, str]:
    """Return the API's bearer token and where it came from (never the token itself).

    The variable ``token_env`` wins; else the owner-only ``token_file``; else a random
    token is written to ``token_file`` with mode 0600.

    Raises
    ------
    ConfigError
        If the token file is readable by others or empty.
    """
    source = os.environ if environment is None else environment
    if source.get(token_env):
        return pydantic.SecretStr(source[token_env]), f"environment variable {token_env}"
    path = Path(token_file).expanduser()
    if path.exists():
        check_owner_only(path)
        token = path.read_text().strip()
        if not token:
            raise ConfigError(f"{path}: the API token file is empty")
        return pydantic.SecretStr(token), f"file {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return pydantic.SecretStr(token), f"file {path} (new random token)"
