"""Reject bad market data at the edge, with a logged reason, before it reaches the engine.

``EdgeValidator.check`` looks at one event and returns ``None`` when it is sound,
or a ``Rejection`` saying why not:

- a non-finite number, a non-positive price or vol, a negative size;
- a crossed top of book or book snapshot (best bid at or above best ask);
- book levels out of order (bids not strictly decreasing, asks not strictly increasing);
- an event older than the previous one of its stream (out of order): a stream's
  trades and its book are each in order, not against each other, since venues send
  them on separate channels whose delays differ by milliseconds;
- an event, or an oracle round, older than the allowed delay (stale).

A book delta is checked side by side, never for crossing: a venue's diff batches
the changes of an interval, so it may delete (size 0) levels on one side beyond
levels it adds on the other, and its own first levels then read as crossed though
the book it leaves is not. Whether the resulting book is crossed is the book's
business (``OrderBook.is_crossed``).

The validator keeps the last timestamp of each stream, so it is one per event
source; it never raises on bad data, so one bad tick cannot stop the loop.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hedgekeeper.market.events import (
    Block,
    BookUpdate,
    Funding,
    MarketEvent,
    OptionQuote,
    OracleUpdate,
    TopOfBook,
    Trade,
)
from hedgekeeper.timestamps import NS_PER_SECOND

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event was refused: the event itself and a sentence with the numbers."""

    event: MarketEvent
    reason: str


def _positive(name: str, value: float) -> str | None:
    if not math.isfinite(value) or value <= 0.0:
        return f"{name} {value!r} is not a positive finite number"
    return None


def _non_negative(name: str, value: float) -> str | None:
    if not math.isfinite(value) or value < 0.0:
        return f"{name} {value!r} is not a non-negative finite number"
    return None


def _levels_problem(side: str, levels: tuple[tuple[float, float], ...], descending: bool) -> str | None:
    for price, size in levels:
        problem = _positive(f"{side} price", price) or _non_negative(f"{side} size", size)
        if problem:
            return problem
    prices = [price for price, _ in levels]
    ordered = all((a > b) if descending else (a < b) for a, b in zip(prices, prices[1:], strict=False))
    return None if ordered else f"{side} levels are not strictly {'de' if descending else 'in'}creasing"


def _crossed(bid_usd: float, ask_usd: float) -> str | None:
    return f"crossed book: bid {bid_usd!r} >= ask {ask_usd!r}" if bid_usd >= ask_usd else None


def _trade_problem(event: Trade) -> str | None:
    return (_positive("price", event.price_usd) or _positive("size", event.size_coin)
            or (None if event.aggressor in (1, -1) else f"aggressor {event.aggressor!r} is not +1 or -1"))


def _top_of_book_problem(event: TopOfBook) -> str | None:
    if (0.0 < event.bid_usd < event.ask_usd < math.inf and 0.0 <= event.bid_size_coin < math.inf
            and 0.0 <= event.ask_size_coin < math.inf):
        return None  # the common case, in one comparison chain
    problem = (_positive("bid", event.bid_usd) or _positive("ask", event.ask_usd)
               or _non_negative("bid size", event.bid_size_coin) or _non_negative("ask size", event.ask_size_coin))
    return problem or _crossed(event.bid_usd, event.ask_usd)


def _book_update_problem(event: BookUpdate) -> str | None:
    problem = _levels_problem("bid", event.bids, True) or _levels_problem("ask", event.asks, False)
    if problem is None and event.is_snapshot and event.bids and event.asks:
        problem = _crossed(event.bids[0][0], event.asks[0][0])
    return problem


def _option_quote_problem(event: OptionQuote) -> str | None:
    problem = _positive("mark vol", event.mark_vol) or _positive("forward", event.forward_usd)
    for name, vol in (("bid vol", event.bid_vol), ("ask vol", event.ask_vol)):
        problem = problem or (None if math.isnan(vol) else _positive(name, vol))
    if problem is None and event.bid_vol > event.ask_vol:
        problem = f"crossed quote: bid vol {event.bid_vol!r} > ask vol {event.ask_vol!r}"
    return problem


def _funding_problem(event: Funding) -> str | None:
    return _positive("mark", event.mark_usd) or (
        None if math.isfinite(event.rate) else f"funding rate {event.rate!r} is not finite")


def _oracle_problem(event: OracleUpdate) -> str | None:
    problem = _positive("oracle price", event.price_usd)
    if problem is None and event.updated_at_ns > event.ts_ns:
        problem = f"oracle round updated at {event.updated_at_ns} after its event time {event.ts_ns}"
    return problem


def _block_problem(event: Block) -> str | None:
    return None if event.number >= 0 and event.base_fee_wei >= 0 else (
        f"block number {event.number} or base fee {event.base_fee_wei} is negative")


_PROBLEM_OF: dict[type, Callable[[Any], str | None]] = {
    Trade: _trade_problem, TopOfBook: _top_of_book_problem, BookUpdate: _book_update_problem,
    OptionQuote: _option_quote_problem, Funding: _funding_problem, OracleUpdate: _oracle_problem,
    Block: _block_problem,
}


def content_problem(event: MarketEvent) -> str | None:
    """Return what is wrong with the numbers of ``event`` alone, or ``None`` if nothing is.

    A ``BookUpdate`` delta is not checked for crossing (see the module docstring).

    Examples
    --------
    >>> content_problem(TopOfBook(0, "BTC-PERP", 101.0, 1.0, 100.0, 1.0))
    'crossed book: bid 101.0 >= ask 100.0'
    >>> content_problem(BookUpdate(0, "BTC-PERP", ((101.0, 1.0),), ((100.0, 1.0),), True))
    'crossed book: bid 101.0 >= ask 100.0'
    >>> content_problem(BookUpdate(0, "BTC-PERP", ((101.0, 0.0),), ((100.0, 1.0),), False)) is None
    True
    """
    check = _PROBLEM_OF.get(type(event))
    return f"unknown event type {type(event).__name__}" if check is None else check(event)


@dataclass
class EdgeValidator:
    """Refuse bad, out-of-order and stale events, logging each refusal with its reason.

    Parameters
    ----------
    max_delay_ns : an event older than this (against ``now_ns``) is stale
    max_oracle_age_ns : an oracle round whose ``updated_at_ns`` is older than this is stale

    Examples
    --------
    >>> validator = EdgeValidator(max_delay_ns=5 * NS_PER_SECOND, max_oracle_age_ns=3600 * NS_PER_SECOND)
    >>> validator.check(Trade(10, "BTC-PERP", 60_000.0, 0.1, 1), now_ns=10) is None
    True
    >>> validator.check(Trade(9, "BTC-PERP", 60_000.0, 0.1, 1), now_ns=10).reason
    'out of order: ts_ns 9 is before the last BTC-PERP trade at 10'
    >>> validator.check(TopOfBook(9, "BTC-PERP", 59_999.0, 1.0, 60_001.0, 1.0), now_ns=10) is None
    True
    """

    max_delay_ns: int
    max_oracle_age_ns: int
    rejected: int = 0
    _last_ts_ns: dict[tuple[str, bool], int] = field(default_factory=dict, repr=False)  # (stream, trade?)

    def check(self, event: MarketEvent, now_ns: int) -> Rejection | None:
        """Return ``None`` if ``event`` may enter the engine at ``now_ns``, else why not."""
        reason = content_problem(event) or self._timing_problem(event, now_ns)
        if reason is None:
            self._last_ts_ns[event.stream, isinstance(event, Trade)] = event.ts_ns
            return None
        self.rejected += 1
        logger.warning("rejected %s on %s at %d: %s", type(event).__name__, event.stream, event.ts_ns, reason)
        return Rejection(event, reason)

    def _timing_problem(self, event: MarketEvent, now_ns: int) -> str | None:
        trade = isinstance(event, Trade)
        last = self._last_ts_ns.get((event.stream, trade))
        if last is not None and event.ts_ns < last:
            return (f"out of order: ts_ns {event.ts_ns} is before the last {event.stream} "
                    f"{'trade' if trade else 'event'} at {last}")
        age_ns = now_ns - event.ts_ns
        if age_ns > self.max_delay_ns:
            return f"stale: {age_ns / NS_PER_SECOND:.3f} s old, limit {self.max_delay_ns / NS_PER_SECOND:.3f} s"
        if isinstance(event, OracleUpdate):
            round_age_ns = now_ns - event.updated_at_ns
            if round_age_ns > self.max_oracle_age_ns:
                return (f"stale oracle: {event.stream} round {event.round_id} is "
                        f"{round_age_ns / NS_PER_SECOND:.0f} s old, limit {self.max_oracle_age_ns / NS_PER_SECOND:.0f} s")
        return None
