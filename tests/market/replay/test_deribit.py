"""Deribit: DVOL as a look-ahead-free vol level; option trades as quote and trade events in our units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import OptionQuote, Trade
from hedgekeeper.market.replay.deribit import (
    load_dvol,
    parse_deribit_option_trade_row,
    parse_dvol_row,
    read_deribit_option_trades,
)
from hedgekeeper.market.replay.reading import RowLog
from hedgekeeper.market.replay.timestamps import NS_PER_DAY, iso_to_ns

STREAM = "BTC-28JUN24-70000-C.DERIBIT"
TRADE_ROW = {"trade_seq": "6095", "trade_id": "302646300", "timestamp": "2024-05-22 21:46:38.512",
             "price": "0.0725", "mark_price": "0.07289794", "iv": "55.55", "instrument_name": "BTC-28JUN24-70000-C",
             "index_price": "69392.76", "direction": "sell", "contracts": "0.3", "amount": "0.3", "strike": "7000.0"}


def test_dvol_close_becomes_a_decimal_known_at_the_end_of_its_day() -> None:
    ts_ns, vol = parse_dvol_row({"date": "2021-03-24", "symbol": "BTC", "open": "84.8", "high": "95.94",
                                 "low": "80.52", "close": "95.04"})
    assert ts_ns == iso_to_ns("2021-03-25") and vol == pytest.approx(0.9504)


def test_option_trade_row_maps_to_a_quote_and_a_usd_trade() -> None:
    sequence, quote, trade = parse_deribit_option_trade_row(TRADE_ROW, STREAM)
    assert sequence == 6095
    assert (quote.ts_ns, quote.stream, quote.forward_usd) == (iso_to_ns("2024-05-22 21:46:38.512"), STREAM, 69392.76)
    assert math.isnan(quote.bid_vol) and math.isnan(quote.ask_vol) and quote.mark_vol == pytest.approx(0.5555)
    assert trade == Trade(quote.ts_ns, STREAM, pytest.approx(0.0725 * 69392.76), 0.3, -1)


@pytest.mark.parametrize(("field", "value", "match"), [("direction", "hold", "buy or sell"),
                                                        ("iv", "0", "iv"), ("price", "nan", "price")])
def test_unsound_option_trades_are_bad_data(field: str, value: str, match: str) -> None:
    with pytest.raises(BadData, match=match):
        parse_deribit_option_trade_row(TRADE_ROW | {field: value}, STREAM)


@pytest.mark.parametrize(("file_name", "first_close"), [("btc_dvol.csv", 0.9504), ("eth_dvol.csv", None)])
def test_dvol_files_match_source_rows_and_range_oldest_first(file_name: str, first_close, dataset) -> None:
    log = RowLog(file_name)
    series = load_dvol(dataset("deribit-dvol-daily") / file_name, log)
    assert (len(series.ts_ns), log.skipped) == (1_840, 0)
    assert series.ts_ns[0] == iso_to_ns("2021-03-24") + NS_PER_DAY
    assert series.ts_ns[-1] == iso_to_ns("2026-04-06") + NS_PER_DAY
    assert np.all(np.diff(series.ts_ns) == NS_PER_DAY) and np.all((series.values > 0.1) & (series.values < 3.0))
    if first_close is not None:
        assert series.values[0] == pytest.approx(first_close)
    assert math.isnan(series.value_at(iso_to_ns("2021-03-24 23:59")))  # the first close is not known before it


def test_option_trades_match_source_rows_and_range_in_time_order(dataset, sound_ordered) -> None:
    log = RowLog("option trades")
    path = dataset("deribit-option-trades-btc-28jun24-70000c") / "BTC-28JUN24-70000-C.csv"
    events = sound_ordered(read_deribit_option_trades(path, STREAM, log))
    assert (log.parsed, log.skipped) == (3_062, 0)
    trades = [event for event in events if isinstance(event, Trade)]
    quotes = [event for event in events if isinstance(event, OptionQuote)]
    assert len(trades) == len(quotes) == 3_062
    assert trades[0].ts_ns == iso_to_ns("2024-04-06 14:41:23.856")
    assert trades[-1].ts_ns == iso_to_ns("2024-05-22 21:46:38.512")
    assert all(0.3 < quote.mark_vol < 1.5 and 55_000.0 < quote.forward_usd < 75_000.0 for quote in quotes)
    assert all(100.0 < trade.price_usd < 15_000.0 for trade in trades)
