"""The cost-aware skip: do not pay more to hedge than the risk it removes is worth.

"Sticky risk": a small delta excess is cheaper to carry than to trade away. The
trade-off is stated as a utility. An investor with exponential utility
``U(w) = -exp(-gamma * w)`` (``gamma`` the absolute risk aversion, per USD) values a
normal P&L ``X`` at its certainty equivalent ``E[X] - (gamma / 2) Var[X]``.
Carrying an excess delta ``Delta`` (coin) unhedged for a horizon ``tau`` (years, the
time the excess would otherwise be held) exposes the P&L ``Delta * (S_tau - S)``,
whose variance over ``tau`` is ``(Delta * S * sigma)^2 * tau`` (``sigma`` the annual
volatility, no drift). Hedging it therefore raises the certainty equivalent by

    benefit = (gamma / 2) * (Delta * S * sigma)^2 * tau                      [USD]

and costs, at the proportional cost ``lambda`` (``PolicyInput.cost_fraction``),

    cost = lambda * |Delta| * S                                              [USD]

The hedge is worth doing only if ``benefit > cost``, that is when the excess
exceeds the break-even ``|Delta| > 2 lambda / (gamma * S * sigma^2 * tau)``: the
no-trade threshold widens with cost and narrows with risk aversion, volatility and
horizon, like the Whalley-Wilmott band (``whalley_wilmott.py``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any

from hedgekeeper.policy.base import Policy, distance_outside
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells

HOURS_PER_YEAR = 365.0 * 24.0


def hedge_cost_usd(trade_coin: float, spot_usd: float, cost_fraction: float) -> float:
    """Return the expected cost of trading ``trade_coin`` of the hedge: ``lambda * |trade| * S``.

    Parameters
    ----------
    trade_coin : float, coin, signed
    spot_usd : float, USD per coin
    cost_fraction : float, decimal cost per USD traded (0.0005 is 5 bps)

    Returns
    -------
    float, USD

    >>> hedge_cost_usd(-0.5, 100000.0, 0.0005)
    25.0
    """
    return cost_fraction * abs(trade_coin) * spot_usd


def hedge_benefit_usd(
    excess_delta_coin: float, spot_usd: float, vol: float, risk_aversion_per_usd: float, horizon_years: float
) -> float:
    """Return the certainty equivalent gained by hedging an excess delta, ``(gamma/2)(Delta S sigma)^2 tau``.

    Parameters
    ----------
    excess_delta_coin : float, coin, the delta the hedge removes
    spot_usd : float, USD per coin
    vol : float, annualised volatility, decimal (0.6 is 60%)
    risk_aversion_per_usd : float, absolute risk aversion ``gamma``, per USD
    horizon_years : float, ACT/365 years the excess would otherwise be carried

    Returns
    -------
    float, USD of certainty equivalent

    >>> round(hedge_benefit_usd(0.5, 100000.0, 0.6, 1e-4, 1 / 365), 2)
    123.29
    """
    return 0.5 * risk_aversion_per_usd * (excess_delta_coin * spot_usd * vol) ** 2 * horizon_years


def break_even_delta_coin(
    spot_usd: float, vol: float, cost_fraction: float, risk_aversion_per_usd: float, horizon_years: float
) -> float:
    """Return the excess delta at which benefit equals cost: ``2 lambda / (gamma S sigma^2 tau)``, coin.

    Infinite when no risk is priced (``gamma S sigma^2 tau`` is 0, or underflows to 0).

    >>> round(break_even_delta_coin(100000.0, 0.6, 0.0005, 1e-4, 1 / 365), 4)
    0.1014
    """
    risk_per_coin = risk_aversion_per_usd * spot_usd * vol * vol * horizon_years
    return 2.0 * cost_fraction / risk_per_coin if risk_per_coin > 0.0 else math.inf


@dataclass(frozen=True, slots=True)
class CostAwareSkip:
    """Skip a rebalance of ``policy`` whose expected cost is not below the risk it removes.

    The excess is the distance from ``risk.delta_coin`` to the decision's delta goal;
    the decision acts only if ``hedge_benefit_usd > hedge_cost_usd`` for it, and
    carries both estimates. A skip has trigger ``"cost_aware_skip"``, the inner
    reasons and the comparison. Decisions that do not act or are ``forced`` pass
    unchanged; so do decisions whose goal sets no delta, moves another Greek (only
    delta risk is priced here), or whose snapshot has no positive ``vol``: each then
    gets a reason saying why the skip was not evaluated.

    Parameters
    ----------
    policy : Policy, the rule deciding when to act
    risk_aversion_per_usd : float, absolute risk aversion ``gamma``, per USD, > 0
    horizon_years : float, ACT/365 years the excess would be carried, > 0

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> from hedgekeeper.policy.triggers import ThresholdPolicy
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> policy = CostAwareSkip(ThresholdPolicy(profile=profile, hedge_to="edge"),
    ...                        risk_aversion_per_usd=1e-4, horizon_years=1 / 365)
    >>> risk = RiskSnapshot(0, "BTC", 100000.0, 2.6, 0.0, 0.0, 0.26, 1.0, vol=0.6)
    >>> decision = policy.decide(PolicyInput(risk, cost_fraction=0.0005))
    >>> decision.act, decision.trigger
    (False, 'cost_aware_skip')
    >>> round(decision.expected_cost_usd, 2), round(decision.expected_benefit_usd, 2)
    (5.0, 4.93)
    """

    policy: Policy
    _: KW_ONLY
    risk_aversion_per_usd: float
    horizon_years: float

    def decide(self, state: PolicyInput) -> Decision:
        """Return the inner decision, turned into a skip when the hedge costs more than it is worth."""
        decision = self.policy.decide(state)
        if not decision.act or decision.forced:
            return decision
        unpriced = self._unpriced(state, decision)
        if unpriced:
            return dataclasses.replace(
                decision, reasons=decision.reasons + (f"cost-aware skip not evaluated: {unpriced}",)
            )
        risk = state.risk
        excess_coin = distance_outside(risk.delta_coin, decision.goal[Greek.DELTA_COIN])
        cost = hedge_cost_usd(excess_coin, risk.spot_usd, state.cost_fraction)
        benefit = hedge_benefit_usd(
            excess_coin, risk.spot_usd, risk.vol, self.risk_aversion_per_usd, self.horizon_years
        )
        break_even_coin = break_even_delta_coin(
            risk.spot_usd, risk.vol, state.cost_fraction, self.risk_aversion_per_usd, self.horizon_years
        )
        numbers = (
            f"excess delta {excess_coin:.4f} coin, break-even {break_even_coin:.4f} coin; "
            f"spot {risk.spot_usd:.2f}, vol {risk.vol:.2%}, "
            f"horizon {self.horizon_years * HOURS_PER_YEAR:g} h, cost {state.cost_fraction * 1e4:.2f} bps, "
            f"risk aversion {self.risk_aversion_per_usd:g} per USD"
        )
        skip: dict[str, Any] = {}
        if benefit > cost:
            verdict = f"worth it: expected benefit {benefit:.2f} USD above cost {cost:.2f} USD"
        else:
            verdict = f"skipped: expected cost {cost:.2f} USD not below benefit {benefit:.2f} USD"
            skip = {"act": False, "trigger": "cost_aware_skip", "goal": {}}
        return dataclasses.replace(
            decision,
            reasons=decision.reasons + (f"{verdict} ({numbers})",),
            expected_cost_usd=cost,
            expected_benefit_usd=benefit,
            **skip,
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return the wrapped policy's quiet region: the skip only ever turns an act into a skip."""
        return self.policy.quiet(state, cells)

    @staticmethod
    def _unpriced(state: PolicyInput, decision: Decision) -> str:
        # Why the trade-off cannot be priced for this decision, "" when it can.
        if Greek.DELTA_COIN not in decision.goal:
            return "the goal sets no delta"
        moved = [
            greek.value
            for greek, interval in decision.goal.items()
            if greek is not Greek.DELTA_COIN and distance_outside(state.risk.value(greek), interval) != 0.0
        ]
        if moved:
            return f"{', '.join(moved)} outside the goal; only delta risk is priced"
        if not state.risk.vol > 0.0:
            return f"risk.vol is {state.risk.vol}, so the risk removed cannot be priced"
        return ""
