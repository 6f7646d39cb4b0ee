"""Shared checks for replayed streams: time-ordered, and every event passing the edge validator."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

import pytest

from hedgekeeper.market.events import MarketEvent
from hedgekeeper.market.validation import EdgeValidator


def _checked(events: Iterable[MarketEvent]) -> list[MarketEvent]:
    checked = list(events)
    # Each event is checked at its own time: no delay, and oracle staleness left to a run's settings.
    validator = EdgeValidator(max_delay_ns=0, max_oracle_age_ns=sys.maxsize)
    rejections = [rejection for event in checked if (rejection := validator.check(event, event.ts_ns)) is not None]
    assert rejections == []
    stamps = [event.ts_ns for event in checked]
    assert all(a <= b for a, b in zip(stamps, stamps[1:], strict=False)), "events go back in time"
    return checked


@pytest.fixture
def sound_ordered() -> Callable[[Iterable[MarketEvent]], list[MarketEvent]]:
    """Return a function that lists events, asserting each passes the edge validator, in time order."""
    return _checked
