"""Replay Chainlink price-feed rounds (Ethereum mainnet) as ``OracleUpdate`` events.

Data set ``chainlink-rounds-2023-2024`` (see its SOURCE.md): one CSV per feed
proxy, **newest first**, columns (unnamed index), ``round`` (proxy round id =
phase << 64 | aggregator round), ``answer`` (raw integer), ``start``
(startedAt, Unix s), ``update`` (updatedAt, Unix s), ``answeredInRound``. The
ETH/BTC file names the same five columns ``0..4``, so fields are read by position.

An event is stamped at its round's ``updatedAt`` (the block time of the round's
transaction: when a contract reading the feed could first see it), and carries
it as ``updated_at_ns`` too. ``price_usd`` is the answer divided by
``10 ** decimals``, **in the feed's quote currency**: USD for ETH/USD and BTC/USD,
BTC for ETH/BTC, ETH for stETH/ETH. Rounds are ordered by update time, then round id
(several share one second: five pairs in ETH/USD). The reader holds the file
(at most ~11,000 rounds) to put it oldest first. The all-zero last row of the
ETH/USD and BTC/USD files (the first round of phase 6) is skipped as bad data.

Docs: https://docs.chain.link/data-feeds/api-reference#latestrounddata
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import OracleUpdate
from hedgekeeper.market.replay.reading import RowLog, csv_records
from hedgekeeper.market.replay.timestamps import NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class ChainlinkFeed:
    """A recorded feed: its file, pair, answer decimals and our stream name.

    Attributes
    ----------
    file_name : str, the CSV (or .csv.gz) in ``chainlink-rounds-2023-2024``
    pair : str, base/quote, e.g. ``"ETH/USD"``
    decimals : int, the answer is ``price * 10 ** decimals``
    stream : str, our stream name
    heartbeat_s : int, the feed's maximum time between rounds, s
    deviation : float, the feed's deviation threshold, decimal (0.005 is 0.5%)
    """

    file_name: str
    pair: str
    decimals: int
    stream: str
    heartbeat_s: int
    deviation: float


FEEDS: dict[str, ChainlinkFeed] = {
    feed.pair: feed
    for feed in (
        ChainlinkFeed("0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419.csv.gz", "ETH/USD", 8, "ETH-USD.CHAINLINK",
                      3_600, 0.005),
        ChainlinkFeed("0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv.gz", "BTC/USD", 8, "BTC-USD.CHAINLINK",
                      3_600, 0.005),
        ChainlinkFeed("0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv", "ETH/BTC", 8, "ETH-BTC.CHAINLINK",
                      3_600, 0.005),
        ChainlinkFeed("0x86392dC19c0b719886221c78AB11eb8Cf5c52812.csv", "stETH/ETH", 18,
                      "STETH-ETH.CHAINLINK", 86_400, 0.005),
    )
}
"""The recorded feeds by pair; heartbeats and thresholds as published on data.chain.link."""


# chainlink-rounds-2023-2024/SOURCE.md; 0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419.csv.gz (ETH/USD):
#   ,round,answer,start,update,answeredInRound
#   0,110680464442257320802,229750276106,1706558123,1706558123,110680464442257320802
def parse_chainlink_row(row: Mapping[str, str], stream: str, decimals: int) -> OracleUpdate:
    """Return one round (string fields, by position after the index) as an ``OracleUpdate``.

    Raises
    ------
    BadData
        If the answer is not positive, or the round was answered in another round.

    >>> parse_chainlink_row({"": "0", "round": "110680464442257320802", "answer": "229750276106",
    ...     "start": "1706558123", "update": "1706558123", "answeredInRound": "110680464442257320802"},
    ...     "ETH-USD.CHAINLINK", decimals=8)
    OracleUpdate(ts_ns=1706558123000000000, stream='ETH-USD.CHAINLINK',
                 round_id=110680464442257320802, price_usd=2297.50276106,
                 updated_at_ns=1706558123000000000)
    """
    _, round_text, answer_text, _, updated_text, answered_text = list(row.values())[:6]
    round_id, answer = int(round_text), int(answer_text)
    if answer <= 0:
        raise BadData(f"round {round_id}: answer {answer} is not positive")
    if int(answered_text) != round_id:
        raise BadData(f"round {round_id}: answered in round {answered_text}, a stale answer")
    updated_at_ns = int(updated_text) * NS_PER_SECOND
    return OracleUpdate(updated_at_ns, stream, round_id, answer / 10**decimals, updated_at_ns)


def read_chainlink_feed(
    path: Path, stream: str, decimals: int, log: RowLog | None = None
) -> Iterator[OracleUpdate]:
    """Yield a feed file's rounds oldest first (by update time, then round id), skipping bad rows."""
    log = RowLog(str(path)) if log is None else log
    rounds = csv_records(path, lambda row: parse_chainlink_row(row, stream, decimals), log)
    yield from sorted(rounds, key=lambda update: (update.ts_ns, update.round_id))


@dataclass(frozen=True, slots=True)
class RoundStatistics:
    """How a feed's rounds were spaced and what triggered them.

    A round counts as a heartbeat when it came at least ``heartbeat_s - allowance_s``
    after the one before, and as a deviation when its answer moved at least the
    threshold from the previous on-chain answer; it can be both, or neither (the
    node network measures deviation against its own observations, not the
    on-chain answer, so "neither" is common).

    Attributes
    ----------
    rounds : int
    median_gap_s, longest_gap_s : float, s between consecutive rounds
    heartbeat_share, deviation_share, unexplained_share : float, decimal, of the gaps
    same_second_pairs : int, consecutive rounds updated in the same second
    """

    rounds: int
    median_gap_s: float
    longest_gap_s: float
    heartbeat_share: float
    deviation_share: float
    unexplained_share: float
    same_second_pairs: int


def round_statistics(updates: Sequence[OracleUpdate], heartbeat_s: float, deviation: float,
                     allowance_s: float = 60.0) -> RoundStatistics:
    """Return the spacing and trigger statistics of a feed's rounds (oldest first, at least two).

    Parameters
    ----------
    updates : sequence of OracleUpdate, oldest first
    heartbeat_s : float, the feed's heartbeat, s
    deviation : float, the feed's deviation threshold, decimal
    allowance_s : float, how much sooner than ``heartbeat_s`` a round still counts as a heartbeat, s

    >>> rounds = [OracleUpdate(ts * NS_PER_SECOND, "X", n, price, ts * NS_PER_SECOND)
    ...           for n, (ts, price) in enumerate([(0, 100.0), (3600, 100.1), (4000, 101.0), (4100, 101.1)])]
    >>> stats = round_statistics(rounds, heartbeat_s=3600, deviation=0.005)
    >>> stats.heartbeat_share, stats.deviation_share, round(stats.unexplained_share, 3)
    (0.3333333333333333, 0.3333333333333333, 0.333)
    """
    pairs = list(itertools.pairwise(updates))
    gaps_s = [(b.updated_at_ns - a.updated_at_ns) / NS_PER_SECOND for a, b in pairs]
    moves = [abs(b.price_usd / a.price_usd - 1.0) for a, b in pairs]
    is_heartbeat = [gap >= heartbeat_s - allowance_s for gap in gaps_s]
    is_deviation = [move >= deviation for move in moves]
    count = len(gaps_s)
    return RoundStatistics(
        rounds=len(updates),
        median_gap_s=statistics.median(gaps_s),
        longest_gap_s=max(gaps_s),
        heartbeat_share=sum(is_heartbeat) / count,
        deviation_share=sum(is_deviation) / count,
        unexplained_share=sum(not (h or d) for h, d in zip(is_heartbeat, is_deviation, strict=True)) / count,
        same_second_pairs=sum(gap == 0.0 for gap in gaps_s),
    )
