"""A level-2 order book kept from ``BookUpdate`` and ``TopOfBook`` events.

Bids and asks are maps from price (USD per coin) to size (coin). A snapshot
replaces a side, a delta sets each listed level (size zero deletes it). A
``TopOfBook`` on a book that never had depth is the whole book (one level a side);
on a book with depth it removes the levels it crosses and sets the top sizes.
The best prices are cached, so a tick costs O(1) unless the best level goes.
"""

from __future__ import annotations

from hedgekeeper.market.events import BookUpdate, TopOfBook


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

    __slots__ = ("_bids", "_asks", "_best_bid", "_best_ask", "has_depth", "ts_ns")

    def __init__(self) -> None:
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}
        self._best_bid: float | None = None
        self._best_ask: float | None = None
        self.has_depth = False
        self.ts_ns = 0

    @property
    def best_bid_usd(self) -> float | None:
        """Return the best bid, USD per coin, or None when the side is empty."""
        return self._best_bid

    @property
    def best_ask_usd(self) -> float | None:
        """Return the best ask, USD per coin, or None when the side is empty."""
        return self._best_ask

    @property
    def mid_usd(self) -> float | None:
        """Return the mid price, USD per coin, or None when a side is empty."""
        if self._best_bid is None or self._best_ask is None:
            return None
        return 0.5 * (self._best_bid + self._best_ask)

    def apply(self, event: BookUpdate | TopOfBook) -> None:
        """Update the book with an event already validated at the edge."""
        self.ts_ns = event.ts_ns
        if isinstance(event, TopOfBook):
            self._apply_top(event)
            return
        self.has_depth = True
        if event.is_snapshot:
            self._bids = {price: size for price, size in event.bids if size > 0.0}
            self._asks = {price: size for price, size in event.asks if size > 0.0}
        else:
            for side, levels in ((self._bids, event.bids), (self._asks, event.asks)):
                for price, size in levels:
                    if size > 0.0:
                        side[price] = size
                    else:
                        side.pop(price, None)
        self._best_bid = max(self._bids, default=None)
        self._best_ask = min(self._asks, default=None)

    def _apply_top(self, event: TopOfBook) -> None:
        if not self.has_depth:
            self._bids = {event.bid_usd: event.bid_size_coin}
            self._asks = {event.ask_usd: event.ask_size_coin}
        else:
            self._bids = {p: s for p, s in self._bids.items() if p < event.bid_usd}
            self._asks = {p: s for p, s in self._asks.items() if p > event.ask_usd}
            self._bids[event.bid_usd] = event.bid_size_coin
            self._asks[event.ask_usd] = event.ask_size_coin
        self._best_bid, self._best_ask = event.bid_usd, event.ask_usd

    def levels(self, side: int) -> list[tuple[float, float]]:
        """Return one side's levels best first: ``side`` +1 for asks (what a buyer takes), -1 for bids."""
        if side > 0:
            return sorted(self._asks.items())
        return sorted(self._bids.items(), reverse=True)
