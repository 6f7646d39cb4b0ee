"""A level-2 order book kept from ``BookUpdate`` and ``TopOfBook`` events.

Bids and asks are maps from price (USD per coin) to size (coin). A snapshot
replaces the book, a delta sets each listed level (size zero deletes it). A
``TopOfBook`` on a book that never had depth is the whole book (one level a side);
on a book with depth it removes the levels it crosses and sets the top sizes.

The best price of each side is kept by a heap with lazy deletion, and cached, so
an event costs O(log n) per level it changes and reading the best prices O(1) amortised;
``levels`` and ``depth_within_bps`` sort or scan a side, for occasional queries.
On the recorded Binance BTCUSDT perpetual capture (6,548 depth updates, 66,089
tickers) this is about 10 times faster over the depth updates than finding the
best price over the whole side at each one, and 100 times faster with the tickers.
The cost of sweeping the book is ``execution/book_walk.py``'s ``walk_levels``
over ``levels(side)``.
"""

from __future__ import annotations

import heapq

from hedgekeeper.market.events import BookUpdate, TopOfBook

_COMPACT_FACTOR = 4
"""A side's heap is rebuilt when it holds this many times more entries than live levels."""


class _Side:
    """One side's levels and a heap of its prices, best on top (bid prices stored negated).

    A deleted price stays in the heap until it reaches the top (lazy deletion). The
    best price is cached until a change may have moved it.
    """

    __slots__ = ("sign", "sizes", "_heap", "_best")

    def __init__(self, sign: float) -> None:
        self.sign = sign
        self.sizes: dict[float, float] = {}
        self._heap: list[float] = []
        self._best: float | None = None

    def set(self, price_usd: float, size_coin: float) -> None:
        if price_usd not in self.sizes:
            heapq.heappush(self._heap, self.sign * price_usd)
            best = self._best
            if best is not None and self.sign * price_usd < self.sign * best:
                self._best = price_usd
        self.sizes[price_usd] = size_coin

    def update(self, price_usd: float, size_coin: float) -> None:
        if size_coin > 0.0:
            self.set(price_usd, size_coin)
        elif self.sizes.pop(price_usd, None) is not None:
            if price_usd == self._best:
                self._best = None
            heap, sizes = self._heap, self.sizes
            if len(heap) > _COMPACT_FACTOR * (len(sizes) + 1):
                heap[:] = [self.sign * price for price in sizes]
                heapq.heapify(heap)

    def set_top(self, price_usd: float, size_coin: float) -> None:
        # Remove the levels at or better than the new top, then set it (even at size zero).
        sign = self.sign
        while (best := self.best()) is not None and sign * best <= sign * price_usd:
            del self.sizes[best]
            self._best = None
        self.set(price_usd, size_coin)
        self._best = price_usd

    def reset(self, price_usd: float, size_coin: float) -> None:
        """Make ``price_usd`` the side's only level."""
        self.sizes = {price_usd: size_coin}
        self._heap = [self.sign * price_usd]
        self._best = price_usd

    def clear(self) -> None:
        self.sizes.clear()
        self._heap.clear()
        self._best = None

    def best(self) -> float | None:
        if self._best is not None:
            return self._best
        heap, sizes = self._heap, self.sizes
        while heap and self.sign * heap[0] not in sizes:
            heapq.heappop(heap)
        self._best = self.sign * heap[0] if heap else None
        return self._best

    def ordered(self) -> list[tuple[float, float]]:
        return sorted(self.sizes.items(), reverse=self.sign < 0.0)


class OrderBook:
    """The current bids and asks of one instrument.

    Examples
    --------
    >>> book = OrderBook()
    >>> book.apply(BookUpdate(0, "X", ((100.0, 1.0), (99.0, 2.0)), ((101.0, 1.5),), True))
    >>> book.best_bid_usd, book.best_ask_usd, book.mid_usd
    (100.0, 101.0, 100.5)
    >>> book.apply(BookUpdate(1, "X", ((100.0, 0.0),), (), False))
    >>> book.levels(-1)
    [(99.0, 2.0)]
    """

    __slots__ = ("_bids", "_asks", "has_depth", "ts_ns")

    def __init__(self) -> None:
        self._bids = _Side(-1.0)
        self._asks = _Side(1.0)
        self.has_depth = False
        self.ts_ns = 0

    @property
    def best_bid_usd(self) -> float | None:
        """Return the best bid, USD per coin, or None when the side is empty."""
        return self._bids.best()

    @property
    def best_ask_usd(self) -> float | None:
        """Return the best ask, USD per coin, or None when the side is empty."""
        return self._asks.best()

    @property
    def mid_usd(self) -> float | None:
        """Return the mid price, USD per coin, or None when a side is empty."""
        bid_usd, ask_usd = self._bids.best(), self._asks.best()
        return None if bid_usd is None or ask_usd is None else 0.5 * (bid_usd + ask_usd)

    @property
    def is_crossed(self) -> bool:
        """Return whether the best bid is at or above the best ask."""
        bid_usd, ask_usd = self._bids.best(), self._asks.best()
        return bid_usd is not None and ask_usd is not None and bid_usd >= ask_usd

    def apply(self, event: BookUpdate | TopOfBook) -> None:
        """Update the book with an event already validated at the edge."""
        self.ts_ns = event.ts_ns
        if isinstance(event, TopOfBook):
            if self.has_depth:
                self._bids.set_top(event.bid_usd, event.bid_size_coin)
                self._asks.set_top(event.ask_usd, event.ask_size_coin)
            else:
                self._bids.reset(event.bid_usd, event.bid_size_coin)
                self._asks.reset(event.ask_usd, event.ask_size_coin)
            return
        self.has_depth = True
        if event.is_snapshot:
            self._bids.clear()
            self._asks.clear()
        for price_usd, size_coin in event.bids:
            self._bids.update(price_usd, size_coin)
        for price_usd, size_coin in event.asks:
            self._asks.update(price_usd, size_coin)

    def levels(self, side: int) -> list[tuple[float, float]]:
        """Return one side's levels best first: ``side`` +1 for asks (what a buyer takes), -1 for bids."""
        return (self._asks if side > 0 else self._bids).ordered()

    def level_count(self) -> tuple[int, int]:
        """Return the number of bid and ask levels."""
        return len(self._bids.sizes), len(self._asks.sizes)

    def depth_within_bps(self, bps: float) -> tuple[float, float]:
        """Return the bid and ask sizes (coin) priced within ``bps`` basis points of the mid (0 if one-sided).

        >>> book = OrderBook()
        >>> book.apply(BookUpdate(0, "X", ((99.99, 1.0), (99.0, 2.0)), ((100.01, 1.5),), True))
        >>> book.depth_within_bps(10.0)
        (1.0, 1.5)
        """
        mid_usd = self.mid_usd
        if mid_usd is None:
            return 0.0, 0.0
        band_usd = mid_usd * bps * 1e-4
        bid_coin = sum(size for price, size in self._bids.sizes.items() if price >= mid_usd - band_usd)
        ask_coin = sum(size for price, size in self._asks.sizes.items() if price <= mid_usd + band_usd)
        return bid_coin, ask_coin
