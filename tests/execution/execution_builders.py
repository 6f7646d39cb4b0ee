"""Instruments shared by the execution tests."""

from __future__ import annotations

from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement

PERP = Instrument(
    instrument_id="BTCUSDT.BINANCE", venue="binance", kind=InstrumentKind.PERPETUAL, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDT", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
)
