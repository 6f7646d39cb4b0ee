"""Hedges executed as orders on a simulated exchange: at once, in slices, with latency; every fill reported once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from execution.execution_builders import PERP, count_fill_askings

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.pacing import TwapPacing
from hedgekeeper.market.events import BookUpdate, Trade
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

FEES = FeeSchedule(venues={"binance": VenueFees(taker=0.0005, maker=0.0002)})
SNAPSHOT = BookUpdate(1, PERP.instrument_id, ((99_999.5, 1.0), (99_990.0, 1.0)),
                      ((100_000.5, 1.0), (100_010.0, 1.0), (100_020.0, 1.0)), True)


class Market:
    """One exchange and the engine's book of the same instrument, fed the same events."""

    def __init__(self, latency_ns: int = 0, **executor: Any) -> None:
        self.clock = SimulatedClock(start_ns=1)
        self.core = ExchangeCore(
            SimulatedExchangeConfig(name="binance", order_latency_ns=latency_ns,
                                    balances={"USDT": Decimal(1_000_000)}), [PERP], FEES, self.clock)
        self.book = OrderBook()
        orders = OrderManager({"binance": SimulatedExchange(self.core)}, self.clock)
        self.executor = ExchangeExecutor(orders, InstrumentRegistry([PERP]), {PERP.instrument_id: self.book},
                                         **executor)
        self.feed(SNAPSHOT)

    def feed(self, event: BookUpdate | Trade) -> None:
        self.clock.advance_to(event.ts_ns)
        self.clock.fire_due()
        self.core.on_market_event(event)
        if isinstance(event, BookUpdate):
            self.book.apply(event)


def test_a_hedge_at_once_walks_the_book_and_pays_the_taker_fee() -> None:
    market = Market()
    fills = market.executor.execute(PERP, 2.5, market.book, now_ns=1)
    assert [f.record.price_usd for f in fills] == [100_000.5, 100_010.0, 100_020.0]
    assert sum(f.record.size_contracts for f in fills) == pytest.approx(2.5)
    for fill in fills:
        assert fill.record.fee_usd == pytest.approx(0.0005 * fill.record.notional_usd)
        assert fill.record.mid_usd == 100_000.0
    assert not market.executor.working("BTC")


def test_what_the_band_cannot_fill_is_left_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    market = Market(protection_bps=1.5)  # up to 100,015: two levels
    fills = market.executor.execute(PERP, 2.5, market.book, now_ns=1)
    assert sum(f.record.size_contracts for f in fills) == pytest.approx(2.0)
    assert "0.500 of 2.500 contracts left unfilled" in caplog.text


def test_slices_go_out_when_due_and_the_hedge_works_until_the_last() -> None:
    market = Market(pacing=TwapPacing(3, 10))
    first = market.executor.execute(PERP, -1.5, market.book, now_ns=1)
    assert sum(f.record.size_contracts for f in first) == pytest.approx(-0.5)
    assert market.executor.working("BTC") and market.executor.poll(5) == []
    market.feed(BookUpdate(11, PERP.instrument_id, ((99_999.5, 1.0),), (), False))  # the market refills the bid
    second = market.executor.poll(11)
    assert [f.record.price_usd for f in second] == [99_999.5]
    market.feed(BookUpdate(21, PERP.instrument_id, ((99_999.5, 1.0),), (), False))
    third = market.executor.poll(21)
    assert sum(f.record.size_contracts for f in third) == pytest.approx(-0.5)
    assert not market.executor.working("BTC")


def test_liquidity_taken_by_one_slice_is_gone_for_the_next_until_the_market_refills() -> None:
    market = Market(pacing=TwapPacing(2, 10))
    market.executor.execute(PERP, 2.0, market.book, now_ns=1)  # 1 at 100,000.5
    market.clock.advance_to(11)
    second = market.executor.poll(11)  # no refill: the next level
    assert [f.record.price_usd for f in second] == [100_010.0]


def test_with_latency_the_fills_arrive_on_a_later_poll() -> None:
    market = Market(latency_ns=5)
    assert market.executor.execute(PERP, 1.0, market.book, now_ns=1) == []
    assert market.executor.working("BTC")
    market.clock.advance_to(6)
    market.clock.fire_due()
    fills = market.executor.poll(6)
    assert [f.record.size_contracts for f in fills] == [1.0] and not market.executor.working("BTC")
    assert market.executor.poll(7) == []  # reported once


def test_the_venue_is_asked_at_most_once_per_poll_interval_and_every_fill_still_comes_once() -> None:
    market = Market(latency_ns=5, pacing=TwapPacing(slices=3, interval_ns=20), poll_interval_ns=50)
    asked = count_fill_askings(market.executor.orders.venues["binance"], market.clock)
    reported = market.executor.execute(PERP, 1.5, market.book, now_ns=1)
    for now in range(2, 200):
        market.clock.advance_to(now)
        market.clock.fire_due()
        reported += market.executor.poll(now)
    # slices went out on time although, placing aside, the venue was asked only every 50 ns
    sent = [o.created_ns for o in market.executor.orders.orders.values()]
    assert sent == [1, 21, 41]
    polls = sorted(set(asked) - set(sent[1:]))  # a placement asks for its own fills (order manager)
    assert polls[0] == 1 and all(later - earlier >= 50 for earlier, later in zip(polls, polls[1:]))
    assert sum(f.record.size_contracts for f in reported) == pytest.approx(1.5)
    assert len(reported) == len(market.core.fills())  # each venue fill reported once
    assert not market.executor.working("BTC")


def test_a_fill_made_between_two_askings_is_reported_at_once_from_the_orders_answer() -> None:
    market = Market(poll_interval_ns=50)
    asked = count_fill_askings(market.executor.orders.venues["binance"], market.clock)
    assert market.executor.poll(1) == [] and asked == [1]
    market.clock.advance_to(10)
    fills = market.executor.execute(PERP, 1.0, market.book, now_ns=10)  # 40 ns before the next asking
    assert asked == [1, 10]  # the order manager's, with the order's answer; the executor asked nothing
    assert [(f.record.size_contracts, f.record.price_usd) for f in fills] == [(1.0, 100_000.5)]
    assert not market.executor.working("BTC")
    market.clock.advance_to(60)
    assert market.executor.poll(60) == [] and asked == [1, 10, 60]  # the asking finds it reported


def test_a_passive_slice_rests_at_the_bid_earns_the_maker_fee_and_its_rest_is_taken_when_due() -> None:
    market = Market(passive_ns=10)
    assert market.executor.execute(PERP, 1.0, market.book, now_ns=1) == []  # resting behind 1.0 at 99,999.5
    market.feed(Trade(5, PERP.instrument_id, 99_999.5, 1.5, -1))  # a seller takes the 1.0 ahead and 0.5 of ours
    passive = market.executor.poll(5)
    assert [(f.record.price_usd, f.record.size_contracts) for f in passive] == [(99_999.5, 0.5)]
    assert passive[0].record.fee_usd == pytest.approx(0.0002 * 0.5 * 99_999.5)  # maker
    assert market.executor.working("BTC")
    market.clock.advance_to(11)
    taken = market.executor.poll(11)  # the rest is cancelled and taken at the ask
    assert [(f.record.price_usd, f.record.size_contracts) for f in taken] == [(100_000.5, 0.5)]
    assert taken[0].record.fee_usd == pytest.approx(0.0005 * 0.5 * 100_000.5)  # taker
    assert not market.executor.working("BTC")
    statuses = sorted(order.status.value for order in market.executor.orders.orders.values())
    assert statuses == ["cancelled", "filled"]
