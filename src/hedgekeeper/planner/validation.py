"""Checks shared by the candidates and the request: Greeks by name, numbers in range."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hedgekeeper.planner.errors import MalformedPlanRequest
from hedgekeeper.policy.decision import Greek


def as_greek(key: object, where: str) -> Greek:
    """Return ``key`` as a ``Greek`` (a member or its value, e.g. ``"delta_coin"``).

    Raises
    ------
    MalformedPlanRequest
        Naming ``where``, the key and the Greeks known.

    Examples
    --------
    >>> as_greek("theta", "candidate 'X'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgekeeper.planner.errors.MalformedPlanRequest: candidate 'X': unknown Greek 'theta'; ...
    """
    try:
        return Greek(key)
    except ValueError:
        known = ", ".join(greek.value for greek in Greek)
        message = f"{where}: unknown Greek {key!r}; expected one of {known}"
        raise MalformedPlanRequest(message) from None


def require_number(
    value: Any,
    where: str,
    *,
    minimum: float | None = None,
    strict: bool = False,
    allow_infinite: bool = False,
) -> float:
    """Return ``value`` as a float after checking that it is a number in range.

    Raises
    ------
    MalformedPlanRequest
        Naming ``where`` and the value if it is not a number, is NaN, is infinite
        (unless allowed) or lies below ``minimum`` (at or below it if ``strict``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise MalformedPlanRequest(f"{where} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_infinite):
        kind = "number" if allow_infinite else "finite number"
        raise MalformedPlanRequest(f"{where} must be a {kind}, got {number}")
    if minimum is not None and (number <= minimum if strict else number < minimum):
        relation = ">" if strict else ">="
        raise MalformedPlanRequest(f"{where} must be {relation} {minimum:g}, got {number}")
    return number
