"""Hard limits: a distance to liquidation and a leverage that no policy can override.

``HardLimits`` wraps the configured policy and is always the outermost layer
(``build_policy`` returns one whatever the configuration): when the book is closer
to liquidation than ``min_liquidation_distance`` or more levered than
``max_leverage``, it forces a rebalance bringing delta back to its target, whatever
the wrapped policy, its cost-aware skip included, decided.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass

from hedgekeeper.policy.base import (
    Policy,
    banded_measures,
    decision_for,
    delta_target_coin,
    intersect_goals,
    profile_goal,
)
from hedgekeeper.policy.cost_aware import hedge_cost_usd
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells, all_quiet, inside
from hedgekeeper.policy.risk_profile import RiskProfile


@dataclass(frozen=True, slots=True)
class HardLimits:
    """Force a rebalance to the delta target when a hard limit is crossed; otherwise defer to ``policy``.

    A limit is crossed when ``risk.liquidation_distance < min_liquidation_distance``
    (trigger ``"hard_limit:liquidation"``) or ``risk.leverage > max_leverage``
    (``"hard_limit:leverage"``); a NaN counts as crossed. The forced decision has
    ``act=True``, ``forced=True``, the breaches then the wrapped policy's reasons,
    and a goal setting delta to its target (coin) and keeping every other banded
    measure inside its band (intersected with the wrapped goal if that one acted).
    Its cost estimate is that of the delta trade at ``cost_fraction``.

    Parameters
    ----------
    policy : Policy, the wrapped policy
    profile : RiskProfile, for the delta target and the bands to keep
    min_liquidation_distance : float, smallest spot move to liquidation, decimal fraction, >= 0
    max_leverage : float, largest gross notional over equity, > 0

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> from hedgekeeper.policy.triggers import TimePolicy
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> inner = TimePolicy(profile=profile, hedge_to="edge", interval_ns=3_600_000_000_000)
    >>> policy = HardLimits(inner, profile=profile, min_liquidation_distance=0.1, max_leverage=5.0)
    >>> risk = RiskSnapshot(0, "BTC", 100000.0, 1.5, 0.0, 0.0, 0.15, 6.2, liquidation_distance=0.25)
    >>> decision = policy.decide(PolicyInput(risk))
    >>> decision.forced, decision.trigger, decision.reasons[0]
    (True, 'hard_limit:leverage', 'leverage 6.20 above maximum 5.00')
    >>> decision.goal
    {<Greek.DELTA_COIN: 'delta_coin'>: (0.0, 0.0)}
    """

    policy: Policy
    _: KW_ONLY
    profile: RiskProfile
    min_liquidation_distance: float
    max_leverage: float

    def decide(self, state: PolicyInput) -> Decision:
        """Return the wrapped decision, or a forced rebalance when a hard limit is crossed."""
        decision = self.policy.decide(state)
        risk = state.risk
        breaches = []
        if not risk.liquidation_distance >= self.min_liquidation_distance:
            breaches.append((
                "hard_limit:liquidation",
                f"liquidation distance {risk.liquidation_distance:.2%} below minimum "
                f"{self.min_liquidation_distance:.2%}",
            ))
        if not risk.leverage <= self.max_leverage:
            breaches.append((
                "hard_limit:leverage", f"leverage {risk.leverage:.2f} above maximum {self.max_leverage:.2f}"
            ))
        if not breaches:
            return decision
        measures = banded_measures(risk, self.profile.bands(risk.underlying))
        target = delta_target_coin(measures)
        goal = intersect_goals((
            profile_goal(measures, "edge"),
            decision.goal if decision.act else {},
            {Greek.DELTA_COIN: (target, target)},
        ))
        return decision_for(
            state,
            act=True,
            trigger=breaches[0][0],
            reasons=tuple(reason for _, reason in breaches) + decision.reasons,
            goal=goal,
            forced=True,
            expected_cost_usd=hedge_cost_usd(risk.delta_coin - target, risk.spot_usd, state.cost_fraction),
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return where the wrapped policy is quiet and both limits hold."""
        limits = inside(cells.measure("liquidation_distance"), self.min_liquidation_distance, math.inf) & inside(
            cells.measure("leverage"), -math.inf, self.max_leverage)
        return all_quiet((self.policy.quiet(state, cells), Quiet(limits)))
