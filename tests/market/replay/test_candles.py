"""Candle files: sample rows parse to our units; real files match their SOURCE.md counts and ranges."""

from __future__ import annotations

import itertools

import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.replay.bars import Bar, expand_bars
from hedgekeeper.market.replay.candles import (
    parse_binance_kline_row,
    parse_ccxt_ohlcv_row,
    parse_cryptodatadownload_row,
    read_binance_klines,
    read_ccxt_ohlcv,
    read_cryptodatadownload,
)
from hedgekeeper.market.replay.reading import RowLog
from hedgekeeper.market.replay.timestamps import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, iso_to_ns

KLINE_ROW = {"open_time": "1583971200000", "open": "7938.39", "high": "7960.52", "low": "7938.38",
             "close": "7954.40", "volume": "420.415", "close_time": "1583971259999", "quote_volume": "3342977.96202",
             "count": "877", "taker_buy_volume": "277.876", "taker_buy_quote_volume": "2209148.17074", "ignore": "0"}


def _bar_times(bars: list[Bar]) -> tuple[int, int]:
    return bars[0].ts_ns, bars[-1].ts_ns


def test_kline_row_becomes_a_one_minute_bar_in_usd_and_coin() -> None:
    bar = parse_binance_kline_row(KLINE_ROW)
    assert bar == Bar(1_583_971_200 * 10**9, NS_PER_MINUTE, 7938.39, 7960.52, 7938.38, 7954.40, 420.415)


def test_kline_row_with_a_nan_price_is_bad_data() -> None:
    with pytest.raises(BadData, match="positive finite"):
        parse_binance_kline_row(KLINE_ROW | {"high": "NaN"})


@pytest.mark.parametrize(
    ("date_text", "expected"),
    [("4/20/2021 0:02", "2021-04-20 00:02"), ("2021-06-10 00:00:00", "2021-06-10"),
     ("2017-08-17 04-AM", "2017-08-17 04:00"), ("2022-08-20", "2022-08-20")],
)
def test_cryptodatadownload_dates_in_every_style_are_read_as_utc(date_text: str, expected: str) -> None:
    row = {"unix": "0", "date": date_text, "symbol": "BTC/USD", "open": "1", "high": "2", "low": "1",
           "close": "2", "Volume BTC": "3", "Volume USD": "6"}
    bar = parse_cryptodatadownload_row(row, NS_PER_HOUR)
    assert bar.ts_ns == iso_to_ns(expected) and bar.volume_coin == 3.0


def test_ccxt_row_takes_its_bar_length_from_the_caller() -> None:
    row = {"timestamp": "2020-03-12 00:00:00", "open": "1", "high": "2", "low": "1", "close": "2", "volume": "5"}
    assert parse_ccxt_ohlcv_row(row, 2 * NS_PER_HOUR).duration_ns == 2 * NS_PER_HOUR


# SOURCE.md, binance-btcusdt-1min-crash-days: day open, close, low, high.
CRASH_DAYS = {
    "2020-03-12": (7938.39, 4764.65, 4347.00, 7969.00),
    "2020-03-13": (4762.28, 5570.26, 3621.81, 5971.00),
    "2021-05-19": (42882.54, 36689.14, 28688.00, 43615.93),
    "2022-11-09": (18533.90, 15905.00, 15462.60, 18574.90),
}


@pytest.mark.parametrize("day", CRASH_DAYS)
def test_crash_day_klines_match_source_and_expand_to_sound_trades(day: str, dataset, sound_ordered) -> None:
    log = RowLog(day)
    bars = list(read_binance_klines(dataset("binance-btcusdt-1min-crash-days") / f"btcusdt-1m-{day}.csv.gz", log))
    assert (len(bars), log.skipped) == (1440, 0)
    assert _bar_times(bars) == (iso_to_ns(day), iso_to_ns(day) + NS_PER_DAY - NS_PER_MINUTE)
    assert all(b.ts_ns - a.ts_ns == NS_PER_MINUTE for a, b in itertools.pairwise(bars))
    events = sound_ordered(expand_bars(bars, "BTCUSDT.BINANCE"))
    prices = [event.price_usd for event in events]
    assert (prices[0], prices[-1], min(prices), max(prices)) == CRASH_DAYS[day]
    for bar, trades in zip(bars, zip(*[iter(events)] * 4, strict=True), strict=True):
        ohlc = (trades[0].price_usd, max(t.price_usd for t in trades), min(t.price_usd for t in trades),
                trades[-1].price_usd)
        assert ohlc == (bar.open_usd, bar.high_usd, bar.low_usd, bar.close_usd)


def test_gemini_minutes_cover_source_range_less_zero_volume_and_three_gaps(dataset, sound_ordered) -> None:
    log = RowLog("gemini")
    path = dataset("gemini-btcusd-1min-2021-mallikharjuna") / "gemini_BTCUSD_2020_1min.csv.gz"
    bars = list(read_cryptodatadownload(path, NS_PER_MINUTE, log))
    # SOURCE.md: 50,500 unique minutes, 2021-03-15 22:16 .. 2021-04-20 00:02, gaps of 1 + 4 + 2 minutes.
    assert log.parsed + log.skipped == 50_500
    assert all("no trade in the bar" in reason for reason in log.reasons)
    assert _bar_times(bars) == (iso_to_ns("2021-03-15 22:16"), iso_to_ns("2021-04-20 00:02"))
    span_minutes = (bars[-1].ts_ns - bars[0].ts_ns) // NS_PER_MINUTE + 1
    assert span_minutes == 50_500 + 7
    sound_ordered(expand_bars(bars[:5_000], "BTCUSD.GEMINI"))


# folder, file, reader, bar length, rows per SOURCE.md, first and last bar open, rows skipped (no volume).
CANDLE_FILES = [
    ("btc-binance-bitstamp-2h-1d-hsbc", "BTC_USDT_2h.csv.gz", read_ccxt_ohlcv, 2 * NS_PER_HOUR, 35_123,
     "2017-08-17 04:00", "2025-08-26 10:00", 2),
    ("btc-binance-bitstamp-2h-1d-hsbc", "BTC_USD_2h.csv.gz", read_ccxt_ohlcv, 2 * NS_PER_HOUR, 61_465,
     "2011-08-18 12:00", "2025-08-26 12:00", 2_430),
    ("btc-binance-bitstamp-2h-1d-hsbc", "BTC_USDT_1d.csv", read_ccxt_ohlcv, NS_PER_DAY, 2_932,
     "2017-08-17", "2025-08-26", 0),
    ("bitstamp-btcusd-1h-1d-darkeclipz", "Bitstamp_BTCUSD_1h.csv.gz", read_cryptodatadownload, NS_PER_HOUR,
     37_387, "2018-05-15 06:00", "2022-08-20 00:00", 6),
    ("binance-usdm-futures-1h-2020-ingiorn", "BTCUSDT_Binance_futures_data_hour.csv", read_cryptodatadownload,
     NS_PER_HOUR, 3_599, "2020-08-02 02:00", "2020-12-30 00:00", 0),
]


@pytest.mark.parametrize(("folder", "name", "reader", "duration_ns", "rows", "first", "last", "skipped"),
                         CANDLE_FILES, ids=[case[1] for case in CANDLE_FILES])
def test_hourly_and_two_hourly_files_match_source_counts_and_ranges(
    folder, name, reader, duration_ns, rows, first, last, skipped, dataset, sound_ordered,
) -> None:
    log = RowLog(name)
    bars = list(reader(dataset(folder) / name, duration_ns, log))
    assert (log.parsed + log.skipped, log.skipped) == (rows, skipped)
    assert _bar_times(bars) == (iso_to_ns(first), iso_to_ns(last))
    sound_ordered(expand_bars(bars[:2_000], "X"))


def test_binance_hourly_file_holds_2649_hours_twice_in_two_date_styles(dataset) -> None:
    log = RowLog("andrewsiah", max_reasons=10_000)
    path = dataset("binance-spot-1h-2017-2021-andrewsiah") / "Binance_BTCUSDT_1h.csv.gz"
    bars = list(read_cryptodatadownload(path, NS_PER_HOUR, log))
    duplicates = sum("duplicate timestamp" in reason for reason in log.reasons)
    no_volume = sum("no trade in the bar" in reason for reason in log.reasons)
    assert (log.parsed + log.skipped, duplicates, no_volume) == (36_062, 2_649, 117)
    assert _bar_times(bars) == (iso_to_ns("2017-08-17 04:00"), iso_to_ns("2021-06-10 00:00"))
