"""Merge time-ordered event streams into one, and cut a stream to a time window, lazily."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from operator import attrgetter

from hedgekeeper.market.replay.reading import Stamped


def merge_streams(*streams: Iterable[Stamped]) -> Iterator[Stamped]:
    """Yield the items of time-ordered ``streams`` as one stream ordered by ``ts_ns``.

    A heap merge: it holds one pending item per stream, so it works on endless
    generators. Items with the same ``ts_ns`` keep the order of their streams in
    the argument list (and their order within a stream): the merge is stable.

    >>> from hedgekeeper.market.events import Trade
    >>> first = [Trade(1, "A", 1.0, 1.0, 1), Trade(3, "A", 1.0, 1.0, 1)]
    >>> second = [Trade(1, "B", 2.0, 1.0, 1), Trade(2, "B", 2.0, 1.0, 1)]
    >>> [(event.ts_ns, event.stream) for event in merge_streams(first, second)]
    [(1, 'A'), (1, 'B'), (2, 'B'), (3, 'A')]
    """
    return heapq.merge(*streams, key=attrgetter("ts_ns"))


def time_window(stream: Iterable[Stamped], start_ns: int, end_ns: int) -> Iterator[Stamped]:
    """Yield the items of a time-ordered stream with ``start_ns <= ts_ns < end_ns``, stopping at ``end_ns``.

    >>> from hedgekeeper.market.replay.funding import FundingRate
    >>> list(time_window((FundingRate(ts, 0.0) for ts in range(10)), 3, 5))
    [FundingRate(ts_ns=3, rate=0.0), FundingRate(ts_ns=4, rate=0.0)]
    """
    for item in stream:
        if item.ts_ns >= end_ns:
            return
        if item.ts_ns >= start_ns:
            yield item
