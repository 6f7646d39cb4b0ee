"""Implied volatility of European options: Black-76, Black-Scholes and inverse.

All three models invert one kernel, the Black-76 price in USD per coin::

    price = discount * (F N(d1) - K N(d2))          (call; puts by parity)
    d1 = ln(F/K) / (vol sqrt(t)) + vol sqrt(t) / 2,  d2 = d1 - vol sqrt(t)

Black-Scholes on a spot coin is Black-76 on ``F = spot exp((rate - coin_rate) t)``
with ``discount = exp(-rate t)``; an inverse (Deribit-style) premium in coin is
Black-76 after ``price_usd = price_coin * F``.

Algorithm
---------
Peter Jäckel's "Let's Be Rational" (Wilmott 2015): the quote becomes the time value
of the out-of-the-money option (put-call parity), normalised by ``sqrt(F K)`` and
inverted on the normalised Black function. A rational-cubic initial guess on four
branches and two Householder(3) steps on transformed objectives give the vol to
machine precision; the Black function is evaluated with asymptotic expansions and
Cody's ``erfcx`` so that it keeps its relative accuracy in the tails. The kernel
(``_implied_vol_kernels``) is compiled by Numba and runs in parallel over quotes.

Which quotes carry information
------------------------------
A quote that passes the no-arbitrage checks carries information when its float64
price pins the vol down: a change of ``PRICE_UNCERTAINTY_ULPS`` (8) units in the
last place of the undiscounted price moves the vol by at most ``VOL_RESOLUTION``
(1e-9)::

    vega * 1e-9 >= 8 * 2**-52 * price          (both undiscounted, USD per coin)

Deep in-the-money options close to expiry fail it (their time value drowns in the
rounding of the intrinsic value), and so do quotes within rounding of a bound.
They get NaN with reason ``NO_INFORMATION``: their vol is unknown, not wrong. Every
quote that carries information round-trips to better than 1e-9 in vol and 1e-10
relative in price, from 1 minute to 5 years, vol 5% to 500% and beyond.

Why a vol is NaN
----------------
``ImpliedVolReason`` (int8 codes, 0 for a vol) names the first failed check, in
this order: a non-finite input, ``t_years <= 0``, ``forward <= 0``, ``strike <= 0``,
``discount <= 0``, ``price <= 0``, the price above its upper bound (``discount F``
for a call, ``discount K`` for a put) or below the discounted intrinsic value, by
more than 4 units in the last place, and last ``NO_INFORMATION``. The
``*_with_reason`` functions return the codes; ``errors="raise"`` raises for the
first NaN instead: ``ArbitrageViolation`` for a price outside its bounds (the
message carries the numbers), ``BadData`` otherwise.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from hedgekeeper.errors import ArbitrageViolation, BadData
from hedgekeeper.pricing._implied_vol_kernels import (
    PRICE_UNCERTAINTY_ULPS,
    VOL_RESOLUTION,
    ImpliedVolReason,
    implied_vol_kernel,
)

__all__ = [
    "PRICE_UNCERTAINTY_ULPS",
    "VOL_RESOLUTION",
    "ImpliedVolReason",
    "ImpliedVolResult",
    "implied_vol_black76",
    "implied_vol_black76_with_reason",
    "implied_vol_black_scholes",
    "implied_vol_black_scholes_with_reason",
    "implied_vol_inverse",
    "implied_vol_inverse_with_reason",
]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
Errors = Literal["nan", "raise"]


class ImpliedVolResult(NamedTuple):
    """Implied vols and why each NaN is NaN, both in the broadcast shape of the quotes."""

    vol: FloatArray
    """Annualised volatility, decimal (0.8 is 80%); NaN where ``reason`` is not OK."""
    reason: npt.NDArray[np.int8]
    """``ImpliedVolReason`` code of each quote, 0 (``OK``) where there is a vol."""


class _Black76Quotes(NamedTuple):
    """Quotes as the kernel takes them: flat, each of the full length or of length one."""

    shape: tuple[int, ...]
    price: FloatArray
    forward: FloatArray
    strike: FloatArray
    t_years: FloatArray
    is_call: npt.NDArray[np.bool_]
    discount: FloatArray


def _flatten(values: ArrayLike, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.size == 1:
        return array.reshape(1)
    if array.shape == shape:
        return np.ascontiguousarray(array).reshape(-1)
    return np.broadcast_to(array, shape).flatten()


def _black76_quotes(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike,
) -> _Black76Quotes:
    calls = np.asarray(is_call)
    if calls.dtype != np.bool_:
        raise TypeError(f"is_call must be boolean, got dtype {calls.dtype}")
    floats = [np.asarray(a, dtype=np.float64) for a in (price, forward, strike, t_years, discount)]
    shape = np.broadcast_shapes(*(a.shape for a in floats), calls.shape)
    price_, forward_, strike_, t_years_, discount_ = (
        _flatten(a, shape, np.float64) for a in floats
    )
    return _Black76Quotes(
        shape, price_, forward_, strike_, t_years_, _flatten(calls, shape, np.bool_), discount_
    )


def _solve(quotes: _Black76Quotes) -> ImpliedVolResult:
    size = int(np.prod(quotes.shape))
    vol = np.empty(size)
    reason = np.empty(size, dtype=np.int8)
    implied_vol_kernel(
        quotes.price,
        quotes.forward,
        quotes.strike,
        quotes.t_years,
        quotes.is_call,
        quotes.discount,
        vol,
        reason,
    )
    return ImpliedVolResult(vol.reshape(quotes.shape), reason.reshape(quotes.shape))


def _describe(
    reason: ImpliedVolReason,
    price: float,
    forward: float,
    strike: float,
    t_years: float,
    is_call: bool,
    discount: float,
) -> str:
    """Return why one quote has no vol, with its numbers (Black-76 terms, USD per coin)."""
    kind = "call" if is_call else "put"
    inputs = f"(forward {forward!r}, strike {strike!r}, t_years {t_years!r}, discount {discount:.12g})"
    intrinsic = discount * max(forward - strike if is_call else strike - forward, 0.0)
    upper_bound = discount * (forward if is_call else strike)
    price_is = f"{kind} price {price!r}"
    what = {
        ImpliedVolReason.NOT_FINITE: f"{price_is}: an input is not finite",
        ImpliedVolReason.NON_POSITIVE_TIME: f"t_years {t_years!r} is not positive: expired",
        ImpliedVolReason.NON_POSITIVE_FORWARD: f"forward {forward!r} is not positive",
        ImpliedVolReason.NON_POSITIVE_STRIKE: f"strike {strike!r} is not positive",
        ImpliedVolReason.NON_POSITIVE_DISCOUNT: f"discount {discount:.12g} is not positive",
        ImpliedVolReason.NON_POSITIVE_PRICE: f"{price_is} is not positive",
        ImpliedVolReason.ABOVE_UPPER_BOUND: f"{price_is} is above its upper bound {upper_bound:.12g}",
        ImpliedVolReason.BELOW_INTRINSIC: f"{price_is} is below intrinsic {intrinsic:.12g}",
        ImpliedVolReason.NO_INFORMATION: (
            f"{price_is} (intrinsic {intrinsic:.12g}, upper bound {upper_bound:.12g}) carries no "
            f"information: {PRICE_UNCERTAINTY_ULPS:g} ulps of it move the vol by more than "
            f"{VOL_RESOLUTION:g}"
        ),
    }[reason]
    return f"{what} {inputs}"


def _raise_for_first_nan(function: str, quotes: _Black76Quotes, result: ImpliedVolResult) -> None:
    flat_reason = result.reason.reshape(-1)
    failed = np.flatnonzero(flat_reason)
    if failed.size == 0:
        return
    index = int(failed[0])
    reason = ImpliedVolReason(int(flat_reason[index]))
    values = [
        float(a[0 if a.shape[0] == 1 else index])
        for a in (quotes.price, quotes.forward, quotes.strike, quotes.t_years)
    ]
    is_call = bool(quotes.is_call[0 if quotes.is_call.shape[0] == 1 else index])
    discount = float(quotes.discount[0 if quotes.discount.shape[0] == 1 else index])
    where = tuple(int(i) for i in np.unravel_index(index, quotes.shape))
    message = (
        f"{function}: {failed.size} of {flat_reason.size} quotes have no implied vol; "
        f"first at index {where}, {reason.name}: "
        f"{_describe(reason, *values, is_call, discount)}"
    )
    bounds = (
        ImpliedVolReason.NON_POSITIVE_PRICE,
        ImpliedVolReason.ABOVE_UPPER_BOUND,
        ImpliedVolReason.BELOW_INTRINSIC,
    )
    raise (ArbitrageViolation if reason in bounds else BadData)(message)


def _finish(function: str, quotes: _Black76Quotes, errors: Errors) -> FloatArray:
    if errors not in ("nan", "raise"):
        raise ValueError(f"errors must be 'nan' or 'raise', got {errors!r}")
    result = _solve(quotes)
    if errors == "raise":
        _raise_for_first_nan(function, quotes, result)
    return result.vol


def _black_scholes_quotes(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike,
    coin_rate: ArrayLike,
) -> _Black76Quotes:
    t = np.asarray(t_years, dtype=np.float64)
    forward = np.asarray(spot, dtype=np.float64) * np.exp(
        (np.asarray(rate) - np.asarray(coin_rate)) * t
    )
    return _black76_quotes(price, forward, strike, t, is_call, _discount_factor(rate, t))


def _discount_factor(rate: ArrayLike, t_years: ArrayLike) -> FloatArray:
    return np.exp(-np.asarray(rate, dtype=np.float64) * np.asarray(t_years, dtype=np.float64))


def _inverse_quotes(
    price_coin: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike,
) -> _Black76Quotes:
    forward_ = np.asarray(forward, dtype=np.float64)
    return _black76_quotes(
        np.asarray(price_coin, dtype=np.float64) * forward_,
        forward_,
        strike,
        t_years,
        is_call,
        discount,
    )


def implied_vol_black76(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    *,
    errors: Errors = "nan",
) -> FloatArray:
    """Return the Black-76 implied volatility of European options on a forward.

    Parameters
    ----------
    price : array_like, option premium in USD per coin of notional
    forward, strike : array_like, USD per coin
    t_years : array_like, time to expiry in ACT/365 calendar years
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal
    errors : ``"nan"`` (default) gives NaN for a quote without a vol; ``"raise"``
        raises for the first one (see the module docstring).

    Returns
    -------
    ndarray of float64, the broadcast shape of the inputs: annualised volatility,
    decimal (0.8 is 80%); NaN where the quote has none (``implied_vol_black76_with_reason``
    says why).

    Raises
    ------
    ArbitrageViolation
        With ``errors="raise"``, if a price is not positive, above its upper bound or
        below intrinsic; the message gives the price, the bound and the inputs.
    BadData
        With ``errors="raise"``, for any other quote without a vol.

    Examples
    --------
    Hull (*Options, Futures and Other Derivatives*, 9th ed., Example 18.6): the
    4-month put on crude oil futures at 20, strike 20, rate 9%, is worth 1.1166 at 25%.

    >>> float(implied_vol_black76(1.1166, 20.0, 20.0, 4 / 12, False, rate=0.09).round(4))
    0.25
    >>> implied_vol_black76(np.array([1.0, 12.5]), 100.0, 90.0, 0.5, True)
    array([       nan, 0.23453873])
    """
    return _finish(
        "implied_vol_black76",
        _black76_quotes(price, forward, strike, t_years, is_call, _discount_factor(rate, t_years)),
        errors,
    )


def implied_vol_black76_with_reason(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> ImpliedVolResult:
    """Return the Black-76 implied volatility and the ``ImpliedVolReason`` of every NaN.

    Parameters are those of ``implied_vol_black76``.

    Returns
    -------
    ImpliedVolResult of arrays in the broadcast shape: ``vol`` (float64, annualised
    decimal) and ``reason`` (int8 ``ImpliedVolReason`` codes, 0 where there is a vol).

    Examples
    --------
    A call below intrinsic, one at a sensible price and one worth more than the forward:

    >>> prices = np.array([5.0, 12.5, 101.0])
    >>> result = implied_vol_black76_with_reason(prices, 100.0, 90.0, 0.5, True)
    >>> result.vol.round(4)
    array([   nan, 0.2345,    nan])
    >>> [ImpliedVolReason(code).name for code in result.reason]
    ['BELOW_INTRINSIC', 'OK', 'ABOVE_UPPER_BOUND']
    """
    return _solve(_black76_quotes(price, forward, strike, t_years, is_call, _discount_factor(rate, t_years)))


def implied_vol_black_scholes(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    coin_rate: ArrayLike = 0.0,
    *,
    errors: Errors = "nan",
) -> FloatArray:
    """Return the Black-Scholes implied volatility of European options on a spot coin.

    The forward is ``spot exp((rate - coin_rate) t_years)`` and the discount factor
    ``exp(-rate t_years)``; the quote is then inverted as Black-76 (messages of
    ``errors="raise"`` give those Black-76 numbers).

    Parameters
    ----------
    price : array_like, option premium in USD per coin of notional
    spot, strike : array_like, USD per coin
    t_years : array_like, time to expiry in ACT/365 calendar years
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal
    coin_rate : array_like, continuously compounded yield of the coin per year, decimal
    errors : ``"nan"`` or ``"raise"``, as in ``implied_vol_black76``

    Returns
    -------
    ndarray of float64, the broadcast shape of the inputs: annualised volatility,
    decimal; NaN where the quote has none.

    Raises
    ------
    ArbitrageViolation, BadData
        With ``errors="raise"``, as in ``implied_vol_black76``.

    Examples
    --------
    Hull (9th ed., Example 15.6): S = 42, K = 40, r = 10%, T = 0.5; the call is worth
    4.76 at a volatility of 20%.

    >>> float(implied_vol_black_scholes(4.76, 42.0, 40.0, 0.5, True, rate=0.1).round(3))
    0.2
    """
    quotes = _black_scholes_quotes(price, spot, strike, t_years, is_call, rate, coin_rate)
    return _finish("implied_vol_black_scholes", quotes, errors)


def implied_vol_black_scholes_with_reason(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    coin_rate: ArrayLike = 0.0,
) -> ImpliedVolResult:
    """Return the Black-Scholes implied volatility and the ``ImpliedVolReason`` of every NaN.

    Parameters are those of ``implied_vol_black_scholes``; returns as
    ``implied_vol_black76_with_reason``.

    Examples
    --------
    >>> t_years = np.array([0.5, 0.0])
    >>> result = implied_vol_black_scholes_with_reason(4.76, 42.0, 40.0, t_years, True, rate=0.1)
    >>> result.vol.round(3), [ImpliedVolReason(code).name for code in result.reason]
    (array([0.2,  nan]), ['OK', 'NON_POSITIVE_TIME'])
    """
    return _solve(_black_scholes_quotes(price, spot, strike, t_years, is_call, rate, coin_rate))


def implied_vol_inverse(
    price_coin: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    *,
    errors: Errors = "nan",
) -> FloatArray:
    """Return the implied volatility of inverse (coin-settled, Deribit-style) European options.

    The premium in coin is worth ``price_coin * forward`` USD, which is inverted as
    Black-76 (messages of ``errors="raise"`` give that USD price).

    Parameters
    ----------
    price_coin : array_like, option premium in coin per coin of notional
    forward, strike : array_like, USD per coin (Deribit marks on its futures price)
    t_years : array_like, time to expiry in ACT/365 calendar years
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal (0 for Deribit)
    errors : ``"nan"`` or ``"raise"``, as in ``implied_vol_black76``

    Returns
    -------
    ndarray of float64, the broadcast shape of the inputs: annualised volatility,
    decimal; NaN where the quote has none.

    Raises
    ------
    ArbitrageViolation, BadData
        With ``errors="raise"``, as in ``implied_vol_black76``.

    Examples
    --------
    A 30-day at-the-money BTC call quoted at 0.0685 BTC:

    >>> float(implied_vol_inverse(0.0685, 60_000.0, 60_000.0, 30 / 365, True).round(4))
    0.5996
    """
    quotes = _inverse_quotes(price_coin, forward, strike, t_years, is_call, _discount_factor(rate, t_years))
    return _finish("implied_vol_inverse", quotes, errors)


def implied_vol_inverse_with_reason(
    price_coin: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> ImpliedVolResult:
    """Return the inverse-option implied volatility and the ``ImpliedVolReason`` of every NaN.

    Parameters are those of ``implied_vol_inverse``; returns as
    ``implied_vol_black76_with_reason``.

    Examples
    --------
    A put premium of 1.2 coin is worth more than its strike can pay:

    >>> premiums, is_call = np.array([0.0685, 1.2]), np.array([True, False])
    >>> result = implied_vol_inverse_with_reason(premiums, 60_000.0, 60_000.0, 30 / 365, is_call)
    >>> result.vol.round(4), [ImpliedVolReason(code).name for code in result.reason]
    (array([0.5996,    nan]), ['OK', 'ABOVE_UPPER_BOUND'])
    """
    return _solve(_inverse_quotes(price_coin, forward, strike, t_years, is_call, _discount_factor(rate, t_years)))
