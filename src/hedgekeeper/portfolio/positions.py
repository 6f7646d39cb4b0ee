"""Positions, balances and the margin accounts they sit in.

A margin account is a venue and one collateral currency: ``(deribit, BTC)`` holds
the BTC balance and every coin-margined BTC product on Deribit; ``(binance, USDT)``
holds the USDT balance and every USDT-margined product on Binance. Venues margin
and liquidate each account on its own (standard, isolated-by-currency margin; no
cross-collateral), so that is the unit for equity, margin and liquidation here.

Spot holdings sit in the account of the coin bought: ``(binance, BTC)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from hedgekeeper.errors import ConfigError
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.values import Money, is_usd_currency


class Account(NamedTuple):
    """A margin account: one venue and one collateral currency."""

    venue: str
    currency: str

    @property
    def is_usd(self) -> bool:
        """Return whether the account's currency counts as USD."""
        return is_usd_currency(self.currency)

    def __str__(self) -> str:
        return f"{self.venue} {self.currency}"


@dataclass(frozen=True)
class Position:
    """A holding of one instrument.

    Parameters
    ----------
    instrument_id : the instrument's id in the registry
    size_contracts : float, signed number of contracts, > 0 long and < 0 short
    entry_price_usd : float > 0, average entry price in USD per coin; required for
        futures and perpetuals (their unrealised P&L), refused for options and spot
        (whose premium or cost already left the balance)
    """

    instrument_id: str
    size_contracts: float
    entry_price_usd: float | None = None


@dataclass(frozen=True)
class Balance:
    """Cash or collateral: an exact amount of one currency in one venue's account."""

    venue: str
    money: Money

    @property
    def account(self) -> Account:
        """Return the margin account this balance belongs to."""
        return Account(self.venue, self.money.currency)


def account_of(instrument: Instrument) -> Account:
    """Return the margin account that holds positions in ``instrument``.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> account_of(example_instruments()[0])
    Account(venue='deribit', currency='BTC')
    """
    return Account(instrument.venue, instrument.margin_currency)


def check_position(position: Position, instrument: Instrument) -> None:
    """Refuse a position whose numbers do not fit its instrument.

    Raises
    ------
    ConfigError
        If the size is not finite, or the entry price is missing for a future or
        perpetual, present for another kind, or not a finite positive number.
    """
    size = position.size_contracts
    if not abs(size) < float("inf"):
        raise ConfigError(f"size_contracts must be finite, got {size!r}")
    needs_entry = instrument.kind in (InstrumentKind.FUTURE, InstrumentKind.PERPETUAL)
    entry = position.entry_price_usd
    if needs_entry and entry is None:
        raise ConfigError(f"entry_price_usd is required for {instrument.kind} {instrument.instrument_id}")
    if not needs_entry and entry is not None:
        raise ConfigError(
            f"entry_price_usd applies to futures and perpetuals only, not {instrument.kind} "
            f"{instrument.instrument_id} (its cost is already out of the balance)"
        )
    if entry is not None and not 0 < entry < float("inf"):
        raise ConfigError(f"entry_price_usd must be finite and > 0, got {entry!r}")


def exposure(position: Position, instrument: Instrument) -> float:
    """Return the position's signed size: USD of face for inverse futures and perpetuals, else coin.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> perpetual, call = example_instruments()
    >>> exposure(Position(perpetual.instrument_id, -2500, 104_000.0), perpetual)
    -25000.0
    >>> exposure(Position(call.instrument_id, 2.5), call)
    2.5
    """
    return position.size_contracts * float(instrument.contract_size)
