"""Market impact as a convex piecewise-linear cost of a trade's size.

The planner keeps its problem linear by writing every impact model as a convex
piecewise-linear function of the traded size ``|q|`` (contracts)::

    impact_usd(q) = sum_k m_k * clip(|q| - start_k, 0, width_k)

with segments ``[0, b_1], [b_1, b_2], ..., [b_K, inf)`` and marginal costs
``m_0 <= m_1 <= ... <= m_K`` (USD per contract). Non-decreasing marginal costs make
the curve convex, which is what lets a linear program fill the segments in order
without a binary variable per segment (``formulation.py``).

A walk through an order book is such a curve already: breakpoints at the
cumulative sizes of the levels, marginal costs the levels' distances from the
touch in USD per contract (the half-spread itself is in the candidate's
proportional cost). The square-root law is not, and ``square_root_impact``
interpolates it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.planner.errors import MalformedPlanRequest
from hedgekeeper.planner.validation import require_number

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ImpactCurve:
    """Convex piecewise-linear impact cost of a trade, the same for buys and sells.

    Parameters
    ----------
    breakpoints_contracts : tuple of float, strictly increasing, > 0: where the
        marginal cost changes, in contracts traded
    marginal_cost_usd : tuple of float, non-decreasing, >= 0, one more than the
        breakpoints: USD per contract on each segment, the last one unbounded

    Raises
    ------
    MalformedPlanRequest
        If the curve is not convex, or a number is NaN or negative.

    Examples
    --------
    >>> book = ImpactCurve(breakpoints_contracts=(5.0, 20.0), marginal_cost_usd=(0.0, 10.0, 40.0))
    >>> book.cost_usd([3.0, -10.0, 30.0])
    array([  0.,  50., 550.])
    """

    breakpoints_contracts: tuple[float, ...] = ()
    marginal_cost_usd: tuple[float, ...] = (0.0,)

    def __post_init__(self) -> None:
        breakpoints = np.asarray(self.breakpoints_contracts, dtype=np.float64)
        slopes = np.asarray(self.marginal_cost_usd, dtype=np.float64)
        problem = None
        if slopes.size != breakpoints.size + 1:
            problem = (
                "needs one more marginal cost than breakpoints,"
                f" got {slopes.size} and {breakpoints.size}"
            )
        elif not (np.all(np.isfinite(breakpoints)) and np.all(np.isfinite(slopes))):
            problem = "breakpoints and marginal costs must be finite numbers"
        elif breakpoints.size and not (breakpoints[0] > 0 and np.all(np.diff(breakpoints) > 0)):
            problem = (
                "breakpoints must be > 0 and strictly increasing,"
                f" got {self.breakpoints_contracts}"
            )
        elif slopes[0] < 0 or np.any(np.diff(slopes) < 0):
            problem = (
                "marginal costs must be >= 0 and non-decreasing (convex),"
                f" got {self.marginal_cost_usd}"
            )
        if problem is not None:
            raise MalformedPlanRequest(f"impact curve: {problem}")

    @property
    def segment_widths_contracts(self) -> FloatArray:
        """Return the width of each segment in contracts, the last one ``inf``."""
        return np.diff(np.concatenate(([0.0], self.breakpoints_contracts, [math.inf])))

    def cost_usd(self, size_contracts: ArrayLike) -> FloatArray:
        """Return the impact cost of trading ``size_contracts`` (either sign), USD."""
        size = np.abs(np.asarray(size_contracts, dtype=np.float64))[..., np.newaxis]
        starts = np.concatenate(([0.0], self.breakpoints_contracts))
        filled = np.clip(size - starts, 0.0, self.segment_widths_contracts)
        return filled @ np.asarray(self.marginal_cost_usd, dtype=np.float64)


def square_root_impact(
    price_usd: float,
    daily_volatility: float,
    daily_volume_contracts: float,
    *,
    coefficient: float = 1.0,
    breakpoints_fraction_of_volume: Sequence[float] = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
) -> ImpactCurve:
    """Return the square-root law of market impact as a convex piecewise-linear curve.

    The square-root law prices a trade of ``q`` contracts at::

        impact_usd(q) = coefficient * daily_volatility * sqrt(q / daily_volume) * q * price_usd

    The curve interpolates it between ``0`` and the breakpoints
    ``b_k = fraction_k * daily_volume`` (secants: exact at the breakpoints, above the
    law between them) and continues beyond the last one along the law's tangent,
    ``1.5 * coefficient * daily_volatility * sqrt(b_K / daily_volume) * price_usd``
    per contract (below the law there: put the last breakpoint beyond any size a
    hedge would trade). Between breakpoints a decade apart the secant is at most 30%
    above the law; the default breakpoints span 0.001% to 10% of the daily volume.

    Parameters
    ----------
    price_usd : float, USD per contract, > 0
    daily_volatility : float, the underlying's daily volatility, decimal (0.03 is 3%), >= 0
    daily_volume_contracts : float, average daily volume, contracts, > 0
    coefficient : float, the law's constant, of order one, >= 0
    breakpoints_fraction_of_volume : fractions of the daily volume, strictly increasing, > 0

    Returns
    -------
    ImpactCurve

    Examples
    --------
    A BTC contract at 100,000 USD, 3% daily volatility, 100,000 contracts a day:
    100 contracts (0.1% of the day's volume) cost ``0.03 * sqrt(0.001) * 100 * 100,000``.

    >>> curve = square_root_impact(100_000.0, 0.03, 100_000.0)
    >>> float(curve.cost_usd(100.0).round(2)), curve.breakpoints_contracts
    (9486.83, (1.0, 10.0, 100.0, 1000.0, 10000.0))
    """
    where = "square-root impact"
    require_number(price_usd, f"{where}: price_usd", minimum=0.0, strict=True)
    require_number(
        daily_volume_contracts, f"{where}: daily_volume_contracts", minimum=0.0, strict=True
    )
    require_number(daily_volatility, f"{where}: daily_volatility", minimum=0.0)
    require_number(coefficient, f"{where}: coefficient", minimum=0.0)
    fractions = np.asarray(breakpoints_fraction_of_volume, dtype=np.float64)
    if not (fractions.size and fractions[0] > 0 and np.all(np.diff(fractions) > 0)):
        raise MalformedPlanRequest(
            f"{where}: breakpoints_fraction_of_volume must be > 0 and strictly increasing,"
            f" got {tuple(breakpoints_fraction_of_volume)}"
        )
    scale_usd = coefficient * daily_volatility * price_usd / math.sqrt(daily_volume_contracts)
    breakpoints = fractions * daily_volume_contracts
    costs = scale_usd * np.concatenate(([0.0], breakpoints)) ** 1.5
    secants = np.diff(costs) / np.diff(np.concatenate(([0.0], breakpoints)))
    tangent = 1.5 * scale_usd * math.sqrt(breakpoints[-1])
    return ImpactCurve(
        breakpoints_contracts=tuple(breakpoints.tolist()),
        marginal_cost_usd=(*secants.tolist(), tangent),
    )
