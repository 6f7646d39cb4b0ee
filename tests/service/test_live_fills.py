"""The service on Deribit's recorded market, its hedge's fill also pushed on the account's private websocket.

The setup is ``test_live_market.py``'s (the example service hedging short Deribit calls
with the perpetual, the market streamed from Deribit's recorded frames), with a venue
that fills the hedge: its immediate-or-cancel order is answered filled at the book's
best ask, its trade is listed by REST (as the venue's trade history lists it), and
pushed on the ``user.trades`` subscription of the account's private websocket.

A recorded websocket answers what it is sent, and nothing after. Two websockets are
therefore served apart, each by a recorded exchange of its own whose last answer goes
on (holding that exchange's thread): the account's private one answers the
``user.trades`` subscription, then brings each trade the venue makes, as Deribit
pushes a trade on a subscription already open; the
market's, once every stream is subscribed, repeats the call's recorded ticker every
50 ms, as a live market never falls silent (the engine collects fills on its events).
The executor asks for fills by REST every 60 s only (``poll_interval_s``), so its one
REST asking is the first, at the start, before any order. The hedge's fill reaches the
engine's book with the order's answer (the order manager learns an order's fills with
it) and again on the stream: it is booked once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from service.service_builders import service_document, wait_for
from service.live_deribit import BEST_ASK_USD, PERPETUAL, TAKER_FEE, TRADES_PATHS, FillingDeribit, live_document
from venues.ccxt.recorded_exchange import RecordedExchange, fixture, serving
from venues.ccxt.recorded_venues import DERIBIT_API, DERIBIT_WS, deribit_websocket
from venues.ccxt.venue_builders import ENVIRONMENT

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import ConfigError
from hedgekeeper.service.config import parse_service
from hedgekeeper.service.runtime import Service
from hedgekeeper.venues.ccxt.venue import create_ccxt_venue



class TickingMarket:
    """Deribit's recorded market websocket, whose ticker is sent again every ``tick_s`` once all is subscribed.

    Parameters
    ----------
    channels : how many channels the market subscribes to
    tick_s : seconds between two repeats of the ticker
    """

    def __init__(self, channels: int, tick_s: float = 0.05) -> None:
        self.channels = channels
        self.tick_s = tick_s
        self.subscribed: list[str] = []
        self.stop = threading.Event()

    def websocket(self, message: Mapping[str, Any]) -> Iterator[Any]:
        yield from deribit_websocket(message)
        self.subscribed += message.get("params", {}).get("channels", [])
        if len(self.subscribed) == self.channels:
            while not self.stop.wait(self.tick_s):
                yield fixture("deribit", "ws_ticker_option")


def test_the_hedges_fill_is_booked_once_with_the_account_streaming_its_fills(tmp_path: Path) -> None:
    deribit = FillingDeribit()
    document = live_document(tmp_path)
    document["execution"]["poll_interval_s"] = 60.0
    spec = parse_service(document, source="live fills test")
    assert spec.file.execution.streams_fills(real_venues=True)  # the default with real venues
    ticking = TickingMarket(channels=3)  # the perpetual's book and trades, the call's ticker
    market = RecordedExchange({}, {DERIBIT_WS: ticking.websocket})  # type: ignore[dict-item]
    private = RecordedExchange({}, {DERIBIT_WS: deribit.private_websocket})  # type: ignore[dict-item]
    with serving(RecordedExchange(deribit.routes())) as exchange, serving(market) as market_socket, \
            serving(private) as account_socket:
        rest = f"https://127.0.0.1:{exchange.port}"

        def ccxt_venue(config: Any, environment: dict[str, str]) -> Any:
            # the account's venue (its market ids are the account's) streams its fills from the private socket
            host = account_socket if config.market_ids == ("BTC-PERPETUAL",) else market_socket
            websocket = f"wss://127.0.0.1:{host.port}{DERIBIT_WS}"
            return create_ccxt_venue(config, environment,
                                     settings={"urls": {"api": {"rest": rest, "ws": websocket}}, "verify": False})

        service = Service(spec, environment=dict(ENVIRONMENT), ccxt_venue=ccxt_venue)
        service.start()
        try:
            wait_for(lambda: service.snapshot.counters.get("fills", 0) >= 1, what="the hedge's fill to be booked")
            wait_for(lambda: not service.snapshot.open_orders, what="the order to end")
        finally:
            deribit.closed.set()  # let the sockets' threads go, whatever happened
            ticking.stop.set()
            service.stop()
        trade_calls = sum(len(exchange.calls_to("GET", DERIBIT_API + path)) for path in TRADES_PATHS)
    assert service.error is None
    streamed = service.machinery.executor.streamed_fills  # type: ignore[union-attr]
    assert streamed is not None and streamed.rest_asks == {"deribit": 1}  # at the start, before the order
    assert streamed.streams.failures == {"deribit": 0}
    # the order manager asked once more, when the order came back filled (its state and fills, not the book's)
    assert trade_calls == 2
    subscriptions = [call.params["params"]["channels"] for call in account_socket.calls
                     if call.method == "WS" and call.params.get("method") == "private/subscribe"]
    assert subscriptions == [["user.trades.any.any.raw"]]

    (trade,) = deribit.trades
    contracts = trade["amount"] / 10.0  # USD of face in 10 USD contracts
    assert dict((p.instrument_id, p.size_contracts) for p in service.engine.book.positions)[PERPETUAL] == \
        pytest.approx(contracts)  # booked once
    store = Store.open(spec.file.service.database_url)
    try:
        (fill,) = store.fills()
        (order,) = store.orders()
    finally:
        store.close()
    assert (fill.fill_id, fill.client_order_id, order.client_order_id) == (trade["trade_id"], trade["label"],
                                                                          trade["label"])
    assert order.status == "filled" and not fill.recovered
    assert fill.size_contracts == pytest.approx(contracts) and fill.price_usd == BEST_ASK_USD
    coin = trade["amount"] / BEST_ASK_USD
    assert fill.fee_usd == pytest.approx(coin * TAKER_FEE * BEST_ASK_USD)
    # priced against the mid when the hedge was decided (the snapshot's, or the changed book's), not its own
    assert any(fill.slippage_usd == pytest.approx((BEST_ASK_USD - mid) * coin) for mid in (104_000.25, 104_000.5))


def test_fills_are_streamed_by_default_with_real_exchanges_only_and_a_bad_setting_names_its_field(
        tmp_path: Path) -> None:
    simulated = parse_service(service_document(tmp_path), source="service.toml").file.execution
    real = parse_service(live_document(tmp_path), source="service.toml").file.execution
    assert (simulated.streams_fills(real_venues=False), real.streams_fills(real_venues=True)) == (False, True)
    document = live_document(tmp_path)
    document["execution"].update(fill_stream=False, fill_check_s=5.0)
    execution = parse_service(document, source="service.toml").file.execution
    assert not execution.streams_fills(real_venues=True) and execution.fill_check_s == 5.0
    for field, value in (("fill_stream", "sometimes"), ("fill_check_s", 0.0), ("fill_reopen_s", -1.0)):
        document = live_document(tmp_path)
        document["execution"][field] = value
        with pytest.raises(ConfigError, match=f"execution.{field}"):
            parse_service(document, source="service.toml")
