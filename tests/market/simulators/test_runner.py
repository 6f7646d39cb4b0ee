"""The scenario runner: reproducible, time-ordered, sound events from every source."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hedgekeeper.market.events import (
    BookUpdate,
    Funding,
    OptionQuote,
    OracleUpdate,
    TopOfBook,
    Trade,
)
from hedgekeeper.market.simulators import simulate_events, simulate_path
from hedgekeeper.market.validation import EdgeValidator

from market.simulators.configs import NS_PER_SECOND, START_NS, config

HOUR = 3_600


def _tops(events: list, stream: str) -> list[TopOfBook]:
    return [event for event in events if isinstance(event, TopOfBook) and event.stream == stream]


@pytest.fixture(scope="module")
def events() -> list:
    """Two hours of the shared Heston configuration, with a flash crash half an hour in."""
    return list(simulate_events(config("heston")))


def test_same_seed_gives_the_same_events_and_another_seed_different_ones(events: list) -> None:
    assert list(simulate_events(config("heston"))) == events
    other = list(simulate_events(config("heston", seed=8)))
    assert other != events and len(other) > 0


def test_chunk_size_changes_nothing(events: list) -> None:
    assert list(simulate_events(config("heston", chunk_steps=777))) == events


def test_events_are_in_time_order_within_the_window(events: list) -> None:
    times = np.array([event.ts_ns for event in events])
    assert np.all(np.diff(times) >= 0)
    assert times[0] == START_NS and times[-1] < START_NS + 2 * HOUR * NS_PER_SECOND


@pytest.mark.parametrize("model", ["gbm", "heston", "merton", "regime_switching"])
def test_every_event_passes_edge_validation(model: str) -> None:
    validator = EdgeValidator(max_delay_ns=0, max_oracle_age_ns=600 * NS_PER_SECOND)
    stream = list(simulate_events(config(model, duration_s=2_400.0)))
    rejections = [validator.check(event, now_ns=event.ts_ns) for event in stream]
    assert [rejection for rejection in rejections if rejection is not None] == []
    kinds = {TopOfBook, BookUpdate, Trade, Funding, OptionQuote, OracleUpdate}
    assert {type(event) for event in stream} == kinds


def test_each_source_emits_on_its_schedule(events: list) -> None:
    counts = Counter((type(event).__name__, event.stream) for event in events)
    seconds = 2 * HOUR
    assert counts["TopOfBook", "BTC-PERPETUAL.DERIBIT"] == seconds
    assert counts["BookUpdate", "BTC-PERPETUAL.DERIBIT"] == seconds
    assert counts["TopOfBook", "BTCUSDT.BINANCE"] == seconds // 5
    assert counts["BookUpdate", "BTCUSDT.BINANCE"] == 0
    assert 0.4 * seconds < counts["Trade", "BTC-PERPETUAL.DERIBIT"] < 0.6 * seconds
    # Hourly funding from the start (a funding time); options every 10 s; the 1-hour option expires.
    funding = [event for event in events if isinstance(event, Funding)]
    assert [(event.ts_ns - START_NS) // NS_PER_SECOND for event in funding] == [0, HOUR]
    assert counts["OptionQuote", "BTC-100000-C"] == seconds // 10
    assert counts["OptionQuote", "BTC-100001-C"] == HOUR // 10


def test_books_follow_the_path_and_widen_in_the_crash(events: list) -> None:
    path = simulate_path(config("heston"))
    tops = _tops(events, "BTC-PERPETUAL.DERIBIT")
    mids = np.array([event.mid_usd for event in tops])
    spreads = np.array([event.ask_usd - event.bid_usd for event in tops]) / mids
    np.testing.assert_allclose(mids, path.spot_usd[:-1], rtol=1e-4)
    crash = slice(1_800, 2_100)
    assert spreads[crash].mean() > 2.0 * spreads[:1_800].mean()
    assert mids[1_815] / path.spot_usd[1_815] == pytest.approx(1.0, rel=1e-4)
    # The flash crash: about 8% down 15 s in, back within 5 minutes.
    assert mids[1_815] / mids[1_800] < 0.95 and abs(mids[2_115] / mids[1_800] - 1.0) < 0.03


def test_offset_venue_quotes_around_its_own_mid(events: list) -> None:
    path = simulate_path(config("heston"))
    tops = _tops(events, "BTCUSDT.BINANCE")
    mids = np.array([event.mid_usd for event in tops])
    np.testing.assert_allclose(mids, path.spot_usd[:-1:5] * 1.0001, rtol=2e-5)


def test_oracle_rounds_number_consecutively_and_report_the_path(events: list) -> None:
    path = simulate_path(config("heston"))
    rounds = [event for event in events if isinstance(event, OracleUpdate)]
    assert [event.round_id for event in rounds] == list(range(1, len(rounds) + 1))
    index = [(event.ts_ns - START_NS) // NS_PER_SECOND for event in rounds]
    np.testing.assert_array_equal([event.price_usd for event in rounds], path.spot_usd[index])
    assert all(event.updated_at_ns == event.ts_ns for event in rounds)


def test_option_quotes_carry_the_forward_and_straddle_the_mark(events: list) -> None:
    quotes = [event for event in events if isinstance(event, OptionQuote)]
    assert all(event.bid_vol < event.mark_vol < event.ask_vol for event in quotes)
    first = {event.stream: event for event in quotes if event.ts_ns == START_NS}
    assert first["BTC-100000-C"].forward_usd == pytest.approx(100_000.0)
    # Same expiry, strike below the forward: the negative skew makes its vol higher.
    assert first["BTC-80000-C"].mark_vol > first["BTC-100000-C"].mark_vol


def test_adding_a_venue_leaves_the_path_and_the_other_sources_alone(events: list) -> None:
    base = config("heston")
    fewer = base.model_copy(update={"venues": base.venues[:1]})
    kept = [event for event in events if event.stream != "BTCUSDT.BINANCE"]
    assert list(simulate_events(fewer)) == kept
