"""Replay recorded perpetual funding as ``Funding`` events.

Two data sets record Binance USD-M perpetual funding (rate per 8-hour interval,
a decimal; positive rates are paid by longs):

- ``binance-funding-pierre-cheneau`` (BTCUSDT and ETHUSDT, 2020-01-01 ..
  2026-06-30): ``calc_time`` in Unix ms, kept as recorded: 3,190 of the 7,119
  settlement times carry +1..+47 ms of jitter (SOURCE.md says "a few", +1..+5 ms);
- ``btc-binance-bitstamp-2h-1d-hsbc/funding_rate_BTCUSDT.csv`` (2019-09-10 ..
  2026-02-07): CCXT ``timestamp`` text, UTC.

Both are oldest first and streamed. Neither records a mark price, which a
``Funding`` event needs (the payment is ``rate * size * mark``), so
``funding_events`` marks each rate with the price the replay has already shown
(a ``StepSeries``, e.g. ``bars.bar_price_series`` of the replayed candles): an
**assumption** when that price is spot's rather than the perpetual's own mark
(their gap, the basis, is usually a fraction of a percent, more in a crash). A rate with no price recent
enough is skipped with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import Funding
from hedgekeeper.market.replay.reading import RowLog, csv_records, in_time_order
from hedgekeeper.market.replay.series import StepSeries
from hedgekeeper.market.replay.timestamps import NS_PER_MS, iso_to_ns


class FundingRate(NamedTuple):
    """A funding settlement: ``rate`` per funding interval (decimal) at ``ts_ns`` (ns, UTC)."""

    ts_ns: int
    rate: float


def _finite_rate(text: str) -> float:
    rate = float(text)
    if not math.isfinite(rate):
        raise BadData(f"funding rate {text!r} is not finite")
    return rate


# binance-funding-pierre-cheneau/SOURCE.md; BTCUSDT_funding.csv (calc_time in Unix ms, UTC):
#   calc_time,funding_interval_hours,last_funding_rate
#   1577836800000,8,-0.00012359
# Docs: https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History
def parse_binance_funding_row(row: Mapping[str, str]) -> FundingRate:
    """Return a Binance flat-file funding row as a ``FundingRate``.

    >>> parse_binance_funding_row({"calc_time": "1577836800000", "funding_interval_hours": "8",
    ...                            "last_funding_rate": "-0.00012359"})
    FundingRate(ts_ns=1577836800000000000, rate=-0.00012359)
    """
    return FundingRate(int(row["calc_time"]) * NS_PER_MS, _finite_rate(row["last_funding_rate"]))


# btc-binance-bitstamp-2h-1d-hsbc/SOURCE.md; funding_rate_BTCUSDT.csv (timestamp UTC):
#   timestamp,funding_rate
#   2019-09-10 08:00:00.000,0.0001
def parse_ccxt_funding_row(row: Mapping[str, str]) -> FundingRate:
    """Return a CCXT funding-history row as a ``FundingRate``.

    >>> parse_ccxt_funding_row({"timestamp": "2019-09-10 08:00:00.000", "funding_rate": "0.0001"})
    FundingRate(ts_ns=1568102400000000000, rate=0.0001)
    """
    return FundingRate(iso_to_ns(row["timestamp"]), _finite_rate(row["funding_rate"]))


def read_binance_funding_rates(path: Path, log: RowLog | None = None) -> Iterator[FundingRate]:
    """Yield the rates of a Binance flat-file funding CSV, oldest first, skipping bad rows."""
    log = RowLog(str(path)) if log is None else log
    return in_time_order(csv_records(path, parse_binance_funding_row, log), log)


def read_ccxt_funding_rates(path: Path, log: RowLog | None = None) -> Iterator[FundingRate]:
    """Yield the rates of a CCXT funding-history CSV, oldest first, skipping bad rows."""
    log = RowLog(str(path)) if log is None else log
    return in_time_order(csv_records(path, parse_ccxt_funding_row, log), log)


def funding_events(
    rates: Iterable[FundingRate], stream: str, marks: StepSeries, max_mark_age_ns: int, log: RowLog
) -> Iterator[Funding]:
    """Yield each rate as a ``Funding`` event marked at the last price of ``marks`` at its time.

    Parameters
    ----------
    rates : funding rates, oldest first
    stream : str, the perpetual's stream name
    marks : StepSeries of USD per coin, the price already replayed at each time
    max_mark_age_ns : int, the oldest price (ns before the rate) still usable as the mark
    log : RowLog, where a rate without a usable mark is counted as skipped

    >>> marks = StepSeries.from_points([(0, 60_000.0)])
    >>> list(funding_events([FundingRate(10, 1e-4)], "BTCUSDT-PERP.BINANCE", marks, 100, RowLog("x")))
    [Funding(ts_ns=10, stream='BTCUSDT-PERP.BINANCE', rate=0.0001, mark_usd=60000.0)]
    """
    for rate in rates:
        mark_usd = marks.value_at(rate.ts_ns, max_mark_age_ns)
        if math.isnan(mark_usd):
            log.withdraw(f"funding at {rate.ts_ns}", f"no price within {max_mark_age_ns} ns to mark it")
            continue
        yield Funding(rate.ts_ns, stream, rate.rate, mark_usd)
