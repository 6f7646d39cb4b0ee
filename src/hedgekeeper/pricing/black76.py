"""Black-76: European options on a forward or futures price.

The Black-Scholes model written on the forward ``F``: an option on a futures
contract, or on a coin whose forward is quoted directly (Deribit marks its options
on the futures price of each expiry). With ``D = exp(-rate t)``::

    price = D (F N(d1) - K N(d2))          (call)
    price = D (K N(-d2) - F N(-d1))        (put)
    d1 = (ln(F/K) + vol^2 t / 2) / (vol sqrt(t)),  d2 = d1 - vol sqrt(t)

Relations: Black-Scholes on spot ``S`` with USD rate ``r`` and coin rate ``q`` is
Black-76 on ``F = S exp((r - q) t)`` at the same rate; their deltas differ by
``dF/dS = exp((r - q) t)`` (``black_scholes.py``). Inverse options are Black-76
divided by ``F`` (``inverse.py``).
"""

from __future__ import annotations

from hedgekeeper.pricing._evaluate import ArrayLike, FloatArray, OptionGreeks, evaluate_greeks, evaluate_price


# Argument names for error messages, in the kernels' order (the carry of a forward is 0).
_ARGUMENT_NAMES = ("forward", "strike", "t_years", "vol", "carry", "rate")


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Return the Black-76 price of European options on a forward.

    Parameters
    ----------
    forward, strike : array_like, USD per coin, > 0
    t_years : array_like, time to expiry in ACT/365 calendar years, >= 0
    vol : array_like, annualised volatility, decimal (0.8 is 80%), >= 0
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal

    Returns
    -------
    ndarray of float64, the broadcast shape of the inputs, USD per coin of notional.

    Raises
    ------
    BadData
        If any input is non-finite, a price or strike is not positive, or a time or
        volatility is negative; the message names the first offending entry.

    Examples
    --------
    Hull (*Options, Futures and Other Derivatives*, 9th ed., Example 18.6): a
    4-month European put on crude oil futures at 20, strike 20, rate 9%, vol 25%.

    >>> float(black76_price(20.0, 20.0, 4 / 12, 0.25, False, rate=0.09).round(4))
    1.1166
    """
    return evaluate_price("black76_price", _ARGUMENT_NAMES, forward, strike, t_years, vol, 0.0, rate, is_call)


def black76_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> OptionGreeks:
    """Return the Black-76 price and Greeks, sensitivities to the forward.

    Parameters are those of ``black76_price``. Delta and gamma are with respect to
    the forward; theta holds the forward and the rate fixed as time passes; rho holds
    the forward fixed (so it is ``-t_years * price``).

    Returns
    -------
    OptionGreeks of float64 arrays in the broadcast shape: price USD per coin, delta
    coin per coin, gamma per USD, vega USD per 1.00 vol, theta USD per year, rho USD
    per 1.00 rate, vanna per 1.00 vol, volga USD per 1.00 vol squared.

    Examples
    --------
    Zero rate: delta is N(d1) = N(0.4513) and vega is F n(d1) sqrt(t).

    >>> g = black76_greeks(110.0, 100.0, 0.5, 0.8, True)
    >>> print(round(float(g.delta), 4), round(float(g.vega), 4))
    0.6741 28.0256
    """
    return evaluate_greeks("black76_greeks", _ARGUMENT_NAMES, forward, strike, t_years, vol, 0.0, rate, is_call, False)
