"""Read recorded files: gzip transparently, row by row, skipping bad rows with a reason.

Readers are generators: they hold one row at a time, except for files recorded
newest first or out of order, which ``sorted_by_time`` must hold whole (those are
small: a few thousand to fifty thousand rows; each reader says so).

A bad row (unparsable, NaN, non-positive price) never stops a reader: the parser
raises ``BadData`` (or the ``ValueError``, ``KeyError``, ``IndexError`` or
``TypeError`` of a malformed field), and ``parse_rows`` logs the reason with the
row's number, counts it in a ``RowLog`` and goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from hedgekeeper.errors import BadData

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_BANNER_PREFIXES = ("http://", "https://")

Row = TypeVar("Row")
Record = TypeVar("Record")

ROW_ERRORS = (BadData, ValueError, KeyError, IndexError, TypeError)
"""What a parser may raise on a malformed row; anything else is a bug and propagates."""


class Timed(Protocol):
    """Anything stamped with ``ts_ns``, ns since the epoch, UTC."""

    @property
    def ts_ns(self) -> int: ...


Stamped = TypeVar("Stamped", bound=Timed)


@dataclass
class RowLog:
    """Count the rows a reader parsed and skipped, keeping the first reasons.

    Attributes
    ----------
    source : the file (or files) read
    max_reasons : how many refusals ``reasons`` keeps
    parsed : rows turned into records and kept
    skipped : rows refused, each logged with its reason (``parsed + skipped`` is every row read)
    reasons : the first ``max_reasons`` refusals, ``"where: reason"``
    """

    source: str
    max_reasons: int = 20
    parsed: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        """Count and log one refused row; ``where`` locates it (``"row 12"``)."""
        self.skipped += 1
        if len(self.reasons) < self.max_reasons:
            self.reasons.append(f"{where}: {reason}")
        logger.warning("%s %s skipped: %s", self.source, where, reason)

    def withdraw(self, where: str, reason: str) -> None:
        """Count a parsed record as skipped after all (a duplicate, a step back in time)."""
        self.parsed -= 1
        self.skip(where, reason)


def open_text(path: Path) -> io.TextIOBase:
    """Open ``path`` for reading as UTF-8 text, decompressing it if it is gzip (by content)."""
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == _GZIP_MAGIC
    if is_gzip:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def parse_rows(
    rows: Iterable[Row], parse: Callable[[Row], Record], log: RowLog, first_row_number: int = 1
) -> Iterator[Record]:
    """Yield ``parse(row)`` for each row, skipping (and counting in ``log``) rows it refuses.

    >>> log = RowLog("sample")
    >>> list(parse_rows(["1.5", "x", "2"], float, log)), log.skipped
    ([1.5, 2.0], 1)
    """
    for row_number, row in enumerate(rows, start=first_row_number):
        try:
            record = parse(row)
        except ROW_ERRORS as error:
            log.skip(f"row {row_number}", str(error))
            continue
        log.parsed += 1
        yield record


def csv_records(path: Path, parse: Callable[[dict[str, str]], Record], log: RowLog) -> Iterator[Record]:
    """Yield ``parse(row)`` for each row of a CSV file with a header row.

    Lines before the header that are a web address (CryptoDataDownload's banner
    ``https://www.CryptoDataDownload.com``) are skipped. Row numbers in the log
    count the file's lines from 1, as a spreadsheet does (blank lines aside).
    """
    with open_text(path) as stream:
        header = stream.readline()
        line_number = 1
        while header.startswith(_BANNER_PREFIXES):
            header = stream.readline()
            line_number += 1
        rows = csv.DictReader(itertools.chain([header], stream))
        yield from parse_rows(rows, parse, log, first_row_number=line_number + 1)


def sorted_by_time(records: Iterable[Stamped], log: RowLog) -> Iterator[Stamped]:
    """Hold ``records`` whole and yield them by ``ts_ns``, dropping repeated stamps.

    For files recorded newest first or unordered. The sort is stable; a record
    with the same ``ts_ns`` as the one before it is a duplicate and is skipped.
    """
    previous_ns: int | None = None
    for record in sorted(records, key=lambda record: record.ts_ns):
        if record.ts_ns == previous_ns:
            log.withdraw(f"record at {record.ts_ns}", "duplicate timestamp")
            continue
        previous_ns = record.ts_ns
        yield record


def in_time_order(records: Iterable[Stamped], log: RowLog) -> Iterator[Stamped]:
    """Yield ``records`` from a file recorded oldest first, skipping any that go back in time.

    A record stamped earlier than its predecessor, or at the same time, is skipped
    with its reason, so the stream that leaves is strictly increasing.
    """
    previous_ns: int | None = None
    for record in records:
        if previous_ns is not None and record.ts_ns <= previous_ns:
            log.withdraw(f"record at {record.ts_ns}", f"not after the previous record at {previous_ns}")
            continue
        previous_ns = record.ts_ns
        yield record
