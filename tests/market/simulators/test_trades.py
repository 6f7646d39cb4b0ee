"""Trade prints: Poisson counts, uniform times within the step, fair sides, mean sizes."""

from __future__ import annotations

import numpy as np

from hedgekeeper.market.simulators.trades import TradeParameters, draw_trades, trade_counts

MC_SIGMAS = 4.0
PARAMETERS = TradeParameters(trades_per_second=3.0, mean_size_coin=0.25)


def test_trade_statistics_match_the_parameters() -> None:
    step_ns, steps = 500_000_000, 40_000
    counts = trade_counts(steps, step_ns, PARAMETERS, np.random.default_rng(91))
    mean = 1.5
    assert abs(counts.mean() - mean) < MC_SIGMAS * np.sqrt(mean / steps)
    trades = draw_trades(counts, step_ns, PARAMETERS, np.random.default_rng(92))
    count = trades.size_coin.size
    assert count == counts.sum()
    assert np.all((trades.offset_ns >= 0) & (trades.offset_ns < step_ns))
    assert abs(trades.offset_ns.mean() / step_ns - 0.5) < MC_SIGMAS * np.sqrt(1 / 12 / count)
    assert set(np.unique(trades.aggressor).tolist()) == {-1, 1}
    assert abs((trades.aggressor > 0).mean() - 0.5) < MC_SIGMAS * 0.5 / np.sqrt(count)
    assert np.all(trades.size_coin > 0.0)
    assert abs(trades.size_coin.mean() - 0.25) < MC_SIGMAS * trades.size_coin.std() / np.sqrt(count)


def test_trades_are_in_time_order() -> None:
    counts = np.array([5, 0, 7, 3])
    trades = draw_trades(counts, 1_000, PARAMETERS, np.random.default_rng(93))
    times = trades.step_index * 1_000 + trades.offset_ns
    assert np.all(np.diff(times) >= 0)
    np.testing.assert_array_equal(np.bincount(trades.step_index, minlength=4), counts)


def test_drawing_in_chunks_gives_the_same_trades_as_drawing_at_once() -> None:
    counts = trade_counts(100, 10**9, PARAMETERS, np.random.default_rng(94))
    whole = draw_trades(counts, 10**9, PARAMETERS, np.random.default_rng(95))
    rng = np.random.default_rng(95)
    first = draw_trades(counts[:37], 10**9, PARAMETERS, rng)
    second = draw_trades(counts[37:], 10**9, PARAMETERS, rng)
    for field in ("size_coin", "offset_ns", "aggressor"):
        joined = np.concatenate([getattr(first, field), getattr(second, field)])
        np.testing.assert_array_equal(joined, getattr(whole, field))
    chunked_counts = np.random.default_rng(94)
    parts = [trade_counts(n, 10**9, PARAMETERS, chunked_counts) for n in (30, 70)]
    np.testing.assert_array_equal(np.concatenate(parts), counts)
