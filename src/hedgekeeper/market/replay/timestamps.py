"""Convert the timestamps of recorded files to integer nanoseconds since the epoch, UTC.

Every conversion is exact integer arithmetic (no float seconds), so a millisecond
stamp maps to a whole number of nanoseconds and sorts exactly as recorded. Text
dates without a zone are taken as UTC: every recorded data set documents UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hedgekeeper.errors import BadData

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def datetime_to_ns(moment: datetime) -> int:
    """Return ``moment`` (naive means UTC) as ns since the epoch, exactly.

    >>> datetime_to_ns(datetime(2020, 3, 12))
    1583971200000000000
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000


def iso_to_ns(text: str) -> int:
    """Return an ISO date or date-time such as ``2024-05-22 21:46:38.512`` (UTC) as ns.

    Raises
    ------
    BadData
        If ``text`` is not an ISO date or date-time.

    >>> iso_to_ns("2019-09-10 08:00:00.000"), iso_to_ns("2017-08-17")
    (1568102400000000000, 1502928000000000000)
    """
    try:
        return datetime_to_ns(datetime.fromisoformat(text.strip()))
    except ValueError as error:
        raise BadData(f"timestamp {text!r} is not an ISO date-time") from error


def us_minute_to_ns(text: str) -> int:
    """Return a spreadsheet date ``M/D/YYYY H:MM`` (UTC, minute resolution) as ns.

    Raises
    ------
    BadData
        If ``text`` is not ``M/D/YYYY H:MM``.

    >>> us_minute_to_ns("4/20/2021 0:02")
    1618876920000000000
    """
    try:
        date_text, time_text = text.strip().split(" ")
        month, day, year = (int(part) for part in date_text.split("/"))
        hour, minute = (int(part) for part in time_text.split(":"))
        return datetime_to_ns(datetime(year, month, day, hour, minute))
    except ValueError as error:
        raise BadData(f"timestamp {text!r} is not M/D/YYYY H:MM") from error


def hour_am_pm_to_ns(text: str) -> int:
    """Return a CryptoDataDownload hour ``YYYY-MM-DD HH-AM`` or ``HH-PM`` (UTC) as ns.

    Raises
    ------
    BadData
        If ``text`` is not ``YYYY-MM-DD HH-AM|PM``.

    >>> hour_am_pm_to_ns("2017-08-17 12-AM") == iso_to_ns("2017-08-17 00:00")
    True
    >>> hour_am_pm_to_ns("2017-08-17 01-PM") == iso_to_ns("2017-08-17 13:00")
    True
    """
    try:
        date_text, hour_text = text.strip().split(" ")
        hour_12, half = hour_text.split("-")
        hour = int(hour_12) % 12 + {"AM": 0, "PM": 12}[half]
        return datetime_to_ns(datetime.fromisoformat(date_text).replace(hour=hour))
    except (ValueError, KeyError) as error:
        raise BadData(f"timestamp {text!r} is not YYYY-MM-DD HH-AM|PM") from error
