"""Candles (OHLCV bars) and their expansion into a synthetic path of trades.

A bar records four prices but not the order in which they traded. Replay turns
each bar into four ``Trade`` events at fixed times inside the bar. **This is an
assumption, not data**; the rule is the common "shorter path" convention:

================  =========================  ===========================
time in the bar   rising bar (close >= open)  falling bar (close < open)
================  =========================  ===========================
start             open                        open
start + 1/3       low                         high
start + 2/3       high                        low
end - 1 ms        close                       close
================  =========================  ===========================

(For a rising bar open-low-high-close is shorter than open-high-low-close by
``2 (close - open)``, so it is the path of least movement; a flat bar counts as
rising.) The close sits at the bar's last millisecond, Binance's ``close_time``,
so the next bar's open comes strictly later. Each synthetic trade carries a
quarter of the bar's volume; its aggressor is the sign of the move into it (a
buyer lifts the price), or the bar's direction when the price did not move.

With ``spread_bps`` each trade is preceded, at the same time, by a **synthetic**
``TopOfBook`` centred on the trade price, ``spread_bps`` wide, with the trade's
size on each side: an assumed spread, for a loop that needs a quote.

Prices are USD per coin (USDT counted as USD, one for one), volume in coin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import MarketEvent, TopOfBook, Trade
from hedgekeeper.market.replay.series import StepSeries
from hedgekeeper.market.replay.timestamps import NS_PER_MS

SYNTHETIC_TRADES_PER_BAR = 4


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle.

    Attributes
    ----------
    ts_ns : int, bar open time, ns since the epoch, UTC
    duration_ns : int, bar length, ns
    open_usd, high_usd, low_usd, close_usd : float, USD per coin
    volume_coin : float, coin traded in the bar
    """

    ts_ns: int
    duration_ns: int
    open_usd: float
    high_usd: float
    low_usd: float
    close_usd: float
    volume_coin: float


def checked_bar(
    ts_ns: int, duration_ns: int, open_usd: float, high_usd: float, low_usd: float,
    close_usd: float, volume_coin: float,
) -> Bar:
    """Return a ``Bar`` after checking its numbers, for parsers.

    Raises
    ------
    BadData
        If a price is not positive and finite, if open or close lies outside
        [low, high], or if the volume is not positive (no trade happened, so the
        bar has no price to replay).

    >>> checked_bar(0, 60, 10.0, 12.0, 9.0, 13.0, 1.0)
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.BadData: bar at 0: open 10.0 or close 13.0 outside [low 9.0, high 12.0]
    """
    prices = (open_usd, high_usd, low_usd, close_usd)
    if not all(math.isfinite(price) and price > 0.0 for price in prices):
        raise BadData(f"bar at {ts_ns}: a price of {prices} is not a positive finite number")
    if not (low_usd <= min(open_usd, close_usd) and max(open_usd, close_usd) <= high_usd):
        raise BadData(
            f"bar at {ts_ns}: open {open_usd} or close {close_usd} outside [low {low_usd}, high {high_usd}]")
    if not (math.isfinite(volume_coin) and volume_coin > 0.0):
        raise BadData(f"bar at {ts_ns}: volume {volume_coin} is not positive (no trade in the bar)")
    return Bar(ts_ns, duration_ns, open_usd, high_usd, low_usd, close_usd, volume_coin)


def bar_path(bar: Bar) -> tuple[tuple[int, float], ...]:
    """Return the assumed ``(ts_ns, price_usd)`` path through a bar (see the module docstring).

    >>> bar_path(Bar(0, 60_000_000_000, 100.0, 103.0, 99.0, 102.0, 4.0))
    ((0, 100.0), (20000000000, 99.0), (40000000000, 103.0), (59999000000, 102.0))
    """
    rising = bar.close_usd >= bar.open_usd
    first, second = (bar.low_usd, bar.high_usd) if rising else (bar.high_usd, bar.low_usd)
    third_ns = bar.duration_ns // 3
    return (
        (bar.ts_ns, bar.open_usd),
        (bar.ts_ns + third_ns, first),
        (bar.ts_ns + 2 * third_ns, second),
        (bar.ts_ns + bar.duration_ns - NS_PER_MS, bar.close_usd),
    )


def bar_events(bar: Bar, stream: str, spread_bps: float | None = None) -> tuple[MarketEvent, ...]:
    """Return the synthetic events of one bar: four trades, each after a quote if ``spread_bps``.

    Parameters
    ----------
    bar : Bar
    stream : str, the instrument's stream name
    spread_bps : float or None, assumed full bid-ask spread, basis points of the price

    >>> [(event.price_usd, event.aggressor) for event in bar_events(
    ...     Bar(0, 60_000_000_000, 100.0, 103.0, 99.0, 102.0, 4.0), "BTCUSDT.BINANCE")]
    [(100.0, 1), (99.0, -1), (103.0, 1), (102.0, -1)]
    """
    direction = 1 if bar.close_usd >= bar.open_usd else -1
    size_coin = bar.volume_coin / SYNTHETIC_TRADES_PER_BAR
    events: list[MarketEvent] = []
    previous_usd = bar.open_usd
    for ts_ns, price_usd in bar_path(bar):
        move = price_usd - previous_usd
        aggressor = direction if move == 0.0 else (1 if move > 0.0 else -1)
        if spread_bps is not None:
            half_spread = 0.5e-4 * spread_bps * price_usd
            events.append(TopOfBook(ts_ns, stream, price_usd - half_spread, size_coin,
                                    price_usd + half_spread, size_coin))
        events.append(Trade(ts_ns, stream, price_usd, size_coin, aggressor))
        previous_usd = price_usd
    return tuple(events)


def expand_bars(bars: Iterable[Bar], stream: str, spread_bps: float | None = None) -> Iterator[MarketEvent]:
    """Yield the synthetic events of each bar in turn (lazily; see ``bar_events``)."""
    for bar in bars:
        yield from bar_events(bar, stream, spread_bps)


def bar_price_series(bars: Iterable[Bar]) -> StepSeries:
    """Return the last synthetic trade price at any time: the step series of every bar's path.

    Used to mark events the file does not price (funding) with what the replayed
    loop itself has seen, with no look-ahead.

    >>> series = bar_price_series([Bar(0, 60_000_000_000, 100.0, 103.0, 99.0, 102.0, 4.0)])
    >>> series.value_at(30_000_000_000), series.value_at(60_000_000_000)
    (99.0, 102.0)
    """
    return StepSeries.from_points(point for bar in bars for point in bar_path(bar))
