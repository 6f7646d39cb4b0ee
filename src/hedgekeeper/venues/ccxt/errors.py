"""From ccxt's exceptions to ours: which failures the venue refused and which may pass on retry.

ccxt turns each venue's error codes into its own classes (``describe()['exceptions']``
of each exchange, e.g. Binance USD-M ``-2019`` -> ``InsufficientFunds``, Deribit
``10009 not_enough_funds`` -> ``InsufficientFunds``); this table turns those into
``hedgekeeper.errors``. The first row whose ccxt class the error is an instance of
wins, so subclasses come before their parents:

========================================  ===============================
ccxt                                      hedgekeeper
========================================  ===============================
OrderNotFound                             OrderNotFound
InsufficientFunds                         InsufficientMargin
InvalidOrder (duplicate id, post-only...)  InvalidOrder
RateLimitExceeded, DDoSProtection          RateLimited
RequestTimeout                            RequestTimeout
NetworkError (ExchangeNotAvailable, ...)   VenueUnavailable
OperationFailed (BadResponse, ...)         VenueUnavailable
AuthenticationError, BadSymbol, ...       VenueRejected
========================================  ===============================
"""

from __future__ import annotations

import ccxt

from hedgekeeper.errors import (
    HedgekeeperError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    RequestTimeout,
    VenueRejected,
    VenueUnavailable,
)

ERROR_TABLE: tuple[tuple[type[ccxt.BaseError], type[HedgekeeperError]], ...] = (
    (ccxt.OrderNotFound, OrderNotFound),
    (ccxt.InsufficientFunds, InsufficientMargin),
    (ccxt.InvalidOrder, InvalidOrder),
    (ccxt.DDoSProtection, RateLimited),  # RateLimitExceeded is its subclass
    (ccxt.RateLimitExceeded, RateLimited),
    (ccxt.RequestTimeout, RequestTimeout),
    (ccxt.NetworkError, VenueUnavailable),
    (ccxt.OperationFailed, VenueUnavailable),
    (ccxt.ExchangeError, VenueRejected),
)
"""(ccxt class, our class) rows, most specific first."""


def our_error_class(error: ccxt.BaseError) -> type[HedgekeeperError]:
    """Return our class for a ccxt exception: the first matching row, else ``VenueRejected``.

    >>> our_error_class(ccxt.InsufficientFunds("binanceusdm {}")).__name__
    'InsufficientMargin'
    >>> our_error_class(ccxt.ExchangeNotAvailable("okx 503")).__name__
    'VenueUnavailable'
    """
    for ccxt_class, our_class in ERROR_TABLE:
        if isinstance(error, ccxt_class):
            return our_class
    return VenueRejected


def translate(error: ccxt.BaseError, action: str) -> HedgekeeperError:
    """Return our exception for ``error``, its message naming the action and keeping ccxt's.

    Parameters
    ----------
    error : the ccxt exception (its message holds the venue's answer)
    action : what was attempted, e.g. ``"deribit create_order BTC-PERPETUAL"``

    >>> str(translate(ccxt.OrderNotFound('binanceusdm {"code":-2013,"msg":"Order does not exist."}'),
    ...     "binanceusdm cancel BTCUSDT hk-1"))
    'binanceusdm cancel BTCUSDT hk-1: OrderNotFound: binanceusdm {"code":-2013,"msg":"Order does not exist."}'
    """
    return our_error_class(error)(f"{action}: {type(error).__name__}: {error}")
