"""Post prices to the on-chain oracle from a price source, following its deviation-plus-heartbeat rule.

Sources give ``PricePoint`` (unix seconds, USD per coin): the recorded Chainlink
rounds (``recorded_chainlink_prices``, through ``market.replay.chainlink`` and the
data directory) or a simulated path (``simulated_gbm_prices``, through
``market.simulators.gbm``). ``OracleUpdater.post`` puts the chain's next block at
the point's timestamp (on the in-process EVM and anvil, which let time be set;
never on another node), asks the oracle ``is_update_due(answer)`` at that block
(the pending block, so the rule is judged at the very second the answer would
be posted) and submits only when it is due. Every point gives an
``OracleSubmission``, posted or not, with the rule's numbers.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from web3.contract import Contract

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.market.data_dir import dataset_path
from hedgekeeper.market.replay.chainlink import FEEDS, read_chainlink_feed
from hedgekeeper.market.replay.timestamps import NS_PER_SECOND
from hedgekeeper.market.simulators.gbm import GbmParameters, simulate_gbm

logger = logging.getLogger(__name__)

CHAINLINK_DATASET = "chainlink-rounds-2023-2024"
SUBMIT_GAS_LIMIT = 200_000
"""Gas sent with ``submit`` (it uses about 80,000 for a new round); given, not estimated, because a
node estimates at the latest block's time, before the heartbeat the next block may reach."""
SECONDS_PER_YEAR = 365 * 86_400


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A price at a time: ``ts_s`` unix seconds, ``price_usd`` USD per coin."""

    ts_s: int
    price_usd: float


def recorded_chainlink_prices(pair: str = "ETH/USD", count: int | None = None, start_s: int | None = None) -> list[PricePoint]:
    """Return a recorded Chainlink feed's rounds as prices, oldest first.

    Parameters
    ----------
    pair : str, a key of ``market.replay.chainlink.FEEDS`` (``"ETH/USD"``, ``"BTC/USD"``, ...)
    count : int or None, the first ``count`` rounds from ``start_s`` (None: all)
    start_s : int or None, skip rounds updated before this unix second

    Raises
    ------
    FileNotFoundError
        The data set is not under the data directory (``market.data_dir``).
    """
    feed = FEEDS[pair]
    path = dataset_path(CHAINLINK_DATASET) / feed.file_name
    rounds = read_chainlink_feed(path, feed.stream, feed.decimals)
    points = (
        PricePoint(update.updated_at_ns // NS_PER_SECOND, update.price_usd)
        for update in rounds
        if start_s is None or update.updated_at_ns >= start_s * NS_PER_SECOND
    )
    return list(itertools.islice(points, count))


def simulated_gbm_prices(
    spot_usd: float, parameters: GbmParameters, dt_s: int, step_count: int, rng: np.random.Generator, start_s: int
) -> list[PricePoint]:
    """Return one GBM path every ``dt_s`` seconds from ``start_s``, ``step_count + 1`` points, USD per coin.

    >>> points = simulated_gbm_prices(3000.0, GbmParameters(drift=0.0, vol=0.8), 60, 2,
    ...                               np.random.default_rng(7), 1_700_000_000)
    >>> [(p.ts_s - 1_700_000_000, round(p.price_usd, 2)) for p in points]
    [(0, 3000.0), (60, 3000.0), (120, 3000.99)]
    """
    path = simulate_gbm(spot_usd, parameters, dt_s / SECONDS_PER_YEAR, step_count, 1, rng)[0]
    return [PricePoint(start_s + i * dt_s, float(price)) for i, price in enumerate(path)]


def shifted(points: Iterable[PricePoint], start_s: int) -> list[PricePoint]:
    """Return ``points`` moved in time so that the first is at ``start_s``; gaps and prices are kept.

    A chain's clock only goes forward: recorded rounds from 2023 replay on a chain
    already in a later year by moving them, which the rule (gaps and moves) ignores.

    >>> shifted([PricePoint(100, 1.0), PricePoint(160, 2.0)], 1000)
    [PricePoint(ts_s=1000, price_usd=1.0), PricePoint(ts_s=1060, price_usd=2.0)]
    """
    points = list(points)
    if not points:
        return []
    offset = start_s - points[0].ts_s
    return [PricePoint(point.ts_s + offset, point.price_usd) for point in points]


@dataclass(frozen=True, slots=True)
class OracleSubmission:
    """What the updater did with one price.

    Attributes
    ----------
    ts_s : int, the price's own timestamp, unix seconds
    price_usd : float, USD per coin
    answer : int, the price with the oracle's decimals
    posted : bool, whether it was submitted (the rule said it was due)
    at_s : int, the block time the rule was judged at (the price's time when the chain's clock allowed)
    deviation_bps : int, from the latest answer (bps of it, rounded down; huge before the first round)
    age_s : int, of the latest answer at ``at_s``, seconds
    round_id : int or None, the new round when posted
    reason : str, why it was or was not posted, with the numbers
    """

    ts_s: int
    price_usd: float
    answer: int
    posted: bool
    at_s: int
    deviation_bps: int
    age_s: int
    round_id: int | None
    reason: str


class OracleUpdater:
    """Post prices to ``oracle`` from ``updater`` when its rule says an update is due.

    Parameters
    ----------
    chain : Chain
    oracle : Contract, ``oracle.vy``
    updater : str or None, the account holding the updater role (None: the oracle's ``updater()``)
    move_time : bool or None, move the chain's clock to each price's time (None: on the
        in-process EVM only; pass True for anvil)

    Attributes
    ----------
    submissions : list of OracleSubmission, every point posted or not, in order
    """

    def __init__(self, chain: Chain, oracle: Contract, updater: str | None = None, move_time: bool | None = None) -> None:
        self.chain = chain
        self.oracle = oracle
        self.updater = oracle.functions.updater().call() if updater is None else updater
        self.move_time = chain.is_in_process if move_time is None else move_time
        self.decimals = int(oracle.functions.decimals().call())
        self.deviation_threshold_bps = int(oracle.functions.deviation_threshold_bps().call())
        self.heartbeat_s = int(oracle.functions.heartbeat_s().call())
        self.submissions: list[OracleSubmission] = []

    def _next_block_at(self, ts_s: int) -> int:
        """Make the next block carry ``ts_s`` when the clock allows it; return the next block's timestamp."""
        chain = self.chain
        if self.move_time:
            latest = chain.timestamp()
            if chain.is_in_process:
                if ts_s - 1 > latest:  # eth-tester mines the next block one second after the latest
                    chain.advance_time(ts_s - 1 - latest)
            elif ts_s > latest:
                chain.w3.provider.make_request("evm_setNextBlockTimestamp", [ts_s])  # type: ignore[arg-type]
        return int(chain.w3.eth.get_block("pending")["timestamp"])

    def post(self, point: PricePoint) -> OracleSubmission:
        """Submit ``point`` if an update is due at its time; return what was done.

        Raises
        ------
        TransactionReverted
            The oracle refused the submission (not the updater, a non-positive answer).
        """
        answer = to_fixed(point.price_usd, self.decimals)
        at_s = self._next_block_at(point.ts_s)
        functions = self.oracle.functions
        due = bool(functions.is_update_due(answer).call(block_identifier="pending"))
        deviation = int(functions.deviation_bps(answer).call(block_identifier="pending"))
        rounds = int(functions.latestRound().call())
        age = at_s - int(functions.latestTimestamp().call()) if rounds else 0
        round_id = None
        if rounds == 0:
            reason = "the first round"
        elif age >= self.heartbeat_s:
            reason = f"heartbeat: the answer is {age} s old, heartbeat {self.heartbeat_s} s"
        elif deviation >= self.deviation_threshold_bps:
            reason = f"deviation {deviation} bps >= threshold {self.deviation_threshold_bps} bps"
        else:
            reason = (
                f"not due: deviation {deviation} bps < {self.deviation_threshold_bps} bps, "
                f"age {age} s < heartbeat {self.heartbeat_s} s"
            )
        if due:
            self.chain.transact(functions.submit(answer), self.updater, gas=SUBMIT_GAS_LIMIT)
            round_id = int(functions.latestRound().call())
        submission = OracleSubmission(point.ts_s, point.price_usd, answer, due, at_s, deviation, age, round_id, reason)
        self.submissions.append(submission)
        logger.debug("oracle %s at %d: %.2f USD: %s", "posted" if due else "kept", at_s, point.price_usd, reason)
        return submission

    def replay(
        self, points: Iterable[PricePoint], after_each: Callable[[OracleSubmission], None] | None = None
    ) -> list[OracleSubmission]:
        """Post every point in order (``after_each`` is called after each, e.g. a keeper's step); return them."""
        done: list[OracleSubmission] = []
        for point in points:
            submission = self.post(point)
            done.append(submission)
            if after_each is not None:
                after_each(submission)
        return done
