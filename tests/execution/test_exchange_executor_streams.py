"""Fills taken from the venues' fill streams: the ccxt Deribit venue on recorded REST answers and websocket frames.

The recorded exchange serves Deribit on 127.0.0.1 from a thread of its own (the
executor drives its venue from its private event loop). Its private websocket answers
the ``user.trades`` subscription with two recorded notifications: our fills 315235790
(40 USD of face at 104,002.5) and 315235811 (10 USD at 104,003.0), the first repeated in
the second notification, and an ETH trade outside the configured market. Independent
truths: Deribit's BTC perpetual trades in 10 USD contracts, so those are 4 and 1
contracts; every REST asking for fills is one ``get_user_trades_by_instrument*`` request
on the recorded server. The last test trades: its venue (``test_live_fills.py``'s) fills
an order at once at 104,001 and lists the trade by REST, and its stream stays silent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from service.live_deribit import BEST_ASK_USD, PERPETUAL, TRADES_PATHS, FillingDeribit
from venues.ccxt.recorded_exchange import Call, RecordedExchange, Reply, fixture, serving
from venues.ccxt.recorded_venues import DERIBIT_API, DERIBIT_WS, RecordedDeribit, deribit_websocket
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.engine.clock import WallClock
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.service.order_journal import PersistedVenue
from hedgekeeper.service.wiring import LiveExecutor
from hedgekeeper.venues.ccxt.venue import create_ccxt_venue

SECOND_NS = 1_000_000_000
STREAMED = [(4.0, 104_002.5), (1.0, 104_003.0)]
"""(contracts, USD per coin) of the two BTC fills the recorded stream pushes."""
POLLED = [(3.0, 104_000.5), (-3.0, 104_010.0)]
"""(contracts, USD per coin) of the two fills Deribit's recorded REST trade history holds."""


def streamed_trades() -> list[dict[str, Any]]:
    """Return the recorded stream's BTC trades, each once, as Deribit's REST trade history lists them."""
    first = fixture("deribit", "ws_user_trades")["params"]["data"][0]
    second = fixture("deribit", "ws_user_trades_next")["params"]["data"][1]
    return [first, second]


class DeribitAccount:
    """Deribit's recorded answers, with the REST trade history and the private subscription chosen by the test.

    Parameters
    ----------
    rest_trades : the trades every REST asking for the perpetual's fills answers
    drops : how many ``user.trades`` subscriptions the server answers by dropping the connection
    """

    def __init__(self, rest_trades: list[dict[str, Any]], drops: int = 0) -> None:
        self.rest_trades = rest_trades
        self.drops = drops

    def trades(self, call: Call) -> Reply:
        perpetual = call.params["instrument_name"] == "BTC-PERPETUAL"
        return Reply({"jsonrpc": "2.0", "result": {"trades": self.rest_trades if perpetual else [],
                                                   "has_more": False}})

    def websocket(self, message: Mapping[str, Any]) -> list[Any]:
        channels = message.get("params", {}).get("channels", [])
        if self.drops > 0 and any(channel.startswith("user.trades.") for channel in channels):
            self.drops -= 1
            raise ConnectionResetError("the recorded exchange drops the private websocket")
        return deribit_websocket(message)

    def exchange(self) -> RecordedExchange:
        routes = RecordedDeribit().routes() | {("GET", DERIBIT_API + path): self.trades for path in TRADES_PATHS}
        return RecordedExchange(routes, {DERIBIT_WS: self.websocket})


def rest_askings(exchange: RecordedExchange) -> int:
    """Return the REST requests for fills the recorded exchange received."""
    return sum(len(exchange.calls_to("GET", DERIBIT_API + path)) for path in TRADES_PATHS)


@contextmanager
def streaming_executor(recorded: RecordedExchange, wrap: Callable[[Any], Any] = lambda venue: venue,
                       **options: Any) -> Iterator[tuple[RecordedExchange, LiveExecutor]]:
    """Yield the recorded exchange, served, and an executor taking the Deribit venue's fills from its stream.

    The executor is the service's (``LiveExecutor``: the ``ExchangeExecutor`` that can run the
    venue's ``close`` on its event loop).
    """
    with serving(recorded) as exchange:
        base = f"127.0.0.1:{exchange.port}"
        settings = {"urls": {"api": {"rest": f"https://{base}", "ws": f"wss://{base}{DERIBIT_WS}"}}, "verify": False}
        config = config_for("deribit", ["BTC-PERPETUAL"])

        async def listed() -> InstrumentRegistry:  # the venue's own instruments, from a venue of their own
            venue = create_ccxt_venue(config, ENVIRONMENT, settings=settings)
            try:
                return InstrumentRegistry(await venue.instruments())
            finally:
                await venue.close()

        registry = asyncio.run(listed())
        venue = create_ccxt_venue(config, ENVIRONMENT, settings=settings)
        options = {"books": {}} | options
        executor = LiveExecutor(OrderManager({"deribit": wrap(venue)}, WallClock()), registry,
                                fill_stream=True, reopen_s=0.05, **options)
        try:
            yield exchange, executor
        finally:
            executor.run(venue.close())
            executor.close()


def poll_until(executor: ExchangeExecutor, count: int, now_ns: Callable[[int], int] = lambda step: 0,
               timeout_s: float = 20.0) -> list[TakerFill]:
    """Poll (at ``now_ns(step)``) until ``count`` fills came, then 20 more times; return them all."""
    fills: list[TakerFill] = []
    deadline, step, extra = time.monotonic() + timeout_s, 0, 0
    while extra < 20:
        fills += executor.poll(now_ns(step))
        step += 1
        extra += len(fills) >= count
        assert time.monotonic() < deadline, f"{len(fills)} fills of {count} after {timeout_s} s"
        time.sleep(0.005)
    return fills


def traded(fills: list[TakerFill]) -> list[tuple[float, float]]:
    return sorted((fill.record.size_contracts, fill.record.price_usd) for fill in fills)


def test_pushed_fills_are_reported_as_they_come_without_asking_rest_again() -> None:
    with streaming_executor(DeribitAccount(rest_trades=[]).exchange(), poll_interval_ns=SECOND_NS) as (exchange, executor):
        fills = poll_until(executor, 2)  # the engine's time stands still: only the first poll asks by REST
        assert rest_askings(exchange) == 1
        assert executor.streamed_fills is not None and executor.streamed_fills.rest_asks == {"deribit": 1}
    assert traded(fills) == sorted(STREAMED)
    for fill in fills:  # not orders of ours: each measured against its own price, the fee at the venue's
        assert fill.record.mid_usd == fill.record.price_usd and fill.record.slippage_usd == 0.0
        assert fill.record.notional_usd == pytest.approx(abs(fill.record.size_contracts) * 10.0)
    assert {fill.fee for fill in fills} == {1.92e-07, 0.0}


def test_a_fill_both_the_stream_and_rest_report_is_reported_once() -> None:
    account = DeribitAccount(rest_trades=streamed_trades())
    with streaming_executor(account.exchange(), poll_interval_ns=SECOND_NS, fill_check_interval_ns=1) as (exchange, executor):
        fills = poll_until(executor, 2, now_ns=lambda step: step)  # REST is asked on every poll
        assert rest_askings(exchange) >= 20
    assert traded(fills) == sorted(STREAMED)


def test_a_failed_stream_falls_back_to_rest_and_is_reopened(caplog: pytest.LogCaptureFixture) -> None:
    account = DeribitAccount(rest_trades=fixture("deribit", "get_user_trades_by_instrument_and_time_perpetual")
                             ["result"]["trades"], drops=3)  # the venue's first try and its 2 retries
    with caplog.at_level(logging.WARNING), streaming_executor(
            account.exchange(), poll_interval_ns=SECOND_NS, fill_check_interval_ns=3600 * SECOND_NS) as (exchange, executor):
        fills = poll_until(executor, 4, now_ns=lambda step: step * SECOND_NS // 4)
        streams = executor.streamed_fills.streams  # type: ignore[union-attr]
        assert (streams.failures, streams.openings) == ({"deribit": 1}, {"deribit": 2})
        assert streams.up("deribit") and account.drops == 0
        # asked on the first poll and every second while the stream was down, then once more a second after
        # it reopened; never again with the stream up (the safety net is an hour away)
        asked = executor.streamed_fills.rest_asks["deribit"]  # type: ignore[union-attr]
        assert asked >= 2 and rest_askings(exchange) == asked
        assert executor.poll(600 * SECOND_NS) == [] and rest_askings(exchange) == asked
    assert traded(fills) == sorted(POLLED + STREAMED)
    assert any("deribit fill stream down" in record.message and "after 3 attempts" in record.message
               for record in caplog.records)


def test_fills_an_earlier_run_booked_stay_hidden_on_the_stream() -> None:
    hidden = {"315235790"}

    def persisted(venue: Any) -> PersistedVenue:
        return PersistedVenue(venue, journal=None, hidden=hidden)

    with streaming_executor(DeribitAccount(rest_trades=streamed_trades()).exchange(), wrap=persisted,
                            poll_interval_ns=SECOND_NS) as (exchange, executor):
        fills = poll_until(executor, 1)
        wrapped = executor.orders.venues["deribit"]
        assert wrapped.take_fill("BTC-PERPETUAL.DERIBIT", 1_750_000_007_350_000_000, 1.0, 104_003.0) is not None
        assert wrapped.take_fill("BTC-PERPETUAL.DERIBIT", 1_750_000_007_100_000_000, 4.0, 104_002.5) is None
    assert traded(fills) == [(1.0, 104_003.0)]


def silent_websocket(message: Mapping[str, Any]) -> list[Any]:
    """Answer Deribit's private websocket as a stream that never pushes: a subscription is confirmed only."""
    return deribit_websocket(message)[:1]


def test_a_fill_the_order_manager_learned_is_reported_at_once_though_the_stream_stays_silent() -> None:
    deribit = FillingDeribit()  # fills every order at once at 104,001; its REST trade history lists the trade
    book = OrderBook()
    book.apply(BookUpdate(1, PERPETUAL, ((104_000.0, 10.0),), ((BEST_ASK_USD, 10.0),), True))
    recorded = RecordedExchange(deribit.routes(), {DERIBIT_WS: silent_websocket})
    with streaming_executor(recorded, books={PERPETUAL: book}, poll_interval_ns=SECOND_NS) as (exchange, executor):
        # REST is asked at the start, and a poll interval after the stream opened
        assert executor.poll(0) == [] and executor.poll(SECOND_NS) == [] and rest_askings(exchange) == 2
        (fill,) = executor.execute(executor.registry.get(PERPETUAL), 3.0, book, now_ns=SECOND_NS + 1)
        (trade,) = deribit.trades
        assert rest_askings(exchange) == 3  # the order manager's, for the order's own state and fills
        assert not executor.working("BTC")
        assert executor.poll(3 * SECOND_NS) == [] and rest_askings(exchange) == 3  # reported once, nothing asked
    assert trade["amount"] == 30.0 and trade["direction"] == "buy"  # 3 contracts of 10 USD
    assert (fill.record.size_contracts, fill.record.price_usd) == (3.0, BEST_ASK_USD)
    mid = (104_000.0 + BEST_ASK_USD) / 2
    assert fill.record.mid_usd == mid  # priced against the hedge's arrival mid
    assert fill.record.slippage_usd == pytest.approx((BEST_ASK_USD - mid) * 30.0 / BEST_ASK_USD)
