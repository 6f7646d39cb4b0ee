"""The Whalley-Wilmott no-trade band: the delta band that is optimal for small proportional costs.

Whalley and Wilmott (1997) solve, asymptotically for a small proportional cost
``lambda``, the utility-based hedging problem of Hodges and Neuberger (1989) and
Davis, Panas and Zariphopoulou (1993) for an investor with exponential utility of
absolute risk aversion ``gamma``. The optimal strategy keeps the hedge within a band
around the frictionless delta and, when the delta leaves it, trades back to the
nearest edge only. The band's half-width is

    H = (3 e^{-r (T - t)} lambda S Gamma^2 / (2 gamma))^{1/3}

with ``S`` the spot (USD per coin), ``Gamma`` the book's gamma (coin per USD of
spot move, so ``Gamma^2 S / gamma`` is in coin^3), ``r`` the rate and ``T - t`` the
time to the horizon at which utility is measured. The band widens with cost as
``lambda^{1/3}``, narrows with risk aversion as ``gamma^{-1/3}``, and scales with
``|Gamma|^{2/3}``. The same half-width is the leading term of the band of
Zakamouline (2006), which adds a correction for large gammas, and is pfhedge's
``WhalleyWilmott`` module (with ``r = 0``).

Heuristically, in a band of half-width ``H`` the delta error is roughly uniform, so
the risk carried costs ``(gamma / 2) S^2 sigma^2 H^2 / 3`` of certainty equivalent
per unit time, while keeping the delta in the band trades ``Gamma^2 S^2 sigma^2 / (2 H)``
coin per unit time, at ``lambda S`` each; their sum is smallest at the ``H`` above.

References
----------
- A. E. Whalley and P. Wilmott, "An asymptotic analysis of an optimal hedging model
  for option pricing with transaction costs", Mathematical Finance 7(3), 307-324, 1997.
- V. I. Zakamouline, "Efficient analytic approximation of the optimal hedging
  strategy for a European call option with transaction costs", Quantitative
  Finance 6(5), 435-445, 2006.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.policy.base import (
    HedgeTo,
    banded_measures,
    decision_for,
    delta_target_coin,
    describe_position,
    distance_outside,
    profile_goal,
)
from hedgekeeper.policy.cost_aware import hedge_cost_usd
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.quiet import RELATIVE_SLACK, Quiet, RiskCells, inside, narrow
from hedgekeeper.policy.risk_profile import RiskProfile

FloatOrArray = TypeVar("FloatOrArray", float, NDArray[np.float64])


def whalley_wilmott_half_width(
    cost_fraction: float,
    spot_usd: FloatOrArray,
    gamma_coin_per_usd: FloatOrArray,
    risk_aversion_per_usd: float,
    rate: float = 0.0,
    horizon_years: float = 0.0,
) -> FloatOrArray:
    """Return the half-width of the Whalley-Wilmott no-trade band around the target delta.

    ``H = (3 e^{-r (T - t)} lambda S Gamma^2 / (2 gamma))^{1/3}``

    Parameters
    ----------
    cost_fraction : float, proportional cost ``lambda``, decimal per USD traded (0.0005 is 5 bps)
    spot_usd : float or ndarray, ``S``, USD per coin
    gamma_coin_per_usd : float or ndarray (broadcastable with ``spot_usd``), the book's ``Gamma = d(delta_coin)/d(spot)``, coin per USD
    risk_aversion_per_usd : float, absolute risk aversion ``gamma`` of exponential utility, per USD, > 0
    rate : float, ``r``, annualised, continuously compounded, decimal
    horizon_years : float, ``T - t``, ACT/365 years to the horizon at which utility is measured

    Returns
    -------
    float or ndarray, coin

    Examples
    --------
    >>> round(whalley_wilmott_half_width(0.0005, 100000.0, 2e-4, 1e-4), 4)
    0.3107
    >>> round(whalley_wilmott_half_width(0.0005, 100000.0, -2e-4, 1e-4, rate=0.05, horizon_years=0.5), 4)
    0.3081
    """
    discount = math.exp(-rate * horizon_years)
    cube = 3.0 * discount * cost_fraction * spot_usd * gamma_coin_per_usd**2 / (2.0 * risk_aversion_per_usd)
    return cube ** (1.0 / 3.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class WhalleyWilmottPolicy:
    """Act when the delta leaves the Whalley-Wilmott no-trade band around its target.

    The band is ``target ± max(H, min_half_width_coin)`` with ``H`` from
    ``whalley_wilmott_half_width`` at the input's ``cost_fraction``, spot and gamma,
    kept within the profile's delta band when there is one (the user's band is an
    outer limit). The target is the profile's delta target (coin; a ``delta_usd``
    target divided by spot), 0 without a delta band. Only delta fires this rule.

    Parameters
    ----------
    profile : RiskProfile
    hedge_to : "edge" (Whalley-Wilmott's optimum: trade to the nearest band edge) or "target"
    risk_aversion_per_usd : float, absolute risk aversion, per USD, > 0
    rate : float, annualised rate for the discount ``e^{-r (T - t)}``, decimal
    horizon_years : float, ``T - t``, ACT/365 years, >= 0
    min_half_width_coin : float, smallest half-width, coin, >= 0 (a book without
        gamma has ``H = 0``)

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> policy = WhalleyWilmottPolicy(profile=profile, hedge_to="edge", risk_aversion_per_usd=1e-4)
    >>> risk = RiskSnapshot(0, "BTC", 100000.0, 0.5, 2e-4, 0.0, 0.05, 1.0)
    >>> decision = policy.decide(PolicyInput(risk, cost_fraction=0.0005))
    >>> decision.act, decision.reasons[0], round(decision.expected_cost_usd, 2)
    (True, 'delta_coin 0.5000 above no-trade band upper 0.3107', 9.47)
    """

    profile: RiskProfile
    hedge_to: HedgeTo
    risk_aversion_per_usd: float
    rate: float = 0.0
    horizon_years: float = 0.0
    min_half_width_coin: float = 0.0

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting when the delta is outside the no-trade band."""
        risk = state.risk
        measures = banded_measures(risk, self.profile.bands(risk.underlying))
        target = delta_target_coin(measures)
        formula_half_width = whalley_wilmott_half_width(
            state.cost_fraction, risk.spot_usd, risk.gamma_coin_per_usd, self.risk_aversion_per_usd,
            self.rate, self.horizon_years,
        )
        half_width = max(formula_half_width, self.min_half_width_coin)
        profile_lower, profile_upper = next(
            (m.goal("edge") for m in measures if m.greek is Greek.DELTA_COIN), (-math.inf, math.inf)
        )
        band = (max(target - half_width, profile_lower), min(target + half_width, profile_upper))
        excess = distance_outside(risk.delta_coin, band)
        reasons = (
            describe_position("delta_coin", risk.delta_coin, band, "no-trade band"),
            f"Whalley-Wilmott half-width {formula_half_width:.4f} coin around target {target:.4f} "
            f"(cost {state.cost_fraction * 1e4:.2f} bps, spot {risk.spot_usd:.2f}, "
            f"gamma {risk.gamma_coin_per_usd:.6g} coin per USD, "
            f"risk aversion {self.risk_aversion_per_usd:g} per USD), floor {self.min_half_width_coin:.4f}, "
            f"profile band [{profile_lower:.4f}, {profile_upper:.4f}]",
        )
        if excess == 0.0:
            return decision_for(state, act=False, reasons=reasons)
        goal = profile_goal(measures, "edge") | {
            Greek.DELTA_COIN: band if self.hedge_to == "edge" else (target, target)
        }
        trade_coin = distance_outside(risk.delta_coin, goal[Greek.DELTA_COIN])
        return decision_for(
            state,
            act=True,
            trigger="whalley_wilmott",
            reasons=reasons,
            goal=goal,
            expected_cost_usd=hedge_cost_usd(trade_coin, risk.spot_usd, state.cost_fraction),
        )

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet:
        """Return the cells in which the delta stays inside the no-trade band, for costs from ``state``'s up.

        A cell's band is at least ``H`` at its lowest spot and smallest ``|gamma|``
        (``H`` grows with both, and with the cost); a ``delta_usd`` band's target and
        edges in coin are bounded over the cell's spots.
        """
        bands = self.profile.bands(state.risk.underlying)
        gamma_low, gamma_high = cells.gamma_coin_per_usd
        smallest_gamma = np.where(
            (gamma_low <= 0.0) & (gamma_high >= 0.0), 0.0, np.minimum(np.abs(gamma_low), np.abs(gamma_high)))
        formula = whalley_wilmott_half_width(
            state.cost_fraction, cells.spot_low_usd, smallest_gamma, self.risk_aversion_per_usd,
            self.rate, self.horizon_years,
        )
        half_width = np.maximum(formula * (1.0 - RELATIVE_SLACK), self.min_half_width_coin)
        # Per cell: the highest the band's lower edge and the lowest its upper edge can be.
        if bands.delta_coin is not None:
            band = bands.delta_coin
            target_low = target_high = np.full(cells.size, band.target)
            profile_lower, profile_upper = band.lower, band.upper
        elif bands.delta_usd is not None:
            band = bands.delta_usd
            target_low, target_high = cells.reciprocal_spot(band.target)
            profile_lower, profile_upper = cells.reciprocal_spot(band.lower)[1], cells.reciprocal_spot(band.upper)[0]
        else:
            target_low = target_high = np.zeros(cells.size)
            profile_lower, profile_upper = -math.inf, math.inf
        lower, upper = narrow(np.maximum(target_high - half_width, profile_lower),
                              np.minimum(target_low + half_width, profile_upper))
        return Quiet(inside(cells.delta_coin, lower, upper), cost_fraction=(state.cost_fraction, math.inf))
