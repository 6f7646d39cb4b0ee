"""The ML gate: defer a rebalance the model expects to be noise, never past a hard limit.

``MLGate`` wraps a threshold or Whalley-Wilmott policy. When the wrapped policy acts,
the gate asks a model (``ml/model.py``) for the probability that waiting beats
hedging now (the deviation is likely to revert; ``ml/labels.py``) and defers the
rebalance when that probability is at least ``defer_probability``. It never defers:

- a forced decision (a hard limit of ``HardLimits`` crossed);
- without market features (the engine computes none): the wrapped decision stands;
- when the delta lies beyond the outer band: ``outer_band_multiple`` times the
  band's half-width from its centre;
- when the rebalance has been deferred for ``max_deferral_ns`` already;
- when the distance to liquidation is below ``min_liquidation_distance`` or the
  leverage above ``max_leverage`` (set them stricter than ``HardLimits``').

A deferral is a ``Decision`` with ``act=False``, ``deferred=True``, trigger
``"ml_gate:deferred"``, the wrapped decision's goal and reasons, and the probability
and limits in its last reason; the engine records it and remembers since when the
rebalance is deferred (``HedgeMemory.deferred_since_ns``). ``build_policy`` puts the
gate inside ``HardLimits``, which stays outermost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

from hedgekeeper.ml.features import position_features
from hedgekeeper.policy.base import Interval, Policy, banded_measures, decision_for, format_seconds
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells
from hedgekeeper.policy.risk_profile import RiskProfile

DEFERRED = "ml_gate:deferred"


class DeferralModel(Protocol):
    """What the gate needs of a model: its features, and a probability for one row."""

    feature_names: tuple[str, ...] | list[str]

    def defer_probability(self, features: dict[str, float]) -> float:
        """Return the probability, in [0, 1], that deferring beats rebalancing now."""
        ...


def delta_band(decision: Decision, state: PolicyInput, profile: RiskProfile) -> Interval | None:
    """Return the delta band (coin) a decision enforces: its goal's interval, else the profile's band.

    A goal of zero width (``hedge_to = "target"``) says where to trade, not what was
    tolerated; the profile's delta band is used then. None when there is neither.
    """
    goal = decision.goal.get(Greek.DELTA_COIN)
    if goal is not None and goal[1] > goal[0]:
        return goal
    for measure in banded_measures(state.risk, profile.bands(state.risk.underlying)):
        if measure.greek is Greek.DELTA_COIN:
            return measure.goal("edge")
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class MLGate:
    """Defer the wrapped policy's rebalances that the model expects to revert, within hard limits.

    Parameters
    ----------
    policy : Policy, a threshold or Whalley-Wilmott policy
    profile : RiskProfile, for the delta band when the goal is the target alone
    model : DeferralModel, e.g. a fitted ``ml.model.GateModel``
    defer_probability : float in (0, 1], defer when the model's probability is at least this
    max_deferral_ns : int, longest a rebalance may be deferred, ns, > 0
    outer_band_multiple : float >= 1, never defer beyond this many band half-widths from its centre
    min_liquidation_distance : float, never defer closer to liquidation (fraction of spot)
    max_leverage : float, never defer above this gross notional over equity

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> from hedgekeeper.policy.triggers import ThresholdPolicy
    >>> class AlwaysNoise:
    ...     feature_names = ("excess_ratio",)
    ...     def defer_probability(self, features): return 0.9
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.0}}})
    >>> gate = MLGate(policy=ThresholdPolicy(profile=profile, hedge_to="edge"), profile=profile,
    ...     model=AlwaysNoise(), defer_probability=0.6, max_deferral_ns=600 * 10**9,
    ...     outer_band_multiple=2.0, min_liquidation_distance=0.2, max_leverage=5.0)
    >>> risk = RiskSnapshot(0, "BTC", 100000.0, 2.5, 0.0, 0.0, 0.1, 2.0, liquidation_distance=0.5)
    >>> decision = gate.decide(PolicyInput(risk, features={}))
    >>> decision.act, decision.deferred, decision.trigger
    (False, True, 'ml_gate:deferred')
    >>> far = RiskSnapshot(0, "BTC", 100000.0, 4.5, 0.0, 0.0, 0.1, 2.0, liquidation_distance=0.5)
    >>> gate.decide(PolicyInput(far, features={})).act  # beyond the outer band: +-4 coin
    True
    """

    policy: Policy
    profile: RiskProfile
    model: DeferralModel
    defer_probability: float
    max_deferral_ns: int
    outer_band_multiple: float
    min_liquidation_distance: float
    max_leverage: float

    def decide(self, state: PolicyInput) -> Decision:
        """Return the wrapped decision, or a deferral when the model expects noise and no limit binds."""
        decision = self.policy.decide(state)
        if not decision.act or decision.forced:
            return decision
        refusal, band = self._refusal(decision, state)
        if refusal:
            return replace(decision, reasons=decision.reasons + (f"ml_gate: not deferred, {refusal}",))
        assert band is not None and state.features is not None
        risk, memory = state.risk, state.memory
        features = dict(state.features)
        features.update(position_features(
            risk.delta_coin, band, risk.spot_usd, risk.ts_ns, memory.last_rebalance_ts_ns,
            memory.deferred_since_ns, features.get("rv_240", risk.vol),
        ))
        probability = self.model.defer_probability(features)
        verdict = (f"P(waiting beats hedging now) {probability:.2f} "
                   f"{'at or above' if probability >= self.defer_probability else 'below'} "
                   f"{self.defer_probability:.2f}")
        if probability < self.defer_probability:
            return replace(decision, reasons=decision.reasons + (f"ml_gate: not deferred, {verdict}",))
        deferred_ns = 0 if memory.deferred_since_ns is None else risk.ts_ns - memory.deferred_since_ns
        return decision_for(
            state, act=False, trigger=DEFERRED, goal=decision.goal, deferred=True,
            reasons=decision.reasons + (
                f"ml_gate: deferred {decision.trigger}, {verdict}; deferred for {format_seconds(deferred_ns)} "
                f"of at most {format_seconds(self.max_deferral_ns)}",),
            expected_cost_usd=decision.expected_cost_usd, expected_benefit_usd=decision.expected_benefit_usd,
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return where the wrapped policy is quiet: the gate only ever turns an action into a deferral."""
        return self.policy.quiet(state, cells)

    def _refusal(self, decision: Decision, state: PolicyInput) -> tuple[str, Interval | None]:
        # Why the gate may not defer (with the numbers), "" if it may; and the band.
        risk, memory = state.risk, state.memory
        if state.features is None:
            return "no market features", None
        band = delta_band(decision, state, self.profile)
        if band is None:
            return "no delta band", None
        if memory.deferred_since_ns is not None and risk.ts_ns - memory.deferred_since_ns >= self.max_deferral_ns:
            return (f"deferred for {format_seconds(risk.ts_ns - memory.deferred_since_ns)}, "
                    f"maximum {format_seconds(self.max_deferral_ns)}"), band
        centre, half = 0.5 * (band[0] + band[1]), 0.5 * (band[1] - band[0])
        outer = self.outer_band_multiple * half
        if not abs(risk.delta_coin - centre) <= outer:
            return (f"delta_coin {risk.delta_coin:.4f} beyond outer band [{centre - outer:.4f}, "
                    f"{centre + outer:.4f}]"), band
        if not risk.liquidation_distance >= self.min_liquidation_distance:
            return (f"liquidation distance {risk.liquidation_distance:.2%} below "
                    f"{self.min_liquidation_distance:.2%}"), band
        if not risk.leverage <= self.max_leverage:
            return f"leverage {risk.leverage:.2f} above {self.max_leverage:.2f}", band
        if not math.isfinite(risk.delta_coin):
            return "delta is not finite", band
        return "", band
