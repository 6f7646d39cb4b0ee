"""From market events' units (float USD per coin, coin) to the exchange's (price ticks, contracts).

Market data quotes sizes in coin; orders and positions count contracts. A linear
contract is ``contract_size`` coin; an inverse one is ``contract_size`` USD of face,
so ``coin * price / contract_size`` contracts. Public sizes are rounded down to
whole lots (the exchange never fills a fraction of a lot), public bid prices down
and ask prices up to the tick (a level is never made more attractive than quoted).

Examples
--------
>>> from hedgekeeper.portfolio.instruments import example_instruments
>>> perpetual = example_instruments()[0]
>>> public_level(perpetual, 100_000.2, 0.0123, is_bid=True)
(Decimal('100000.0'), Decimal('123'))
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.values import to_decimal


def exact(value: float, name: str) -> Decimal:
    """Return a market-data number as an exact Decimal; a NumPy float goes through Python's ``float``.

    Raises
    ------
    BadData
        If ``value`` is not a finite number; the message names ``name``.

    >>> exact(np.float64(0.1), "size")
    Decimal('0.1')
    """
    return to_decimal(float(value) if isinstance(value, float | np.floating) else value, name)


def contracts_of_coin(instrument: Instrument, size_coin: float, price_usd: Decimal) -> Decimal:
    """Return ``size_coin`` (>= 0) at ``price_usd`` as whole lots of contracts, rounded down.

    Raises
    ------
    BadData
        If the size is negative or not finite.
    """
    coin = exact(size_coin, f"size of {instrument.instrument_id}")
    if coin < 0:
        raise BadData(f"size of {instrument.instrument_id} must be >= 0 coin, got {size_coin!r}")
    face = coin * price_usd if instrument.is_inverse else coin
    contracts = face / instrument.contract_size
    return instrument.make_qty(contracts, round_down=True).value


def checked_price(instrument: Instrument, price_usd: float) -> Decimal:
    """Return ``price_usd`` as an exact Decimal, USD per coin.

    Raises
    ------
    BadData
        If the price is not a positive finite number.
    """
    price = exact(price_usd, f"price of {instrument.instrument_id}")
    if price <= 0:
        raise BadData(f"price of {instrument.instrument_id} must be > 0, got {price_usd!r}")
    return price


def public_price(instrument: Instrument, price_usd: float, *, is_bid: bool) -> Decimal:
    """Return a public price on the tick: rounded down for a bid, up for an ask.

    Raises
    ------
    BadData
        If the price is not a positive finite number.
    """
    return instrument.make_price(checked_price(instrument, price_usd), round_down=is_bid).value


def public_level(
    instrument: Instrument, price_usd: float, size_coin: float, *, is_bid: bool
) -> tuple[Decimal, Decimal]:
    """Return a public book level as (price on the tick, contracts in whole lots).

    A shortcut gives the exact answer without Decimal division: a price or size
    whose ratio to the tick or lot lies clearly between two whole numbers (more
    than ``_CLEAR`` of one away from both) is floored or ceiled in floats; one at or
    next to a whole number (a price quoted on the tick, a round size) is compared
    exactly with that whole number of ticks or lots. The result is made exact from
    the whole number.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> perpetual = example_instruments()[0]
    >>> public_level(perpetual, 100_000.3, 0.0123, is_bid=False), public_level(perpetual, 100_000.5, 0.01, is_bid=True)
    ((Decimal('100000.5'), Decimal('123')), (Decimal('100000.5'), Decimal('100')))
    """
    if isinstance(price_usd, float) and 0.0 < price_usd < math.inf and 0.0 <= size_coin < math.inf:
        tick = instrument.tick_size
        ratio = price_usd / float(tick)
        ticks = _whole(ratio, round_down=is_bid)
        if ticks is None and ratio < 2.0**52:  # next to a tick: decide exactly, from the nearest one
            ticks = _step_exactly(Decimal(repr(float(price_usd))), tick, round(ratio), round_down=is_bid)
        if ticks is not None and ticks > 0:
            price = Decimal(ticks) * tick
            lot_coin = instrument.contract_size * instrument.lot_size
            face = size_coin * float(price) if instrument.is_inverse else size_coin
            lots = _whole(face / float(lot_coin), round_down=True)
            if lots is None and face / float(lot_coin) < 2.0**52:
                exact_face = Decimal(repr(float(size_coin))) * (price if instrument.is_inverse else 1)
                lots = _step_exactly(exact_face, lot_coin, round(face / float(lot_coin)), round_down=True)
            return price, Decimal(lots) * instrument.lot_size
    price = public_price(instrument, price_usd, is_bid=is_bid)
    return price, contracts_of_coin(instrument, size_coin, price)


_CLEAR = 1e-6
"""How far (as a fraction of one) a float ratio must be from a whole number to be rounded in floats."""


def _step_exactly(value: Decimal, step: Decimal, nearest: int, *, round_down: bool) -> int:
    """Return ``value / step`` floored or ceiled exactly, knowing it lies within one of ``nearest``."""
    difference = value - nearest * step
    if difference == 0:
        return nearest
    if difference > 0:
        return nearest if round_down else nearest + 1
    return nearest - 1 if round_down else nearest


def _whole(ratio: float, *, round_down: bool) -> int | None:
    """Return ``ratio`` floored or ceiled, or None when it is too close to a whole number to trust floats."""
    below = math.floor(ratio)
    fraction = ratio - below
    if fraction < _CLEAR or fraction > 1.0 - _CLEAR or ratio > 2.0**52:
        return None
    return below if round_down else below + 1
