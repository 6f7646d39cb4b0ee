"""Oracle rounds: Chainlink's deviation threshold plus heartbeat, checked round by round."""

from __future__ import annotations

import numpy as np

from hedgekeeper.market.simulators.gbm import GbmParameters, simulate_gbm
from hedgekeeper.market.simulators.oracle import OracleParameters, oracle_round_indices

FEED = OracleParameters(stream="BTC/USD", deviation_threshold=0.005, heartbeat_s=3_600.0)


def test_rounds_follow_the_deviation_and_heartbeat_rule_and_nothing_else() -> None:
    seconds = 86_400
    prices = simulate_gbm(100_000.0, GbmParameters(drift=0.0, vol=0.8), 1 / (365 * 86_400),
                          seconds - 1, 1, np.random.default_rng(101))[0]
    ts_ns = 1_750_000_000 * 10**9 + np.arange(seconds, dtype=np.int64) * 10**9
    rounds = oracle_round_indices(prices, ts_ns, FEED)
    assert rounds[0] == 0
    heartbeat_ns = 3_600 * 10**9
    for last, following in zip(rounds, np.append(rounds[1:], seconds), strict=True):
        between = slice(last + 1, following)
        # No observation between two rounds qualified for one ...
        assert np.all(np.abs(prices[between] / prices[last] - 1.0) < 0.005)
        assert np.all(ts_ns[between] - ts_ns[last] < heartbeat_ns)
        # ... and each round qualified.
        if following < seconds:
            moved = abs(prices[following] / prices[last] - 1.0) >= 0.005
            assert moved or ts_ns[following] - ts_ns[last] >= heartbeat_ns
    assert 24 <= rounds.size < seconds // 10


def test_flat_price_updates_on_the_heartbeat_only() -> None:
    ts_ns = np.arange(0, 4 * 3_600 + 1, 60, dtype=np.int64) * 10**9
    rounds = oracle_round_indices(np.full(ts_ns.size, 3_000.0), ts_ns, FEED)
    np.testing.assert_array_equal(ts_ns[rounds] // 10**9, [0, 3_600, 7_200, 10_800, 14_400])


def test_moves_at_exactly_the_threshold_trigger_a_round() -> None:
    prices = np.array([100.0, 100.4, 100.5, 100.0, 99.5])
    rounds = oracle_round_indices(prices, np.arange(5, dtype=np.int64), FEED)
    np.testing.assert_array_equal(rounds, [0, 2, 4])
