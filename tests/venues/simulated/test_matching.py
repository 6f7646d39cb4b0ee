"""The matching engine alone: price-time priority, queue positions, consumption, self-trade prevention."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hedgekeeper.venues.orders import OrderStatus, Side
from hedgekeeper.venues.simulated.matching import MatchingEngine
from hedgekeeper.venues.simulated.working_order import WorkingOrder

from venues.simulated.builders import linear_perpetual, order

D = Decimal
PERPETUAL = linear_perpetual(tick="1")
_priorities = itertools.count()


def working(account: str, side: Side, quantity: int, price: int | None) -> WorkingOrder:
    request = order(f"{account}-{next(_priorities)}", PERPETUAL, side, quantity, price)
    return WorkingOrder(account=account, request=request, venue_order_id=request.client_order_id,
                        quantity=request.quantity, price=request.price, priority=next(_priorities),
                        status=OrderStatus.ACKNOWLEDGED)


def engine_with(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> MatchingEngine:
    engine = MatchingEngine(PERPETUAL)
    engine.apply_update([(D(p), D(s)) for p, s in bids], [(D(p), D(s)) for p, s in asks], is_snapshot=True)
    return engine


def trades(outcome_executions: list) -> list[tuple[Decimal, Decimal, str | None]]:
    """(price, quantity, maker account or None for public) of each execution."""
    return [(e.price, e.quantity, None if e.maker is None else e.maker.account) for e in outcome_executions]


def test_buy_walks_asks_best_price_first_and_stops_at_its_limit() -> None:
    engine = engine_with([(99, 5)], [(100, 2), (101, 3), (103, 9)])
    taker = working("a", Side.BUY, 10, 102)
    outcome = engine.match(taker, taker.limit)
    assert trades(outcome.executions) == [(D(100), D(2), None), (D(101), D(3), None)]
    assert taker.filled == 5 and taker.remaining == 5
    assert engine.levels(Side.SELL) == [(D(103), D(9), D(0))]


def test_earlier_order_at_the_same_price_fills_first_and_better_price_before_both() -> None:
    engine = engine_with([(90, 1)], [])
    first, second = working("b", Side.SELL, 2, 100), working("c", Side.SELL, 2, 100)
    better = working("d", Side.SELL, 1, 99)
    for resting in (first, second, better):
        engine.rest(resting)
    taker = working("a", Side.BUY, 4, 100)
    outcome = engine.match(taker, taker.limit)
    assert trades(outcome.executions) == [(D(99), D(1), "d"), (D(100), D(2), "b"), (D(100), D(1), "c")]
    assert second.remaining == 1 and engine.levels(Side.SELL) == [(D(100), D(0), D(1))]


def test_resting_order_queues_behind_displayed_size_and_public_size_added_later_queues_behind_it() -> None:
    engine = engine_with([(99, 1)], [(100, 3)])
    ours = working("b", Side.SELL, 2, 100)
    engine.rest(ours)
    engine.apply_update([], [(D(100), D(7))], is_snapshot=False)  # 4 more public behind us
    taker = working("a", Side.BUY, 4, 100)
    outcome = engine.match(taker, taker.limit)
    # 3 public ahead of us, then 1 of ours.
    assert trades(outcome.executions) == [(D(100), D(3), None), (D(100), D(1), "b")]
    assert engine.levels(Side.SELL) == [(D(100), D(4), D(1))]


def test_public_trades_consume_the_queue_ahead_before_filling_us_as_maker() -> None:
    engine = engine_with([(100, 5)], [(101, 5)])
    ours = working("b", Side.BUY, 2, 100)
    engine.rest(ours)
    assert engine.apply_trade(D(100), D(4), Side.SELL) == []
    assert ours.queue_ahead == 1
    executions = engine.apply_trade(D(100), D(2), Side.SELL)
    assert trades(executions) == [(D(100), D(1), "b")]
    assert executions[0].taker is None and ours.remaining == 1 and ours.queue_ahead == 0


def test_trade_through_our_price_fills_us_up_to_its_size() -> None:
    engine = engine_with([(100, 5)], [(101, 5)])
    ours = working("b", Side.BUY, 3, 100)
    engine.rest(ours)
    assert trades(engine.apply_trade(D(99), D(2), Side.SELL)) == [(D(100), D(2), "b")]
    assert trades(engine.apply_trade(D(101), D(9), Side.SELL)) == []  # a trade above our bid misses it


def test_shrinking_displayed_size_moves_our_queue_position_to_at_most_the_new_size() -> None:
    engine = engine_with([(100, 5)], [(101, 5)])
    ours = working("b", Side.BUY, 1, 100)
    engine.rest(ours)
    engine.apply_update([(D(100), D(2))], [], is_snapshot=False)
    assert ours.queue_ahead == 2
    engine.apply_update([(D(100), D(8))], [], is_snapshot=False)
    assert ours.queue_ahead == 2


def test_taken_public_liquidity_stays_consumed_until_its_level_is_updated() -> None:
    engine = engine_with([(99, 5)], [(100, 5), (101, 5)])
    first = working("a", Side.BUY, 3, None)
    assert trades(engine.match(first, None).executions) == [(D(100), D(3), None)]
    engine.apply_update([], [(D(101), D(6))], is_snapshot=False)  # another level's update restores nothing
    second = working("a", Side.BUY, 3, None)
    assert trades(engine.match(second, None).executions) == [(D(100), D(2), None), (D(101), D(1), None)]
    engine.apply_update([], [(D(100), D(5))], is_snapshot=False)
    assert engine.levels(Side.SELL)[0] == (D(100), D(5), D(0))


def test_self_trade_prevention_cancels_our_resting_order_and_matching_goes_on() -> None:
    engine = engine_with([(90, 1)], [(101, 4)])
    own, other = working("a", Side.SELL, 2, 100), working("b", Side.SELL, 2, 100)
    engine.rest(own)
    engine.rest(other)
    taker = working("a", Side.BUY, 3, 101)
    outcome = engine.match(taker, taker.limit)
    assert outcome.self_trade_cancelled == [own]
    assert trades(outcome.executions) == [(D(100), D(2), "b"), (D(101), D(1), None)]
    assert engine.levels(Side.SELL) == [(D(101), D(3), D(0))]


def test_fillable_counts_public_and_other_accounts_but_not_our_own_orders() -> None:
    engine = engine_with([(90, 1)], [(100, 2), (102, 5)])
    engine.rest(working("a", Side.SELL, 3, 101))
    engine.rest(working("b", Side.SELL, 4, 101))
    assert engine.fillable(working("a", Side.BUY, 100, 101), D(101)) == 6
    assert engine.fillable(working("a", Side.BUY, 5, None), None) == 5


def test_ask_published_through_our_bid_trades_with_it_at_our_price() -> None:
    engine = engine_with([(98, 1)], [(102, 1)])
    ours = working("b", Side.BUY, 3, 100)
    engine.rest(ours)
    executions = engine.apply_update([], [(D(99), D(1)), (D(100), D(5))], is_snapshot=False)
    assert trades(executions) == [(D(100), D(1), "b"), (D(100), D(2), "b")]
    assert all(e.taker is None for e in executions)
    assert engine.levels(Side.SELL)[0] == (D(100), D(3), D(0)) and not engine.is_crossed()


def test_delta_removes_stale_opposite_levels_it_crosses() -> None:
    engine = engine_with([(99, 1), (98, 1)], [(100, 1)])
    assert engine.apply_update([], [(D(98), D(2))], is_snapshot=False) == []
    assert engine.best_bid() is None
    assert [level[:2] for level in engine.levels(Side.SELL)] == [(D(98), D(2)), (D(100), D(1))]


def test_top_of_book_on_a_deep_book_removes_the_levels_it_crosses() -> None:
    engine = engine_with([(99, 1), (98, 1)], [(100, 1), (101, 1), (102, 1)])
    engine.apply_top((D(100), D(4)), (D(102), D(3)))
    assert [level[:2] for level in engine.levels(Side.BUY)] == [(D(100), D(4)), (D(99), D(1)), (D(98), D(1))]
    assert [level[:2] for level in engine.levels(Side.SELL)] == [(D(102), D(3))]


def test_would_cross_compares_with_the_best_opposite_price_ours_included() -> None:
    engine = engine_with([(99, 1)], [(101, 1)])
    engine.rest(working("b", Side.SELL, 1, 100))
    assert engine.would_cross(Side.BUY, D(100)) and not engine.would_cross(Side.BUY, D(99))
