"""Reading: gzip by content, banner lines, bad rows skipped and counted, time ordering."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import NamedTuple

import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.replay.reading import RowLog, csv_records, in_time_order, open_text, sorted_by_time


class _Stamped(NamedTuple):
    ts_ns: int
    label: str


def _price(row: dict[str, str]) -> float:
    price = float(row["price"])
    if not price > 0.0:
        raise BadData(f"price {price} is not positive")
    return price


def test_open_text_reads_gzip_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "no_suffix.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with open_text(path) as stream:
        assert stream.read() == "a,b\n1,2\n"


def test_bad_rows_are_skipped_counted_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("price\n1.5\nnan\n-2\nabc\n\n3\n")
    log = RowLog("prices")
    with caplog.at_level(logging.WARNING):
        prices = list(csv_records(path, _price, log))
    assert prices == [1.5, 3.0]
    assert (log.parsed, log.skipped) == (2, 3)
    assert log.reasons[0] == "row 3: price nan is not positive"
    assert "abc" in log.reasons[2] and "row 5" in log.reasons[2]
    assert sum("skipped" in record.message for record in caplog.records) == 3


def test_banner_lines_before_the_header_are_skipped_and_row_numbers_follow(tmp_path: Path) -> None:
    path = tmp_path / "banner.csv"
    path.write_text("https://www.CryptoDataDownload.com\nprice\n0\n2\n")
    log = RowLog("banner")
    assert list(csv_records(path, _price, log)) == [2.0]
    assert log.reasons == ["row 3: price 0.0 is not positive"]


def test_a_row_missing_fields_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("price,size\n1,2\n")
    log = RowLog("short")
    assert list(csv_records(path, lambda row: float(row["size"]) + float(row["missing"]), log)) == []
    assert log.skipped == 1


def test_sorted_by_time_orders_newest_first_input_and_drops_repeated_stamps() -> None:
    log = RowLog("newest first")
    log.parsed = 4
    records = [_Stamped(3, "c"), _Stamped(2, "b"), _Stamped(2, "b again"), _Stamped(1, "a")]
    assert [record.label for record in sorted_by_time(records, log)] == ["a", "b", "c"]
    assert (log.parsed, log.skipped) == (3, 1)


def test_in_time_order_skips_records_that_go_back_or_repeat() -> None:
    log = RowLog("oldest first")
    log.parsed = 5
    records = [_Stamped(1, "a"), _Stamped(3, "b"), _Stamped(2, "back"), _Stamped(3, "repeat"), _Stamped(4, "c")]
    assert [record.label for record in in_time_order(records, log)] == ["a", "b", "c"]
    assert (log.parsed, log.skipped) == (3, 2)


def test_row_log_keeps_only_the_first_reasons() -> None:
    log = RowLog("many", max_reasons=2)
    for number in range(5):
        log.skip(f"row {number}", "bad")
    assert log.skipped == 5 and log.reasons == ["row 0: bad", "row 1: bad"]
