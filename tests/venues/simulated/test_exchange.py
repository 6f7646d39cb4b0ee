"""The exchange core: order types, rejects, fees, latency, idempotency, amend, funding, liquidation."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.errors import (
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    UnknownInstrument,
)
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.market.events import Funding, OracleUpdate, TopOfBook, Trade
from hedgekeeper.portfolio.instruments import example_instruments
from hedgekeeper.portfolio.values import Price, Quantity
from hedgekeeper.venues.orders import Liquidity, OrderRequest, OrderStatus, Side, TimeInForce
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore

from venues.simulated.builders import (
    MAKER_RATE,
    START_NS,
    TAKER_RATE,
    delta,
    inverse_perpetual,
    linear_perpetual,
    make_exchange,
    order,
    snapshot,
)

D = Decimal
PERP = linear_perpetual()
INVERSE = inverse_perpetual()
MS = 1_000_000


def book_exchange(**kwargs: object):
    """An exchange whose linear perpetual shows bids 99.5 x 2, 99 x 3 and asks 100 x 1, 100.5 x 4."""
    core, clock = make_exchange([PERP], **kwargs)  # type: ignore[arg-type]
    core.on_market_event(snapshot(START_NS, PERP, [(99.5, 2.0), (99.0, 3.0)], [(100.0, 1.0), (100.5, 4.0)]))
    return core, clock


def fills_of(core: ExchangeCore, client_order_id: str, account: str = "main") -> list[tuple[Decimal, Decimal]]:
    fills = core.fills(account=account)
    return [(f.price.value, f.quantity.value) for f in fills if f.client_order_id == client_order_id]


def test_limit_order_fills_what_its_price_reaches_and_rests_the_rest() -> None:
    core, _ = book_exchange()
    view = core.submit(order("a", PERP, Side.BUY, 4, "100.5"))
    assert fills_of(core, "a") == [(D(100), D(1)), (D("100.5"), D(3))]
    assert view.status is OrderStatus.FILLED and view.average_price == D("100.375")
    view = core.submit(order("b", PERP, Side.BUY, 3, "100.5"))
    assert fills_of(core, "b") == [(D("100.5"), D(1))]
    assert view.status is OrderStatus.PARTIALLY_FILLED and view.remaining_quantity == 2
    assert core.book(PERP.instrument_id).levels(Side.BUY)[0] == (D("100.5"), D(0), D(2))
    assert [o.client_order_id for o in core.open_orders()] == ["b"]


def test_ioc_expires_its_remainder_with_the_reason() -> None:
    core, _ = book_exchange()
    view = core.submit(order("a", PERP, Side.BUY, 3, "100", TimeInForce.IOC))
    assert fills_of(core, "a") == [(D(100), D(1))]
    assert view.status is OrderStatus.EXPIRED and view.filled_quantity == 1
    assert "2 of 3 unfilled" in view.reason
    assert core.open_orders() == []


def test_fill_or_kill_fills_entirely_or_not_at_all() -> None:
    core, _ = book_exchange()
    killed = core.submit(order("a", PERP, Side.BUY, 6, "100.5", TimeInForce.FOK))
    assert killed.status is OrderStatus.EXPIRED and killed.filled_quantity == 0
    assert "only 5 of 6 could fill" in killed.reason and core.fills() == []
    filled = core.submit(order("b", PERP, Side.BUY, 5, "100.5", TimeInForce.FOK))
    assert filled.status is OrderStatus.FILLED and sum(q for _, q in fills_of(core, "b")) == 5


def test_post_only_that_would_cross_is_rejected_and_one_that_would_not_rests() -> None:
    core, _ = book_exchange()
    with pytest.raises(InvalidOrder, match=re.escape("post-only buy at 100.0 would cross the best ask 100")):
        core.submit(order("a", PERP, Side.BUY, 1, "100", TimeInForce.POST_ONLY))
    assert core.order(PERP.instrument_id, "a").status is OrderStatus.REJECTED
    assert core.submit(order("b", PERP, Side.BUY, 1, "99.5", TimeInForce.POST_ONLY)).status is OrderStatus.ACKNOWLEDGED
    assert core.fills() == []


def test_market_order_walks_the_book_and_stops_at_its_protection_band() -> None:
    core, _ = book_exchange(market_protection_bps=30.0)  # 100 * 1.003 = 100.3, rounded down to 100.0
    view = core.submit(order("a", PERP, Side.BUY, 3, None))
    assert fills_of(core, "a") == [(D(100), D(1))]
    assert view.status is OrderStatus.EXPIRED and "nothing left at or better than 100.0" in view.reason
    unbounded, _ = book_exchange()
    assert unbounded.submit(order("a", PERP, Side.SELL, 6, None)).status is OrderStatus.EXPIRED
    assert fills_of(unbounded, "a") == [(D("99.5"), D(2)), (D(99), D(3))]


@pytest.mark.parametrize(
    ("request_", "error", "reason"),
    [
        (OrderRequest(client_order_id="t", instrument_id=PERP.instrument_id, side=Side.BUY,
                      quantity=Quantity(D(1), 0), price=Price(D("99.2"), 1)),
         InvalidOrder, "price 99.2 is not a multiple of the tick size 0.5"),
        (OrderRequest(client_order_id="t", instrument_id=PERP.instrument_id, side=Side.BUY,
                      quantity=Quantity(D("1.5"), 1), price=PERP.make_price(99, round_down=True)),
         InvalidOrder, "quantity 1.5 is not a multiple of the lot size 1"),
        (OrderRequest(client_order_id="t", instrument_id=PERP.instrument_id, side=Side.BUY,
                      quantity=Quantity(D(1), 0)), InvalidOrder, "a limit order needs a price"),
        (OrderRequest(client_order_id="t", instrument_id=PERP.instrument_id, side=Side.BUY, quantity=Quantity(D(1), 0),
                      order_type=order("x", PERP, Side.BUY, 1).order_type, price=PERP.make_price(99, round_down=True)),
         InvalidOrder, "a market order takes no price"),
        (order("t", example_instruments()[0], Side.BUY, 1, "99"), UnknownInstrument,
         "unknown instrument 'BTC-PERPETUAL.DERIBIT'"),
    ],
    ids=["tick", "lot", "no-price", "market-with-price", "unknown-instrument"],
)
def test_order_breaking_a_rule_is_rejected_with_its_reason(
    request_: OrderRequest, error: type[Exception], reason: str
) -> None:
    core, _ = book_exchange()
    with pytest.raises(error, match=re.escape(reason)):
        core.submit(request_)
    view = core.order(request_.instrument_id, "t")
    assert view is not None and view.status is OrderStatus.REJECTED and reason in view.reason
    assert core.fills() == [] and core.open_orders() == []


def test_order_below_the_minimum_size_is_rejected_with_its_reason() -> None:
    small_lots = linear_perpetual(lot="0.1", min_size="1")
    core, _ = make_exchange([small_lots])
    with pytest.raises(InvalidOrder, match=re.escape("quantity 0.5 is below the minimum size 1")):
        core.submit(order("t", small_lots, Side.BUY, "0.5", "99"))
    assert core.order(small_lots.instrument_id, "t").status is OrderStatus.REJECTED


def test_order_whose_initial_margin_exceeds_free_collateral_is_rejected() -> None:
    # 10 BTC at the mark 99,999.75: 999,997.5 USD, Binance's tier 3 initial 2% - 2,600 = 17,399.95 USDC.
    core, _ = make_exchange([PERP], balances={"USDC": D(17_000)})
    core.on_market_event(snapshot(START_NS, PERP, [(99_999.5, 20.0)], [(100_000.0, 20.0)]))
    refusal = "would be 17399.95 USDC with the order, above the equity 17000 USDC"
    with pytest.raises(InsufficientMargin, match=re.escape(refusal)):
        core.submit(order("big", PERP, Side.BUY, 10, "99000"))
    assert core.order(PERP.instrument_id, "big").status is OrderStatus.REJECTED
    assert core.submit(order("small", PERP, Side.BUY, 9, "99000")).status is OrderStatus.ACKNOWLEDGED
    # A working order counts: 18 BTC would need 5% - 32,600 = 57,399.775 USDC.
    with pytest.raises(InsufficientMargin):
        core.submit(order("more", PERP, Side.BUY, 9, "99000"))


def test_each_fill_pays_its_maker_or_taker_rate_once_in_the_account_currency() -> None:
    core, _ = book_exchange()
    core.deposit("other", "USDC", D(10_000))
    core.submit(order("rest", PERP, Side.SELL, 2, "101"), account="other")
    core.submit(order("take", PERP, Side.BUY, 7, "101"))
    taken = core.fills()
    assert [(f.price.value, f.quantity.value, f.liquidity) for f in taken] == [
        (D(100), D(1), Liquidity.TAKER), (D("100.5"), D(4), Liquidity.TAKER), (D(101), D(2), Liquidity.TAKER)]
    taker = D(repr(TAKER_RATE))
    assert [f.fee.amount for f in taken] == [taker * 100, taker * D("402"), taker * 202]
    assert all(f.fee.currency == "USDC" for f in taken)
    (made,) = core.fills(account="other")
    assert made.liquidity is Liquidity.MAKER and made.fee.amount == D(repr(MAKER_RATE)) * 202
    assert made.raw == {"account": "other", "counterparty": "main"}
    fees_paid = sum(f.fee.amount for f in taken)
    assert core.balances()[1].money.amount == D(1_000_000) - fees_paid  # no P&L realised yet


def test_inverse_fill_pays_its_fee_in_coin_on_the_usd_face() -> None:
    core, _ = make_exchange([INVERSE], balances={"BTC": D(1)})
    core.on_market_event(snapshot(START_NS, INVERSE, [(99_999.5, 1.0)], [(100_000.0, 1.0)]))
    core.submit(order("a", INVERSE, Side.BUY, 100, None))  # 1,000 USD of face at 100,000
    (fill,) = core.fills()
    assert fill.fee == INVERSE.make_money(D(repr(TAKER_RATE)) * 1000 / 100_000)
    assert str(fill.fee) == "0.000005 BTC"


def test_order_meets_the_book_as_it_is_when_it_arrives_after_the_latency() -> None:
    core, _ = book_exchange(order_latency_ns=10 * MS)
    sent = core.submit(order("a", PERP, Side.BUY, 1, "100"))
    assert sent.status is OrderStatus.NEW
    core.on_market_event(snapshot(START_NS + 5 * MS, PERP, [(99.5, 2.0)], [(101.0, 1.0)]))  # before arrival
    core.on_market_event(snapshot(START_NS + 10 * MS, PERP, [(99.5, 2.0)], [(100.0, 1.0)]))  # at arrival: after it
    # The order met the ask at 101 and rested; the ask at 100 published at its arrival then traded with it.
    statuses = [(view.status, view.ts_ns - START_NS) for _, view in core.order_updates if view.client_order_id == "a"]
    assert statuses == [(OrderStatus.NEW, 0), (OrderStatus.ACKNOWLEDGED, 10 * MS), (OrderStatus.FILLED, 10 * MS)]
    (fill,) = core.fills()
    assert (fill.liquidity, fill.price.value) == (Liquidity.MAKER, D(100))
    immediate, _ = book_exchange()
    immediate.submit(order("a", PERP, Side.BUY, 1, "100"))
    assert immediate.fills()[0].liquidity is Liquidity.TAKER


def test_requests_in_flight_arrive_when_the_clock_fires_their_timers() -> None:
    core, clock = book_exchange(order_latency_ns=10 * MS, cancel_latency_ns=2 * MS)
    core.submit(order("a", PERP, Side.BUY, 1, "99"))
    clock.advance_to(START_NS + 9 * MS)
    clock.fire_due()
    assert core.order(PERP.instrument_id, "a").status is OrderStatus.NEW
    clock.advance_to(START_NS + 10 * MS)
    clock.fire_due()
    assert core.order(PERP.instrument_id, "a").status is OrderStatus.ACKNOWLEDGED
    core.submit(order("b", PERP, Side.BUY, 1, "99"))
    core.request_cancel(PERP.instrument_id, "b")  # the cancel overtakes the order
    clock.advance_to(START_NS + 30 * MS)
    clock.fire_due()
    view = core.order(PERP.instrument_id, "b")
    assert view.status is OrderStatus.CANCELLED and view.reason == "cancelled before it reached the book"
    assert [o.client_order_id for o in core.open_orders()] == ["a"]


def test_placing_a_known_client_order_id_returns_the_existing_order() -> None:
    core, _ = book_exchange()
    first = core.submit(order("a", PERP, Side.BUY, 1, "99"))
    again = core.submit(order("a", PERP, Side.BUY, 5, "100"))
    assert again == first and len(core.open_orders()) == 1 and core.fills() == []
    with pytest.raises(InvalidOrder):
        core.submit(order("r", PERP, Side.BUY, 1, "100", TimeInForce.POST_ONLY))
    assert core.submit(order("r", PERP, Side.BUY, 1, "99")).status is OrderStatus.REJECTED
    assert sum(1 for _, view in core.order_updates if view.client_order_id == "a") == 2  # new, acknowledged


def test_cancel_of_a_terminal_order_returns_it_unchanged_and_of_an_unknown_one_raises() -> None:
    core, _ = book_exchange()
    filled = core.submit(order("a", PERP, Side.BUY, 1, "100"))
    assert core.request_cancel(PERP.instrument_id, "a") == filled
    core.submit(order("b", PERP, Side.BUY, 1, "99"))
    cancelled = core.request_cancel(PERP.instrument_id, "b")
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.reason == "cancelled by request"
    with pytest.raises(OrderNotFound):
        core.request_cancel(PERP.instrument_id, "nope")


def resting_queue(core: ExchangeCore) -> list[str]:
    """Client order ids resting at the best bid, in time priority."""
    book = core.book(PERP.instrument_id).bids
    return [o.request.client_order_id for o in book.orders[book.best_order()]]


def test_amend_keeps_priority_on_a_smaller_size_and_loses_it_on_a_larger_size_or_new_price() -> None:
    core, _ = book_exchange()
    core.deposit("b", "USDC", D(10_000))
    core.submit(order("first", PERP, Side.BUY, 3, "99.5"))
    core.submit(order("second", PERP, Side.BUY, 3, "99.5"), account="b")
    core.request_amend(PERP.instrument_id, "first", quantity=D(2))
    assert resting_queue(core) == ["first", "second"]
    core.request_amend(PERP.instrument_id, "first", quantity=D(4))
    assert resting_queue(core) == ["second", "first"]
    core.request_amend(PERP.instrument_id, "second", price=D(99), account="b")
    core.request_amend(PERP.instrument_id, "second", price=D("99.5"), account="b")
    assert resting_queue(core) == ["first", "second"]
    assert core.order(PERP.instrument_id, "first").quantity.value == 4


def test_amend_to_a_crossing_price_trades_at_once_and_amend_of_a_filled_order_is_refused() -> None:
    core, _ = book_exchange()
    core.submit(order("a", PERP, Side.BUY, 2, "99"))
    view = core.request_amend(PERP.instrument_id, "a", price=D(100))
    assert view.status is OrderStatus.PARTIALLY_FILLED and fills_of(core, "a") == [(D(100), D(1))]
    core.submit(order("b", PERP, Side.BUY, 1, "100.5"))
    with pytest.raises(InvalidOrder, match="amend of order b: it is filled"):
        core.request_amend(PERP.instrument_id, "b", quantity=D(3))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity": D("1.5")}, "quantity 1.5 is not a positive multiple of the lot size 1"),
        ({"price": D("99.2")}, "price 99.2 is not a positive multiple of the tick size 0.5"),
        ({"quantity": D(0)}, "quantity 0 is not a positive multiple"),
        ({}, "nothing to change"),
    ],
)
def test_amend_breaking_a_rule_is_refused_and_leaves_the_order_as_it_was(changes: dict, reason: str) -> None:
    core, _ = book_exchange()
    before = core.submit(order("a", PERP, Side.BUY, 2, "99"))
    with pytest.raises(InvalidOrder, match=re.escape(reason)):
        core.request_amend(PERP.instrument_id, "a", **changes)
    assert core.order(PERP.instrument_id, "a") == before


def test_self_trade_prevention_cancels_the_resting_order_with_a_reason() -> None:
    core, _ = book_exchange()
    core.submit(order("rest", PERP, Side.SELL, 1, "100"))
    core.submit(order("take", PERP, Side.BUY, 2, "100"))
    rest = core.order(PERP.instrument_id, "rest")
    assert rest.status is OrderStatus.CANCELLED and "self-trade prevention" in rest.reason
    assert fills_of(core, "take") == [(D(100), D(1))] and fills_of(core, "rest") == []


def test_public_trade_fills_our_resting_order_once_the_queue_ahead_is_through() -> None:
    core, _ = book_exchange()
    core.submit(order("a", PERP, Side.BUY, 2, "99.5"))  # behind 2 public
    core.on_market_event(Trade(START_NS + 1, PERP.instrument_id, 99.5, 3.0, -1))
    (fill,) = core.fills()
    assert (fill.price.value, fill.quantity.value, fill.liquidity) == (D("99.5"), D(1), Liquidity.MAKER)
    assert fill.fee.amount == D(repr(MAKER_RATE)) * D("99.5")
    assert core.order(PERP.instrument_id, "a").status is OrderStatus.PARTIALLY_FILLED


def test_funding_moves_balances_by_rate_times_notional_at_the_mark() -> None:
    core, _ = book_exchange()
    core.deposit("short", "USDC", D(10_000))
    core.deposit("flat", "USDC", D(10_000))
    core.submit(order("rest", PERP, Side.SELL, 1, "100"), account="short")  # behind the public 1 at 100
    core.submit(order("take", PERP, Side.BUY, 2, "100"))  # main: 1 from the public, 1 from "short"
    before = {account: core.balances(account)[-1].money.amount for account in ("main", "short", "flat")}
    core.on_market_event(Funding(START_NS + 1, PERP.instrument_id, 0.01, 99.75))
    # main, long 2 BTC, pays 0.01 * 2 * 99.75 = 1.995 USDC; "short", short 1, receives 0.9975; "flat" nothing.
    moved = {account: core.balances(account)[-1].money.amount - before[account] for account in before}
    assert moved == {"main": D("-1.995"), "short": D("0.9975"), "flat": D(0)}
    assert [(p.account, p.paid) for p in core.funding_payments] == [
        ("main", PERP.make_money("1.995")), ("short", PERP.make_money("-0.9975"))]


def test_inverse_short_receives_funding_in_coin() -> None:
    core, _ = make_exchange([INVERSE], balances={"BTC": D(1)})
    core.on_market_event(snapshot(START_NS, INVERSE, [(50_000.0, 1.0)], [(50_000.5, 1.0)]))
    core.submit(order("a", INVERSE, Side.SELL, 500, None))  # 5,000 USD of face short
    before = core.balances()[0].money.amount
    core.on_market_event(Funding(START_NS + 1, INVERSE.instrument_id, 0.0001, 50_000.0))
    # Shorts receive 0.0001 * 5,000 USD / 50,000 USD per BTC = 0.00001 BTC.
    assert core.balances()[0].money.amount - before == D("0.00001")
    core.on_market_event(Funding(START_NS + 2, INVERSE.instrument_id, -0.0002, 40_000.0))
    assert core.balances()[0].money.amount - before == D("0.00001") - D("0.000025")


def liquidation_setup() -> ExchangeCore:
    """1,000 USDC buys 1 BTC at 100,000 (taker fee 50): equity m - 99,050 against maintenance 0.5% m - 50."""
    core, _ = make_exchange([PERP], balances={"USDC": D(1_000)})
    core.on_market_event(snapshot(START_NS, PERP, [(99_999.5, 5.0)], [(100_000.0, 1.0), (100_000.5, 5.0)]))
    core.submit(order("long", PERP, Side.BUY, 1, None))
    core.submit(order("offer", PERP, Side.SELL, 1, "110000"))  # a working order, cancelled if liquidated
    return core


def move_mid(core: ExchangeCore, mid: float, ts_ns: int) -> None:
    core.on_market_event(snapshot(ts_ns, PERP, [(mid - 0.5, 5.0)], [(mid + 0.5, 5.0)]))


def test_no_liquidation_while_equity_stays_above_maintenance() -> None:
    core = liquidation_setup()
    move_mid(core, 99_500.0, START_NS + 1)  # equity 450 >= maintenance 447.5
    assert core.equity("USDC") == D(450) and core.margin("USDC")[1] == D("447.5")
    assert core.positions()[0].size_contracts == 1
    assert core.order(PERP.instrument_id, "offer").status is OrderStatus.ACKNOWLEDGED


def test_equity_under_maintenance_closes_positions_at_market_and_cancels_orders() -> None:
    core = liquidation_setup()
    move_mid(core, 99_500.0, START_NS + 1)
    move_mid(core, 99_495.0, START_NS + 2)  # equity 445 < maintenance 447.475
    assert core.positions() == []
    offer = core.order(PERP.instrument_id, "offer")
    assert offer.status is OrderStatus.CANCELLED and offer.reason.startswith("liquidation: equity 445")
    (closing,) = [f for f in core.fills() if f.raw.get("liquidation")]
    assert (closing.side, closing.price.value, closing.quantity.value) == (Side.SELL, D("99494.5"), D(1))
    assert "below the maintenance margin 447.475 USDC" in closing.raw["liquidation"]
    liquidation_order = core.order(PERP.instrument_id, closing.client_order_id)
    assert liquidation_order.status is OrderStatus.FILLED and liquidation_order.reason.startswith("liquidation")
    fee = D(repr(TAKER_RATE)) * D("99494.5")
    assert core.balances()[0].money.amount == D(1_000) - 50 + (D("99494.5") - 100_000) - fee


def test_liquidation_on_an_empty_book_closes_at_the_mark_against_the_exchange() -> None:
    core = liquidation_setup()
    core.on_market_event(Funding(START_NS + 1, PERP.instrument_id, 0.01, 99_000.0))  # pays 990, mark 99,000
    (closing,) = [f for f in core.fills() if f.raw.get("liquidation")]
    # The public bids at 99,999.5 are still there: the book is not empty, so take them.
    assert closing.raw["counterparty"] == "public" and closing.price.value == D("99999.5")
    empty, _ = make_exchange([PERP], balances={"USDC": D(1_000)})
    empty.on_market_event(snapshot(START_NS, PERP, [], [(100_000.0, 1.0)]))
    empty.submit(order("long", PERP, Side.BUY, 1, None))
    empty.on_market_event(Funding(START_NS + 1, PERP.instrument_id, 0.01, 99_000.0))
    (closing,) = [f for f in empty.fills() if f.raw.get("liquidation")]
    assert (closing.raw["counterparty"], closing.price.value) == ("exchange", D(99_000))
    assert empty.positions() == []


def test_reduce_only_order_is_refused_unless_it_reduces_the_position() -> None:
    core, _ = book_exchange()
    with pytest.raises(InvalidOrder, match="would not reduce the position of 0 contracts"):
        core.submit(order("a", PERP, Side.SELL, 1, "99.5", reduce_only=True))
    core.submit(order("b", PERP, Side.BUY, 2, "100.5"))
    with pytest.raises(InvalidOrder, match="larger than the position"):
        core.submit(order("c", PERP, Side.SELL, 3, "99.5", reduce_only=True))
    assert core.submit(order("d", PERP, Side.SELL, 2, "99.5", reduce_only=True)).status is OrderStatus.FILLED
    assert core.positions() == []


def test_the_same_inputs_give_the_same_fills() -> None:
    def run() -> list[tuple[object, ...]]:
        core, _ = book_exchange(order_latency_ns=3 * MS)
        core.submit(order("a", PERP, Side.BUY, 2, "99.5"))
        core.submit(order("b", PERP, Side.SELL, 3, None))
        core.on_market_event(delta(START_NS + 4 * MS, PERP, [(99.5, 1.0)], [(100.0, 2.0)]))
        core.on_market_event(Trade(START_NS + 5 * MS, PERP.instrument_id, 99.5, 2.0, -1))
        return [(f.fill_id, f.price, f.quantity, f.fee, f.ts_ns) for f in core.fills()]

    assert run() == run() and run()


def test_bad_or_late_market_data_is_refused_with_a_logged_reason(caplog: pytest.LogCaptureFixture) -> None:
    core, _ = book_exchange()
    levels_before = core.book(PERP.instrument_id).levels(Side.SELL)
    with caplog.at_level(logging.WARNING):
        core.on_market_event(snapshot(START_NS + 1, PERP, [(99.0, 1.0)], [(float("nan"), 1.0)]))
        core.on_market_event(TopOfBook(START_NS - 1, PERP.instrument_id, 98.0, 1.0, 99.0, 1.0))
        core.on_market_event(OracleUpdate(START_NS + 2, "BTC/USD", 1, 99.0, START_NS))  # not the exchange's
    assert "must be finite" in caplog.text and "older than the exchange's time" in caplog.text
    assert core.book(PERP.instrument_id).levels(Side.SELL) == levels_before


def test_instruments_of_another_venue_or_kind_are_refused() -> None:
    fees = FeeSchedule(venues={"binance": VenueFees(maker=0.0, taker=0.0)})
    with pytest.raises(ConfigError, match="trades its own futures and perpetuals"):
        ExchangeCore(SimulatedExchangeConfig(name="binance"), [PERP], fees, SimulatedClock())
    with pytest.raises(ConfigError, match=re.escape("BTC-27JUN25-110000-C.DERIBIT is a option")):
        ExchangeCore(SimulatedExchangeConfig(name="deribit"), [example_instruments()[1]],
                     FeeSchedule(venues={"deribit": VenueFees(maker=0.0, taker=0.0)}), SimulatedClock())
    with pytest.raises(ConfigError, match="no fees configured for venue 'deribit'"):
        ExchangeCore(SimulatedExchangeConfig(name="deribit"), [PERP], fees, SimulatedClock())


def test_rejections_decided_at_arrival_are_recorded_on_the_order() -> None:
    core, clock = book_exchange(order_latency_ns=MS)
    assert core.submit(order("a", PERP, Side.BUY, 1, "100", TimeInForce.POST_ONLY)).status is OrderStatus.NEW
    clock.advance_to(START_NS + MS)
    assert clock.fire_due() == 1
    view = core.order(PERP.instrument_id, "a")
    assert view.status is OrderStatus.REJECTED and "would cross" in view.reason
