"""Exact contract arithmetic of futures and perpetuals: notional, fees, P&L, entry prices, funding.

All amounts are ``Decimal`` in the account's currency: USD (a stablecoin) for
linear contracts, the coin for inverse ones. With ``n`` contracts (signed), ``c``
the contract size (coin per contract for linear, USD of face for inverse) and
prices ``p`` in USD per coin:

=====================  ==============================  ==============================
quantity               linear (USD)                    inverse (coin)
=====================  ==============================  ==============================
notional, USD          ``|n| c p``                     ``|n| c``
fee at rate ``r``      ``r |n| c p``                   ``r |n| c / p``
P&L from entry ``e``   ``n c (p - e)``                 ``n c (1/e - 1/p)``
funding at rate ``f``  ``f n c m`` paid by the holder  ``f n c / m``
=====================  ==============================  ==============================

(``m`` the mark price.) Averaged entries: the size-weighted mean price for linear
contracts, the harmonic mean (equal USD face per contract) for inverse ones.
Divisions round at Decimal's 28 significant digits; nothing else rounds.
"""

from __future__ import annotations

from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument


def notional_usd(instrument: Instrument, quantity_contracts: Decimal, price_usd: Decimal) -> Decimal:
    """Return the USD value of ``quantity_contracts`` (absolute) at ``price_usd`` (USD per coin).

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> notional_usd(example_instruments()[0], Decimal(3), Decimal(100_000))
    Decimal('30')
    """
    face = abs(quantity_contracts) * instrument.contract_size
    return face if instrument.is_inverse else face * price_usd


def fee_amount(instrument: Instrument, quantity_contracts: Decimal, price_usd: Decimal, rate: Decimal) -> Decimal:
    """Return the fee of a fill in the account's currency: ``rate`` times its notional (negative: a rebate).

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> fee_amount(example_instruments()[0], Decimal(100), Decimal(100_000), Decimal("0.0005"))
    Decimal('0.000005')
    """
    fee_usd = rate * notional_usd(instrument, quantity_contracts, price_usd)
    return fee_usd / price_usd if instrument.is_inverse else fee_usd


def pnl(instrument: Instrument, size_contracts: Decimal, entry_usd: Decimal, price_usd: Decimal) -> Decimal:
    """Return the P&L of ``size_contracts`` (signed) entered at ``entry_usd`` and valued at ``price_usd``.

    In USD for linear contracts, in coin for inverse ones: realised P&L when a
    position is closed at ``price_usd``, unrealised P&L at the mark.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> pnl(example_instruments()[0], Decimal(-1000), Decimal(100_000), Decimal(80_000))
    Decimal('0.025')
    """
    size = size_contracts * instrument.contract_size
    if instrument.is_inverse:
        return size * (1 / entry_usd - 1 / price_usd)
    return size * (price_usd - entry_usd)


def average_entry(
    instrument: Instrument, held_contracts: Decimal, entry_usd: Decimal, added_contracts: Decimal, price_usd: Decimal
) -> Decimal:
    """Return the entry price after adding ``added_contracts`` at ``price_usd`` to a position of the same sign.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> average_entry(example_instruments()[0], Decimal(1), Decimal(100), Decimal(1), Decimal(200))
    Decimal('133.3333333333333333333333333')
    """
    total = held_contracts + added_contracts
    if instrument.is_inverse:
        return total / (held_contracts / entry_usd + added_contracts / price_usd)
    return (held_contracts * entry_usd + added_contracts * price_usd) / total


def funding_payment(instrument: Instrument, size_contracts: Decimal, rate: Decimal, mark_usd: Decimal) -> Decimal:
    """Return what the holder of ``size_contracts`` (signed) pays at funding ``rate`` (received if negative).

    Longs pay shorts when the rate is positive: ``rate`` times the signed notional
    at the mark, in the account's currency.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> funding_payment(example_instruments()[0], Decimal(-500), Decimal("0.0001"), Decimal(100_000))
    Decimal('-0.000005')
    """
    signed_notional = notional_usd(instrument, size_contracts, mark_usd) * (1 if size_contracts >= 0 else -1)
    payment_usd = rate * signed_notional
    return payment_usd / mark_usd if instrument.is_inverse else payment_usd
