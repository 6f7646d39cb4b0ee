"""Invariants of the exchange over random books and random sequences of orders, book updates and trades.

After every step: the book is not crossed; each order's fills add up to its filled
quantity and what rests is the rest; each fee is its rate times the notional, once
per fill. After every incoming order: the public size fell by exactly what it took,
better prices and earlier orders at a price filled first, a fill-or-kill filled all
or nothing, a post-only never took. At the end: each account's balances and
positions are those the portfolio's own bookkeeping (``portfolio/fills.py``, an
independent float implementation) derives from its fills; between accounts, every
trade is two mirrored fills and total equity falls by exactly the fees.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.market.events import Trade
from hedgekeeper.portfolio.fills import apply_fill
from hedgekeeper.venues.orders import Liquidity, OrderStatus, Side, TimeInForce
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.matching import MatchingEngine

from venues.simulated.builders import MAKER_RATE, START_NS, TAKER_RATE, delta, linear_perpetual, make_exchange, order

D = Decimal
PERP = linear_perpetual(tick="1")
ACCOUNTS = ("main", "b", "c")
RATES = {Liquidity.MAKER: D(repr(MAKER_RATE)), Liquidity.TAKER: D(repr(TAKER_RATE))}
KINDS = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "post": TimeInForce.POST_ONLY,
         "market": TimeInForce.IOC}

books = st.tuples(st.lists(st.integers(1, 6), max_size=5), st.lists(st.integers(1, 6), max_size=5))


def random_steps(seed: int, count: int, *, market_data: bool = True) -> list[tuple]:
    """Return ``count`` random steps: orders (half), and book deltas, public trades and cancels.

    Drawn from a generator seeded by hypothesis, so that prices and sizes spread over
    the whole range (hypothesis alone leans to the smallest values).
    """
    rng = np.random.default_rng(seed)
    steps_: list[tuple] = []
    for _ in range(count):
        weights = [0.5, 0.2, 0.2, 0.1] if market_data else [1.0, 0.0, 0.0, 0.0]
        kind = rng.choice(["order", "delta", "trade", "cancel"], p=weights)
        if kind == "order":
            steps_.append(("order", str(rng.choice(ACCOUNTS)), Side.BUY if rng.random() < 0.5 else Side.SELL,
                           str(rng.choice(sorted(KINDS))), int(rng.integers(95, 106)), int(rng.integers(1, 9))))
        elif kind == "delta":
            split = int(rng.integers(96, 106))
            steps_.append(("delta", split, [(int(rng.integers(0, 6)), int(rng.integers(0, 7))) for _ in range(3)],
                           [(int(rng.integers(0, 6)), int(rng.integers(0, 7))) for _ in range(3)]))
        elif kind == "trade":
            steps_.append(("trade", int(rng.integers(95, 106)), int(rng.integers(1, 7)), int(rng.choice([1, -1]))))
        else:
            steps_.append(("cancel", int(rng.integers(0, 50))))
    return steps_


def new_exchange(bid_sizes: list[int], ask_sizes: list[int]) -> ExchangeCore:
    core, _ = make_exchange([PERP], balances={"USDC": D(10**9)})
    for account in ACCOUNTS[1:]:
        core.deposit(account, "USDC", D(10**9))
    bids = [(99.0 - i, float(size)) for i, size in enumerate(bid_sizes)]
    asks = [(101.0 + i, float(size)) for i, size in enumerate(ask_sizes)]
    core.on_market_event(delta(START_NS, PERP, bids, asks))
    return core


def engine(core: ExchangeCore) -> MatchingEngine:
    return core.book(PERP.instrument_id)


def queues(side_orders: dict) -> dict[Decimal, list[tuple[str, str]]]:
    """Price -> (account, client order id) of the resting orders, in time priority."""
    return {price: [(o.account, o.request.client_order_id) for o in level] for price, level in side_orders.items()}


def check_state(core: ExchangeCore, sent: dict[tuple[str, str], object]) -> None:
    book = engine(core)
    assert not book.is_crossed()
    for account, client_order_id in sent:
        view = core.order(PERP.instrument_id, client_order_id, account)
        own_fills = [f for f in core.fills(account=account) if f.client_order_id == client_order_id]
        assert sum((f.quantity.value for f in own_fills), D(0)) == view.filled_quantity <= view.quantity.value
        for fill in own_fills:
            assert fill.fee.amount == RATES[fill.liquidity] * fill.quantity.value * fill.price.value
        if view.time_in_force is TimeInForce.FOK:
            assert view.filled_quantity in (0, view.quantity.value)
        if view.time_in_force is TimeInForce.POST_ONLY:
            assert all(f.liquidity is Liquidity.MAKER for f in own_fills)
    for side in Side:
        ours = {price: size for price, _, size in book.levels(side)}
        working = [o for a in ACCOUNTS for o in core.open_orders(account=a) if o.side is side]
        expected: Counter[Decimal] = Counter()
        for view in working:
            expected[view.price.value] += view.quantity.value - view.filled_quantity
        assert {p: s for p, s in ours.items() if s} == dict(expected)


def check_incoming(core: ExchangeCore, account: str, client_order_id: str, side: Side, ts_ns: int,
                   public_before: dict[Decimal, Decimal], queues_before: dict[Decimal, list[tuple[str, str]]]) -> None:
    book = engine(core)
    opposite = book.opposite_book(side)
    fills = [f for f in core.fills(account=account) if f.client_order_id == client_order_id]
    taken: Counter[Decimal] = Counter()
    for fill in fills:
        if fill.raw["counterparty"] == "public":
            taken[fill.price.value] += fill.quantity.value
    # The public size fell by exactly what the order took, nowhere else, and never rose.
    for price in set(public_before) | set(opposite.public):
        assert public_before.get(price, D(0)) - opposite.public.get(price, D(0)) == taken[price]
    # Better prices first, and nothing left at a price better than the worst one taken.
    prices = [f.price.value for f in fills]
    assert prices == sorted(prices, reverse=side is Side.SELL)
    resting_side = Side.SELL if side is Side.BUY else Side.BUY
    if prices:
        assert all(level == prices[-1] or not opposite.reaches(level, prices[-1])
                   for level, _, _ in book.levels(resting_side))
    # At each price, no earlier resting order of another account still rests behind one that was hit.
    for price, queue in queues_before.items():
        hit = {f.client_order_id for other in ACCOUNTS if other != account
               for f in core.fills(since_ns=ts_ns, account=other)
               if f.liquidity is Liquidity.MAKER and f.raw["counterparty"] == account and f.price.value == price}
        positions = [i for i, (_, cid) in enumerate(queue) if cid in hit]
        if positions:
            still_resting = set(queues(opposite.orders).get(price, []))
            earlier = {entry for entry in queue[: positions[-1]] if entry[0] != account}
            assert not earlier & still_resting
    # A limit order left with a remainder met everything within its limit (a fill-or-kill may have met too little).
    view = core.order(PERP.instrument_id, client_order_id, account)
    if view.price is not None and view.remaining_quantity + (view.status is OrderStatus.EXPIRED) > 0 \
            and view.time_in_force is not TimeInForce.FOK and view.status is not OrderStatus.REJECTED:
        best = opposite.best()
        assert best is None or not opposite.reaches(best, view.price.value)


def run_steps(core: ExchangeCore, steps_: list[tuple]) -> dict[tuple[str, str], object]:
    sent: dict[tuple[str, str], object] = {}
    for index, step in enumerate(steps_):
        ts_ns = START_NS + index + 1
        core.clock.advance_to(ts_ns)
        if step[0] == "order":
            _, account, side, kind, price, size = step
            client_order_id = f"{account}-{index}"
            request = order(client_order_id, PERP, side, size, None if kind == "market" else price, KINDS[kind])
            book_side = engine(core).opposite_book(side)
            public_before, queues_before = dict(book_side.public), queues(book_side.orders)
            try:
                core.submit(request, account)
            except Exception as error:  # only the post-only refusal is expected here
                assert "post-only" in str(error), error
            sent[(account, client_order_id)] = request
            check_incoming(core, account, client_order_id, side, ts_ns, public_before, queues_before)
        elif step[0] == "delta":
            _, split, bid_steps, ask_steps = step
            bids = {float(split - 1 - offset): float(size) for offset, size in bid_steps if split - 1 - offset >= 90}
            asks = {float(split + offset): float(size) for offset, size in ask_steps}
            core.on_market_event(delta(ts_ns, PERP, sorted(bids.items(), reverse=True), sorted(asks.items())))
        elif step[0] == "trade":
            _, price, size, aggressor = step
            core.on_market_event(Trade(ts_ns, PERP.instrument_id, float(price), float(size), aggressor))
        else:
            working = [(a, o.client_order_id) for a in ACCOUNTS for o in core.open_orders(account=a)]
            if working:
                account, client_order_id = working[step[1] % len(working)]
                core.request_cancel(PERP.instrument_id, client_order_id, account)
        check_state(core, sent)
    return sent


@settings(max_examples=60)
@given(books, st.integers(0, 2**32 - 1))
def test_random_orders_and_market_data_keep_the_exchange_consistent(book: tuple, seed: int) -> None:
    core = new_exchange(*book)
    run_steps(core, random_steps(seed, 30))
    for account in ACCOUNTS:
        positions, balances = (), ()
        for fill in core.fills(account=account):
            positions, balances = apply_fill(positions, balances, PERP, fill.side.sign * float(fill.quantity),
                                             float(fill.price), float(fill.fee.amount))
        expected_cash = float(balances[0].money.amount) if balances else 0.0
        cash = float(core.balances(account)[-1].money.amount) - 10**9
        assert math.isclose(cash, expected_cash, rel_tol=1e-9, abs_tol=1e-6)
        held = {p.instrument_id: p.size_contracts for p in positions}
        assert {p.instrument_id: float(p.size_contracts) for p in core.positions(account)} == held


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_trades_between_accounts_mirror_each_other_and_lose_only_fees(seed: int) -> None:
    core = new_exchange([], [])
    run_steps(core, random_steps(seed, 30, market_data=False))
    mirrored: Counter[tuple] = Counter()
    fees = D(0)
    for account in ACCOUNTS:
        for fill in core.fills(account=account):
            fees += fill.fee.amount
            buyer, seller = (account, fill.raw["counterparty"])[:: fill.side.sign]
            mirrored[(buyer, seller, fill.price.value, fill.quantity.value, fill.ts_ns)] += fill.side.sign
    assert all(count == 0 for count in mirrored.values())  # every buy has its sell
    equity = sum(core.equity("USDC", account) for account in ACCOUNTS)  # all at the last trade's price
    assert abs(equity - (3 * D(10**9) - fees)) < D("1e-12")
