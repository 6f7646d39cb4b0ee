"""Hedges routed across two exchanges and a pool: never dearer than the best single venue, re-planned after fills."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.routed_executor import BookRoute, PoolRoute, RoutedExecutor
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.market.events import BookUpdate, Trade
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens
from hedgekeeper.venues.amm.venue import PoolVenue
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange


def perp(venue: str) -> Instrument:
    return Instrument(instrument_id=f"BTCUSDT.{venue}", venue=venue, kind=InstrumentKind.PERPETUAL,
                      settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
                      contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"),
                      min_size=Decimal("0.001"))


A, B = perp("a"), perp("b")
SPOT = Instrument(instrument_id="BTC-USDC.pool", venue="pool", kind=InstrumentKind.SPOT, settlement=Settlement.LINEAR,
                  underlying="BTC", settlement_currency="USDC", contract_size=Decimal(1),
                  tick_size=Decimal("0.000001"), lot_size=Decimal("0.001"), min_size=Decimal("0.001"))
FEES = FeeSchedule(venues={"a": VenueFees(taker=0.0005, maker=0.0), "b": VenueFees(taker=0.0004, maker=0.0)})
MID = 100_000.0


def ladder(instrument: Instrument, ts_ns: int, coin_per_level: float, gap_usd: float) -> BookUpdate:
    bids = tuple((MID - gap_usd * (i + 0.5), coin_per_level) for i in range(50))
    asks = tuple((MID + gap_usd * (i + 0.5), coin_per_level) for i in range(50))
    return BookUpdate(ts_ns, instrument.instrument_id, bids, asks, True)


class Venues:
    """Two exchanges fed crafted books, a BTC/USDC pool at the same mid, and the router over any of them."""

    def __init__(self, latency_ns: int = 0) -> None:
        self.clock = SimulatedClock(start_ns=1)
        self.cores = {
            i.venue: ExchangeCore(SimulatedExchangeConfig(name=i.venue, order_latency_ns=latency_ns,
                                                          balances={"USDT": Decimal(10_000_000)}), [i], FEES,
                                  self.clock)
            for i in (A, B)
        }
        self.books = {i.instrument_id: OrderBook() for i in (A, B)}
        reserve_coin = 3_000  # 300M USD a side, a 0.05% fee
        pool = ConstantProductPool(reserve_coin * 10**8, int(reserve_coin * MID) * 10**6, fee_pips=500)
        self.pool = PoolVenue("pool", SPOT, pool, PoolTokens(coin_is_token0=True, coin_decimals=8, usd_decimals=6),
                              self.clock, gas_cost_usd=Decimal(5), balances={"USDC": Decimal(10_000_000)})
        self.feed(ladder(A, 1, coin_per_level=0.5, gap_usd=2.0))
        self.feed(ladder(B, 1, coin_per_level=0.3, gap_usd=1.0))

    def feed(self, event: BookUpdate | Trade) -> None:
        self.clock.advance_to(event.ts_ns)
        self.clock.fire_due()
        venue = event.stream.split(".")[1]
        self.cores[venue].on_market_event(event)
        if isinstance(event, BookUpdate):
            self.books[event.stream].apply(event)

    def router(self, *names: str) -> RoutedExecutor:
        venues = {"a": SimulatedExchange(self.cores["a"]), "b": SimulatedExchange(self.cores["b"]),
                  "pool": self.pool}
        routes = {"a": BookRoute(A, partial(venues["a"].book_snapshot, A.instrument_id), 0.0005),
                  "b": BookRoute(B, partial(venues["b"].book_snapshot, B.instrument_id), 0.0004),
                  "pool": PoolRoute(self.pool, 50.0)}
        orders = OrderManager({name: venues[name] for name in names}, self.clock)
        return RoutedExecutor(orders, InstrumentRegistry([A, B, SPOT]), {"BTC": [routes[name] for name in names]},
                              lot_coin=Decimal("0.001"))


def cost_usd(fills: list[TakerFill]) -> float:
    return sum(f.record.slippage_usd + f.record.fee_usd for f in fills)


@pytest.mark.parametrize("size_coin", [0.2, 3.0, 12.0])
def test_the_router_is_never_dearer_than_the_best_single_venue(size_coin: float) -> None:
    costs = {}
    for names in (("a",), ("b",), ("pool",), ("a", "b", "pool")):
        venues = Venues()
        executor = venues.router(*names)
        fills = executor.execute(A, size_coin, venues.books[A.instrument_id], now_ns=1)
        assert sum(f.record.size_contracts for f in fills) == pytest.approx(size_coin)
        assert not executor.working("BTC")
        costs[names] = cost_usd(fills)
    assert costs[("a", "b", "pool")] <= min(costs[("a",)], costs[("b",)], costs[("pool",)]) + 1e-9


def test_a_large_hedge_uses_every_source_and_reports_each_fill_once() -> None:
    venues = Venues()
    executor = venues.router("a", "b", "pool")
    fills = executor.execute(A, -30.0, venues.books[A.instrument_id], now_ns=1)
    assert {f.record.venue for f in fills} == {"a", "b", "pool"}
    assert sum(f.record.size_contracts for f in fills) == pytest.approx(-30.0)
    assert executor.poll(2) == []


def test_what_a_venue_no_longer_offers_on_arrival_is_rerouted_in_the_next_round() -> None:
    venues = Venues(latency_ns=10)
    executor = venues.router("a", "b")
    assert executor.execute(A, 4.0, venues.books[A.instrument_id], now_ns=1) == []  # in flight
    assert executor.working("BTC")
    # Before our orders arrive, another trader empties b's first ten ask levels (3 coin).
    empty_asks = tuple((MID + 1.0 * (i + 0.5), 0.0) for i in range(10))
    venues.feed(BookUpdate(5, B.instrument_id, (), empty_asks, False))
    venues.clock.advance_to(11)
    venues.clock.fire_due()
    first = executor.poll(11)
    assert 0 < sum(f.record.size_contracts for f in first) < 4.0
    second = executor.poll(12)  # the round is done: the rest is re-routed, in flight for 10 ns
    for now_ns in (22, 32):
        venues.clock.advance_to(now_ns)
        venues.clock.fire_due()
        second += executor.poll(now_ns)
    assert sum(f.record.size_contracts for f in first + second) == pytest.approx(4.0)
    assert not executor.working("BTC")


def test_each_round_reads_every_source_once_and_prices_its_legs_on_that_read() -> None:
    venues = Venues()
    reads: list[str] = []
    a_exchange = SimulatedExchange(venues.cores["a"])

    def a_book() -> OrderBook:
        reads.append("a")
        return a_exchange.book_snapshot(A.instrument_id)

    class CountedPool:
        """The pool venue, counting reads of its state."""

        def __init__(self, venue: PoolVenue) -> None:
            self.venue, self.name, self.tokens, self.instrument = venue, venue.name, venue.tokens, venue.instrument

        def pool_model(self):  # noqa: ANN202 - the venue's AmmPool
            reads.append("pool")
            return self.venue.pool_model()

        def gas_estimate_usd(self) -> float:
            return self.venue.gas_estimate_usd()

    orders = OrderManager({"a": a_exchange, "pool": venues.pool}, venues.clock)
    routes = [BookRoute(A, a_book, 0.0005), PoolRoute(CountedPool(venues.pool), 50.0)]
    executor = RoutedExecutor(orders, InstrumentRegistry([A, SPOT]), {"BTC": routes}, lot_coin=Decimal("0.001"))
    fills = executor.execute(A, 30.0, venues.books[A.instrument_id], now_ns=1)
    assert sorted(reads) == ["a", "pool"]
    # The book leg's limit is the last ask level it needs on that read: 0.5 coin a level, 2 USD apart.
    a_coin = sum(f.record.size_contracts for f in fills if f.record.venue == "a")
    a_child = next(order for order in orders.orders.values() if order.request.instrument_id == A.instrument_id)
    levels_needed = -(-round(a_coin * 1000) // 500)
    assert float(a_child.request.price.value) == pytest.approx(MID + 2.0 * (levels_needed - 0.5))
    assert sum(f.record.size_contracts for f in fills) == pytest.approx(30.0)
    executor.close()
