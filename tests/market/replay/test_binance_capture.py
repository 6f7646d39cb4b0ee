"""The raw Binance L2 capture: sample lines, sequencing, and the real capture rebuilt into an uncrossed book."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import BookUpdate, MarketEvent, TopOfBook, Trade
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.market.replay.binance_capture import (
    CaptureLog,
    DepthSequencer,
    parse_book_ticker,
    parse_capture_line,
    parse_depth,
    parse_trade,
    read_binance_capture,
)
from hedgekeeper.market.replay.merge import time_window
from hedgekeeper.market.replay.timestamps import iso_to_ns
from hedgekeeper.market.validation import content_problem
from hedgekeeper.timestamps import NS_PER_SECOND

FOLDER = "binance-l2-ws-2024-08-08-hftbacktest"
STREAM = "BTCUSDT-PERP.BINANCE"

SNAPSHOT = {"lastUpdateId": 100, "bids": [["99.0", "1"], ["98.0", "2"]], "asks": [["101.0", "1"]]}


def _futures_diff(first_id: int, last_id: int, previous_id: int, bids=(), asks=()) -> dict:
    return {"U": first_id, "u": last_id, "pu": previous_id, "b": [list(level) for level in bids],
            "a": [list(level) for level in asks]}


def test_capture_line_splits_receive_time_from_json() -> None:
    ts_ns, message = parse_capture_line('1723161254087896568 {"stream":"btcusdt@trade","data":{"p":"1"}}\n')
    assert ts_ns == 1_723_161_254_087_896_568 and message["data"] == {"p": "1"}


def test_depth_levels_are_sorted_best_first_and_deduplicated() -> None:
    update = parse_depth(1, {"U": 1, "u": 1, "b": [["1.0", "1"], ["3.0", "0"], ["2.0", "5"], ["1.0", "2"]],
                             "a": [["5.0", "1"], ["4.0", "0"]]}, STREAM)
    assert update.bids == ((3.0, 0.0), (2.0, 5.0), (1.0, 2.0)) and update.asks == ((4.0, 0.0), (5.0, 1.0))
    assert not update.is_snapshot and content_problem(update) is None


@pytest.mark.parametrize("level", [["NaN", "1"], ["-1.0", "1"], ["100.0", "-2"], ["100.0", "inf"]])
def test_a_depth_level_with_a_bad_price_or_size_is_bad_data(level: list[str]) -> None:
    with pytest.raises(BadData, match="depth level"):
        parse_depth(1, {"U": 1, "u": 1, "b": [level], "a": []}, STREAM)


def test_bad_capture_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_text(
        '1 {"lastUpdateId": 5, "bids": [["99.0", "1"]], "asks": [["101.0", "1"]]}\n'
        '2 {"stream": "btcusdt@trade", "data": {"p": "NaN", "q": "1", "m": true}}\n'
        '3 not json\n'
        '4 {"stream": "btcusdt@aggTrade", "data": {}}\n'
        '5 {"stream": "btcusdt@trade", "data": {"p": "100.0", "q": "1", "m": true}}\n')
    log = CaptureLog("sample")
    events = list(read_binance_capture([path], STREAM, log=log))
    assert [type(event) for event in events] == [BookUpdate, Trade]
    assert (log.parsed, log.skipped, log.snapshots) == (2, 3, 1)


def test_coin_margined_contracts_become_coin_at_each_price() -> None:
    trade = parse_trade(1, {"p": "62500.0", "q": "5", "m": False}, "BTCUSD_PERP.BINANCE", contract_size_usd=100.0)
    assert trade.size_coin == pytest.approx(500.0 / 62_500.0) and trade.aggressor == 1


@pytest.mark.parametrize(
    ("ticker", "match"),
    [({"b": "2", "B": "1", "a": "1", "A": "1"}, "crossed"), ({"b": "0", "B": "1", "a": "1", "A": "1"}, "positive"),
     ({"b": "1", "B": "-1", "a": "2", "A": "1"}, "finite and >= 0")],
)
def test_unsound_book_tickers_are_bad_data(ticker: dict, match: str) -> None:
    with pytest.raises(BadData, match=match):
        parse_book_ticker(1, ticker, STREAM)


def test_diffs_before_the_snapshot_are_held_then_released_at_its_time_unless_it_contains_them() -> None:
    log = CaptureLog("sample")
    sequencer = DepthSequencer(STREAM, log)
    assert sequencer.diff(10, _futures_diff(90, 95, 89, bids=[("97.0", "1")])) == []
    assert sequencer.diff(20, _futures_diff(96, 104, 95, bids=[("98.5", "3")])) == []
    released = sequencer.snapshot(30, SNAPSHOT)
    assert [(update.ts_ns, update.is_snapshot) for update in released] == [(30, True), (30, False)]
    assert released[1].bids == ((98.5, 3.0),)
    assert sequencer.diff(40, _futures_diff(105, 110, 104)) != []
    assert (log.snapshots, log.diffs_in_snapshot, log.diffs_emitted, log.sequence_gaps) == (1, 1, 2, 0)


def test_a_break_in_update_ids_is_counted_as_a_gap_and_the_replay_goes_on() -> None:
    log = CaptureLog("sample")
    sequencer = DepthSequencer(STREAM, log)
    sequencer.snapshot(0, SNAPSHOT)
    sequencer.diff(1, _futures_diff(100, 105, 99))
    assert sequencer.diff(2, _futures_diff(110, 112, 107)) != []
    spot = DepthSequencer("BTCUSDT.BINANCE", log)
    spot.snapshot(0, SNAPSHOT)
    spot.diff(1, {"U": 101, "u": 103, "b": [], "a": []})
    spot.diff(2, {"U": 105, "u": 106, "b": [], "a": []})
    assert log.sequence_gaps == 2


def test_diffs_with_no_snapshot_are_dropped_and_counted() -> None:
    log = CaptureLog("sample")
    sequencer = DepthSequencer(STREAM, log)
    for number in range(3):
        sequencer.diff(number, _futures_diff(number, number, number - 1))
    sequencer.finish()
    assert (log.diffs_emitted, log.diffs_without_snapshot) == (0, 3)


def test_a_diff_the_price_moved_through_is_emitted_whole_and_leaves_the_book_uncrossed() -> None:
    sequencer = DepthSequencer(STREAM, CaptureLog("sample"))
    book = OrderBook()
    book.apply(*sequencer.snapshot(0, SNAPSHOT))
    # Bids deleted up to 99 and the 101 ask deleted while a bid at 101.5 and an ask at 102 are set.
    (delta,) = sequencer.diff(1, _futures_diff(100, 101, 99, bids=[("101.5", "2"), ("99.0", "0"), ("98.0", "0")],
                                                asks=[("101.0", "0"), ("102.0", "1.5")]))
    assert delta.bids[0][0] >= delta.asks[0][0] and content_problem(delta) is None
    book.apply(delta)
    assert not book.is_crossed and book.levels(-1) == [(101.5, 2.0)] and book.levels(1) == [(102.0, 1.5)]


@dataclass
class _Replay:
    events: list[MarketEvent]
    log: CaptureLog


def _capture(folder: Path, name: str, stream: str) -> _Replay:
    log = CaptureLog(stream)
    return _Replay(list(read_binance_capture([folder / name], stream, log=log)), log)


@pytest.fixture(scope="module")
def usdm_btc(dataset: Callable[[str], Path]) -> _Replay:
    return _capture(dataset(FOLDER), "usdm_btcusdt_20240808.jsonl.gz", STREAM)


@pytest.fixture(scope="module")
def spot_btc(dataset: Callable[[str], Path]) -> _Replay:
    return _capture(dataset(FOLDER), "spot_btcusdt_20240808.jsonl.gz", "BTCUSDT.BINANCE")


@dataclass
class _Tracking:
    crossed_states: int
    at_tickers: float
    after_diffs: float


def _track(events: list[MarketEvent], tick_usd: float) -> _Tracking:
    """Rebuild the book from the depth updates (each a whole diff, or the snapshot) alone.

    Count the updates that leave it crossed, and compare its best prices with the
    bookTicker at each ticker and after each diff.
    """
    book, last_ticker = OrderBook(), None
    crossed = at_ticker = tickers = after_diff = diffs = 0

    def within_tick(ticker: TopOfBook) -> bool:
        bid_usd, ask_usd = book.best_bid_usd, book.best_ask_usd
        return (bid_usd is not None and ask_usd is not None and abs(bid_usd - ticker.bid_usd) <= 1.0001 * tick_usd
                and abs(ask_usd - ticker.ask_usd) <= 1.0001 * tick_usd)

    for event in events:
        if isinstance(event, BookUpdate):
            book.apply(event)
            crossed += book.is_crossed
            if last_ticker is not None:
                diffs += 1
                after_diff += within_tick(last_ticker)
        elif isinstance(event, TopOfBook) and book.best_bid_usd is not None:
            last_ticker = event
            tickers += 1
            at_ticker += within_tick(event)
    return _Tracking(crossed, at_ticker / tickers, after_diff / diffs)


def test_usdm_capture_matches_source_counts_with_one_snapshot_and_no_gaps(usdm_btc: _Replay, sound_ordered) -> None:
    sound_ordered(usdm_btc.events)
    log = usdm_btc.log
    # SOURCE.md: 93,954 lines; 6,551 depth, 21,313 trade, 66,089 bookTicker (plus the snapshot line it missed).
    assert (log.parsed, log.skipped, log.snapshots, log.sequence_gaps) == (93_954, 0, 1, 0)
    assert log.diffs_emitted + log.diffs_in_snapshot + log.diffs_without_snapshot == 6_551
    assert (log.diffs_emitted, log.diffs_in_snapshot) == (6_547, 4)
    assert sum(isinstance(event, BookUpdate) for event in usdm_btc.events) == 1 + 6_547  # each diff whole
    assert sum(isinstance(event, Trade) for event in usdm_btc.events) == 21_313
    assert sum(isinstance(event, TopOfBook) for event in usdm_btc.events) == 66_089


def test_usdm_book_stays_uncrossed_and_tracks_the_book_ticker(usdm_btc: _Replay) -> None:
    tracking = _track(usdm_btc.events, tick_usd=0.1)
    assert tracking.crossed_states == 0
    assert tracking.after_diffs > 0.99  # measured 0.995: the book right after a diff matches the last ticker
    assert tracking.at_tickers > 0.6  # measured 0.650: tickers move between diffs (depth@0ms arrives batched)


def test_spot_capture_follows_the_spot_sequencing_rule(spot_btc: _Replay, sound_ordered) -> None:
    sound_ordered(spot_btc.events)
    log = spot_btc.log
    assert (log.parsed, log.snapshots, log.sequence_gaps, log.diffs_in_snapshot, log.diffs_emitted) == (
        41_249, 1, 0, 2, 3_449)
    tracking = _track(spot_btc.events, tick_usd=0.01)
    assert tracking.crossed_states == 0 and tracking.after_diffs > 0.99  # measured 0.999
    assert tracking.at_tickers > 0.55  # measured 0.570: depth@100ms lags the real-time bookTicker


def test_coin_margined_capture_continues_into_its_second_file_without_a_gap(dataset, sound_ordered) -> None:
    folder = dataset(FOLDER)
    log = CaptureLog("coin-m")
    paths = [folder / "coinm_btcusd_perp_20240808.jsonl.gz", folder / "coinm_btcusd_perp_20240809.jsonl.gz"]
    events = read_binance_capture(paths, "BTCUSD_PERP.BINANCE", contract_size_usd=100.0, log=log)
    second_file_ns = iso_to_ns("2024-08-09")
    first_minute = sound_ordered(time_window(events, 0, second_file_ns + 60 * NS_PER_SECOND))
    assert log.parsed > 48_270 and (log.snapshots, log.sequence_gaps, log.diffs_without_snapshot) == (1, 0, 0)
    assert sum(isinstance(event, BookUpdate) and event.ts_ns >= second_file_ns for event in first_minute) > 1_000
    trades = [event for event in first_minute if isinstance(event, Trade)]
    assert all(trade.size_coin < 100.0 for trade in trades)  # contracts of 100 USD, now in BTC
    assert sum(isinstance(event, Trade) and event.ts_ns < second_file_ns for event in first_minute) == 2_286
