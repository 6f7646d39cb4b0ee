"""Recorded text timestamps: exact integer ns, UTC unless the text names a zone, for every format."""

from __future__ import annotations

import pytest

from hedgekeeper import timestamps
from hedgekeeper.errors import BadData
from hedgekeeper.market.replay import timestamps as replay_timestamps
from hedgekeeper.market.replay.timestamps import hour_am_pm_to_ns, iso_to_ns, us_minute_to_ns
from hedgekeeper.timestamps import NS_PER_HOUR


def test_iso_with_milliseconds_keeps_them() -> None:
    assert iso_to_ns("2026-02-07 16:00:00.010") - iso_to_ns("2026-02-07 16:00:00") == 10_000_000


def test_iso_text_without_a_zone_is_utc_and_one_with_a_zone_honours_it() -> None:
    assert iso_to_ns("2024-05-22 21:46:38.512001") == 1_716_414_398_512_001_000
    assert iso_to_ns("2024-05-22T23:46:38.512001+02:00") == iso_to_ns("2024-05-22 21:46:38.512001")


@pytest.mark.parametrize(("text", "hour"), [("12-AM", 0), ("01-AM", 1), ("11-AM", 11), ("12-PM", 12), ("11-PM", 23)])
def test_am_pm_hours_map_to_the_24_hour_clock(text: str, hour: int) -> None:
    assert hour_am_pm_to_ns(f"2018-03-01 {text}") == iso_to_ns("2018-03-01") + hour * NS_PER_HOUR


@pytest.mark.parametrize(
    ("parse", "text"),
    [(iso_to_ns, "yesterday"), (us_minute_to_ns, "2021-04-20 00:02"), (hour_am_pm_to_ns, "2018-03-01 13-XM")],
)
def test_unparsable_timestamps_raise_bad_data(parse, text: str) -> None:
    with pytest.raises(BadData, match=text[:4]):
        parse(text)


def test_the_ns_units_stay_importable_from_here() -> None:
    for name in ("NS_PER_MS", "NS_PER_SECOND", "NS_PER_MINUTE", "NS_PER_HOUR", "NS_PER_DAY"):
        assert getattr(replay_timestamps, name) == getattr(timestamps, name)
