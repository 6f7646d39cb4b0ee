"""oracle_updater.py: the updater posts exactly the rounds the deviation-plus-heartbeat rule implies.

The expectation is computed here, from the prices alone, with the rule as
oracle.vy's notice states it: the first answer is posted; later, an answer is due
when the latest is at least ``heartbeat_s`` old or the answer moved at least
``deviation_threshold_bps`` (bps of the latest, rounded down). Both backends put
each price at its own timestamp, so the expectation is the same on both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import deploy_contract
from hedgekeeper.chain.oracle_updater import (
    OracleUpdater,
    PricePoint,
    recorded_chainlink_prices,
    shifted,
    simulated_gbm_prices,
)
from hedgekeeper.chain.reader import read_oracle_round
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.market.simulators.gbm import GbmParameters

THRESHOLD_BPS, HEARTBEAT_S = 50, 3600  # Chainlink's ETH/USD feed: 0.5%, one hour


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def expected_posts(points: Sequence[PricePoint], threshold_bps: int, heartbeat_s: int) -> list[bool]:
    """Return, for each price, whether the rule makes it due given the answers posted before it."""
    posted: list[bool] = []
    last_answer, last_ts = 0, 0
    for point in points:
        answer = to_fixed(point.price_usd, 8)
        due = (
            not any(posted)
            or point.ts_s - last_ts >= heartbeat_s
            or abs(answer - last_answer) * 10_000 // last_answer >= threshold_bps
        )
        if due:
            last_answer, last_ts = answer, point.ts_s
        posted.append(due)
    return posted


def _updater(chain: Chain) -> OracleUpdater:
    oracle = deploy_contract(chain, "oracle", 8, "ETH / USD", THRESHOLD_BPS, HEARTBEAT_S)
    return OracleUpdater(chain, oracle, move_time=True)


def _check(chain: Chain, updater: OracleUpdater, points: Sequence[PricePoint]) -> None:
    assert points[0].ts_s > chain.timestamp()  # the clock can be moved to every price
    submissions = updater.replay(points)
    expected = expected_posts(points, THRESHOLD_BPS, HEARTBEAT_S)
    assert [s.at_s for s in submissions] == [p.ts_s for p in points]  # judged at the price's own time
    assert [s.posted for s in submissions] == expected
    assert 0 < sum(expected) < len(points)  # the rule both posts and holds back
    latest = read_oracle_round(updater.oracle)
    assert latest.round_id == sum(expected)
    last_posted = [p for p, due in zip(points, expected, strict=True) if due][-1]
    assert latest.answer == to_fixed(last_posted.price_usd, 8) and latest.updated_at_s == last_posted.ts_s
    reasons = {s.reason.split(":")[0].split(" ")[0] for s in submissions}
    assert {"heartbeat", "deviation", "not"} <= reasons


def test_recorded_chainlink_rounds_are_posted_as_the_rule_implies(chain: Chain) -> None:
    try:
        recorded = recorded_chainlink_prices("ETH/USD", count=60)
    except FileNotFoundError as error:
        pytest.skip(f"recorded data absent: {error}")
    points = shifted(recorded, chain.timestamp() + 100)  # the chain's clock is past 2023: keep the gaps
    assert all(b.ts_s > a.ts_s for a, b in itertools.pairwise(points))  # one round a second at most here
    _check(chain, _updater(chain), points)


def test_simulated_prices_are_posted_as_the_rule_implies(chain: Chain) -> None:
    start = chain.timestamp() + 100
    points = simulated_gbm_prices(3000.0, GbmParameters(drift=0.0, vol=0.8), 900, 40, np.random.default_rng(4), start)
    _check(chain, _updater(chain), points)


def test_a_price_not_due_is_not_sent(chain: Chain) -> None:
    updater = _updater(chain)
    start = chain.timestamp() + 10
    first, same, moved = (PricePoint(start + i, price) for i, price in enumerate((3000.0, 3001.0, 3016.0)))
    assert updater.post(first).posted
    kept = updater.post(same)
    assert not kept.posted and kept.round_id is None
    assert kept.reason == "not due: deviation 3 bps < 50 bps, age 1 s < heartbeat 3600 s"
    assert read_oracle_round(updater.oracle).round_id == 1
    posted = updater.post(moved)
    assert posted.posted and posted.round_id == 2 and posted.reason == "deviation 53 bps >= threshold 50 bps"
