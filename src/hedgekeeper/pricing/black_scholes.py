"""Black-Scholes(-Merton): European options on a spot coin.

The coin earns a continuous yield ``coin_rate`` (its lending or staking rate, the
``q`` of Merton's dividend yield, the foreign rate of Garman-Kohlhagen) while USD
earns ``rate``. Then the forward is ``F = S exp((rate - coin_rate) t)`` and the
price is Black-76 on that forward at ``rate``::

    call = S exp(-q t) N(d1) - K exp(-r t) N(d2)
    d1 = (ln(S/K) + (r - q + vol^2 / 2) t) / (vol sqrt(t))

Spot Greeks follow from the forward ones by the chain rule, ``dF/dS = exp((r-q) t)``;
rho moves the forward with the rate, holding ``coin_rate`` fixed.
"""

from __future__ import annotations

import numpy as np

from hedgekeeper.pricing._evaluate import ArrayLike, FloatArray, OptionGreeks, evaluate_greeks, evaluate_price


# Argument names for error messages, in the kernels' order.
_ARGUMENT_NAMES = ("spot", "strike", "t_years", "vol", "rate - coin_rate", "rate")


def black_scholes_price(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    coin_rate: ArrayLike = 0.0,
) -> FloatArray:
    """Return the Black-Scholes-Merton price of European options on a spot coin.

    Parameters
    ----------
    spot, strike : array_like, USD per coin, > 0
    t_years : array_like, time to expiry in ACT/365 calendar years, >= 0
    vol : array_like, annualised volatility, decimal (0.8 is 80%), >= 0
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal
    coin_rate : array_like, continuous yield of holding the coin per year, decimal

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
    Hull (9th ed., Example 15.6): S = 42, K = 40, r = 10%, vol = 20%, six months.

    >>> black_scholes_price(42.0, 40.0, 0.5, 0.2, np.array([True, False]), rate=0.1).round(4)
    array([4.7594, 0.8086])
    """
    carry = np.subtract(rate, coin_rate)
    return evaluate_price("black_scholes_price", _ARGUMENT_NAMES, spot, strike, t_years, vol, carry, rate, is_call)


def black_scholes_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
    coin_rate: ArrayLike = 0.0,
) -> OptionGreeks:
    """Return the Black-Scholes-Merton price and Greeks, sensitivities to the spot.

    Parameters are those of ``black_scholes_price``. Theta holds the spot and both
    rates fixed as calendar time passes; rho moves ``rate`` with ``coin_rate`` fixed.

    Returns
    -------
    OptionGreeks of float64 arrays in the broadcast shape: price USD per coin, delta
    coin per coin, gamma per USD, vega USD per 1.00 vol, theta USD per year, rho USD
    per 1.00 rate, vanna per 1.00 vol, volga USD per 1.00 vol squared.

    Examples
    --------
    Hull (9th ed., section 19.4-19.6): S = 49, K = 50, r = 5%, vol = 20%, 20 weeks;
    delta 0.522, gamma 0.066, theta -4.31 per year, vega 12.1, rho 8.91.

    >>> g = black_scholes_greeks(49.0, 50.0, 0.3846, 0.2, True, rate=0.05)
    >>> [round(float(x), 3) for x in (g.delta, g.gamma, g.theta, g.vega, g.rho)]
    [0.522, 0.066, -4.305, 12.105, 8.907]
    """
    carry = np.subtract(rate, coin_rate)
    return evaluate_greeks("black_scholes_greeks", _ARGUMENT_NAMES, spot, strike, t_years, vol, carry, rate, is_call, True)
