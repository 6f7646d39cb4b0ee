"""Load TOML files and validate them with pydantic, naming the field that is wrong.

Every configuration file goes through ``load_toml`` and ``validate``: a malformed
file or a bad field becomes one ``ConfigError`` whose message lists each offending
field by its path (``profile.BTC.delta_coin.lower``) with the reason, never a
default in disguise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from hedgekeeper.errors import ConfigError

Model = TypeVar("Model", bound=pydantic.BaseModel)


class StrictModel(pydantic.BaseModel):
    """Base of every configuration model: frozen, unknown fields refused, floats finite."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Return the parsed content of a TOML file.

    Raises
    ------
    ConfigError
        If the file is missing or is not valid TOML; the message gives the path and
        the parser's line and column.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: malformed TOML: {error}") from None


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def validate(model: type[Model], data: Mapping[str, Any], *, prefix: str = "", source: str = "") -> Model:
    """Return ``data`` validated as ``model``.

    Parameters
    ----------
    model : a pydantic model class
    data : the raw mapping, e.g. from ``load_toml``
    prefix : the path of ``data`` inside its file, prepended to field names
    source : the file name, for the message

    Raises
    ------
    ConfigError
        Listing every invalid field by its full path, with pydantic's reason.

    Examples
    --------
    >>> class Limits(StrictModel):
    ...     max_order_coin: float
    >>> validate(Limits, {"max_order_coin": "lots"}, prefix="execution")
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.ConfigError: invalid configuration: execution.max_order_coin: Input should be a valid number, unable to parse string as a number
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = []
        for item in error.errors():
            location = ((prefix,) if prefix else ()) + tuple(item["loc"])
            problems.append(f"{_field_path(location)}: {item['msg']}")
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}invalid configuration: " + "; ".join(problems)) from None


def validate_table(
    model: type[Model], source: str | Path | Mapping[str, Any], *, prefix: str, what: str
) -> Model:
    """Return the ``[prefix]`` table of a TOML file (or the table itself) validated as ``model``.

    Parameters
    ----------
    model : a pydantic model class
    source : a TOML file path, whose ``[prefix]`` table is read, or the table itself
    prefix : the table's path in its file, used in error messages
    what : what the table holds, for the message when it is not a table

    Raises
    ------
    ConfigError
        If the file is missing or malformed, has no such table, or a field is invalid.
    """
    name = ""
    if isinstance(source, str | Path):
        name = str(source)
        document = load_toml(source)
        if prefix not in document:
            raise ConfigError(f"{name}: no [{prefix}] table")
        source = document[prefix]
    if not isinstance(source, Mapping):
        raise ConfigError(f"{name or what}: [{prefix}] must be a table of {what}")
    return validate(model, source, prefix=prefix, source=name)
