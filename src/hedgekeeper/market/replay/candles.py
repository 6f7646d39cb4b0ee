"""Parse recorded candle files (three CSV layouts) into ``Bar`` records in time order.

- Binance kline dumps (data.binance.vision layout with a header row added):
  ``binance-btcusdt-1min-crash-days``. Oldest first; streamed.
- CCXT ``fetch_ohlcv`` exports: ``btc-binance-bitstamp-2h-1d-hsbc`` (Binance
  BTC/USDT 2 h and 1 d, Bitstamp BTC/USD 2 h). Oldest first; streamed.
- CryptoDataDownload exports: ``gemini-btcusd-1min-2021-mallikharjuna`` (1 min),
  ``binance-spot-1h-2017-2021-andrewsiah``, ``bitstamp-btcusd-1h-1d-darkeclipz``,
  ``binance-usdm-futures-1h-2020-ingiorn`` (1 h, 1 d). **Newest first**, so the
  reader holds the file's bars (at most ~50,000) and yields them sorted.

Prices are USD per coin (USDT taken as USD, one for one), volumes in coin. Turn
bars into events with ``bars.expand_bars``. Bars with no volume (no trade) are
skipped as bad rows. Known quirks of the files, kept as recorded: the Binance
hourly file repeats 2,649 hours in two date styles (the repeats are skipped), and
the oldest Bitstamp hourly rows have their two volume columns swapped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from hedgekeeper.errors import BadData
from hedgekeeper.market.replay.bars import Bar, checked_bar
from hedgekeeper.market.replay.reading import RowLog, csv_records, in_time_order, sorted_by_time
from hedgekeeper.market.replay.timestamps import NS_PER_MS, hour_am_pm_to_ns, iso_to_ns, us_minute_to_ns


# binance-btcusdt-1min-crash-days/SOURCE.md (open_time and close_time in Unix ms, UTC; volume in BTC):
#   open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,...
#   1583971200000,7938.39,7960.52,7938.38,7954.40,420.415,1583971259999,3342977.96202,877,277.876,...
# Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
def parse_binance_kline_row(row: Mapping[str, str]) -> Bar:
    """Return a Binance kline row (string fields) as a ``Bar`` of ``close_time - open_time + 1 ms``.

    Raises
    ------
    BadData
        If the bar's numbers are not a sound candle (see ``checked_bar``).

    >>> bar = parse_binance_kline_row({"open_time": "1583971200000", "open": "7938.39",
    ...     "high": "7960.52", "low": "7938.38", "close": "7954.40", "volume": "420.415",
    ...     "close_time": "1583971259999"})
    >>> bar.ts_ns, bar.duration_ns, bar.close_usd
    (1583971200000000000, 60000000000, 7954.4)
    """
    open_ns = int(row["open_time"]) * NS_PER_MS
    duration_ns = int(row["close_time"]) * NS_PER_MS + NS_PER_MS - open_ns
    return checked_bar(open_ns, duration_ns, float(row["open"]), float(row["high"]), float(row["low"]),
                       float(row["close"]), float(row["volume"]))


# btc-binance-bitstamp-2h-1d-hsbc/SOURCE.md (timestamp = bar open, UTC; volume in BTC):
#   timestamp,open,high,low,close,volume
#   2017-08-17 04:00:00,4261.48,4328.69,4261.32,4315.32,70.415925
def parse_ccxt_ohlcv_row(row: Mapping[str, str], duration_ns: int) -> Bar:
    """Return one CCXT OHLCV row (bar open ``timestamp`` in ISO form, UTC) as a ``Bar`` of ``duration_ns``.

    Raises
    ------
    BadData
        If the timestamp is not ISO or the bar's numbers are not a sound candle.

    >>> bar = parse_ccxt_ohlcv_row({"timestamp": "2017-08-17 04:00:00", "open": "4261.48",
    ...     "high": "4328.69", "low": "4261.32", "close": "4315.32", "volume": "70.415925"},
    ...     duration_ns=7_200_000_000_000)
    >>> bar.ts_ns, bar.high_usd
    (1502942400000000000, 4328.69)
    """
    return checked_bar(iso_to_ns(row["timestamp"]), duration_ns, float(row["open"]), float(row["high"]),
                       float(row["low"]), float(row["close"]), float(row["volume"]))


# gemini-btcusd-1min-2021-mallikharjuna/SOURCE.md (the Unix column is mangled; Date is UTC, M/D/YYYY H:MM):
#   Unix Timestamp,Date,Symbol,Open,High,Low,Close,Volume
#   1.61888E+12,4/20/2021 0:02,BTCUSD,55717.47,55723,55541.69,55541.69,2.406733604
# binance-spot-1h-2017-2021-andrewsiah/SOURCE.md (two date styles in one file):
#   unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount
#   1623283200000,2021-06-10 00:00:00,BTC/USDT,37388.05000000,37600.00000000,37254.05000000,
#   37584.76000000,798.27649900,29889500.42010495,10796
#   1502942400.0,2017-08-17 04-AM,BTC/USDT,16199.91,16199.91,4261.32,4308.83,44.51,190952.85,NULL
# Docs: https://www.cryptodatadownload.com/data/
def parse_cryptodatadownload_row(row: Mapping[str, str], duration_ns: int) -> Bar:
    """Return one CryptoDataDownload row as a ``Bar`` of ``duration_ns``, timed by its ``date`` column.

    Column names are matched without regard to case; the volume is the first
    ``Volume...`` column (the base coin). The ``unix`` column is ignored: it is
    mangled in the Gemini file and in mixed units in the Binance hourly file.

    Raises
    ------
    BadData
        If the date is in none of the known styles or the numbers are not a sound candle.

    >>> bar = parse_cryptodatadownload_row({"Unix Timestamp": "1.61888E+12", "Date": "4/20/2021 0:02",
    ...     "Symbol": "BTCUSD", "Open": "55717.47", "High": "55723", "Low": "55541.69",
    ...     "Close": "55541.69", "Volume": "2.406733604"}, duration_ns=60_000_000_000)
    >>> bar.ts_ns, bar.volume_coin
    (1618876920000000000, 2.406733604)
    """
    fields = {name.strip().lower(): value for name, value in row.items() if name is not None}
    volume_name = next((name for name in fields if name.startswith("volume")), None)
    if volume_name is None:
        raise BadData(f"no volume column among {sorted(fields)}")
    return checked_bar(_cryptodatadownload_date_ns(fields["date"]), duration_ns, float(fields["open"]),
                       float(fields["high"]), float(fields["low"]), float(fields["close"]),
                       float(fields[volume_name]))


def _cryptodatadownload_date_ns(text: str) -> int:
    if "/" in text:
        return us_minute_to_ns(text)
    if text.rstrip().endswith(("AM", "PM")):
        return hour_am_pm_to_ns(text)
    return iso_to_ns(text)


def read_binance_klines(path: Path, log: RowLog | None = None) -> Iterator[Bar]:
    """Yield the bars of a Binance kline CSV (plain or gzip), oldest first, skipping bad rows."""
    log = RowLog(str(path)) if log is None else log
    return in_time_order(csv_records(path, parse_binance_kline_row, log), log)


def read_ccxt_ohlcv(path: Path, duration_ns: int, log: RowLog | None = None) -> Iterator[Bar]:
    """Yield the ``duration_ns`` bars of a CCXT OHLCV CSV (plain or gzip), oldest first, skipping bad rows."""
    log = RowLog(str(path)) if log is None else log
    return in_time_order(csv_records(path, lambda row: parse_ccxt_ohlcv_row(row, duration_ns), log), log)


def read_cryptodatadownload(path: Path, duration_ns: int, log: RowLog | None = None) -> Iterator[Bar]:
    """Yield the ``duration_ns`` bars of a CryptoDataDownload CSV sorted oldest first (held whole)."""
    log = RowLog(str(path)) if log is None else log
    bars = csv_records(path, lambda row: parse_cryptodatadownload_row(row, duration_ns), log)
    return sorted_by_time(bars, log)
