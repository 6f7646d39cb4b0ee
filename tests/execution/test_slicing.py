"""Slicing: whole lots that sum exactly to the parent and stay within half a lot of the trajectory."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.execution.slicing import lot_rounded_slices, twap_schedule, whole_lots

LOTS = st.sampled_from([Decimal("0.001"), Decimal("0.1"), Decimal(1), Decimal(10), Decimal("0.25")])


@given(lot=LOTS, parent_lots=st.integers(0, 10**7), count=st.integers(1, 300),
       horizon_ns=st.integers(0, 10**13), start_ns=st.integers(0, 2 * 10**18))
def test_twap_slices_are_equal_to_a_lot_and_sum_exactly_to_the_parent(
    lot: Decimal, parent_lots: int, count: int, horizon_ns: int, start_ns: int
) -> None:
    parent = parent_lots * lot
    slices = twap_schedule(parent, lot, start_ns, horizon_ns, count)
    assert sum((s.size_coin for s in slices), Decimal(0)) == parent
    low, high = parent_lots // count, -(-parent_lots // count)
    assert all(s.size_coin / lot in (low, high) and s.size_coin > 0 for s in slices)
    assert len(slices) == (count if low > 0 else parent_lots)
    times = {start_ns + j * horizon_ns // count for j in range(count)}
    assert all(s.ts_ns in times for s in slices)
    assert [s.ts_ns for s in slices] == sorted(s.ts_ns for s in slices)


def test_twap_spaces_slices_at_fixed_intervals_from_the_start() -> None:
    slices = twap_schedule("3", "1", 1_000, 3_000_000_000, 3)
    assert [(s.ts_ns, s.size_coin) for s in slices] == [
        (1_000, Decimal(1)), (1_000_001_000, Decimal(1)), (2_000_001_000, Decimal(1))]


@given(fractions=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50), parent_lots=st.integers(0, 10**6))
def test_rounded_cumulative_sizes_stay_within_half_a_lot_of_the_trajectory(
    fractions: list[float], parent_lots: int
) -> None:
    cumulative = np.sort(np.array(fractions))
    cumulative[-1] = 1.0
    times = list(range(cumulative.size))
    slices = lot_rounded_slices(cumulative, times, Decimal(parent_lots) * Decimal("0.01"), "0.01")
    done_lots = np.zeros(cumulative.size)
    for s in slices:
        done_lots[s.ts_ns] = s.size_coin / Decimal("0.01")
    np.testing.assert_array_less(np.abs(np.cumsum(done_lots) - cumulative * parent_lots), 0.5 + 1e-9)
    assert np.cumsum(done_lots)[-1] == parent_lots


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: twap_schedule("1.05", "0.1", 0, 10, 2), "not a whole number of lots of 0.1"),
        (lambda: twap_schedule("1", "0", 0, 10, 2), "lot_coin must be > 0"),
        (lambda: twap_schedule("-1", "1", 0, 10, 2), "size_coin must be >= 0"),
        (lambda: twap_schedule("1", "1", 0, 10, 0), "slice_count must be >= 1"),
        (lambda: twap_schedule("1", "1", 0, -10, 2), "horizon_ns must be >= 0"),
        (lambda: lot_rounded_slices([0.6, 0.4, 1.0], [0, 1, 2], "1", "1"), "non-decreasing"),
        (lambda: lot_rounded_slices([0.5, 1.0], [0], "1", "1"), "one cumulative fraction per slice time"),
        (lambda: whole_lots("nan", "1"), "must be finite"),
    ],
)
def test_bad_schedules_are_refused_naming_the_problem(call, message: str) -> None:
    with pytest.raises(BadData, match=message):
        call()
