"""The matching engine of one instrument: the public L2 book, our resting orders, price-time priority.

Pure and synchronous: it knows no clock, fees or accounts, only prices (``Decimal``,
quote currency, on the tick) and sizes (``Decimal`` contracts, whole lots). Each
side keeps the public levels from market data and our resting orders (those of
every account at the exchange) at their prices, first come first served.

Queue position (hftbacktest's risk-averse queue model). An order joining a level
is behind the public size displayed there (``queue_ahead``). Public size arriving
later queues behind it; a displayed size that shrinks (cancels or trades we did
not see) leaves ``queue_ahead = min(queue_ahead, new size)``.

Public trades. A public trade of ``s`` contracts at ``p`` by a seller fills our bids
priced at or above ``p``, best price then earliest first, as makers at their own
prices, ``s`` in all; at the level ``p`` the public queue ahead of an order absorbs
the trade before it. Buyers fill our asks the same way. Trades do not change the
public levels: the book update that follows does.

Incoming orders. A marketable order walks the opposite side from the best price to
its limit (a market order: to its protection limit, or the whole side). At each
price it meets, in time order, the public size ahead of each resting order, that
order, and the public size behind the last one. Public size it takes stays consumed
until market data next sets that level, so back-to-back slices pay for their impact.

Self-trade prevention: an incoming order never trades with a resting order of its
own account; the resting order is cancelled and matching goes on ("expire maker",
Binance's ``EXPIRE_MAKER`` mode), so the newer intention wins and the book stays
uncrossed.

Market data that crosses our resting orders (an ask published at or below our bid)
trades with them: the public order is the taker, ours the maker at its own price.
A book delta that crosses public levels it did not set removes them (the newer
data wins), as a top of book does. After any operation the book is not crossed.

Examples
--------
>>> from hedgekeeper.portfolio.instruments import example_instruments
>>> engine = MatchingEngine(example_instruments()[0])
>>> engine.apply_update([(Decimal(100), Decimal(5))], [(Decimal(101), Decimal(3))], is_snapshot=True)
[]
>>> engine.best_bid(), engine.best_ask()
(Decimal('100'), Decimal('101'))
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.orders import Side
from hedgekeeper.venues.simulated.working_order import WorkingOrder

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Execution:
    """One trade between two parties at ``price`` for ``quantity`` contracts.

    ``taker`` is None when a public order took one of our resting orders; ``maker``
    is None when one of our orders took public liquidity.
    """

    price: Decimal
    quantity: Decimal
    taker: WorkingOrder | None
    maker: WorkingOrder | None


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """What an incoming order did: its executions and the resting orders self-trade prevention cancelled."""

    executions: list[Execution]
    self_trade_cancelled: list[WorkingOrder]


class SideBook:
    """One side of a book: public levels (price -> contracts) and our resting orders by price, in time order.

    Parameters
    ----------
    is_bid : True for the bids (best is highest), False for the asks (best is lowest)
    """

    __slots__ = ("_order_prices", "_public_prices", "is_bid", "orders", "public")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.public: dict[Decimal, Decimal] = {}
        self.orders: dict[Decimal, list[WorkingOrder]] = {}
        self._public_prices: list[Decimal] = []  # ascending
        self._order_prices: list[Decimal] = []  # ascending

    def reaches(self, price: Decimal, limit: Decimal | None) -> bool:
        """Return whether ``price`` on this side is at or better than ``limit`` (None: any price)."""
        return limit is None or (price >= limit if self.is_bid else price <= limit)

    def _best(self, prices: list[Decimal]) -> Decimal | None:
        if not prices:
            return None
        return prices[-1] if self.is_bid else prices[0]

    def best_public(self) -> Decimal | None:
        """Return the best public price, None if there is none."""
        return self._best(self._public_prices)

    def best_order(self) -> Decimal | None:
        """Return the best price of our resting orders, None if there is none."""
        return self._best(self._order_prices)

    def best(self) -> Decimal | None:
        """Return the best price on the side, public or ours."""
        prices = [price for price in (self.best_public(), self.best_order()) if price is not None]
        if not prices:
            return None
        return max(prices) if self.is_bid else min(prices)

    def _through(self, prices: list[Decimal], limit: Decimal | None) -> list[Decimal]:
        if self.is_bid:
            start = 0 if limit is None else bisect_left(prices, limit)
            return prices[start:][::-1]
        return prices[: len(prices) if limit is None else bisect_right(prices, limit)]

    def prices_through(self, limit: Decimal | None) -> list[Decimal]:
        """Return the prices with public size or our orders at or better than ``limit``, best first."""
        merged = set(self._through(self._public_prices, limit)) | set(self._through(self._order_prices, limit))
        return sorted(merged, reverse=self.is_bid)

    def order_prices_through(self, limit: Decimal | None) -> list[Decimal]:
        """Return the prices of our resting orders at or better than ``limit``, best first."""
        return self._through(self._order_prices, limit)

    def set_public(self, price: Decimal, contracts: Decimal) -> None:
        """Set the public size at ``price`` (0 deletes it); the queue ahead of our orders there shrinks with it."""
        if contracts > 0:
            if price not in self.public:
                insort(self._public_prices, price)
            self.public[price] = contracts
        elif self.public.pop(price, None) is not None:
            del self._public_prices[bisect_left(self._public_prices, price)]
        for order in self.orders.get(price, ()):
            order.queue_ahead = min(order.queue_ahead, contracts)

    def replace_public(self, levels: Iterable[tuple[Decimal, Decimal]]) -> None:
        """Replace every public level (a snapshot)."""
        self.public = {price: contracts for price, contracts in levels if contracts > 0}
        self._public_prices = sorted(self.public)
        for price, orders in self.orders.items():
            for order in orders:
                order.queue_ahead = min(order.queue_ahead, self.public.get(price, ZERO))

    def consume_public(self, price: Decimal, contracts: Decimal) -> None:
        """Take ``contracts`` of public size at ``price`` from the front of the level."""
        if contracts <= 0:
            return
        self.advance_queue(price, contracts)
        self.set_public(price, self.public[price] - contracts)

    def advance_queue(self, price: Decimal, contracts: Decimal) -> None:
        """Move our orders at ``price`` ahead by ``contracts`` of public size traded in front of them."""
        for order in self.orders.get(price, ()):
            order.queue_ahead = max(order.queue_ahead - contracts, ZERO)

    def add(self, order: WorkingOrder) -> None:
        """Put ``order`` at the back of its price level, behind the public size displayed there."""
        price = order.limit
        assert price is not None, "a market order never rests"
        order.queue_ahead = self.public.get(price, ZERO)
        level = self.orders.get(price)
        if level is None:
            level = self.orders[price] = []
            insort(self._order_prices, price)
        level.append(order)

    def remove(self, order: WorkingOrder) -> None:
        """Take ``order`` out of the book."""
        price = order.limit
        assert price is not None, "a market order never rests"
        level = self.orders[price]
        level.remove(order)
        if not level:
            del self.orders[price]
            del self._order_prices[bisect_left(self._order_prices, price)]

    def contains(self, order: WorkingOrder) -> bool:
        """Return whether ``order`` rests on this side."""
        return order.limit is not None and any(o is order for o in self.orders.get(order.limit, ()))


class MatchingEngine:
    """One instrument's book and matching (see the module docstring for the rules).

    Parameters
    ----------
    instrument : Instrument, whose prices and sizes the book holds
    """

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.bids = SideBook(is_bid=True)
        self.asks = SideBook(is_bid=False)
        self.has_depth = False

    def side_book(self, side: Side) -> SideBook:
        """Return the side an order of ``side`` rests on."""
        return self.bids if side is Side.BUY else self.asks

    def opposite_book(self, side: Side) -> SideBook:
        """Return the side an order of ``side`` trades against."""
        return self.asks if side is Side.BUY else self.bids

    def best_bid(self) -> Decimal | None:
        """Return the best bid, public or ours, quote currency."""
        return self.bids.best()

    def best_ask(self) -> Decimal | None:
        """Return the best ask, public or ours, quote currency."""
        return self.asks.best()

    def public_mid(self) -> Decimal | None:
        """Return the mid of the public book, None unless both sides have public levels."""
        bid, ask = self.bids.best_public(), self.asks.best_public()
        return None if bid is None or ask is None else (bid + ask) / 2

    def is_crossed(self) -> bool:
        """Return whether the best bid is at or above the best ask (never, after any operation)."""
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid >= ask

    def levels(self, side: Side) -> list[tuple[Decimal, Decimal, Decimal]]:
        """Return the levels orders of ``side`` rest on, best first, as (price, public contracts, our contracts)."""
        book = self.side_book(side)
        return [
            (price, book.public.get(price, ZERO), sum((o.remaining for o in book.orders.get(price, ())), ZERO))
            for price in book.prices_through(None)
        ]

    # Market data.

    def apply_update(
        self,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        *,
        is_snapshot: bool,
    ) -> list[Execution]:
        """Apply a depth update (a snapshot replaces the book; a delta sets each level, 0 deleting it).

        Returns the executions of our resting orders that the new levels crossed.
        """
        self.has_depth = True
        bids, asks = list(bids), list(asks)
        if is_snapshot:
            self.bids.replace_public(bids)
            self.asks.replace_public(asks)
        else:
            for price, contracts in bids:
                self.bids.set_public(price, contracts)
            for price, contracts in asks:
                self.asks.set_public(price, contracts)
            self._drop_stale_crossed({price for price, size in bids if size > 0},
                                     {price for price, size in asks if size > 0})
        return self._resolve_crossings()

    def apply_top(self, bid: tuple[Decimal, Decimal], ask: tuple[Decimal, Decimal]) -> list[Execution]:
        """Apply a top of book: on a book with depth, remove the levels it crosses and set the top sizes.

        On a book that never had depth the top of book is the whole book (one level a
        side). Returns the executions of our resting orders that the new top crossed.
        """
        if self.has_depth:
            for book, (top, contracts) in ((self.bids, bid), (self.asks, ask)):
                while (best := book.best_public()) is not None and book.reaches(best, top):
                    book.set_public(best, ZERO)
                book.set_public(top, contracts)
        else:
            self.bids.replace_public([bid])
            self.asks.replace_public([ask])
        return self._resolve_crossings()

    def apply_trade(self, price: Decimal, contracts: Decimal, aggressor: Side) -> list[Execution]:
        """Fill our resting orders that a public trade of ``contracts`` at ``price`` reached (makers)."""
        book = self.opposite_book(aggressor)
        executions: list[Execution] = []
        left = contracts
        for level_price in book.order_prices_through(price):
            if left <= 0:
                break
            at_trade_price = level_price == price
            consumed = ZERO
            for order in list(book.orders[level_price]):
                if at_trade_price:
                    ahead = min(max(order.queue_ahead - consumed, ZERO), left)
                    consumed += ahead
                    left -= ahead
                else:
                    order.queue_ahead = ZERO  # the trade swept this better level
                if left <= 0:
                    break
                quantity = min(order.remaining, left)
                left -= quantity
                executions.append(self._execute(level_price, quantity, None, order, book))
            if at_trade_price:
                book.advance_queue(level_price, consumed)
        return executions

    def _drop_stale_crossed(self, new_bids: set[Decimal], new_asks: set[Decimal]) -> None:
        # Public levels crossed by levels this delta set are stale: remove them.
        while (bid := self.bids.best_public()) is not None and (ask := self.asks.best_public()) is not None \
                and bid >= ask:
            if ask not in new_asks:
                self.asks.set_public(ask, ZERO)
            elif bid not in new_bids:
                self.bids.set_public(bid, ZERO)
            else:
                logger.warning("%s: a book delta crosses itself (bid %s >= ask %s); kept as sent",
                               self.instrument.instrument_id, bid, ask)
                return

    def _resolve_crossings(self) -> list[Execution]:
        # Public levels at or through our resting orders trade with them, ours as makers at their prices.
        executions: list[Execution] = []
        for ours, public in ((self.bids, self.asks), (self.asks, self.bids)):
            while (price := ours.best_order()) is not None and (theirs := public.best_public()) is not None \
                    and ours.reaches(price, theirs):
                order = ours.orders[price][0]
                quantity = min(order.remaining, public.public[theirs])
                public.consume_public(theirs, quantity)
                executions.append(self._execute(price, quantity, None, order, ours))
        return executions

    # Our orders.

    def would_cross(self, side: Side, limit: Decimal) -> bool:
        """Return whether an order of ``side`` at ``limit`` would trade on arrival (what post-only refuses)."""
        best = self.opposite_book(side).best()
        return best is not None and self.opposite_book(side).reaches(best, limit)

    def fillable(self, order: WorkingOrder, limit: Decimal | None) -> Decimal:
        """Return how much of ``order`` could fill now up to ``limit``, its own account's orders excluded."""
        book = self.opposite_book(order.side)
        available = ZERO
        for price in book.prices_through(limit):
            if available >= order.remaining:
                break
            available += book.public.get(price, ZERO)
            available += sum((o.remaining for o in book.orders.get(price, ()) if o.account != order.account), ZERO)
        return min(available, order.remaining)

    def match(self, order: WorkingOrder, limit: Decimal | None) -> MatchOutcome:
        """Trade incoming ``order`` against the opposite side up to ``limit`` (None: the whole side).

        The caller rests or cancels what remains.
        """
        book = self.opposite_book(order.side)
        outcome = MatchOutcome([], [])
        for price in book.prices_through(limit):
            if order.remaining <= 0:
                break
            self._take_level(order, book, price, outcome)
        return outcome

    def _take_level(self, taker: WorkingOrder, book: SideBook, price: Decimal, outcome: MatchOutcome) -> None:
        # Walk one level in time order: public ahead of each resting order, the order, public behind them all.
        public = book.public.get(price, ZERO)
        consumed = ZERO
        for resting in list(book.orders.get(price, ())):
            ahead = min(max(resting.queue_ahead - consumed, ZERO), public - consumed, taker.remaining)
            if ahead > 0:
                outcome.executions.append(self._execute(price, ahead, taker, None, book))
                consumed += ahead
            if taker.remaining <= 0:
                break
            if resting.account == taker.account:
                book.remove(resting)
                outcome.self_trade_cancelled.append(resting)
                continue
            quantity = min(resting.remaining, taker.remaining)
            outcome.executions.append(self._execute(price, quantity, taker, resting, book))
        behind = min(public - consumed, taker.remaining)
        if behind > 0:
            outcome.executions.append(self._execute(price, behind, taker, None, book))
            consumed += behind
        book.consume_public(price, consumed)

    @staticmethod
    def _execute(
        price: Decimal, quantity: Decimal, taker: WorkingOrder | None, maker: WorkingOrder | None, book: SideBook
    ) -> Execution:
        # Count the fill on both orders; a resting maker filled in full leaves the book.
        for order in (taker, maker):
            if order is not None:
                order.fill(quantity, price)
        if maker is not None and maker.remaining <= 0:
            book.remove(maker)
        return Execution(price, quantity, taker, maker)

    def rest(self, order: WorkingOrder) -> None:
        """Put a limit order's remainder in the book (the caller checked it does not cross)."""
        self.side_book(order.side).add(order)

    def remove(self, order: WorkingOrder) -> None:
        """Take a resting order out of the book (cancel, amend); an order not resting is ignored."""
        book = self.side_book(order.side)
        if book.contains(order):
            book.remove(order)
