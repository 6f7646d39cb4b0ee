"""Backtest metrics: how well a run kept its risk inside the bands, and at what cost.

Every metric is computed from the run's ``Recorder`` (``engine/records.py``) and
nothing else, so a backtest and a live run are judged from the same evidence. The
pure functions below take NumPy columns (``Recorder.sample_columns``,
``Recorder.fill_columns``) and carry their unit in their name; ``compute_metrics``
gathers them into a ``BacktestMetrics``, for the whole book and per underlying.

Conventions
-----------
- Time weighting: a sample's value holds from its own timestamp until the next
  sample's (a step function, as the engine saw it); the last sample has no weight.
  When all samples share one timestamp, each counts equally.
- Book equity: every ``RiskSample`` carries the whole book's equity; samples of
  several underlyings at the same ``ts_ns`` are one observation (the last recorded).
- Hedging error: the sample standard deviation (``ddof=1``) of the hedged P&L
  increments, i.e. of the equity change over each sampling interval, in USD; it is
  annualised by ``sqrt(one year / interval)`` (ACT/365). Across several runs or
  paths, it is the sample standard deviation of their terminal hedged P&L. With
  fewer than two values the standard deviation is undefined and returned as NaN.
- Costs: fees plus slippage against the mid, both in USD as recorded per fill
  (a rebate is a negative fee). A trade is a fill of non-zero size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.engine.records import Recorder
from hedgekeeper.errors import UnknownInstrument
from hedgekeeper.policy.decision import Decision
from hedgekeeper.policy.risk_profile import RiskProfile, UnderlyingBands
from hedgekeeper.portfolio.market import NS_PER_YEAR

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The measures a band may constrain (``UnderlyingBands``' fields), in the profile's units.
BAND_MEASURES: tuple[str, ...] = tuple(UnderlyingBands.model_fields)


def _timestamps(ts_ns: ArrayLike) -> IntArray:
    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.size == 0:
        raise ValueError("no samples: a time-weighted metric needs at least one")
    if np.any(np.diff(ts) < 0):
        raise ValueError("timestamps must be non-decreasing")
    return ts


def _durations_ns(ts_ns: IntArray) -> IntArray:
    # Each sample holds until the next one; the last sample holds for no time.
    return np.append(np.diff(ts_ns), 0)


def time_weighted_mean(ts_ns: ArrayLike, values: ArrayLike) -> float:
    """Return the time-weighted mean of a step function sampled at ``ts_ns``, in ``values``' unit.

    Each value holds from its timestamp until the next; the last value has no
    weight. With a single instant (all timestamps equal) the plain mean is returned.

    Parameters
    ----------
    ts_ns : int array, ns since the epoch, non-decreasing, at least one
    values : float array, same length

    Examples
    --------
    >>> time_weighted_mean([0, 1, 4], [10.0, 20.0, 99.0])  # (10 * 1 + 20 * 3) / 4
    17.5
    """
    ts = _timestamps(ts_ns)
    measure = np.asarray(values, dtype=np.float64)
    span_ns = int(ts[-1] - ts[0])
    if span_ns == 0:
        return float(np.mean(measure))
    return float(np.dot(_durations_ns(ts).astype(np.float64), measure)) / span_ns


def time_outside_band_fraction(
    ts_ns: ArrayLike, values: ArrayLike, lower: float, upper: float
) -> float:
    """Return the fraction of time, in [0, 1], that ``values`` spent outside ``[lower, upper]``.

    Time-weighted by the sample spacing (each value holds until the next sample);
    the band's edges count as inside, as in ``Band.contains``, and a NaN counts as
    outside.

    Parameters
    ----------
    ts_ns : int array, ns since the epoch, non-decreasing, at least one
    values : float array, same length, in the band's unit
    lower, upper : float, the band's edges

    Examples
    --------
    Outside on [1, 4) of [0, 10): 3 / 10.

    >>> time_outside_band_fraction([0, 1, 4, 10], [0.0, 3.0, 1.0, 5.0], -2.5, 2.5)
    0.3
    """
    ts = _timestamps(ts_ns)
    measure = np.asarray(values, dtype=np.float64)
    outside = ~((measure >= lower) & (measure <= upper))
    span_ns = int(ts[-1] - ts[0])
    if span_ns == 0:
        return float(np.mean(outside))
    # Integer ns until the one division, so the fraction cannot leave [0, 1].
    return int(np.sum(_durations_ns(ts)[outside])) / span_ns


def hedging_error_usd(equity_usd: ArrayLike) -> float:
    """Return the standard deviation (ddof=1) of the equity change per sampling interval, USD.

    NaN with fewer than two increments (three samples).

    Examples
    --------
    Increments 2, -2, 4, -4: mean 0, variance (4 + 4 + 16 + 16) / 3, std 3.6515.

    >>> hedging_error_usd([100.0, 102.0, 100.0, 104.0, 100.0])
    3.6515
    """
    increments = np.diff(np.asarray(equity_usd, dtype=np.float64))
    return float(np.std(increments, ddof=1)) if increments.size >= 2 else math.nan


def annualised_hedging_error_usd(hedging_error_usd: float, interval_ns: int) -> float:
    """Return a per-interval hedging error scaled to one ACT/365 year, USD.

    ``error * sqrt(year / interval)``: increments assumed independent.

    NaN when ``interval_ns`` is not positive.

    Examples
    --------
    >>> annualised_hedging_error_usd(10.0, 365 * 86_400 * 10**9 // 4)  # a quarter: 10 * sqrt(4)
    20.0
    """
    return hedging_error_usd * math.sqrt(NS_PER_YEAR / interval_ns) if interval_ns > 0 else math.nan


def terminal_hedging_error_usd(terminal_pnl_usd: ArrayLike) -> float:
    """Return the standard deviation (ddof=1) of the terminal hedged P&L across runs or paths, USD.

    Pass each run's ``BacktestMetrics.terminal_pnl_usd``; NaN with fewer than two runs.

    Examples
    --------
    >>> terminal_hedging_error_usd([-10.0, 0.0, 10.0])  # sqrt((100 + 0 + 100) / 2)
    10.0
    """
    pnl = np.asarray(terminal_pnl_usd, dtype=np.float64)
    return float(np.std(pnl, ddof=1)) if pnl.size >= 2 else math.nan


def drawdown_usd(equity_usd: ArrayLike) -> FloatArray:
    """Return the drawdown at each sample: running peak of equity minus equity, USD, >= 0.

    Examples
    --------
    >>> drawdown_usd([100.0, 120.0, 90.0, 130.0])
    array([ 0.,  0., 30.,  0.])
    """
    equity = np.asarray(equity_usd, dtype=np.float64)
    return np.maximum.accumulate(equity) - equity


def max_drawdown_usd(equity_usd: ArrayLike) -> float:
    """Return the largest fall of equity from a previous peak, USD, >= 0 (0 for no samples).

    Examples
    --------
    >>> max_drawdown_usd([100.0, 120.0, 90.0, 130.0, 110.0])  # 120 -> 90
    30.0
    """
    return float(np.max(drawdown_usd(equity_usd), initial=0.0))


def max_drawdown_fraction(equity_usd: ArrayLike) -> float:
    """Return the largest fall of equity from a previous peak, as a fraction of that peak, decimal.

    NaN if a running peak is not positive (the fraction is then undefined); 0 for no samples.

    Examples
    --------
    >>> max_drawdown_fraction([100.0, 120.0, 90.0, 130.0, 110.0])  # 30 / 120
    0.25
    """
    equity = np.asarray(equity_usd, dtype=np.float64)
    peak = np.maximum.accumulate(equity)
    if np.any(peak <= 0):
        return math.nan
    return float(np.max((peak - equity) / peak, initial=0.0))


def min_liquidation_distance_fraction(liquidation_distance: ArrayLike) -> float:
    """Return the smallest recorded spot move to liquidation, fraction (inf if none or no samples).

    Examples
    --------
    >>> min_liquidation_distance_fraction([0.4, float("inf"), 0.25])
    0.25
    """
    return float(np.min(np.asarray(liquidation_distance, dtype=np.float64), initial=math.inf))


def measure_values(columns: Mapping[str, np.ndarray], measure: str) -> FloatArray:
    """Return one banded measure of one underlying from its sample columns, in the band's unit.

    ``delta_usd`` is ``delta_coin * spot_usd``; every other measure is its own column.

    Parameters
    ----------
    columns : ``Recorder.sample_columns(underlying)``
    measure : one of ``BAND_MEASURES``

    Examples
    --------
    >>> measure_values({"delta_coin": np.array([2.0]), "spot_usd": np.array([50.0])}, "delta_usd")
    array([100.])
    """
    if measure not in BAND_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(BAND_MEASURES)}")
    if measure == "delta_usd":
        return np.asarray(columns["delta_coin"], dtype=np.float64) * np.asarray(
            columns["spot_usd"], dtype=np.float64
        )
    return np.asarray(columns[measure], dtype=np.float64)


def pareto_efficient(cost: ArrayLike, risk: ArrayLike) -> NDArray[np.bool_]:
    """Return which points no other point beats on both cost and risk (lower is better for both).

    A point is dominated if another is at most as costly and at most as risky, and
    strictly better on one of the two. Points with a NaN are never efficient.

    Examples
    --------
    >>> pareto_efficient([1.0, 2.0, 3.0, 2.5], [3.0, 1.0, 0.5, 2.0])
    array([ True,  True,  True, False])
    """
    cost_values = np.asarray(cost, dtype=np.float64)
    risk_values = np.asarray(risk, dtype=np.float64)
    no_worse = (cost_values[None, :] <= cost_values[:, None]) & (
        risk_values[None, :] <= risk_values[:, None]
    )
    better = (cost_values[None, :] < cost_values[:, None]) | (
        risk_values[None, :] < risk_values[:, None]
    )
    dominated = np.any(no_worse & better, axis=1)
    return ~dominated & np.isfinite(cost_values) & np.isfinite(risk_values)


def cost_at_risk(points: Sequence[tuple[float, float]], risk: float) -> float:
    """Return the lowest cost reached at ``risk`` along the efficient frontier of (risk, cost) points.

    Linear between Pareto-efficient points; NaN outside their range of risk, or with none.

    >>> cost_at_risk([(10.0, 100.0), (20.0, 50.0), (18.0, 120.0)], 15.0)  # (18, 120) is dominated
    75.0
    >>> math.isnan(cost_at_risk([(10.0, 100.0), (20.0, 50.0)], 25.0))
    True
    """
    if not points:
        return math.nan
    risks = np.array([p[0] for p in points], dtype=np.float64)
    costs = np.array([p[1] for p in points], dtype=np.float64)
    efficient = pareto_efficient(costs, risks)
    if not efficient.any():
        return math.nan
    order = np.argsort(risks[efficient])
    x, y = risks[efficient][order], costs[efficient][order]
    if not x[0] <= risk <= x[-1]:
        return math.nan
    return float(np.interp(risk, x, y))


@dataclass(frozen=True, slots=True)
class CostMetrics:
    """What trading cost, from the fills.

    Attributes
    ----------
    fees_usd : float, sum of fees paid, USD (rebates negative)
    slippage_usd : float, sum of slippage against the mid, USD
    total_cost_usd : float, fees plus slippage, USD
    trade_count : int, fills of non-zero size
    turnover_usd : float, sum of absolute notional traded, USD
    turnover_multiple : float, turnover over the time-weighted average book equity
        (NaN if that average is not positive)
    """

    fees_usd: float
    slippage_usd: float
    total_cost_usd: float
    trade_count: int
    turnover_usd: float
    turnover_multiple: float

    @classmethod
    def from_fills(cls, fills: Mapping[str, np.ndarray], average_equity_usd: float) -> CostMetrics:
        """Return the costs of fills given as ``Recorder.fill_columns()``.

        Examples
        --------
        >>> fills = {"fee_usd": np.array([1.0, 2.0]), "slippage_usd": np.array([0.5, -0.25]),
        ...          "notional_usd": np.array([1000.0, 3000.0]),
        ...          "size_contracts": np.array([1.0, -3.0])}
        >>> CostMetrics.from_fills(fills, average_equity_usd=8000.0)
        CostMetrics(fees_usd=3.0, slippage_usd=0.25, total_cost_usd=3.25, trade_count=2,
                    turnover_usd=4000.0, turnover_multiple=0.5)
        """
        fees = float(np.sum(fills["fee_usd"], dtype=np.float64))
        slippage = float(np.sum(fills["slippage_usd"], dtype=np.float64))
        turnover = float(np.sum(fills["notional_usd"], dtype=np.float64))
        return cls(
            fees_usd=fees,
            slippage_usd=slippage,
            total_cost_usd=fees + slippage,
            trade_count=int(np.count_nonzero(fills["size_contracts"])),
            turnover_usd=turnover,
            turnover_multiple=turnover / average_equity_usd if average_equity_usd > 0 else math.nan,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostMetrics:
        """Return the costs from ``asdict``'s output (numbers may be strings such as ``"inf"``)."""
        return cls(
            fees_usd=float(data["fees_usd"]),
            slippage_usd=float(data["slippage_usd"]),
            total_cost_usd=float(data["total_cost_usd"]),
            trade_count=int(data["trade_count"]),
            turnover_usd=float(data["turnover_usd"]),
            turnover_multiple=float(data["turnover_multiple"]),
        )


@dataclass(frozen=True, slots=True)
class TriggerCounts:
    """How many decisions one trigger produced, acted on and skipped."""

    acted: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class DecisionCounts:
    """How many decisions were acted on and skipped, in all and per trigger.

    Attributes
    ----------
    acted, skipped : int
    by_trigger : trigger name (``""`` when none fired) to its counts, in first-seen order
    """

    acted: int
    skipped: int
    by_trigger: dict[str, TriggerCounts] = field(default_factory=dict)

    @classmethod
    def from_decisions(cls, decisions: Iterable[Decision]) -> DecisionCounts:
        """Return the counts of ``decisions``.

        Examples
        --------
        >>> counts = DecisionCounts.from_decisions([Decision(0, "BTC", True, "threshold"),
        ...     Decision(1, "BTC", False, "threshold"), Decision(2, "BTC", False)])
        >>> counts.acted, counts.skipped, counts.by_trigger["threshold"]
        (1, 2, TriggerCounts(acted=1, skipped=1))
        """
        acted = skipped = 0
        by_trigger: dict[str, list[int]] = {}
        for decision in decisions:
            counts = by_trigger.setdefault(decision.trigger, [0, 0])
            counts[0 if decision.act else 1] += 1
            acted += decision.act
            skipped += not decision.act
        return cls(
            acted, skipped, {name: TriggerCounts(*counts) for name, counts in by_trigger.items()}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionCounts:
        """Return the counts from ``asdict``'s output."""
        return cls(
            acted=int(data["acted"]),
            skipped=int(data["skipped"]),
            by_trigger={
                name: TriggerCounts(int(counts["acted"]), int(counts["skipped"]))
                for name, counts in data["by_trigger"].items()
            },
        )


@dataclass(frozen=True, slots=True)
class UnderlyingMetrics:
    """One underlying's metrics.

    Attributes
    ----------
    underlying : str
    time_outside_band_fraction : measure with a band (see ``BAND_MEASURES``) to the
        fraction of time spent outside it, in [0, 1]
    min_liquidation_distance_fraction : float, smallest spot move of this underlying to
        liquidation, fraction (inf if none)
    decisions : DecisionCounts, this underlying's decisions
    costs : CostMetrics of the fills in this underlying's instruments, or None when
        fills were not attributed to underlyings
    """

    underlying: str
    time_outside_band_fraction: dict[str, float]
    min_liquidation_distance_fraction: float
    decisions: DecisionCounts
    costs: CostMetrics | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnderlyingMetrics:
        """Return the metrics from ``asdict``'s output."""
        return cls(
            underlying=str(data["underlying"]),
            time_outside_band_fraction={
                name: float(value) for name, value in data["time_outside_band_fraction"].items()
            },
            min_liquidation_distance_fraction=float(data["min_liquidation_distance_fraction"]),
            decisions=DecisionCounts.from_dict(data["decisions"]),
            costs=None if data["costs"] is None else CostMetrics.from_dict(data["costs"]),
        )


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    """A run's metrics, for the whole book and per underlying.

    Attributes
    ----------
    start_ns, end_ns : int, first and last sample, ns since the epoch
    sample_interval_ns : int, the sampling interval used to annualise (median
        spacing of the book's equity samples unless given), ns
    hedging_error_usd : float, std of the equity change per sampling interval, USD
    hedging_error_annualised_usd : float, the same over one ACT/365 year, USD
    terminal_pnl_usd : float, last equity minus first, USD (costs included)
    average_equity_usd : float, time-weighted average book equity, USD
    max_drawdown_usd : float, largest fall of equity from a peak, USD
    max_drawdown_fraction : float, the same over the peak, decimal
    min_liquidation_distance_fraction : float, smallest spot move to liquidation, fraction
    costs : CostMetrics, all fills
    decisions : DecisionCounts, all decisions
    underlyings : underlying to its ``UnderlyingMetrics``, in first-recorded order
    """

    start_ns: int
    end_ns: int
    sample_interval_ns: int
    hedging_error_usd: float
    hedging_error_annualised_usd: float
    terminal_pnl_usd: float
    average_equity_usd: float
    max_drawdown_usd: float
    max_drawdown_fraction: float
    min_liquidation_distance_fraction: float
    costs: CostMetrics
    decisions: DecisionCounts
    underlyings: dict[str, UnderlyingMetrics]

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as nested plain dicts, numbers and strings (``from_dict``'s input)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BacktestMetrics:
        """Return the metrics from ``to_dict``'s output; a number may be a string (``"inf"``)."""
        return cls(
            start_ns=int(data["start_ns"]),
            end_ns=int(data["end_ns"]),
            sample_interval_ns=int(data["sample_interval_ns"]),
            hedging_error_usd=float(data["hedging_error_usd"]),
            hedging_error_annualised_usd=float(data["hedging_error_annualised_usd"]),
            terminal_pnl_usd=float(data["terminal_pnl_usd"]),
            average_equity_usd=float(data["average_equity_usd"]),
            max_drawdown_usd=float(data["max_drawdown_usd"]),
            max_drawdown_fraction=float(data["max_drawdown_fraction"]),
            min_liquidation_distance_fraction=float(data["min_liquidation_distance_fraction"]),
            costs=CostMetrics.from_dict(data["costs"]),
            decisions=DecisionCounts.from_dict(data["decisions"]),
            underlyings={
                name: UnderlyingMetrics.from_dict(item)
                for name, item in data["underlyings"].items()
            },
        )


def book_equity(recorder: Recorder) -> tuple[IntArray, FloatArray]:
    """Return the book's equity over time: one observation per distinct timestamp, sorted.

    Samples of several underlyings at the same ``ts_ns`` carry the same book
    equity; the last one recorded is kept.

    Returns
    -------
    ts_ns : int array, ns since the epoch, increasing
    equity_usd : float array, USD
    """
    ts = np.array([sample.ts_ns for sample in recorder.samples], dtype=np.int64)
    equity = np.array([sample.equity_usd for sample in recorder.samples], dtype=np.float64)
    order = np.argsort(ts, kind="stable")
    ts, equity = ts[order], equity[order]
    last_at_instant = np.append(ts[1:] != ts[:-1], True) if ts.size else np.zeros(0, dtype=bool)
    return ts[last_at_instant], equity[last_at_instant]


def _underlying_of_fills(
    recorder: Recorder, instrument_underlyings: Mapping[str, str]
) -> list[str]:
    underlyings = []
    for fill in recorder.fills:
        if fill.instrument_id not in instrument_underlyings:
            raise UnknownInstrument(
                f"fill of {fill.instrument_id!r} at ts_ns {fill.ts_ns}: its underlying is not in "
                "instrument_underlyings"
            )
        underlyings.append(instrument_underlyings[fill.instrument_id])
    return underlyings


def _underlying_metrics(
    recorder: Recorder, profile: RiskProfile, underlying: str, costs: CostMetrics | None
) -> UnderlyingMetrics:
    columns = recorder.sample_columns(underlying)
    bands = profile.bands(underlying)
    time_outside = {}
    if columns["ts_ns"].size:
        for measure in BAND_MEASURES:
            band = getattr(bands, measure)
            if band is not None:
                values = measure_values(columns, measure)
                time_outside[measure] = time_outside_band_fraction(
                    columns["ts_ns"], values, band.lower, band.upper
                )
    return UnderlyingMetrics(
        underlying=underlying,
        time_outside_band_fraction=time_outside,
        min_liquidation_distance_fraction=min_liquidation_distance_fraction(
            columns["liquidation_distance"]
        ),
        decisions=DecisionCounts.from_decisions(
            d for d in recorder.decisions if d.underlying == underlying
        ),
        costs=costs,
    )


def compute_metrics(
    recorder: Recorder,
    profile: RiskProfile,
    *,
    sample_interval_ns: int | None = None,
    instrument_underlyings: Mapping[str, str] | None = None,
) -> BacktestMetrics:
    """Return a run's metrics from its records.

    Parameters
    ----------
    recorder : the run's records; at least one risk sample
    profile : the bands the run was held to (time outside is reported per band)
    sample_interval_ns : the sampling interval used to annualise the hedging error,
        ns; the median spacing of the book's equity samples when None
    instrument_underlyings : instrument id to underlying; when given, costs are also
        reported per underlying, and a fill of an instrument missing from it raises
        ``UnknownInstrument``

    Raises
    ------
    ValueError
        If no risk sample was recorded, or an underlying's samples go back in time.
    """
    if not recorder.samples:
        raise ValueError("no risk samples recorded: the run's metrics are undefined")
    ts_ns, equity_usd = book_equity(recorder)
    if sample_interval_ns is None:
        sample_interval_ns = int(np.median(np.diff(ts_ns))) if ts_ns.size >= 2 else 0
    average_equity = time_weighted_mean(ts_ns, equity_usd)
    fills = recorder.fill_columns()
    fill_underlyings = (
        None
        if instrument_underlyings is None
        else np.array(_underlying_of_fills(recorder, instrument_underlyings), dtype=np.str_)
    )
    names = dict.fromkeys(
        [s.underlying for s in recorder.samples] + [d.underlying for d in recorder.decisions]
    )
    per_underlying = {}
    for name in names:
        costs = None
        if fill_underlyings is not None:
            mine = fill_underlyings == name
            costs = CostMetrics.from_fills(
                {key: column[mine] for key, column in fills.items()}, average_equity
            )
        per_underlying[name] = _underlying_metrics(recorder, profile, name, costs)
    error = hedging_error_usd(equity_usd)
    return BacktestMetrics(
        start_ns=int(ts_ns[0]),
        end_ns=int(ts_ns[-1]),
        sample_interval_ns=sample_interval_ns,
        hedging_error_usd=error,
        hedging_error_annualised_usd=annualised_hedging_error_usd(error, sample_interval_ns),
        terminal_pnl_usd=float(equity_usd[-1] - equity_usd[0]),
        average_equity_usd=average_equity,
        max_drawdown_usd=max_drawdown_usd(equity_usd),
        max_drawdown_fraction=max_drawdown_fraction(equity_usd),
        min_liquidation_distance_fraction=min_liquidation_distance_fraction(
            [s.liquidation_distance for s in recorder.samples]
        ),
        costs=CostMetrics.from_fills(fills, average_equity),
        decisions=DecisionCounts.from_decisions(recorder.decisions),
        underlyings=per_underlying,
    )
