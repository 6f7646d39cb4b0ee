"""Triggers: act when a measure leaves its band, when time passes, or when the price moves.

Each trigger holds parameters only and decides from its ``PolicyInput`` alone:

- ``ThresholdPolicy`` (trigger ``"threshold"``): a banded measure left its band, or
  strayed from its target by more than a relative tolerance;
- ``TimePolicy`` (``"time"``): a fixed interval elapsed since the last rebalance;
- ``OracleDeviationPolicy`` (``"oracle_deviation"``, ``"oracle_deviation:heartbeat"``):
  the reference price moved more than a fraction since the last rebalance, or a
  heartbeat elapsed.

The first decision of an underlying (no rebalance remembered) acts for the time and
oracle triggers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hedgekeeper.policy.base import (
    BandedMeasure,
    HedgeTo,
    Interval,
    banded_measures,
    decision_for,
    format_measure,
    format_seconds,
    profile_goal,
)
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells, inside
from hedgekeeper.policy.risk_profile import RiskProfile


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdPolicy:
    """Act when a banded measure is outside its tolerated interval.

    Band mode (``relative is None``) tolerates the band itself: act when
    ``x < lower`` or ``x > upper``. Relative mode reads only the bands' targets and
    tolerates ``|x - target| <= max(relative * |target|, floor)``, with ``floor``
    taken from ``floors`` (0 for a field not listed).

    Parameters
    ----------
    profile : RiskProfile, the bands per underlying
    hedge_to : "edge" or "target": a measure that fired goes to its tolerated
        interval ("edge") or to its target; a measure that did not fire keeps its
        tolerated interval as its goal, so that the planner cannot push it out
    relative : float or None, decimal tolerance as a fraction of ``|target|``
        (0.2 is 20%); None for band mode
    floors : mapping from profile field ("delta_coin", "weight", ...) to the
        smallest tolerance, in that field's unit; relative mode only

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> policy = ThresholdPolicy(profile=profile, hedge_to="edge")
    >>> decision = policy.decide(PolicyInput(RiskSnapshot(0, "BTC", 100000.0, 3.4, 0.0, 0.0, 0.34, 1.0)))
    >>> decision.act, decision.reasons, decision.goal
    (True, ('delta_coin 3.4000 above band upper 2.5000',), {<Greek.DELTA_COIN: 'delta_coin'>: (-2.5, 2.5)})
    """

    profile: RiskProfile
    hedge_to: HedgeTo
    relative: float | None = None
    floors: Mapping[str, float] = field(default_factory=dict)

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting when any banded measure is outside its tolerated interval."""
        risk = state.risk
        measures = banded_measures(risk, self.profile.bands(risk.underlying))
        if not measures:
            reason = f"no bands for {risk.underlying} in the risk profile"
            return decision_for(state, act=False, reasons=(reason,))
        reasons: list[str] = []
        goal: dict[Greek, Interval] = {}
        fired = False
        for measure in measures:
            (lower, upper), reason = self._tolerated(measure)
            reasons.append(reason)
            tolerated = measure.to_goal(lower, upper)
            if lower <= measure.value <= upper:
                goal[measure.greek] = tolerated
            else:
                fired = True
                goal[measure.greek] = tolerated if self.hedge_to == "edge" else measure.goal("target")
        if not fired:
            return decision_for(state, act=False, reasons=tuple(reasons))
        return decision_for(state, act=True, trigger="threshold", reasons=tuple(reasons), goal=goal)

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet:
        """Return the cells in which every banded measure stays inside its tolerated interval."""
        risk = state.risk
        mask = cells.everywhere()
        for measure in banded_measures(risk, self.profile.bands(risk.underlying)):
            mask &= inside(cells.measure(measure.name), *self._tolerance(measure))
        return Quiet(mask)

    def _tolerance(self, measure: BandedMeasure) -> Interval:
        # The tolerated interval, in the band's unit.
        if self.relative is None:
            return measure.band.lower, measure.band.upper
        target, tolerance = measure.band.target, self._relative_tolerance(measure)
        return target - tolerance, target + tolerance

    def _relative_tolerance(self, measure: BandedMeasure) -> float:
        # Relative mode's tolerance around the target, in the band's unit.
        assert self.relative is not None
        return max(self.relative * abs(measure.band.target), self.floors.get(measure.name, 0.0))

    def _tolerated(self, measure: BandedMeasure) -> tuple[Interval, str]:
        # The interval in the band's unit, and where the value lies against it.
        lower, upper = self._tolerance(measure)
        if self.relative is None:
            return (lower, upper), measure.describe()
        target = measure.band.target
        verdict = "within" if lower <= measure.value <= upper else "above"
        numbers = (measure.value, abs(measure.value - target), target, self._relative_tolerance(measure))
        value, deviation, target_text, tolerance_text = (format_measure(x, measure.name) for x in numbers)
        return (lower, upper), (
            f"{measure.name} {value} is {deviation} from target {target_text}, "
            f"{verdict} tolerance {tolerance_text}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePolicy:
    """Act at fixed intervals whatever the market does: when ``ts - last_rebalance >= interval``.

    The first decision (no rebalance remembered) acts. The goal brings every banded
    measure to its band or its target, as ``hedge_to`` says.

    Parameters
    ----------
    profile : RiskProfile
    hedge_to : "edge" or "target"
    interval_ns : int, nanoseconds between rebalances, > 0

    Examples
    --------
    >>> from hedgekeeper.policy.decision import HedgeMemory, RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import RiskProfile
    >>> policy = TimePolicy(profile=RiskProfile({}), hedge_to="target", interval_ns=3_600_000_000_000)
    >>> risk = RiskSnapshot(7_200_000_000_000, "BTC", 100000.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    >>> policy.decide(PolicyInput(risk, HedgeMemory(last_rebalance_ts_ns=5_400_000_000_000))).reasons
    ('1800 s since the last rebalance, below interval 3600 s',)
    """

    profile: RiskProfile
    hedge_to: HedgeTo
    interval_ns: int

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting when the interval has elapsed since the last rebalance."""
        last_ns = state.memory.last_rebalance_ts_ns
        if last_ns is None:
            fired, reason = True, "no rebalance yet"
        else:
            elapsed_ns = state.risk.ts_ns - last_ns
            fired = elapsed_ns >= self.interval_ns
            relation = "reached" if fired else "below"
            reason = (
                f"{format_seconds(elapsed_ns)} since the last rebalance, "
                f"{relation} interval {format_seconds(self.interval_ns)}"
            )
        if not fired:
            return decision_for(state, act=False, reasons=(reason,))
        measures = banded_measures(state.risk, self.profile.bands(state.risk.underlying))
        return decision_for(
            state, act=True, trigger="time", reasons=(reason,), goal=profile_goal(measures, self.hedge_to)
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return every cell until the interval elapses; None before the first rebalance."""
        last_ns = state.memory.last_rebalance_ts_ns
        return None if last_ns is None else Quiet(cells.everywhere(), until_ns=last_ns + self.interval_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class OracleDeviationPolicy:
    """Act when the reference price moved more than ``deviation`` since the last rebalance.

    The reference price is ``oracle_usd`` when given, spot otherwise; it fires when
    ``|reference - last_reference| > deviation * last_reference`` (trigger ``"oracle_deviation"``)
    or, with a heartbeat, when ``ts - last_rebalance >= heartbeat`` (trigger
    ``"oracle_deviation:heartbeat"``), as a Chainlink feed updates on deviation or
    heartbeat. The first decision (no reference remembered) acts.

    Parameters
    ----------
    profile : RiskProfile
    hedge_to : "edge" or "target"
    deviation : float, decimal fraction of the last reference price (0.005 is 0.5%), > 0
    heartbeat_ns : int or None, nanoseconds after which to act anyway; None for none

    Examples
    --------
    >>> from hedgekeeper.policy.decision import HedgeMemory, RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import RiskProfile
    >>> policy = OracleDeviationPolicy(profile=RiskProfile({}), hedge_to="edge", deviation=0.01)
    >>> risk = RiskSnapshot(0, "BTC", 101000.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    >>> memory = HedgeMemory(last_rebalance_ts_ns=0, last_reference_usd=100000.0)
    >>> decision = policy.decide(PolicyInput(risk, memory, oracle_usd=101500.0))
    >>> decision.trigger
    'oracle_deviation'
    >>> decision.reasons
    ('oracle 101500.00 moved +1.50% since the last rebalance at 100000.00, above deviation 1.00%',)
    """

    profile: RiskProfile
    hedge_to: HedgeTo
    deviation: float
    heartbeat_ns: int | None = None

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting on a price move larger than ``deviation`` or on the heartbeat."""
        trigger, reasons = self._fired(state)
        if not trigger:
            return decision_for(state, act=False, reasons=reasons)
        measures = banded_measures(state.risk, self.profile.bands(state.risk.underlying))
        return decision_for(
            state, act=True, trigger=trigger, reasons=reasons, goal=profile_goal(measures, self.hedge_to)
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return the cells whose spots stay within the deviation (every cell for an oracle), until the heartbeat.

        With an oracle the region holds for ``state.oracle_usd`` only: the engine asks
        again after every oracle round.
        """
        last_reference = state.memory.last_reference_usd
        if last_reference is None:
            return None
        tolerance_usd = self.deviation * last_reference
        if state.oracle_usd is None:
            # |spot - last| is monotone on each side of last, so a cell's ends decide.
            spot_low, spot_high = cells.spot_usd()
            mask = (np.abs(spot_low - last_reference) <= tolerance_usd) & (
                np.abs(spot_high - last_reference) <= tolerance_usd)
        elif abs(state.oracle_usd - last_reference) > tolerance_usd:
            return None
        else:
            mask = cells.everywhere()
        if self.heartbeat_ns is None:
            return Quiet(mask)
        last_ns = state.memory.last_rebalance_ts_ns
        return None if last_ns is None else Quiet(mask, until_ns=last_ns + self.heartbeat_ns)

    def _fired(self, state: PolicyInput) -> tuple[str, tuple[str, ...]]:
        # The trigger that fired ("" if none) and the reasons, with the numbers.
        if state.oracle_usd is None:
            source, reference = "spot", state.risk.spot_usd
        else:
            source, reference = "oracle", state.oracle_usd
        last_reference = state.memory.last_reference_usd
        if last_reference is None:
            return "oracle_deviation", ("no reference price recorded at a rebalance yet",)
        move = reference / last_reference - 1.0
        fired = abs(reference - last_reference) > self.deviation * last_reference
        move_reason = (
            f"{source} {reference:.2f} moved {move:+.2%} since the last rebalance at {last_reference:.2f}, "
            f"{'above' if fired else 'within'} deviation {self.deviation:.2%}"
        )
        if fired:
            return "oracle_deviation", (move_reason,)
        if self.heartbeat_ns is None:
            return "", (move_reason,)
        last_ns = state.memory.last_rebalance_ts_ns
        if last_ns is None:
            return "oracle_deviation:heartbeat", (move_reason, "no rebalance time recorded yet")
        elapsed_ns = state.risk.ts_ns - last_ns
        beat = elapsed_ns >= self.heartbeat_ns
        heartbeat_reason = (
            f"{format_seconds(elapsed_ns)} since the last rebalance, "
            f"{'reached' if beat else 'below'} heartbeat {format_seconds(self.heartbeat_ns)}"
        )
        return ("oracle_deviation:heartbeat" if beat else ""), (move_reason, heartbeat_reason)
