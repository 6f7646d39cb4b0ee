"""Funding: payment times on the interval grid since the epoch; the clipped premium rate."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.market.simulators.funding import FundingParameters, funding_rates, funding_times_ns

HOUR_NS = 3_600 * 10**9
PARAMETERS = FundingParameters(base_rate=0.0001, premium_sensitivity=0.02, cap=0.001)


def test_funding_is_paid_every_eight_hours_at_utc_multiples() -> None:
    start = 1_750_032_000 * 10**9 + 5 * HOUR_NS  # 05:00 UTC
    times = funding_times_ns(start, start + 48 * HOUR_NS, PARAMETERS)
    assert times.size == 6 and np.all(np.diff(times) == 8 * HOUR_NS)
    assert np.all(times % (8 * HOUR_NS) == 0) and times[0] == start + 3 * HOUR_NS


def test_funding_window_is_half_open() -> None:
    start = 1_750_032_000 * 10**9
    times = funding_times_ns(start, start + 8 * HOUR_NS, PARAMETERS)
    np.testing.assert_array_equal(times, [start])


def test_funding_rate_follows_the_premium_and_is_capped() -> None:
    rates = funding_rates(np.array([100.0, 101.0, 150.0, 50.0]), 100.0, PARAMETERS)
    assert rates[0] == pytest.approx(0.0001)
    assert rates[1] == pytest.approx(0.0001 + 0.02 * np.log(1.01))
    np.testing.assert_allclose(rates[2:], [0.001, -0.001])
