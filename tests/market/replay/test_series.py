"""Step series: last value at or before a time, never a later one."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.market.replay.series import StepSeries


def test_values_at_never_look_ahead() -> None:
    series = StepSeries.from_points([(100, 1.0), (200, 2.0), (300, 3.0)])
    np.testing.assert_array_equal(series.values_at([99, 100, 199, 200, 10_000]), [np.nan, 1.0, 1.0, 2.0, 3.0])


def test_max_age_turns_an_old_value_into_nan() -> None:
    series = StepSeries.from_points([(100, 1.0)])
    assert series.value_at(150, max_age_ns=50) == 1.0
    assert np.isnan(series.value_at(151, max_age_ns=50))


def test_a_repeated_stamp_keeps_the_last_value() -> None:
    series = StepSeries.from_points([(100, 1.0), (100, 1.5), (200, 2.0)])
    assert series.ts_ns.tolist() == [100, 200] and series.value_at(100) == 1.5


def test_points_out_of_time_order_are_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        StepSeries.from_points([(200, 1.0), (100, 2.0)])
