"""The order manager against the simulated exchange: retries never duplicate, refusals recorded, reconciliation."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from execution.execution_builders import PERP, count_fill_askings
from execution.flaky_venue import FlakyNetwork

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.order_manager import OrderManager, RetryPolicy
from hedgekeeper.execution.order_state import OrderEvent
from hedgekeeper.execution.safety import SafetyGuard, SafetyLimits
from hedgekeeper.market.events import BookUpdate, Trade
from hedgekeeper.portfolio.values import Quantity
from hedgekeeper.venues.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

NO_WAIT = RetryPolicy(attempts=3, backoff_s=0.0)


def exchange(clock: SimulatedClock) -> ExchangeCore:
    core = ExchangeCore(SimulatedExchangeConfig(name="binance", balances={"USDT": Decimal(1_000_000)}), [PERP],
                        FeeSchedule(venues={"binance": VenueFees(taker=0.0005, maker=0.0002)}), clock)
    core.on_market_event(BookUpdate(1, PERP.instrument_id, ((99_999.9, 1.0), (99_999.0, 2.0)),
                                    ((100_000.1, 1.0), (100_001.0, 2.0)), True))
    return core


def request(client_order_id: str, size: str, price: float, tif: TimeInForce = TimeInForce.GTC) -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, instrument_id=PERP.instrument_id, side=Side.BUY,
                        quantity=PERP.make_qty(size, round_down=True), order_type=OrderType.LIMIT,
                        price=PERP.make_price(price, round_down=True), time_in_force=tif)


def manager(venue, clock: SimulatedClock, **options) -> OrderManager:  # noqa: ANN001 (any Venue)
    return OrderManager({"binance": venue}, clock, retry=NO_WAIT, **options)


def test_a_resting_order_is_acknowledged_then_cancelled_with_every_transition_recorded() -> None:
    clock = SimulatedClock(start_ns=1)
    orders = manager(SimulatedExchange(exchange(clock)), clock)
    placed = asyncio.run(orders.submit("binance", request("hk-1", "0.5", 99_000.0)))
    assert placed.status is OrderStatus.ACKNOWLEDGED and placed.venue_order_id
    cancelled = asyncio.run(orders.cancel("hk-1"))
    assert cancelled.status is OrderStatus.CANCELLED
    assert [t.event for t in cancelled.transitions] == [OrderEvent.ACCEPTED, OrderEvent.CANCELLED]


def test_an_ioc_order_fills_what_the_book_offers_and_counts_each_fill_once() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    orders = manager(SimulatedExchange(core), clock)
    order = asyncio.run(orders.submit("binance", request("hk-1", "5", 100_000.5, TimeInForce.IOC)))
    # Only the 1 BTC at 100,000.1 is within the limit: the rest expires, as on Binance.
    assert order.status is OrderStatus.EXPIRED and order.filled_quantity == Decimal("1.000")
    assert "unfilled" in order.reason
    assert len(order.fills) == 1 and not orders.on_fill(next(iter(order.fills.values())))


def test_a_retry_after_a_lost_answer_finds_the_order_instead_of_sending_it_again() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    network = FlakyNetwork(SimulatedExchange(core), place_faults=["lost_answer"])
    order = asyncio.run(manager(network, clock).submit("binance", request("hk-1", "0.5", 99_000.0)))
    assert order.status is OrderStatus.ACKNOWLEDGED and network.place_calls == 1
    assert len(core.open_orders()) == 1


def test_an_order_that_never_left_is_sent_again_under_the_same_id_once() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    network = FlakyNetwork(SimulatedExchange(core), place_faults=["never_sent", "lost_answer"])
    order = asyncio.run(manager(network, clock).submit("binance", request("hk-1", "0.5", 99_000.0)))
    assert order.status is OrderStatus.ACKNOWLEDGED and network.place_calls == 2
    assert [o.client_order_id for o in core.open_orders()] == ["hk-1"]


def test_an_order_of_unknown_fate_is_settled_by_the_next_reconciliation() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    network = FlakyNetwork(SimulatedExchange(core), place_faults=["never_sent"] * 3, lookup_faults=3)
    orders = manager(network, clock)
    order = asyncio.run(orders.submit("binance", request("hk-1", "0.5", 99_000.0)))
    assert order.status is OrderStatus.NEW and orders.working() == [order]
    made = asyncio.run(orders.reconcile())
    assert order.status is OrderStatus.REJECTED and "never received" in made[0].detail
    assert core.open_orders() == []


def test_fills_missed_during_a_disconnect_are_recovered_by_reconciliation() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    orders = manager(SimulatedExchange(core), clock)
    order = asyncio.run(orders.submit("binance", request("hk-1", "0.5", 99_999.9)))
    assert order.status is OrderStatus.ACKNOWLEDGED
    clock.advance_to(10)
    # While we are away, the bid is hit through our price: the queue ahead (1 BTC) and then us.
    core.on_market_event(Trade(10, PERP.instrument_id, 99_999.0, 2.0, -1))
    made = asyncio.run(orders.reconcile())
    assert order.status is OrderStatus.FILLED and order.filled_quantity == Decimal("0.500")
    assert [t.event for t in made] == [OrderEvent.FILLED]


def test_the_safety_limits_refuse_an_oversize_order_before_it_leaves() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    guard = SafetyGuard(SafetyLimits(max_order_coin=1.0, max_order_notional_usd=1e6, max_notional_per_window_usd=1e7,
                                     notional_window_s=60.0, price_collar_bps=200.0))

    def check(venue: str, sent: OrderRequest, now_ns: int) -> None:
        guard.check_request(sent, PERP, underlying_price_usd=100_000.0, mid_price=100_000.0, now_ns=now_ns)

    network = FlakyNetwork(SimulatedExchange(core))
    order = asyncio.run(manager(network, clock, pre_trade_check=check).submit(
        "binance", request("hk-1", "2", 99_000.0)))
    assert order.status is OrderStatus.REJECTED and "above the maximum" in order.reason
    assert network.place_calls == 0


def test_a_venue_refusal_is_final_and_recorded() -> None:
    clock = SimulatedClock(start_ns=1)
    network = FlakyNetwork(SimulatedExchange(exchange(clock)))
    bad_lot = OrderRequest(client_order_id="hk-1", instrument_id=PERP.instrument_id, side=Side.BUY,
                           quantity=Quantity(Decimal("0.0005"), 4), price=PERP.make_price(99_000, round_down=True))
    order = asyncio.run(manager(network, clock).submit("binance", bad_lot))
    assert order.status is OrderStatus.REJECTED and network.place_calls == 1
    assert "lot" in order.reason


def test_the_venue_is_asked_for_fills_only_when_its_answer_shows_fills_we_lack() -> None:
    clock = SimulatedClock(start_ns=1)
    core = exchange(clock)
    venue = SimulatedExchange(core)
    asked = count_fill_askings(venue, clock)
    orders = manager(venue, clock)
    missed = asyncio.run(orders.submit("binance", request("hk-1", "1", 99_000.0, TimeInForce.IOC)))
    resting = asyncio.run(orders.submit("binance", request("hk-2", "1", 99_999.0)))
    asyncio.run(orders.reconcile())  # the resting order, unchanged
    assert (missed.status, resting.status, asked) == (OrderStatus.EXPIRED, OrderStatus.ACKNOWLEDGED, [])
    core.on_market_event(Trade(2, PERP.instrument_id, 99_999.0, 3.0, -1))  # a seller reaches our bid
    asyncio.run(orders.reconcile())
    assert len(asked) == 1 and resting.filled_quantity == Decimal("1.000")
    taken = asyncio.run(orders.submit("binance", request("hk-3", "1", 100_000.5, TimeInForce.IOC)))
    assert len(asked) == 2 and taken.filled_quantity == Decimal("1.000")
