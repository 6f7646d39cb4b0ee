"""Parse the text timestamps of recorded files into integer nanoseconds since the epoch, UTC.

Text dates without a zone are taken as UTC: every recorded data set documents
UTC. The conversion itself, exact integer arithmetic, and the ``NS_PER_*`` units
are ``hedgekeeper.timestamps``'s; the units stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hedgekeeper.errors import BadData
from hedgekeeper.timestamps import (  # noqa: F401 (the NS_PER_* units: re-exported)
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_MS,
    NS_PER_SECOND,
    datetime_to_ns,
)


def _parsed_ns(text: str, parse: Callable[[str], datetime], expected: str) -> int:
    # Every parser's failure (a bad split, number, key or date) becomes BadData naming the format.
    try:
        moment = parse(text.strip())
    except (ValueError, KeyError) as error:
        raise BadData(f"timestamp {text!r} is not {expected}") from error
    return datetime_to_ns(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def _us_minute(text: str) -> datetime:
    date_text, time_text = text.split(" ")
    month, day, year = (int(part) for part in date_text.split("/"))
    hour, minute = (int(part) for part in time_text.split(":"))
    return datetime(year, month, day, hour, minute)


def _hour_am_pm(text: str) -> datetime:
    date_text, hour_text = text.split(" ")
    hour_12, half = hour_text.split("-")
    return datetime.fromisoformat(date_text).replace(hour=int(hour_12) % 12 + {"AM": 0, "PM": 12}[half])


def iso_to_ns(text: str) -> int:
    """Return an ISO date or date-time such as ``2024-05-22 21:46:38.512`` (UTC) as ns.

    Raises
    ------
    BadData
        If ``text`` is not an ISO date or date-time.

    >>> iso_to_ns("2019-09-10 08:00:00.000"), iso_to_ns("2017-08-17")
    (1568102400000000000, 1502928000000000000)
    """
    return _parsed_ns(text, datetime.fromisoformat, "an ISO date-time")


def us_minute_to_ns(text: str) -> int:
    """Return a spreadsheet date ``M/D/YYYY H:MM`` (UTC, minute resolution) as ns.

    Raises
    ------
    BadData
        If ``text`` is not ``M/D/YYYY H:MM``.

    >>> us_minute_to_ns("4/20/2021 0:02")
    1618876920000000000
    """
    return _parsed_ns(text, _us_minute, "M/D/YYYY H:MM")


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
    return _parsed_ns(text, _hour_am_pm, "YYYY-MM-DD HH-AM|PM")
