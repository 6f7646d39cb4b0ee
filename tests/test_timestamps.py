"""Time: exact integer ns from aware datetimes, ISO text for messages, ACT/365 year fractions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.timestamps import NS_PER_DAY, NS_PER_YEAR, datetime_to_ns, format_ns, year_fraction

AS_OF_NS = datetime_to_ns(datetime(2025, 6, 13, 8, tzinfo=UTC))
EXPIRY_NS = datetime_to_ns(datetime(2025, 9, 26, 8, tzinfo=UTC))


def test_year_fraction_is_act_365_calendar_time() -> None:
    assert year_fraction(AS_OF_NS, EXPIRY_NS) == pytest.approx(105 / 365, rel=1e-15)
    np.testing.assert_allclose(year_fraction(0, np.array([365, 730]) * NS_PER_DAY), [1.0, 2.0])
    assert NS_PER_YEAR == 365 * 24 * 3600 * 10**9


def test_datetime_to_ns_is_exact_to_the_microsecond_and_honours_zones() -> None:
    moment = datetime(2024, 5, 22, 21, 46, 38, 512_001, tzinfo=UTC)
    assert datetime_to_ns(moment) == 1_716_414_398_512_001_000
    assert datetime_to_ns(moment.astimezone(timezone(timedelta(hours=2)))) == datetime_to_ns(moment)
    assert datetime_to_ns(datetime(2025, 6, 13, 10, tzinfo=timezone(timedelta(hours=2)))) == AS_OF_NS
    assert datetime_to_ns(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == 1_000


def test_datetime_to_ns_refuses_a_naive_datetime() -> None:
    with pytest.raises(BadData, match="no timezone"):
        datetime_to_ns(datetime(2025, 6, 13, 8))


def test_format_ns_shows_nanoseconds_only_when_there_are_any() -> None:
    assert format_ns(AS_OF_NS) == "2025-06-13T08:00:00Z"
    assert format_ns(AS_OF_NS + 5) == "2025-06-13T08:00:00.000000005Z"
