"""Inverse (coin-settled) options, as listed on Deribit.

An inverse call on BTC pays ``max(S_T - K, 0) / S_T`` BTC at expiry: the same USD
payoff as a linear call, paid in the coin, with the premium quoted in the coin.
Its value in coin is the Black-76 USD value divided by the forward::

    price_coin = black76_price(F, K, t, vol, rate) / F

(Deribit marks with its futures price as ``F`` and a zero rate.)

A coin-margined book measures its P&L in coin, so the deltas it reports are
*premium-adjusted*: ``F d(price_coin)/dF = black76_delta - price_coin``, which for
a call equals ``exp(-rate t) K N(d2) / F``. Summed with the account's coin equity
(which contains the options' coin value) it gives the book's USD delta back. The
other Greeks here are derivatives of the coin value, so that every one of them is
in coin:

    delta = black76.delta - price_coin                 coin per coin of notional
    gamma = d delta / dF = black76.gamma - delta / F   coin per coin per USD
    vega, theta, rho, volga = black76's / F            coin per coin per 1.00 vol, per year, ...
    vanna = d delta / d vol = black76.vanna - black76.vega / F
"""

from __future__ import annotations

import numpy as np

from hedgekeeper.pricing._evaluate import ArrayLike, FloatArray, OptionGreeks, evaluate_greeks, evaluate_price


# Argument names for error messages, in the kernels' order (the carry of a forward is 0).
_ARGUMENT_NAMES = ("forward", "strike", "t_years", "vol", "carry", "rate")


def inverse_price(
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Return the price in coin of inverse (coin-settled) European options.

    Parameters
    ----------
    forward, strike : array_like, USD per coin, > 0
    t_years : array_like, time to expiry in ACT/365 calendar years, >= 0
    vol : array_like, annualised volatility, decimal (0.8 is 80%), >= 0
    is_call : array_like of bool, True for calls, False for puts
    rate : array_like, continuously compounded USD rate per year, decimal

    Returns
    -------
    ndarray of float64, the broadcast shape of the inputs, coin per coin of notional.

    Examples
    --------
    At the money and zero rate a call is worth 2 N(vol sqrt(t) / 2) - 1 coin.

    >>> float(inverse_price(60_000.0, 60_000.0, 30 / 365, 0.6, True).round(5))
    0.06854
    """
    usd = evaluate_price("inverse_price", _ARGUMENT_NAMES, forward, strike, t_years, vol, 0.0, rate, is_call)
    return usd / np.asarray(forward, dtype=np.float64)


def inverse_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    rate: ArrayLike = 0.0,
) -> OptionGreeks:
    """Return the coin price and coin-denominated Greeks of inverse European options.

    Parameters are those of ``inverse_price``. Delta is premium-adjusted (see the
    module docstring); gamma is the change of that delta per USD of forward.

    Returns
    -------
    OptionGreeks of float64 arrays in the broadcast shape, all in coin: price coin
    per coin, delta coin per coin, gamma coin per coin per USD, vega coin per 1.00
    vol, theta coin per year, rho coin per 1.00 rate, vanna coin per coin per 1.00
    vol, volga coin per 1.00 vol squared.

    Examples
    --------
    The premium-adjusted delta of a call is ``K N(d2) / F`` at a zero rate.

    >>> g = inverse_greeks(60_000.0, 60_000.0, 30 / 365, 0.6, True)
    >>> round(float(g.delta), 5)
    0.46573
    """
    linear = evaluate_greeks("inverse_greeks", _ARGUMENT_NAMES, forward, strike, t_years, vol, 0.0, rate, is_call, False)
    f = np.asarray(forward, dtype=np.float64)
    price = linear.price / f
    delta = linear.delta - price
    return OptionGreeks(
        price=price,
        delta=delta,
        gamma=linear.gamma - delta / f,
        vega=linear.vega / f,
        theta=linear.theta / f,
        rho=linear.rho / f,
        vanna=linear.vanna - linear.vega / f,
        volga=linear.volga / f,
    )
