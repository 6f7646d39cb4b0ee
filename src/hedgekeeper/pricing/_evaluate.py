"""Broadcast the pricers' array arguments, run a kernel, and refuse invalid input.

The kernels take flat arrays, each of the full length or of length one, so that a
scalar rate or carry is never copied a million times. This module does that
flattening, reshapes the outputs, and turns the kernels' count of invalid entries
into a ``BadData`` error that names the first offending argument and value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hedgekeeper.errors import BadData
from hedgekeeper.pricing import _kernels

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


class OptionGreeks(NamedTuple):
    """Price and Greeks of European options, each an array of the broadcast input shape.

    Units are those of the model that produced them, per unit of notional: for a
    USD-quoted model, price in USD per coin, delta in coin per coin, gamma in coin
    per coin per USD, vega in USD per 1.00 of volatility (not per vol point), theta
    in USD per calendar year, rho in USD per 1.00 of rate, vanna in coin per coin per
    1.00 of volatility, volga in USD per 1.00 of volatility squared.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    vanna: FloatArray
    volga: FloatArray


# What each kernel argument must satisfy, in the order the kernels take them.
_REQUIREMENTS = (
    ("> 0", lambda a: a > 0),
    ("> 0", lambda a: a > 0),
    (">= 0", lambda a: a >= 0),
    (">= 0", lambda a: a >= 0),
    ("finite", np.isfinite),
    ("finite", np.isfinite),
)


def _flatten(values: list[np.ndarray], shape: tuple[int, ...]) -> list[np.ndarray]:
    size = int(np.prod(shape))
    flat = []
    for value in values:
        if value.size == 1:
            flat.append(value.reshape(1))
        elif value.shape == shape:
            flat.append(np.ascontiguousarray(value).reshape(size))
        else:
            flat.append(np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(size))
    return flat


def _prepare(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    carry: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
) -> tuple[tuple[int, ...], list[np.ndarray]]:
    floats = [np.asarray(a, dtype=np.float64) for a in (underlying, strike, t_years, vol, carry, rate)]
    calls = np.asarray(is_call)
    if calls.dtype != np.bool_:
        raise TypeError(f"is_call must be boolean, got dtype {calls.dtype}")
    shape = np.broadcast_shapes(*(a.shape for a in floats), calls.shape)
    return shape, _flatten([*floats, calls], shape)


def _refuse(
    function: str, names: tuple[str, ...], invalid: int, shape: tuple[int, ...], flat: list[np.ndarray]
) -> None:
    size = int(np.prod(shape))
    full = [np.broadcast_to(a, (size,)) for a in flat[:6]]
    bad = np.zeros(size, dtype=bool)
    for values, (_, holds) in zip(full, _REQUIREMENTS, strict=True):
        bad |= ~(holds(values) & np.isfinite(values))
    index = int(np.argmax(bad))
    culprits = ", ".join(
        f"{name}={float(values[index])!r} (must be finite and {rule})"
        for name, values, (rule, holds) in zip(names, full, _REQUIREMENTS, strict=True)
        if not (holds(values[index]) and np.isfinite(values[index]))
    )
    where = tuple(int(i) for i in np.unravel_index(index, shape)) if shape else ()
    raise BadData(f"{function}: {invalid} of {size} inputs invalid; first at index {where}: {culprits}")


def _run(
    function: str,
    names: tuple[str, ...],
    kernels: tuple[Callable[..., int], Callable[..., int]],
    shape: tuple[int, ...],
    flat: list[np.ndarray],
    *outputs: object,
) -> None:
    """Run the serial or parallel kernel (by size) on ``flat`` into ``outputs``; refuse invalid input."""
    serial, parallel = kernels
    kernel = parallel if int(np.prod(shape)) >= _kernels.PARALLEL_FROM else serial
    invalid = kernel(*flat, *outputs)
    if invalid:
        _refuse(function, names, invalid, shape, flat)


def evaluate_price(
    function: str,
    names: tuple[str, ...],
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    carry: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
) -> FloatArray:
    """Return the generalised Black price (see ``_kernels``) in the broadcast shape.

    ``names`` are the caller's names of (underlying, strike, t_years, vol, carry,
    rate), used in the ``BadData`` message when an input is invalid.
    """
    shape, flat = _prepare(underlying, strike, t_years, vol, carry, rate, is_call)
    price = np.empty(int(np.prod(shape)))
    _run(function, names, (_kernels.price_kernel_serial, _kernels.price_kernel_parallel), shape, flat, price)
    return price.reshape(shape)


def evaluate_greeks(
    function: str,
    names: tuple[str, ...],
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    carry: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry_follows_rate: bool,
) -> OptionGreeks:
    """Return the generalised Black price and Greeks (see ``_kernels``) in the broadcast shape."""
    shape, flat = _prepare(underlying, strike, t_years, vol, carry, rate, is_call)
    out = np.empty((8, int(np.prod(shape))))
    kernels = (_kernels.greeks_kernel_serial, _kernels.greeks_kernel_parallel)
    _run(function, names, kernels, shape, flat, carry_follows_rate, out)
    return OptionGreeks(*(row.reshape(shape) for row in out))
