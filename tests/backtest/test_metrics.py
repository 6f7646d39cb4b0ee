"""Backtest metrics: known answers on hand-built records, and properties that always hold."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.backtest.metrics import (
    BacktestMetrics,
    compute_metrics,
    max_drawdown_fraction,
    max_drawdown_usd,
    pareto_efficient,
    terminal_hedging_error_usd,
    time_outside_band_fraction,
    time_weighted_mean,
)
from hedgekeeper.engine.records import FillRecord, Recorder, RiskSample
from hedgekeeper.errors import UnknownInstrument
from hedgekeeper.policy.decision import Decision
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.market import NS_PER_YEAR

MINUTE_NS = 60 * 10**9
NO_BANDS = load_risk_profile({})


def _sample(
    ts_ns: int,
    equity_usd: float,
    *,
    underlying: str = "BTC",
    delta_coin: float = 0.0,
    spot_usd: float = 100_000.0,
    weight: float = 0.0,
    liquidation_distance: float = math.inf,
) -> RiskSample:
    return RiskSample(
        ts_ns, underlying, spot_usd, delta_coin, 0.0, 0.0, weight, equity_usd, liquidation_distance
    )


def _fill(
    ts_ns: int, instrument_id: str, size: float, notional: float, fee: float, slippage: float
) -> FillRecord:
    return FillRecord(ts_ns, instrument_id, "deribit", size, 100.0, 100.0, notional, fee, slippage)


def _equity_path(equity_usd: Sequence[float], step_ns: int = MINUTE_NS) -> Recorder:
    return Recorder(samples=[_sample(i * step_ns, value) for i, value in enumerate(equity_usd)])


def _same(first: BacktestMetrics, second: BacktestMetrics) -> bool:
    # JSON text compares NaN equal to NaN and floats exactly.
    return json.dumps(first.to_dict()) == json.dumps(second.to_dict())


def test_hedging_error_is_sample_std_of_equity_increments_and_annualises_by_interval() -> None:
    metrics = compute_metrics(_equity_path([100.0, 102.0, 100.0, 104.0, 100.0]), NO_BANDS)
    # Increments 2, -2, 4, -4: mean 0, sum of squares 40, ddof=1 -> variance 40 / 3.
    assert metrics.hedging_error_usd == pytest.approx(math.sqrt(40 / 3), rel=1e-15)
    # One-minute samples: 525,600 intervals in an ACT/365 year.
    assert metrics.sample_interval_ns == MINUTE_NS
    assert metrics.hedging_error_annualised_usd == pytest.approx(
        math.sqrt(40 / 3 * 525_600), rel=1e-14
    )
    assert metrics.terminal_pnl_usd == 0.0


def test_hedging_error_annualises_with_a_given_interval() -> None:
    metrics = compute_metrics(
        _equity_path([0.0, 1.0, 3.0]), NO_BANDS, sample_interval_ns=NS_PER_YEAR // 4
    )
    # Increments 1, 2: std sqrt(0.5); a quarter-year interval scales by sqrt(4).
    assert metrics.hedging_error_annualised_usd == pytest.approx(2 * math.sqrt(0.5), rel=1e-15)


def test_hedging_error_of_two_samples_is_undefined() -> None:
    metrics = compute_metrics(_equity_path([100.0, 101.0]), NO_BANDS)
    assert math.isnan(metrics.hedging_error_usd) and math.isnan(
        metrics.hedging_error_annualised_usd
    )


def test_terminal_hedging_error_is_std_of_terminal_pnl_across_runs() -> None:
    runs = [
        compute_metrics(_equity_path([100.0, 100.0 + pnl]), NO_BANDS) for pnl in (-3.0, 1.0, 5.0)
    ]
    # Terminal P&L -3, 1, 5: mean 1, squares 16 + 0 + 16, ddof=1 -> variance 16.
    assert terminal_hedging_error_usd([run.terminal_pnl_usd for run in runs]) == 4.0
    assert math.isnan(terminal_hedging_error_usd([1.0]))


def test_time_outside_band_is_weighted_by_uneven_sample_spacing() -> None:
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    deltas = [0.0, 3.0, 1.0, -3.0, -2.5, 0.0]
    times = [0, 10, 40, 45, 70, 100]
    recorder = Recorder(
        samples=[_sample(ts, 1e6, delta_coin=d) for ts, d in zip(times, deltas, strict=True)]
    )
    # Outside on [10, 40) (3.0) and [45, 70) (-3.0); -2.5 is on the edge, inside: (30 + 25) / 100.
    assert compute_metrics(recorder, profile).underlyings["BTC"].time_outside_band_fraction == {
        "delta_coin": 0.55
    }


def test_time_outside_band_ignores_the_last_samples_value() -> None:
    # The last sample holds for no time: a breach at the very end is 0% of the run.
    assert time_outside_band_fraction([0, 60, 120], [0.0, 0.0, 9.0], -1.0, 1.0) == 0.0


def test_time_outside_band_counts_samples_when_all_share_one_instant() -> None:
    assert time_outside_band_fraction([5, 5, 5, 5], [0.0, 2.0, 0.0, 2.0], -1.0, 1.0) == 0.5


def test_time_outside_a_usd_delta_band_uses_delta_coin_times_spot() -> None:
    profile = load_risk_profile({"ETH": {"delta_usd": {"target": 0.0, "width": 10_000.0}}})
    # 4 ETH at 2,000 = 8,000 USD (inside); 4 ETH at 3,000 = 12,000 USD (outside) for 30 of 40 ns.
    samples = [
        _sample(0, 1e6, underlying="ETH", delta_coin=4.0, spot_usd=2_000.0),
        _sample(10, 1e6, underlying="ETH", delta_coin=4.0, spot_usd=3_000.0),
        _sample(40, 1e6, underlying="ETH", delta_coin=4.0, spot_usd=3_000.0),
    ]
    metrics = compute_metrics(Recorder(samples=samples), profile)
    assert metrics.underlyings["ETH"].time_outside_band_fraction == {"delta_usd": 0.75}


def test_drawdown_on_a_known_path() -> None:
    equity = [100.0, 120.0, 90.0, 130.0, 110.0, 125.0]
    metrics = compute_metrics(_equity_path(equity), NO_BANDS)
    # Peak 120 then trough 90: 30 USD, 25% of the peak; 130 -> 110 is only 20 USD (15.4%).
    assert (metrics.max_drawdown_usd, metrics.max_drawdown_fraction) == (30.0, 0.25)


def test_drawdown_fraction_is_undefined_without_a_positive_peak() -> None:
    assert math.isnan(max_drawdown_fraction([-5.0, -10.0]))
    assert max_drawdown_usd([-5.0, -10.0]) == 5.0


def test_costs_turnover_and_trades_from_fills() -> None:
    recorder = Recorder(
        samples=[_sample(0, 6_000.0), _sample(30, 12_000.0), _sample(40, 0.0)],
        fills=[
            _fill(5, "BTC-PERPETUAL", 1.0, 1_000.0, 1.0, 0.5),
            _fill(8, "BTC-PERPETUAL", -3.0, 3_000.0, 2.0, -0.25),
            _fill(9, "BTC-PERPETUAL", 0.0, 0.0, 0.0, 0.0),
        ],
    )
    costs = compute_metrics(recorder, NO_BANDS).costs
    assert (costs.fees_usd, costs.slippage_usd, costs.total_cost_usd) == (3.0, 0.25, 3.25)
    assert (costs.trade_count, costs.turnover_usd) == (2, 4_000.0)
    # Time-weighted equity: (6,000 * 30 + 12,000 * 10) / 40 = 7,500; turnover 4,000 / 7,500.
    assert costs.turnover_multiple == pytest.approx(4_000.0 / 7_500.0, rel=1e-15)


def test_costs_per_underlying_follow_the_instrument_map() -> None:
    recorder = Recorder(
        samples=[
            _sample(0, 1e5),
            _sample(0, 1e5, underlying="ETH"),
            _sample(10, 1e5),
            _sample(10, 1e5, underlying="ETH"),
        ],
        fills=[
            _fill(1, "BTC-PERP", 1.0, 100.0, 1.0, 0.0),
            _fill(2, "ETH-PERP", 1.0, 50.0, 0.5, 0.25),
        ],
    )
    mapping = {"BTC-PERP": "BTC", "ETH-PERP": "ETH"}
    metrics = compute_metrics(recorder, NO_BANDS, instrument_underlyings=mapping)
    assert metrics.underlyings["BTC"].costs.total_cost_usd == 1.0
    assert metrics.underlyings["ETH"].costs.total_cost_usd == 0.75
    assert metrics.costs.total_cost_usd == 1.75
    assert compute_metrics(recorder, NO_BANDS).underlyings["BTC"].costs is None
    with pytest.raises(UnknownInstrument, match="ETH-PERP"):
        compute_metrics(recorder, NO_BANDS, instrument_underlyings={"BTC-PERP": "BTC"})


def test_book_equity_counts_one_observation_per_instant_across_underlyings() -> None:
    samples = [
        _sample(0, 100.0),
        _sample(0, 100.0, underlying="ETH"),
        _sample(60, 103.0),
        _sample(60, 103.0, underlying="ETH"),
        _sample(120, 101.0),
        _sample(120, 101.0, underlying="ETH"),
    ]
    metrics = compute_metrics(Recorder(samples=samples), NO_BANDS)
    # Increments 3, -2 (not 3, 0, -2, 0): mean 0.5, squares 6.25 + 6.25, ddof=1 -> std sqrt(12.5).
    assert metrics.hedging_error_usd == pytest.approx(math.sqrt(12.5), rel=1e-15)
    assert metrics.sample_interval_ns == 60


def test_minimum_liquidation_distance_per_underlying_and_overall() -> None:
    samples = [
        _sample(0, 1e5, liquidation_distance=0.4),
        _sample(0, 1e5, underlying="ETH", liquidation_distance=math.inf),
        _sample(9, 1e5, liquidation_distance=0.3),
    ]
    metrics = compute_metrics(Recorder(samples=samples), NO_BANDS)
    assert metrics.min_liquidation_distance_fraction == 0.3
    assert metrics.underlyings["ETH"].min_liquidation_distance_fraction == math.inf


def test_decisions_are_counted_acted_and_skipped_per_trigger_and_underlying() -> None:
    decisions = [
        Decision(1, "BTC", True, "threshold"),
        Decision(2, "BTC", False, "threshold"),
        Decision(3, "ETH", True, "time"),
        Decision(4, "ETH", False),
        Decision(5, "BTC", True, "hard_limit:liquidation", forced=True),
    ]
    recorder = Recorder(
        samples=[_sample(0, 1e5), _sample(0, 1e5, underlying="ETH")], decisions=decisions
    )
    metrics = compute_metrics(recorder, NO_BANDS)
    assert (metrics.decisions.acted, metrics.decisions.skipped) == (3, 2)
    assert {name: (c.acted, c.skipped) for name, c in metrics.decisions.by_trigger.items()} == {
        "threshold": (1, 1),
        "time": (1, 0),
        "": (0, 1),
        "hard_limit:liquidation": (1, 0),
    }
    btc = metrics.underlyings["BTC"].decisions
    assert (btc.acted, btc.skipped, list(btc.by_trigger)) == (
        2,
        1,
        ["threshold", "hard_limit:liquidation"],
    )


def test_metrics_need_samples_in_time_order() -> None:
    with pytest.raises(ValueError, match="no risk samples"):
        compute_metrics(Recorder(), NO_BANDS)
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 1.0}}})
    with pytest.raises(ValueError, match="non-decreasing"):
        compute_metrics(Recorder(samples=[_sample(10, 1.0), _sample(5, 1.0)]), profile)


def test_metrics_round_trip_through_a_plain_dict() -> None:
    recorder = Recorder(
        samples=[_sample(0, 100.0, liquidation_distance=0.5), _sample(60, 90.0), _sample(90, 95.0)],
        decisions=[Decision(10, "BTC", True, "threshold")],
        fills=[_fill(11, "BTC-PERP", 1.0, 10.0, 0.1, 0.2)],
    )
    profile = load_risk_profile({"BTC": {"weight": {"target": 0.0, "width": 0.1}}})
    metrics = compute_metrics(recorder, profile, instrument_underlyings={"BTC-PERP": "BTC"})
    assert BacktestMetrics.from_dict(metrics.to_dict()) == metrics


def test_pareto_efficient_keeps_ties_and_drops_dominated_points() -> None:
    efficient = pareto_efficient([1.0, 1.0, 2.0, 0.5, np.nan], [2.0, 2.0, 1.0, 3.0, 0.1])
    # Equal points do not dominate each other; (2, 1) is cheaper on risk; NaN never counts.
    assert efficient.tolist() == [True, True, True, True, False]
    assert pareto_efficient([1.0, 2.0], [1.0, 1.0]).tolist() == [True, False]


equities = st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=60)


@given(equities)
def test_max_drawdown_is_nonnegative_and_at_most_the_range(equity: list[float]) -> None:
    drawdown = max_drawdown_usd(equity)
    assert 0.0 <= drawdown <= max(equity) - min(equity)


@given(st.lists(st.floats(1e-3, 1e12), min_size=1, max_size=60))
def test_max_drawdown_fraction_of_positive_equity_is_in_unit_interval(equity: list[float]) -> None:
    assert 0.0 <= max_drawdown_fraction(equity) <= 1.0


@st.composite
def banded_paths(draw: st.DrawFn) -> tuple[list[int], list[float], float, float]:
    size = draw(st.integers(1, 40))
    ts = sorted(draw(st.lists(st.integers(0, 2**62), min_size=size, max_size=size)))
    values = draw(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=size, max_size=size)
    )
    lower, upper = sorted(draw(st.lists(st.floats(-1e9, 1e9), min_size=2, max_size=2)))
    return ts, values, lower, upper


@given(banded_paths())
def test_time_outside_band_is_a_fraction(path: tuple[list[int], list[float], float, float]) -> None:
    ts, values, lower, upper = path
    fraction = time_outside_band_fraction(ts, values, lower, upper)
    assert 0.0 <= fraction <= 1.0
    inside_everywhere = time_outside_band_fraction(ts, [lower] * len(ts), lower, upper)
    assert inside_everywhere == 0.0


@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=30), st.floats(-1e9, 1e9))
def test_time_weighted_mean_of_a_constant_is_the_constant(times: list[int], value: float) -> None:
    ts = sorted(times)
    assert time_weighted_mean(ts, [value] * len(ts)) == pytest.approx(value, rel=1e-12, abs=1e-300)


@st.composite
def recorders(draw: st.DrawFn) -> Recorder:
    size = draw(st.integers(1, 20))
    gaps = draw(st.lists(st.integers(0, 10**12), min_size=size, max_size=size))
    equity = draw(st.lists(st.floats(1.0, 1e9), min_size=size, max_size=size))
    deltas = draw(st.lists(st.floats(-10.0, 10.0), min_size=size, max_size=size))
    samples = [
        _sample(int(ts), e, delta_coin=d)
        for ts, e, d in zip(np.cumsum(gaps), equity, deltas, strict=True)
    ]
    fills = [
        _fill(int(ts), "BTC-PERP", size_, abs(size_) * 100.0, fee, slip)
        for ts, size_, fee, slip in draw(
            st.lists(
                st.tuples(
                    st.integers(0, 10**13),
                    st.floats(-5.0, 5.0),
                    st.floats(-1.0, 10.0),
                    st.floats(-10.0, 10.0),
                ),
                max_size=6,
            )
        )
    ]
    return Recorder(samples=samples, fills=fills)


@given(recorders(), st.integers(0, 10**13), st.integers(0, 10))
def test_adding_a_zero_size_fill_changes_nothing(
    recorder: Recorder, ts_ns: int, position: int
) -> None:
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.0}}})
    before = compute_metrics(recorder, profile, instrument_underlyings={"BTC-PERP": "BTC"})
    fills = list(recorder.fills)
    fills.insert(min(position, len(fills)), _fill(ts_ns, "BTC-PERP", 0.0, 0.0, 0.0, 0.0))
    with_empty_fill = Recorder(samples=recorder.samples, decisions=recorder.decisions, fills=fills)
    assert _same(
        compute_metrics(with_empty_fill, profile, instrument_underlyings={"BTC-PERP": "BTC"}),
        before,
    )


@given(recorders(), st.floats(-1e6, 1e6))
def test_hedging_error_and_drawdown_ignore_a_constant_equity_shift(
    recorder: Recorder, shift: float
) -> None:
    shifted = Recorder(
        samples=[
            RiskSample(
                s.ts_ns,
                s.underlying,
                s.spot_usd,
                s.delta_coin,
                s.gamma_usd_per_pct,
                s.vega_usd_per_vol_pt,
                s.weight,
                s.equity_usd + shift,
                s.liquidation_distance,
            )
            for s in recorder.samples
        ]
    )
    base, moved = (
        compute_metrics(recorder, RiskProfile({})),
        compute_metrics(shifted, RiskProfile({})),
    )
    scale = max(abs(s.equity_usd) for s in recorder.samples) + abs(shift)
    assert moved.max_drawdown_usd == pytest.approx(base.max_drawdown_usd, abs=1e-12 * scale)
    if not math.isnan(base.hedging_error_usd):
        assert moved.hedging_error_usd == pytest.approx(base.hedging_error_usd, abs=1e-12 * scale)
