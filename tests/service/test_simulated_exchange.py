"""The simulated exchange outlives the service: rebuilt from its journal over the same market, it is the same exchange."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from service.service_builders import service_spec

from hedgekeeper.errors import ConfigError
from hedgekeeper.service.market_feed import source_events, split_at
from hedgekeeper.service.simulated_exchange import ExchangeJournal, SimulatedMarketVenues
from hedgekeeper.service.wiring import exchange_traded, hedge_streams, market_key
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce


def _open(spec, journal: ExchangeJournal, events) -> SimulatedMarketVenues:  # noqa: ANN001
    _, start_ns = source_events(spec.file)
    market, _ = SimulatedMarketVenues.open(exchange_traded(spec), hedge_streams(spec), spec.book.balances,
                                           spec.file.fees, spec.book.margin_model, 5_000_000_000, journal, start_ns,
                                           events)
    return market


def test_rebuilt_exchange_has_the_same_orders_fills_and_positions(tmp_path: Path) -> None:
    spec = service_spec(tmp_path)
    journal = ExchangeJournal(tmp_path / "exchange.sqlite", market_key(spec))
    live = _open(spec, journal, iter(()))
    venue = live.venues["binance"]
    perpetual = spec.book.registry.get("BTCUSDT-PERP.BINANCE")
    events, _ = source_events(spec.file)
    fed = 0
    for n, event in enumerate(itertools.islice(events, 400)):
        live.feed(event)
        fed += 1
        if n in (50, 120, 121, 300):
            book = live.cores["binance"].book(perpetual.instrument_id)
            side = Side.BUY if n % 2 == 0 else Side.SELL
            request = OrderRequest(client_order_id=f"t-{n}", instrument_id=perpetual.instrument_id, side=side,
                                   quantity=perpetual.make_qty(0.5, round_down=True), order_type=OrderType.MARKET,
                                   time_in_force=TimeInForce.IOC)
            asyncio.run(venue.place(request))
            del book
    last_ns = live.clock.now_ns()
    live_fills = [(f.fill_id, f.client_order_id, str(f.price), str(f.quantity), f.ts_ns)
                  for f in live.cores["binance"].fills()]
    live_positions = live.cores["binance"].positions()
    assert len(live_fills) >= 4
    live.close()

    again, _ = source_events(spec.file)
    rebuilt = _open(spec, ExchangeJournal(tmp_path / "exchange.sqlite", market_key(spec)),
                    split_at(again, last_ns + 1).before())
    assert [(f.fill_id, f.client_order_id, str(f.price), str(f.quantity), f.ts_ns)
            for f in rebuilt.cores["binance"].fills()] == live_fills
    assert rebuilt.cores["binance"].positions() == live_positions
    assert rebuilt.events_fed >= fed
    rebuilt.close()


def test_a_journal_of_another_market_is_refused(tmp_path: Path) -> None:
    ExchangeJournal(tmp_path / "exchange.sqlite", "market-a").close()
    with pytest.raises(ConfigError, match="belongs to another market"):
        ExchangeJournal(tmp_path / "exchange.sqlite", "market-b")
