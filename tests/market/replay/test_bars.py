"""Candle expansion: the synthetic path reproduces each bar's OHLC exactly, inside [low, high], in time order."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import TopOfBook, Trade
from hedgekeeper.market.replay.bars import Bar, bar_events, bar_price_series, checked_bar, expand_bars
from hedgekeeper.market.replay.timestamps import NS_PER_MINUTE
from hedgekeeper.market.validation import content_problem

MINUTE_BAR = Bar(0, NS_PER_MINUTE, 100.0, 103.0, 99.0, 102.0, 4.0)


@st.composite
def bars(draw: st.DrawFn) -> Bar:
    low = draw(st.floats(1e-3, 1e6))
    high = low * draw(st.floats(1.0, 2.0))
    open_usd, close_usd = (draw(st.floats(low, high)) for _ in range(2))
    duration_ns = draw(st.sampled_from([NS_PER_MINUTE, 60 * NS_PER_MINUTE, 120 * NS_PER_MINUTE]))
    return Bar(draw(st.integers(0, 2**62)), duration_ns, open_usd, high, low, close_usd,
               draw(st.floats(1e-8, 1e6)))


@given(bars())
def test_trades_reproduce_the_bars_ohlc_exactly_and_stay_inside_its_range(bar: Bar) -> None:
    trades = bar_events(bar, "X")
    prices = [trade.price_usd for trade in trades]
    assert prices[0] == bar.open_usd and prices[-1] == bar.close_usd
    assert max(prices) == bar.high_usd and min(prices) == bar.low_usd
    assert all(bar.low_usd <= price <= bar.high_usd for price in prices)
    stamps = [trade.ts_ns for trade in trades]
    assert stamps == sorted(stamps) and stamps[0] == bar.ts_ns and stamps[-1] < bar.ts_ns + bar.duration_ns
    assert math.isclose(sum(trade.size_coin for trade in trades), bar.volume_coin, rel_tol=1e-12)
    assert all(content_problem(trade) is None for trade in trades)


def test_a_rising_bar_visits_the_low_first_and_a_falling_bar_the_high_first() -> None:
    falling = Bar(0, NS_PER_MINUTE, 102.0, 103.0, 99.0, 100.0, 4.0)
    assert [trade.price_usd for trade in bar_events(MINUTE_BAR, "X")] == [100.0, 99.0, 103.0, 102.0]
    assert [trade.price_usd for trade in bar_events(falling, "X")] == [102.0, 103.0, 99.0, 100.0]


def test_synthetic_quotes_precede_each_trade_at_the_stated_spread() -> None:
    events = bar_events(MINUTE_BAR, "X", spread_bps=10.0)
    assert [type(event) for event in events] == [TopOfBook, Trade] * 4
    for quote, trade in zip(events[::2], events[1::2], strict=True):
        assert quote.ts_ns == trade.ts_ns and quote.mid_usd == pytest.approx(trade.price_usd)
        assert (quote.ask_usd - quote.bid_usd) / trade.price_usd == pytest.approx(10e-4)
        assert content_problem(quote) is None


def test_consecutive_bars_expand_in_strict_time_order() -> None:
    following = Bar(NS_PER_MINUTE, NS_PER_MINUTE, 102.0, 102.5, 101.0, 101.5, 2.0)
    stamps = [event.ts_ns for event in expand_bars([MINUTE_BAR, following], "X")]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))


@pytest.mark.parametrize(
    ("numbers", "match"),
    [((100.0, 103.0, 99.0, 104.0, 1.0), "outside"), ((math.nan, 103.0, 99.0, 100.0, 1.0), "positive finite"),
     ((100.0, 103.0, 0.0, 100.0, 1.0), "positive finite"), ((100.0, 103.0, 99.0, 100.0, 0.0), "no trade")],
)
def test_unsound_bars_are_refused(numbers: tuple[float, ...], match: str) -> None:
    with pytest.raises(BadData, match=match):
        checked_bar(0, NS_PER_MINUTE, *numbers)


def test_bar_price_series_holds_each_synthetic_price_until_the_next() -> None:
    series = bar_price_series([MINUTE_BAR])
    assert series.value_at(0) == 100.0 and series.value_at(NS_PER_MINUTE // 3) == 99.0
    assert series.value_at(10 * NS_PER_MINUTE) == 102.0
