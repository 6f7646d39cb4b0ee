"""Per-tick risk of one underlying, read from a ladder instead of a full revaluation.

A full revaluation of a book costs tens of microseconds to milliseconds; a market
data stream brings a tick every few microseconds. Between revaluations the engine
reads the book's equity and Greeks from a ``GreeksLadder`` (``portfolio/book.py``):
the book fully revalued at each spot of a geometric grid around the current spot,
vols and time held. At a spot ``S`` between nodes ``S_i`` and ``S_i+1``:

- delta and equity are cubic Hermite interpolants, using their exact derivatives at
  the nodes (gamma for delta, delta for equity): error O(h^4) in the node spacing h;
- gamma, vega, theta and gross notional are interpolated linearly: error O(h^2).

With the default spacing of 0.05% of spot the interpolation error is far below the
bands' resolution (``tests/engine/test_risk_cache.py`` measures it). The ladder is
rebuilt when the spot leaves its grid, when vols or time have moved (the engine's
``max_age_ns``), and after every fill. The distance to liquidation is found by full
revaluation after every fill and at a slower pace otherwise (it moves with the
positions, hardly with time), and carried as the two spot levels where it happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hedgekeeper.policy.decision import RiskSnapshot
from hedgekeeper.policy.quiet import RiskCells, hermite_bounds, linear_bounds, widen
from hedgekeeper.portfolio.book import GreeksLadder
from hedgekeeper.portfolio.liquidation import LiquidationDistance
from hedgekeeper.portfolio.portfolio import Portfolio


@dataclass(frozen=True, slots=True)
class InterpolatedRisk:
    """One underlying's risk at one spot, from a ladder; units as ``GreeksLadder``."""

    spot_usd: float
    equity_usd: float
    delta_coin: float
    gamma_coin_per_usd: float
    vega_usd_per_vol: float
    theta_usd_per_year: float
    gross_notional_usd: float

    def snapshot(self, underlying: str, ts_ns: int, liquidation_distance: float, vol: float) -> RiskSnapshot:
        """Return what the policy sees of this risk: weight and leverage over equity (inf without equity).

        ``liquidation_distance`` is a fraction of spot, ``vol`` the annualised vol used for risk.
        """
        spot_usd, equity_usd = self.spot_usd, self.equity_usd
        return RiskSnapshot(
            ts_ns=ts_ns,
            underlying=underlying,
            spot_usd=spot_usd,
            delta_coin=self.delta_coin,
            gamma_coin_per_usd=self.gamma_coin_per_usd,
            vega_usd_per_vol_pt=self.vega_usd_per_vol * 0.01,
            weight=self.delta_coin * spot_usd / equity_usd if equity_usd > 0.0 else math.inf,
            leverage=self.gross_notional_usd / equity_usd if equity_usd > 0.0 else math.inf,
            liquidation_distance=liquidation_distance,
            vol=vol,
        )


def _hermite(t: float, h: float, y0: float, y1: float, m0: float, m1: float) -> float:
    t2 = t * t
    t3 = t2 * t
    return (
        (2.0 * t3 - 3.0 * t2 + 1.0) * y0
        + (t3 - 2.0 * t2 + t) * h * m0
        + (-2.0 * t3 + 3.0 * t2) * y1
        + (t3 - t2) * h * m1
    )


class LadderRisk:
    """Interpolate one underlying's equity and Greeks in a geometric spot ladder.

    Parameters
    ----------
    ladder : GreeksLadder on a geometric grid (uniform in log spot)
    other_equity_usd : the rest of the portfolio's equity (other underlyings, USD
        cash), held fixed between rebuilds, USD
    liquidation_spots_usd : (down, up) spots at which the portfolio is liquidated
        when this underlying alone moves; ``None`` for a side without one
    built_ns : when the ladder was built, ns since the epoch (UTC)
    """

    __slots__ = ("_ladder", "_log_low", "_log_step", "_last", "_cells", "other_equity_usd",
                 "liquidation_spots_usd", "built_ns")

    def __init__(
        self,
        ladder: GreeksLadder,
        other_equity_usd: float,
        liquidation_spots_usd: tuple[float | None, float | None],
        built_ns: int,
    ) -> None:
        spots = ladder.spot_usd
        self._ladder = ladder
        self._log_low = math.log(spots[0])
        self._log_step = math.log(spots[1] / spots[0])
        self._last = len(spots) - 1
        self._cells: RiskCells | None = None
        self.other_equity_usd = other_equity_usd
        self.liquidation_spots_usd = liquidation_spots_usd
        self.built_ns = built_ns

    @classmethod
    def build(
        cls,
        portfolio: Portfolio,
        underlying: str,
        built_ns: int,
        *,
        half_width: float = 0.05,
        spacing: float = 0.0005,
        liquidation_spots_usd: tuple[float | None, float | None] | None = None,
        max_move: float = 0.5,
    ) -> LadderRisk:
        """Revalue ``underlying``'s book on a grid around its spot and find its liquidation levels.

        Parameters
        ----------
        portfolio : Portfolio valued on the current market
        underlying : the coin whose ticks the ladder serves
        built_ns : now, ns since the epoch (UTC)
        half_width : the grid spans spot * exp(+-half_width)
        spacing : node spacing, in log spot (0.0005 is 0.05%)
        liquidation_spots_usd : the liquidation levels when still valid (the positions
            have not changed); searched afresh by full revaluation when None
        max_move : the liquidation search range, a fraction of spot
        """
        spot_usd = portfolio.market.underlying(underlying).spot_usd
        steps = math.ceil(half_width / spacing)
        grid = spot_usd * np.exp(spacing * np.arange(-steps, steps + 1))
        total_usd = float(portfolio.valuation().equity_usd.sum())
        if underlying not in portfolio.underlyings:  # nothing held: no risk, no liquidation
            zeros = np.zeros_like(grid)
            flat = GreeksLadder(grid, zeros, zeros, zeros, zeros, zeros, zeros)
            return cls(flat, total_usd, (None, None), built_ns)
        ladder = portfolio.greeks_ladder(underlying, grid)
        own_usd = float(portfolio.greeks_ladder(underlying, [spot_usd]).equity_usd[0])
        if liquidation_spots_usd is None:
            distance = portfolio.distance_to_liquidation([underlying], max_move=max_move)
            liquidation_spots_usd = _liquidation_spots(distance, underlying)
        return cls(ladder, total_usd - own_usd, liquidation_spots_usd, built_ns)

    def covers(self, spot_usd: float) -> bool:
        """Return whether ``spot_usd`` lies inside the ladder's grid."""
        spots = self._ladder.spot_usd
        return spots[0] <= spot_usd <= spots[-1]

    def cell_of(self, spot_usd: float) -> int:
        """Return the index of the grid cell that ``at`` interpolates ``spot_usd`` in."""
        position = (math.log(spot_usd) - self._log_low) / self._log_step
        return min(max(int(position), 0), self._last - 1)

    def cells(self) -> RiskCells:
        """Return bounds of the interpolated risk over every cell of the grid (computed once)."""
        if self._cells is None:
            ladder = self._ladder
            spots, width = ladder.spot_usd, np.diff(ladder.spot_usd)
            delta, gamma, equity = ladder.delta_coin, ladder.gamma_coin_per_usd, ladder.equity_usd
            own_low, own_high = hermite_bounds(equity[:-1], equity[1:], delta[:-1], delta[1:], width)
            other = self.other_equity_usd
            scale = abs(other) + np.maximum(np.abs(own_low), np.abs(own_high))
            self._cells = RiskCells(
                spot_low_usd=spots[:-1],
                spot_high_usd=spots[1:],
                delta_coin=hermite_bounds(delta[:-1], delta[1:], gamma[:-1], gamma[1:], width),
                equity_usd=widen(own_low + other, own_high + other, scale),
                gamma_coin_per_usd=linear_bounds(gamma[:-1], gamma[1:]),
                vega_usd_per_vol=linear_bounds(ladder.vega_usd_per_vol[:-1], ladder.vega_usd_per_vol[1:]),
                gross_notional_usd=linear_bounds(ladder.gross_notional_usd[:-1], ladder.gross_notional_usd[1:]),
                liquidation_spots_usd=self.liquidation_spots_usd,
            )
        return self._cells

    def at(self, spot_usd: float) -> InterpolatedRisk:
        """Return the underlying's risk at ``spot_usd``, which must lie inside the grid (``covers``)."""
        ladder = self._ladder
        i = self.cell_of(spot_usd)
        s0 = ladder.spot_usd[i]
        h = ladder.spot_usd[i + 1] - s0
        t = (spot_usd - s0) / h
        gamma0, gamma1 = ladder.gamma_coin_per_usd[i], ladder.gamma_coin_per_usd[i + 1]
        delta0, delta1 = ladder.delta_coin[i], ladder.delta_coin[i + 1]

        def linear(values: np.ndarray) -> float:
            return float(values[i] + t * (values[i + 1] - values[i]))

        return InterpolatedRisk(
            spot_usd=spot_usd,
            equity_usd=self.other_equity_usd
            + _hermite(t, h, ladder.equity_usd[i], ladder.equity_usd[i + 1], delta0, delta1),
            delta_coin=_hermite(t, h, delta0, delta1, gamma0, gamma1),
            gamma_coin_per_usd=float(gamma0 + t * (gamma1 - gamma0)),
            vega_usd_per_vol=linear(ladder.vega_usd_per_vol),
            theta_usd_per_year=linear(ladder.theta_usd_per_year),
            gross_notional_usd=linear(ladder.gross_notional_usd),
        )

    def liquidation_distance(self, spot_usd: float) -> float:
        """Return the smallest move from ``spot_usd`` to a liquidation level, fraction (inf if none)."""
        down, up = self.liquidation_spots_usd
        distances = [math.inf]
        if down is not None:
            distances.append(max(spot_usd / down - 1.0, 0.0) if down < spot_usd else 0.0)
        if up is not None:
            distances.append(max(up / spot_usd - 1.0, 0.0) if up > spot_usd else 0.0)
        return min(distances)


def _liquidation_spots(distance: LiquidationDistance, underlying: str) -> tuple[float | None, float | None]:
    return (distance.liquidation_spot_usd(distance.down, underlying),
            distance.liquidation_spot_usd(distance.up, underlying))
