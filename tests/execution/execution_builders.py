"""Instruments shared by the execution tests, and a count of a venue's askings for fills."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.timestamps import TimeSource

PERP = Instrument(
    instrument_id="BTCUSDT.BINANCE", venue="binance", kind=InstrumentKind.PERPETUAL, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDT", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
)


def count_fill_askings(venue: Any, clock: TimeSource) -> list[int]:
    """Make ``venue.fills`` (the real venue's answers) note the clock's time of each asking; return the notes."""
    asked: list[int] = []
    fills_of = venue.fills

    async def counted_fills(since_ns: int = 0) -> Any:
        asked.append(clock.now_ns())
        return await fills_of(since_ns)

    venue.fills = counted_fills
    return asked
