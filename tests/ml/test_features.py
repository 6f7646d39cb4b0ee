"""Market features: computed from the past only, and right on paths whose answer is known."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hedgekeeper.market.events import BookUpdate, TopOfBook, Trade
from hedgekeeper.ml.features import MARKET_FEATURES, FeatureTracker, position_features
from hedgekeeper.ml.simulation import market_path, spiky_events

MINUTE_NS = 60 * 1_000_000_000


def test_perturbing_the_future_leaves_past_features_unchanged() -> None:
    events = spiky_events(np.random.default_rng(3), days=1.0)
    cut_ns = events[len(events) // 2].ts_ns
    perturbed = [
        dataclasses.replace(e, price_usd=e.price_usd * 1.3, size_coin=e.size_coin * 5.0) if isinstance(e, Trade)
        and e.ts_ns > cut_ns else
        dataclasses.replace(e, bid_usd=e.bid_usd * 0.7, ask_usd=e.ask_usd * 1.4) if isinstance(e, TopOfBook)
        and e.ts_ns > cut_ns else e
        for e in events
    ]
    original, changed = market_path(events), market_path(perturbed)
    past = original.ts_ns <= cut_ns
    assert past.sum() > 600
    np.testing.assert_array_equal(original.features[past], changed.features[past])
    np.testing.assert_array_equal(original.spot_usd[past], changed.spot_usd[past])
    # and the perturbation does show after the cut
    assert not np.array_equal(original.features[~past], changed.features[~past])


def test_realized_vol_recovers_the_vol_of_a_brownian_path() -> None:
    rng = np.random.default_rng(11)
    vol, step_s = 0.8, 60.0
    returns = vol * math.sqrt(step_s / (365 * 86_400)) * rng.standard_normal(20_000)
    prices = 50_000.0 * np.exp(np.cumsum(returns))
    tracker = FeatureTracker(step_s=step_s)
    for minute, price in enumerate(prices):
        tracker.update(Trade(minute * MINUTE_NS, "BTC", float(price), 1.0, 1))
    features = tracker.market_features(len(prices) * MINUTE_NS)
    assert abs(features["rv_240"] / vol - 1.0) < 0.15
    assert abs(features["autocorr_1"]) < 0.2
    assert set(features) == set(MARKET_FEATURES)


def test_spread_depth_and_funding_are_read_from_their_events() -> None:
    from hedgekeeper.market.events import Funding

    tracker = FeatureTracker()
    tracker.update(TopOfBook(0, "BTC", 99.99, 3.0, 100.01, 1.0))
    tracker.update(Funding(1, "BTC-PERP", 0.0001, 100.0))
    features = tracker.market_features(2)
    assert math.isclose(features["spread_bps"], 2.0, rel_tol=1e-9)
    assert features["depth_imbalance"] == 0.5
    assert features["funding_rate"] == 0.0001


def test_vpin_rises_when_a_burst_of_one_sided_moves_follows_noise() -> None:
    # Bulk volume classification: a step's buy share is Phi(r / sigma). For noise E|2 Phi(Z) - 1| = 0.5;
    # for moves of 3 sigma in one direction it is 2 Phi(3) - 1 = 0.997.
    rng = np.random.default_rng(5)
    sigma = 0.001
    returns = np.concatenate([sigma * rng.standard_normal(600), np.full(50, 3.0 * sigma)])
    prices = 100.0 * np.exp(np.cumsum(returns))
    tracker = FeatureTracker(vpin_buckets=50)
    for minute, price in enumerate(prices[:600]):
        tracker.update(Trade(minute * MINUTE_NS, "BTC", float(price), 1.0, 1))
    noise = tracker.market_features(600 * MINUTE_NS)["vpin"]
    for minute, price in enumerate(prices[600:], start=600):
        tracker.update(Trade(minute * MINUTE_NS, "BTC", float(price), 1.0, 1))
    burst = tracker.market_features(650 * MINUTE_NS)["vpin"]
    assert 0.35 < noise < 0.65
    assert burst > 0.9


def test_position_features_measure_the_excess_against_the_band() -> None:
    features = position_features(-3.0, (-2.0, 2.0), 100.0, 10 * 1_000_000_000, None, 4 * 1_000_000_000, 0.5)
    assert features["deviation_ratio"] == -1.5
    assert features["excess_ratio"] == 0.5
    assert features["since_rebalance_s"] == 0.0
    assert features["deferred_s"] == 6.0


def test_book_delta_reads_the_books_top_not_the_levels_it_changed() -> None:
    tracker = FeatureTracker(step_s=1.0)
    tracker.update(BookUpdate(0, "X", ((100.0, 1.0), (99.0, 2.0)), ((100.1, 1.0), (101.0, 3.0)), True))
    # a delta changing levels behind the top on both sides: the top stays 100.0 / 100.1
    tracker.update(BookUpdate(10, "X", ((98.0, 5.0),), ((102.0, 5.0),), False))
    features = tracker.market_features(20)
    assert abs(features["spread_bps"] - 0.1 / 100.05 * 1e4) < 1e-9
    assert features["depth_imbalance"] == 0.0
