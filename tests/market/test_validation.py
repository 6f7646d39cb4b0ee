"""Edge validation: bad, crossed, out-of-order and stale events are refused with a reason."""

from __future__ import annotations

import logging
import math

import pytest

from hedgekeeper.market.events import (
    Block,
    BookUpdate,
    Funding,
    OptionQuote,
    OracleUpdate,
    TopOfBook,
    Trade,
)
from hedgekeeper.market.validation import NS_PER_SECOND, EdgeValidator, content_problem

NOW = 1_700_000_000 * NS_PER_SECOND


def _validator() -> EdgeValidator:
    return EdgeValidator(max_delay_ns=2 * NS_PER_SECOND, max_oracle_age_ns=3600 * NS_PER_SECOND)


GOOD_EVENTS = [
    Trade(NOW, "BTC-PERP", 60_000.0, 0.5, -1),
    TopOfBook(NOW, "BTC-PERP", 59_999.5, 2.0, 60_000.5, 1.0),
    BookUpdate(NOW, "BTC-PERP", ((59_999.5, 2.0), (59_999.0, 0.0)), ((60_000.5, 1.0),), False),
    # A delta deleting bids through the asks it adds: its first levels cross, the book it leaves need not.
    BookUpdate(NOW, "BTC-PERP", ((60_001.0, 0.0), (59_999.5, 2.0)), ((60_000.5, 1.0),), False),
    OptionQuote(NOW, "BTC-27DEC26-60000-C", 0.55, 0.57, 0.56, 61_000.0),
    OptionQuote(NOW, "BTC-27DEC26-90000-C", math.nan, 0.70, 0.68, 61_000.0),
    Funding(NOW, "BTC-PERP", -0.0001, 60_000.0),
    OracleUpdate(NOW, "ETH/USD", 7, 3_000.0, NOW - 600 * NS_PER_SECOND),
    Block(NOW, "local", 12, 1_000_000_000),
]


@pytest.mark.parametrize("event", GOOD_EVENTS, ids=lambda e: type(e).__name__)
def test_sound_event_is_accepted(event) -> None:
    assert _validator().check(event, NOW) is None


BAD_EVENTS = [
    (Trade(NOW, "BTC-PERP", math.nan, 0.5, 1), "price nan"),
    (Trade(NOW, "BTC-PERP", -1.0, 0.5, 1), "price -1.0"),
    (Trade(NOW, "BTC-PERP", 60_000.0, 0.0, 1), "size 0.0"),
    (Trade(NOW, "BTC-PERP", 60_000.0, 1.0, 0), "aggressor 0"),
    (TopOfBook(NOW, "BTC-PERP", 60_001.0, 1.0, 60_000.0, 1.0), "crossed book"),
    (TopOfBook(NOW, "BTC-PERP", 60_000.0, 1.0, 60_000.0, 1.0), "crossed book"),
    (TopOfBook(NOW, "BTC-PERP", 59_000.0, -1.0, 60_000.0, 1.0), "bid size -1.0"),
    (BookUpdate(NOW, "X", ((100.0, 1.0), (101.0, 1.0)), (), True), "bid levels are not strictly decreasing"),
    (BookUpdate(NOW, "X", ((100.0, 1.0),), ((99.0, 1.0),), True), "crossed book"),
    (BookUpdate(NOW, "X", ((100.0, 1.0),), ((101.0, 1.0), (101.0, 0.0)), False), "ask levels are not strictly"),
    (BookUpdate(NOW, "X", ((100.0, -1.0),), ((99.0, 1.0),), False), "bid size -1.0"),
    (OptionQuote(NOW, "O", 0.6, 0.5, 0.55, 100.0), "crossed quote"),
    (OptionQuote(NOW, "O", 0.5, 0.6, 0.0, 100.0), "mark vol 0.0"),
    (Funding(NOW, "P", math.inf, 100.0), "funding rate inf"),
    (OracleUpdate(NOW, "ETH/USD", 1, 0.0, NOW), "oracle price 0.0"),
    (OracleUpdate(NOW, "ETH/USD", 1, 3000.0, NOW + 1), "after its event time"),
]


@pytest.mark.parametrize(("event", "reason"), BAD_EVENTS, ids=lambda x: getattr(x, "stream", x))
def test_bad_event_is_rejected_with_its_reason(event, reason: str, caplog) -> None:
    validator = _validator()
    with caplog.at_level(logging.WARNING):
        rejection = validator.check(event, NOW)
    assert rejection is not None and reason in rejection.reason
    assert validator.rejected == 1
    assert reason in caplog.text


def test_out_of_order_event_is_rejected_and_does_not_move_the_stream() -> None:
    validator = _validator()
    assert validator.check(Trade(NOW, "BTC-PERP", 60_000.0, 1.0, 1), NOW) is None
    late = validator.check(Trade(NOW - 1, "BTC-PERP", 60_000.0, 1.0, 1), NOW)
    assert late is not None and "out of order" in late.reason
    # Another stream keeps its own order, and so does the stream's book against its trades.
    assert validator.check(Trade(NOW - 1, "ETH-PERP", 3_000.0, 1.0, 1), NOW) is None
    assert validator.check(TopOfBook(NOW - 1, "BTC-PERP", 59_999.0, 1.0, 60_001.0, 1.0), NOW) is None
    late_book = validator.check(TopOfBook(NOW - 2, "BTC-PERP", 59_999.0, 1.0, 60_001.0, 1.0), NOW)
    assert late_book is not None and "before the last BTC-PERP event" in late_book.reason


def test_stale_event_is_rejected_naming_its_age_and_limit() -> None:
    rejection = _validator().check(Trade(NOW - 5 * NS_PER_SECOND, "BTC-PERP", 60_000.0, 1.0, 1), NOW)
    assert rejection is not None and rejection.reason == "stale: 5.000 s old, limit 2.000 s"


def test_stale_oracle_round_is_rejected_naming_its_age() -> None:
    event = OracleUpdate(NOW, "ETH/USD", 42, 3_000.0, NOW - 4000 * NS_PER_SECOND)
    rejection = _validator().check(event, NOW)
    assert rejection is not None
    assert rejection.reason == "stale oracle: ETH/USD round 42 is 4000 s old, limit 3600 s"


def test_content_problem_names_unknown_event_types() -> None:
    assert content_problem(object()) == "unknown event type object"  # type: ignore[arg-type]


def test_crossing_is_checked_on_a_snapshot_but_not_on_a_delta() -> None:
    snapshot = BookUpdate(NOW, "BTC-PERP", ((60_001.0, 1.0),), ((60_000.5, 1.0),), True)
    assert content_problem(snapshot) == "crossed book: bid 60001.0 >= ask 60000.5"
    # A bid set at 60,001 while the ask at 60,000.5 it crosses is deleted: the book it leaves is 60,001 / 60,002.
    delta = BookUpdate(NOW, "BTC-PERP", ((60_001.0, 1.0),), ((60_000.5, 0.0), (60_002.0, 1.0)), False)
    assert content_problem(delta) is None
