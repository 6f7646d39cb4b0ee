"""The service on Deribit's recorded market, its hedge's fill pushed on the account's private websocket.

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
REST asking is the first, at the start, before any order: the fill that reaches the
engine's book came from the stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from service.service_builders import service_document, wait_for
from service.test_live_market import PERPETUAL, LiveDeribit, live_document
from venues.ccxt.recorded_exchange import Call, RecordedExchange, Reply, fixture, serving
from venues.ccxt.recorded_venues import DERIBIT_API, DERIBIT_WS, deribit_websocket
from venues.ccxt.venue_builders import ENVIRONMENT

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import ConfigError
from hedgekeeper.service.config import parse_service
from hedgekeeper.service.runtime import Service
from hedgekeeper.venues.ccxt.venue import create_ccxt_venue

TRADES_PATHS = ("private/get_user_trades_by_instrument", "private/get_user_trades_by_instrument_and_time")
BEST_ASK_USD = 104_001.0
"""The recorded book's best ask, once its change has deleted the first (what a buy of a few lots takes)."""
TAKER_FEE = 0.0005
"""Deribit's taker fee on the perpetual, a fraction of the notional, paid in BTC."""


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


class FillingDeribit(LiveDeribit):
    """Deribit's recorded answers, with every order filled at once at the best ask and its trade pushed."""

    def __init__(self) -> None:
        super().__init__()
        self.trades: list[dict[str, Any]] = []
        self.closed = threading.Event()

    def order(self, call: Call) -> Reply:
        reply = super().order(call)
        order = reply.payload["result"]["order"]
        order.update(order_state="filled", filled_amount=order["amount"], average_price=BEST_ASK_USD)
        timestamp_ms = time.time_ns() // 1_000_000 + 1  # never before the order was made
        self.trades.append({
            "trade_id": str(315_300_000 + len(self.trades)), "trade_seq": 219_600_000 + len(self.trades),
            "timestamp": timestamp_ms, "state": "filled", "price": BEST_ASK_USD, "amount": order["amount"],
            "direction": order["direction"], "order_id": order["order_id"], "label": order["label"],
            "order_type": "limit", "liquidity": "T", "instrument_name": "BTC-PERPETUAL", "fee_currency": "BTC",
            "fee": order["amount"] / BEST_ASK_USD * TAKER_FEE, "mark_price": BEST_ASK_USD,
            "index_price": BEST_ASK_USD, "tick_direction": 1, "self_trade": False, "reduce_only": False,
            "post_only": False, "api": True, "mmp": False, "matching_id": None, "profit_loss": 0.0,
            "risk_reducing": False})
        return reply

    def trade_history(self, call: Call) -> Reply:
        perpetual = call.params["instrument_name"] == "BTC-PERPETUAL"
        return Reply({"jsonrpc": "2.0", "result": {"trades": self.trades if perpetual else [], "has_more": False},
                      "usIn": 0, "usOut": 0, "usDiff": 0, "testnet": False})

    def routes(self) -> dict[tuple[str, str], Any]:
        return super().routes() | {("GET", DERIBIT_API + path): self.trade_history for path in TRADES_PATHS}

    def private_websocket(self, message: Mapping[str, Any]) -> Iterator[Any]:
        """Answer the account's private websocket; the ``user.trades`` subscription then brings every new trade
        (checked every 10 ms) until ``closed`` is set."""
        if message.get("method") != "private/subscribe":
            yield from deribit_websocket(message)
            return
        channels = list(message["params"]["channels"])
        yield {"jsonrpc": "2.0", "id": message.get("id"), "result": channels, "usIn": 0, "usOut": 0, "usDiff": 0,
               "testnet": False}
        pushed = 0
        while not self.closed.wait(0.01):
            if len(self.trades) > pushed:
                yield {"jsonrpc": "2.0", "method": "subscription",
                       "params": {"channel": channels[0], "data": self.trades[pushed:]}}
                pushed = len(self.trades)


def test_the_hedges_fill_reaches_the_book_from_the_accounts_fill_stream(tmp_path: Path) -> None:
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
