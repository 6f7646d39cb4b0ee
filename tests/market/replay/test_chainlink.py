"""Chainlink rounds: answers scaled by decimals, rows as SOURCE.md counts them, plausible prices, round spacing."""

from __future__ import annotations

import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.replay.chainlink import FEEDS, parse_chainlink_row, read_chainlink_feed, round_statistics
from hedgekeeper.market.replay.reading import RowLog
from hedgekeeper.market.replay.series import StepSeries
from hedgekeeper.market.replay.timestamps import NS_PER_SECOND, iso_to_ns

ROW = {"": "0", "round": "110680464442257320802", "answer": "229750276106", "start": "1706558123",
       "update": "1706558123", "answeredInRound": "110680464442257320802"}


def test_answer_is_scaled_by_the_feed_decimals_in_either_header() -> None:
    eth_usd = parse_chainlink_row(ROW, "ETH-USD.CHAINLINK", 8)
    assert eth_usd.price_usd == 2297.50276106 and eth_usd.ts_ns == eth_usd.updated_at_ns == 1_706_558_123 * NS_PER_SECOND
    assert eth_usd.round_id >> 64 == 6
    numbered = dict(zip(["", "0", "1", "2", "3", "4"], ROW.values(), strict=True))
    assert parse_chainlink_row(numbered, "X", 18).price_usd == pytest.approx(2.2975e-7)


@pytest.mark.parametrize(("field", "value", "match"), [("answer", "0", "not positive"),
                                                        ("answeredInRound", "7", "stale answer")])
def test_a_zero_or_stale_answer_is_bad_data(field: str, value: str, match: str) -> None:
    with pytest.raises(BadData, match=match):
        parse_chainlink_row(ROW | {field: value}, "X", 8)


# SOURCE.md rows, first and last update (UTC, to the minute), and rows skipped (the all-zero first round of phase 6).
FILES = {
    "ETH/USD": (11_107, "2023-04-05 22:38", "2024-01-29 19:55", 1),
    "BTC/USD": (10_692, "2023-04-05 22:35", "2024-01-29 19:55", 1),
    "ETH/BTC": (813, "2024-01-02 02:34", "2024-01-29 19:19", 0),
    "stETH/ETH": (745, "2022-01-29 20:25", "2024-01-28 23:34", 0),
}


@pytest.mark.parametrize("pair", FILES)
def test_feed_files_match_source_rows_and_ranges_oldest_first(pair: str, dataset, sound_ordered) -> None:
    feed = FEEDS[pair]
    log = RowLog(pair)
    updates = sound_ordered(read_chainlink_feed(dataset("chainlink-rounds-2023-2024") / feed.file_name,
                                                feed.stream, feed.decimals, log))
    rows, first, last, skipped = FILES[pair]
    assert (log.parsed + log.skipped, log.skipped) == (rows, skipped)
    minute_ns = 60 * NS_PER_SECOND
    assert updates[0].ts_ns // minute_ns * minute_ns == iso_to_ns(first)
    assert updates[-1].ts_ns // minute_ns * minute_ns == iso_to_ns(last)
    round_ids = [update.round_id for update in updates]
    assert round_ids == sorted(round_ids) and len(set(round_ids)) == len(round_ids)


# Market levels those days (USD), from public daily closes, loosely bracketed.
KNOWN_LEVELS = [
    ("ETH/USD", "2023-04-06", 1_850.0, 1_950.0), ("ETH/USD", "2023-06-15", 1_600.0, 1_700.0),
    ("ETH/USD", "2023-10-01", 1_650.0, 1_750.0), ("ETH/USD", "2024-01-11", 2_500.0, 2_700.0),
    ("BTC/USD", "2023-04-06", 27_500.0, 28_800.0), ("BTC/USD", "2023-06-15", 24_500.0, 25_800.0),
    ("BTC/USD", "2024-01-11", 45_500.0, 47_500.0), ("ETH/BTC", "2024-01-11", 0.053, 0.058),
]


def test_scaled_answers_sit_at_known_price_levels(dataset) -> None:
    folder = dataset("chainlink-rounds-2023-2024")
    series = {}
    for pair in {pair for pair, *_ in KNOWN_LEVELS}:
        feed = FEEDS[pair]
        updates = read_chainlink_feed(folder / feed.file_name, feed.stream, feed.decimals)
        series[pair] = StepSeries.from_points((update.ts_ns, update.price_usd) for update in updates)
    for pair, day, low, high in KNOWN_LEVELS:
        assert low <= series[pair].value_at(iso_to_ns(day)) <= high, (pair, day)


def test_rounds_keep_to_the_heartbeat_and_follow_deviation_or_heartbeat_most_of_the_time(dataset) -> None:
    folder = dataset("chainlink-rounds-2023-2024")
    for pair in ("ETH/USD", "BTC/USD"):
        feed = FEEDS[pair]
        updates = list(read_chainlink_feed(folder / feed.file_name, feed.stream, feed.decimals))
        stats = round_statistics(updates, feed.heartbeat_s, feed.deviation)
        # Measured: no gap beyond 3,720 s; ~43-47% heartbeats, 27-30% moves >= 0.5%, 26-27% neither
        # (the nodes measure deviation off chain), 5 and 7 pairs of rounds in one second.
        assert stats.longest_gap_s <= feed.heartbeat_s + 120.0
        assert 0.4 < stats.heartbeat_share < 0.5 and 0.25 < stats.deviation_share < 0.33
        assert 0.2 < stats.unexplained_share < 0.3 and 0 < stats.same_second_pairs < 10
