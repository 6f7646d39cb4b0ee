"""Replay a raw Binance websocket capture: depth diffs, trades and best bid/ask as events.

Data set ``binance-l2-ws-2024-08-08-hftbacktest`` (see its SOURCE.md): gzip text,
one message a line, ``<local receive time, Unix ns> <JSON>``. Streams
``<symbol>@depth@0ms`` (USD-M, COIN-M) or ``@depth@100ms`` (spot), ``@trade`` and
``@bookTicker``, combined-stream framing ``{"stream": ..., "data": ...}``.

Event times are the **local receive times** (ns, strictly increasing in every
file): what a client saw, in the order it saw it. The capturing machine's clock
ran about 1.27 s behind Binance's (receive time minus the event time ``E`` is
-1.27 s at the median), so these times sit ~1.27 s before the exchange's.

The book. SOURCE.md says the capture has no snapshot, but each 2024-08-08 file
holds one REST depth snapshot (``{"lastUpdateId": ..., "bids": ..., "asks": ...}``,
1,000 levels a side) a fraction of a second after the first diff. Replay follows
Binance's "how to manage a local order book" procedure:

1. diffs received before the snapshot are held (at most ``MAX_HELD_DIFFS``);
2. the snapshot is emitted as a ``BookUpdate`` with ``is_snapshot=True``;
3. held diffs already contained in the snapshot (futures: ``u < lastUpdateId``;
   spot: ``u <= lastUpdateId``) are dropped, the rest emitted at the snapshot's
   receive time (the first moment a client could apply them);
4. from then on each diff is checked for continuity (futures: ``pu`` equals the
   previous ``u``; spot: ``U`` is the previous ``u`` + 1; the first one after the
   snapshot must straddle it) and emitted; a break is counted in
   ``CaptureLog.sequence_gaps`` and logged (Binance would re-snapshot; the
   capture has no second snapshot, so replay goes on).

A capture with no snapshot (the COIN-M 2024-08-09 file, which continues the
2024-08-08 one) emits book diffs only when read after its predecessor, in the
same call.

Units: USD-M and spot sizes are in coin; COIN-M sizes are contracts of
``contract_size_usd`` USD (100 for BTCUSD_PERP), converted to coin at each
level's price. USDT is taken as USD. A diff's bids are emitted best (highest)
first and its asks lowest first, as ``BookUpdate`` requires.

Each diff is one ``BookUpdate``. A diff batches its interval's changes, so when
the price moved through during it, a level it deletes (size 0) on one side can
lie beyond a level it sets on the other: its first levels read as crossed, the
book it leaves is not. The edge validator checks a delta side by side for that
reason; on this capture the book is never crossed after a whole diff.

Docs: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import BookUpdate, MarketEvent, TopOfBook, Trade
from hedgekeeper.market.replay.reading import ROW_ERRORS, RowLog, open_text

logger = logging.getLogger(__name__)

MAX_HELD_DIFFS = 1_000
"""Diffs held while waiting for a snapshot; older ones are dropped (and counted)."""

Message = dict[str, Any]
Level = tuple[float, float]


@dataclass
class CaptureLog(RowLog):
    """A ``RowLog`` that also counts what happened to the depth stream.

    Attributes
    ----------
    snapshots : REST snapshots found
    diffs_emitted : depth diffs emitted as ``BookUpdate`` deltas
    diffs_in_snapshot : held diffs dropped because the snapshot already contains them
    diffs_without_snapshot : diffs dropped because no snapshot came in time
    sequence_gaps : breaks in the update-id sequence after a snapshot
    """

    snapshots: int = 0
    diffs_emitted: int = 0
    diffs_in_snapshot: int = 0
    diffs_without_snapshot: int = 0
    sequence_gaps: int = 0


# binance-l2-ws-2024-08-08-hftbacktest/SOURCE.md; a line of usdm_btcusdt_20240808 (trimmed):
#   1723161255030314667 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,
#   "T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,
#   "b":[["58710.20","0.014"],["61496.50","0.010"]],"a":[["61800.30","3.330"],["61804.60","0.057"]]}}
def parse_capture_line(line: str) -> tuple[int, Message]:
    """Split a capture line into its receive time (ns) and its JSON message.

    >>> parse_capture_line('1723161255030314667 {"lastUpdateId": 5}')
    (1723161255030314667, {'lastUpdateId': 5})
    """
    receive_text, payload = line.split(" ", 1)
    return int(receive_text), json.loads(payload)


def _size_coin(price_usd: float, quantity: float, contract_size_usd: float | None) -> float:
    return quantity if contract_size_usd is None else quantity * contract_size_usd / price_usd


def _levels(raw_levels: Iterable[Sequence[str]], descending: bool,
            contract_size_usd: float | None) -> tuple[Level, ...]:
    # A dict keeps the last of a repeated price; prices are unique, so sorting pairs sorts by price.
    by_price = {float(price): float(quantity) for price, quantity in raw_levels}
    for price, quantity in by_price.items():
        if not (0.0 < price < math.inf and 0.0 <= quantity < math.inf):
            raise BadData(f"depth level {price} x {quantity} is not a positive price and a size >= 0")
    ordered = sorted(by_price.items(), reverse=descending)
    if contract_size_usd is None:
        return tuple(ordered)
    return tuple((price, _size_coin(price, contracts, contract_size_usd)) for price, contracts in ordered)


# The REST snapshot line of usdm_btcusdt_20240808 (trimmed; a diff has "b"/"a" instead):
#   1723161255319702566 {"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,
#   "bids":[["61800.20","2.909"],["61800.10","0.696"]],"asks":[["61800.30","1.072"],["61800.70","0.002"]]}
def parse_depth(
    ts_ns: int, message: Message, stream: str, contract_size_usd: float | None = None
) -> BookUpdate:
    """Return a depth diff (``b``/``a``) or a REST snapshot (``bids``/``asks``) as a ``BookUpdate``.

    Parameters
    ----------
    ts_ns : int, receive time, ns since the epoch, UTC
    message : the diff's ``data`` object, or the snapshot object
    stream : str, our stream name
    contract_size_usd : float or None, USD per contract for COIN-M sizes; None when sizes are coin

    >>> parse_depth(7, {"U": 1, "u": 2, "b": [["99.0", "1"], ["100.0", "0"]], "a": [["101.0", "2"]]},
    ...             "BTCUSDT-PERP.BINANCE")
    BookUpdate(ts_ns=7, stream='BTCUSDT-PERP.BINANCE', bids=((100.0, 0.0), (99.0, 1.0)),
               asks=((101.0, 2.0),), is_snapshot=False)
    >>> parse_depth(7, {"lastUpdateId": 3, "bids": [["50000.0", "10"]], "asks": []}, "BTCUSD_PERP.BINANCE",
    ...             contract_size_usd=100.0).bids
    ((50000.0, 0.02),)
    """
    is_snapshot = "lastUpdateId" in message
    bids, asks = (message["bids"], message["asks"]) if is_snapshot else (message["b"], message["a"])
    return BookUpdate(ts_ns, stream, _levels(bids, True, contract_size_usd),
                      _levels(asks, False, contract_size_usd), is_snapshot)


# Same SOURCE.md; a trade of spot_btcusdt_20240808 ("m": the buyer is the maker, the seller aggressed):
#   {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,
#   "p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}
def parse_trade(ts_ns: int, message: Message, stream: str, contract_size_usd: float | None = None) -> Trade:
    """Return a ``@trade`` message as a ``Trade``; the aggressor sold (-1) when the buyer was the maker.

    Raises
    ------
    BadData
        If the price or quantity is not positive and finite.

    >>> parse_trade(7, {"p": "61837.63", "q": "0.02", "m": True}, "BTCUSDT.BINANCE")
    Trade(ts_ns=7, stream='BTCUSDT.BINANCE', price_usd=61837.63, size_coin=0.02, aggressor=-1)
    """
    price_usd = _positive(message["p"], "trade price")
    size_coin = _size_coin(price_usd, _positive(message["q"], "trade quantity"), contract_size_usd)
    return Trade(ts_ns, stream, price_usd, size_coin, -1 if message["m"] else 1)


# Same SOURCE.md; a bookTicker of usdm_btcusdt_20240808 (spot's has no "E"/"T"):
#   {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT",
#   "b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}
def parse_book_ticker(ts_ns: int, message: Message, stream: str,
                      contract_size_usd: float | None = None) -> TopOfBook:
    """Return a ``@bookTicker`` message as a ``TopOfBook``.

    Raises
    ------
    BadData
        If a price is not positive, a size negative, or the quote crossed.

    >>> parse_book_ticker(7, {"b": "61800.20", "B": "2.507", "a": "61800.30", "A": "2.510"},
    ...                   "BTCUSDT-PERP.BINANCE").mid_usd
    61800.25
    """
    bid_usd, ask_usd = _positive(message["b"], "bid"), _positive(message["a"], "ask")
    if bid_usd >= ask_usd:
        raise BadData(f"crossed book ticker: bid {bid_usd} >= ask {ask_usd}")
    bid_size, ask_size = float(message["B"]), float(message["A"])
    if not (0.0 <= bid_size < math.inf and 0.0 <= ask_size < math.inf):
        raise BadData(f"book ticker sizes {bid_size}, {ask_size} are not finite and >= 0")
    return TopOfBook(ts_ns, stream, bid_usd, _size_coin(bid_usd, bid_size, contract_size_usd),
                     ask_usd, _size_coin(ask_usd, ask_size, contract_size_usd))


def _positive(text: str, name: str) -> float:
    value = float(text)
    if not (0.0 < value < math.inf):
        raise BadData(f"{name} {text!r} is not a positive finite number")
    return value


@dataclass(frozen=True, slots=True)
class _Diff:
    """A parsed depth diff with the update ids that sequence it (``previous_id`` is ``pu``, futures only)."""

    first_id: int
    last_id: int
    previous_id: int | None
    update: BookUpdate


class DepthSequencer:
    """Order a capture's depth messages as Binance's local-book procedure does (see the module docstring).

    Parameters
    ----------
    stream : str, our stream name
    log : CaptureLog, where counts go
    contract_size_usd : float or None, USD per contract for COIN-M sizes
    """

    def __init__(self, stream: str, log: CaptureLog, contract_size_usd: float | None = None) -> None:
        self.stream = stream
        self.log = log
        self.contract_size_usd = contract_size_usd
        self._held: deque[_Diff] = deque()
        self._snapshot_id: int | None = None
        self._last_update_id: int | None = None

    def snapshot(self, ts_ns: int, message: Message) -> list[BookUpdate]:
        """Return the snapshot's update, then the held diffs it does not already contain, at ``ts_ns``."""
        update = parse_depth(ts_ns, message, self.stream, self.contract_size_usd)
        snapshot_id = int(message["lastUpdateId"])
        self.log.snapshots += 1
        self._snapshot_id, self._last_update_id = snapshot_id, None
        held, self._held = self._held, deque()
        released = (self._sequenced(snapshot_id, diff) for diff in held)
        return [update, *(replace(diff.update, ts_ns=ts_ns) for diff in released if diff is not None)]

    def diff(self, ts_ns: int, message: Message) -> list[BookUpdate]:
        """Return a diff's update when the book is synchronised; hold it until a snapshot otherwise."""
        previous_id = message.get("pu")
        diff = _Diff(int(message["U"]), int(message["u"]), None if previous_id is None else int(previous_id),
                     parse_depth(ts_ns, message, self.stream, self.contract_size_usd))
        if self._snapshot_id is None:
            if len(self._held) == MAX_HELD_DIFFS:
                self._held.popleft()
                self.log.diffs_without_snapshot += 1
            self._held.append(diff)
            return []
        sequenced = self._sequenced(self._snapshot_id, diff)
        return [] if sequenced is None else [sequenced.update]

    def finish(self) -> None:
        """Count the diffs still held for want of a snapshot at the end of the capture."""
        self.log.diffs_without_snapshot += len(self._held)
        self._held.clear()

    def _sequenced(self, snapshot_id: int, diff: _Diff) -> _Diff | None:
        """Return ``diff`` unless the snapshot contains it, counting a gap if it does not follow on."""
        is_futures = diff.previous_id is not None
        if self._last_update_id is None:
            if diff.last_id < snapshot_id or (not is_futures and diff.last_id == snapshot_id):
                self.log.diffs_in_snapshot += 1
                return None
            expected_first = snapshot_id if is_futures else snapshot_id + 1
            continuous = diff.first_id <= expected_first <= diff.last_id
        elif is_futures:
            continuous = diff.previous_id == self._last_update_id
        else:
            continuous = diff.first_id == self._last_update_id + 1
        if not continuous:
            self.log.sequence_gaps += 1
            logger.warning("%s: depth sequence gap at receive time %d: update ids %d..%d after %d",
                           self.stream, diff.update.ts_ns, diff.first_id, diff.last_id,
                           snapshot_id if self._last_update_id is None else self._last_update_id)
        self._last_update_id = diff.last_id
        self.log.diffs_emitted += 1
        return diff


def read_binance_capture(
    paths: Sequence[Path],
    stream: str,
    *,
    contract_size_usd: float | None = None,
    log: CaptureLog | None = None,
) -> Iterator[MarketEvent]:
    """Yield the events of one symbol's capture files, read in the order given, as one stream.

    Parameters
    ----------
    paths : the capture files (gzip or plain), consecutive in time
    stream : str, our stream name for the symbol
    contract_size_usd : float or None, USD per contract (COIN-M); None when sizes are coin
    log : CaptureLog or None, filled with counts as the generator runs

    Yields
    ------
    BookUpdate, Trade, TopOfBook in receive order (snapshot-held diffs at the snapshot's time)
    """
    log = CaptureLog(", ".join(str(path) for path in paths)) if log is None else log
    sequencer = DepthSequencer(stream, log, contract_size_usd)
    row_number = 0
    for path in paths:
        with open_text(path) as lines:
            for line in lines:
                row_number += 1
                try:
                    events = _line_events(line, stream, sequencer, contract_size_usd)
                except ROW_ERRORS as error:
                    log.skip(f"line {row_number}", str(error))
                    continue
                log.parsed += 1
                yield from events
    sequencer.finish()


def _line_events(line: str, stream: str, sequencer: DepthSequencer,
                 contract_size_usd: float | None) -> Sequence[MarketEvent]:
    ts_ns, message = parse_capture_line(line)
    if "lastUpdateId" in message:
        return sequencer.snapshot(ts_ns, message)
    kind, data = message["stream"].split("@", 1)[1], message["data"]
    if kind.startswith("depth"):
        return sequencer.diff(ts_ns, data)
    if kind == "trade":
        return [parse_trade(ts_ns, data, stream, contract_size_usd)]
    if kind == "bookTicker":
        return [parse_book_ticker(ts_ns, data, stream, contract_size_usd)]
    raise BadData(f"unknown stream kind {kind!r}")
