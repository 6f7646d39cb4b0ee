"""merge_streams: time-ordered, stable for ties, lazy; time_window cuts without reading past its end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.market.events import Trade
from hedgekeeper.market.replay.merge import merge_streams, time_window


def _trades(stream: str, stamps: list[int]) -> list[Trade]:
    return [Trade(ts_ns, stream, 1.0 + position, 1.0, 1) for position, ts_ns in enumerate(stamps)]


def _endless(stream: str, step_ns: int) -> Iterator[Trade]:
    for ts_ns in itertools.count(0, step_ns):
        yield Trade(ts_ns, stream, 1.0, 1.0, 1)


@given(st.lists(st.lists(st.integers(0, 20)).map(sorted), max_size=5))
def test_merge_is_time_ordered_and_stable_by_stream_order_then_position(stamp_lists: list[list[int]]) -> None:
    streams = [_trades(f"S{number}", stamps) for number, stamps in enumerate(stamp_lists)]
    merged = list(merge_streams(*streams))
    expected = sorted((event for stream in streams for event in stream), key=lambda event: event.ts_ns)
    assert merged == expected  # Python's sort is stable: by stream, then position within it, for equal times


def test_ties_come_out_in_argument_order() -> None:
    merged = merge_streams(_trades("B", [5, 5]), _trades("A", [5]), _trades("C", [4, 5]))
    assert [(event.ts_ns, event.stream, event.price_usd) for event in merged] == [
        (4, "C", 1.0), (5, "B", 1.0), (5, "B", 2.0), (5, "A", 1.0), (5, "C", 2.0)]


def test_merge_is_lazy_on_endless_generators() -> None:
    merged = merge_streams(_endless("fast", 2), _endless("slow", 3))
    first = [(event.ts_ns, event.stream) for event in itertools.islice(merged, 6)]
    assert first == [(0, "fast"), (0, "slow"), (2, "fast"), (3, "slow"), (4, "fast"), (6, "fast")]


def test_time_window_stops_reading_at_its_end() -> None:
    read = []

    def recorded() -> Iterator[Trade]:
        for event in _endless("S", 1):
            read.append(event.ts_ns)
            yield event

    assert [event.ts_ns for event in time_window(recorded(), 3, 6)] == [3, 4, 5]
    assert read == [0, 1, 2, 3, 4, 5, 6]
