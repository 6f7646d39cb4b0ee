"""Routing: against brute force over lot splits, the lot-by-lot greedy rule and every single venue."""

from __future__ import annotations

import heapq
import itertools
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.execution.liquidity import BookSource, CurveSource, LiquiditySource
from hedgekeeper.execution.routing import lot_runs, route_order, route_remainder
from hedgekeeper.venues.orders import Side

MID_USD = 100.0


def random_book(name: str, rng: np.random.Generator, levels: int, fixed_cost_usd: float = 0.0) -> BookSource:
    """Return a book around ``MID_USD`` (shifted up to 1 USD) with random level gaps, sizes and fee."""
    shift = rng.uniform(-1.0, 1.0)
    asks = MID_USD + shift + np.cumsum(rng.uniform(0.01, 0.5, levels))
    bids = MID_USD + shift - np.cumsum(rng.uniform(0.01, 0.5, levels))
    sizes = rng.uniform(0.05, 3.0, (2, levels))
    return BookSource(name, f"venue-{name}", tuple(zip(bids.tolist(), sizes[0].tolist())),
                      tuple(zip(asks.tolist(), sizes[1].tolist())), rng.uniform(0.0, 0.001), MID_USD,
                      fixed_cost_usd)


def brute_force_cost_usd(sources: list[LiquiditySource], side: Side, parent_lots: int, lot: float) -> float:
    """Return the least total cost over every split of ``parent_lots`` whole lots across ``sources``."""
    best = np.inf
    for split in itertools.product(range(parent_lots + 1), repeat=len(sources) - 1):
        last = parent_lots - sum(split)
        lots = (*split, last)
        if last < 0 or any(k * lot > s.capacity_coin(side) + 1e-12 for k, s in zip(lots, sources)):
            continue
        best = min(best, sum(s.cost_usd(k * lot, side) for k, s in zip(lots, sources)))
    return best


def greedy_lot_by_lot(sources: list[BookSource], side: Side, parent_lots: int, lot: float) -> list[int]:
    """Return the textbook greedy allocation: each lot in turn to the source whose next lot is cheapest."""
    def next_cost(index: int, lots: int) -> float:
        source = sources[index]
        return source.cost_usd((lots + 1) * lot, side) - source.cost_usd(lots * lot, side)

    allocation = [0] * len(sources)
    heap = [(next_cost(i, 0), i) for i, s in enumerate(sources) if s.capacity_coin(side) >= lot]
    heapq.heapify(heap)
    for _ in range(parent_lots):
        _, index = heapq.heappop(heap)
        allocation[index] += 1
        if (allocation[index] + 1) * lot <= sources[index].capacity_coin(side):
            heapq.heappush(heap, (next_cost(index, allocation[index]), index))
    return allocation


@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 4), parent_lots=st.integers(1, 400),
       side=st.sampled_from([Side.BUY, Side.SELL]), gas=st.booleans())
def test_route_never_costs_more_than_the_best_single_venue(
    seed: int, count: int, parent_lots: int, side: Side, gas: bool
) -> None:
    rng = np.random.default_rng(seed)
    sources = [random_book(str(i), rng, int(rng.integers(1, 8)), rng.uniform(0.0, 5.0) if gas else 0.0)
               for i in range(count)]
    lot = Decimal("0.05")
    route = route_order(sources, side, parent_lots * lot, lot, MID_USD)
    capacity_lots = sum(int(Decimal(repr(s.capacity_coin(side))) // lot) for s in sources)
    assert route.unrouted_coin == max(0, parent_lots - capacity_lots) * lot
    assert route.routed_coin + route.unrouted_coin == parent_lots * lot
    for leg, source in ((leg, next(s for s in sources if s.name == leg.source)) for leg in route.legs):
        assert float(leg.size_coin) <= source.capacity_coin(side) and leg.size_coin % lot == 0
    singles = [s.cost_usd(float(parent_lots * lot), side) for s in sources
               if s.capacity_coin(side) >= float(parent_lots * lot)]
    if singles and route.unrouted_coin == 0:
        assert route.cost_usd <= min(singles) + 1e-9 * (1.0 + abs(min(singles)))


@given(seed=st.integers(0, 2**32 - 1), parent_lots=st.integers(0, 14), side=st.sampled_from([Side.BUY, Side.SELL]))
def test_route_equals_brute_force_over_all_lot_splits(seed: int, parent_lots: int, side: Side) -> None:
    rng = np.random.default_rng(seed)
    lot = 0.25
    pool = CurveSource("pool", "chain", lambda q, s: 0.3 * q + 0.2 * q * q, max_buy_coin=2.0, max_sell_coin=2.0,
                       fixed_cost_usd=rng.uniform(0.0, 1.0))
    sources = [random_book("a", rng, 3), random_book("b", rng, 2, fixed_cost_usd=rng.uniform(0.0, 1.0)), pool]
    route = route_order(sources, side, str(parent_lots * lot), str(lot), MID_USD)
    expected = brute_force_cost_usd(sources, side, parent_lots - int(route.unrouted_coin / Decimal("0.25")), lot)
    assert route.cost_usd == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_route_equals_the_lot_by_lot_greedy_rule_on_a_large_parent() -> None:
    rng = np.random.default_rng(7)
    sources = [random_book(str(i), rng, 40) for i in range(4)]
    lot = 0.01
    route = route_order(sources, Side.BUY, "60", "0.01", MID_USD)
    greedy = greedy_lot_by_lot(sources, Side.BUY, 6000, lot)
    greedy_cost = sum(s.cost_usd(k * lot, Side.BUY) for k, s in zip(greedy, sources))
    assert route.cost_usd == pytest.approx(greedy_cost, rel=1e-12)
    np.testing.assert_allclose([float(route.size_coin(s.name)) / lot for s in sources], greedy, atol=1)


@pytest.mark.parametrize("parent", ["0.3", "2.5", "3.7", "6"])
def test_two_identical_books_share_the_order_evenly(parent: str) -> None:
    asks = ((100.5, 1.0), (101.0, 1.5), (102.0, 2.0))
    books = [BookSource(name, name, (), asks, 0.0004, MID_USD) for name in ("a", "b")]
    route = route_order(books, Side.BUY, parent, "0.1", MID_USD)
    assert abs(route.size_coin("a") - route.size_coin("b")) <= Decimal("0.1")
    assert route.routed_coin == Decimal(parent)


def test_gas_keeps_small_orders_off_a_cheaper_pool_and_large_ones_on_it() -> None:
    # The book costs 2 USD a coin over the mid plus 0.1 USD per coin squared; the pool 0.5 USD a coin
    # plus 30 USD of gas.
    book = CurveSource("book", "cex", lambda q, s: 2.0 * q + 0.1 * q * q, 100.0, 100.0)
    pool = CurveSource("pool", "chain", lambda q, s: 0.5 * q, 100.0, 100.0, fixed_cost_usd=30.0)
    small = route_order([book, pool], Side.BUY, "5", "0.5", MID_USD)
    large = route_order([book, pool], Side.BUY, "40", "0.5", MID_USD)
    assert small.size_coin("pool") == 0 and small.cost_usd == pytest.approx(2.0 * 5 + 0.1 * 25)
    assert large.size_coin("pool") > 0
    assert large.cost_usd == pytest.approx(brute_force_cost_usd([book, pool], Side.BUY, 80, 0.5))


def test_route_respects_capacities_and_reports_what_no_source_holds() -> None:
    books = [BookSource("a", "x", (), ((100.1, 1.0),), 0.0, MID_USD),
             BookSource("b", "y", (), ((100.2, 2.0), (100.3, 0.5)), 0.0, MID_USD)]
    route = route_order(books, Side.BUY, "5", "0.1", MID_USD)
    assert route.size_coin("a") == Decimal("1.0") and route.size_coin("b") == Decimal("2.5")
    assert route.unrouted_coin == Decimal("1.5")
    assert route.cost_usd == pytest.approx(0.1 + 0.4 + 0.15)
    assert route.cost_bps == pytest.approx(0.65 / (3.5 * MID_USD) * 1e4)
    nothing = route_order([], Side.SELL, "2", "0.1", MID_USD)
    assert nothing.legs == () and nothing.unrouted_coin == 2


def test_route_prefers_the_venue_whose_book_sits_lower_against_a_common_mid() -> None:
    low = BookSource("low", "x", (), ((100.4, 5.0),), 0.0, MID_USD)
    high = BookSource("high", "y", (), ((100.6, 5.0),), 0.0, MID_USD)
    assert route_order([high, low], Side.BUY, "3", "1", MID_USD).size_coin("low") == 3
    assert [leg.source for leg in route_order([high, low], Side.BUY, "7", "1", MID_USD).legs] == ["high", "low"]


def test_remainder_after_fills_goes_to_the_refreshed_sources() -> None:
    before = [BookSource("a", "x", (), ((100.1, 2.0), (100.5, 5.0)), 0.0, MID_USD),
              BookSource("b", "y", (), ((100.2, 2.0), (100.6, 5.0)), 0.0, MID_USD)]
    first = route_order(before, Side.BUY, "5", "0.5", MID_USD)
    assert route_remainder(before, Side.BUY, "5", {}, "0.5", MID_USD) == first
    # "a" filled its 2 coin at 100.1, emptying that level; the rest is routed on what the books show now.
    after = [BookSource("a", "x", (), ((100.5, 5.0),), 0.0, MID_USD), before[1]]
    rest = route_remainder(after, Side.BUY, "5", {"a": "2"}, "0.5", MID_USD)
    assert rest == route_order(after, Side.BUY, "3", "0.5", MID_USD)
    assert rest.size_coin("b") == Decimal("2.0") and rest.size_coin("a") == Decimal("1.0")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: route_order(s, Side.BUY, "1.05", "0.1", MID_USD), "not a whole number of lots"),
        (lambda s: route_order(s, Side.BUY, "-1", "0.1", MID_USD), "size_coin must be >= 0"),
        (lambda s: route_order(s + s[:1], Side.BUY, "1", "0.1", MID_USD), "names must be unique"),
        (lambda s: route_remainder(s, Side.BUY, "1", {"a": "1.5"}, "0.1", MID_USD), "exceed the parent"),
        (lambda s: route_remainder(s, Side.BUY, "1", {"a": "-0.5"}, "0.1", MID_USD), "must be >= 0"),
    ],
)
def test_bad_orders_are_refused_naming_the_problem(call, message: str) -> None:
    with pytest.raises(BadData, match=message):
        call([BookSource("a", "x", (), ((100.1, 5.0),), 0.0, MID_USD)])


def test_too_many_sources_with_fixed_costs_are_refused() -> None:
    pools = [CurveSource(str(i), "chain", lambda q, s: q, 1.0, 1.0, fixed_cost_usd=1.0) for i in range(13)]
    with pytest.raises(BadData, match="13 sources have a fixed cost"):
        route_order(pools, Side.BUY, "1", "1", MID_USD)


def test_lot_runs_group_lots_between_kinks() -> None:
    book = BookSource("a", "x", (), ((100.5, 1.0), (101.0, 2.0)), 0.0, MID_USD)
    lots, marginal = lot_runs(book.segments(Side.BUY), 0.4, 100)
    assert lots.tolist() == [2, 1, 4] and lots.sum() == 7
    np.testing.assert_allclose(marginal, [0.2, 0.2 * 0.5 + 0.2 * 1.0, 0.4])
