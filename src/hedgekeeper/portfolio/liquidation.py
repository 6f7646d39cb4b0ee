"""Distance to liquidation: the smallest spot move that brings an account to maintenance margin.

The search revalues the whole book (not a delta approximation). For a set of
underlyings moved together by a fraction ``x`` (spot ``S (1 + x)``, forwards in
proportion, vols held by strike, coin collateral revalued), the *cushion* of each
margin account is ``equity - maintenance margin`` in USD. On each side the search

1. evaluates the cushion on a grid of ``grid_points`` moves out to ``max_move`` in
   one vectorized call,
2. takes the first grid move at which some account's cushion is ``<= 0``, and
3. refines between it and the previous grid move with ``scipy.optimize.brentq``.

A crossing and a recovery both inside one grid step would be missed; the default
step is 0.5% of spot. When no account crosses within ``max_move`` the side is
``NOT_WITHIN_RANGE``; when one is at or below maintenance already, both sides are
``ALREADY_BELOW`` with a move of 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from hedgekeeper.portfolio.positions import Account

FloatArray = NDArray[np.float64]

#: Moves (n,) as fractions of spot -> equity minus maintenance margin (n, accounts), USD.
CushionFunction = Callable[[FloatArray], FloatArray]


class LiquidationStatus(StrEnum):
    """Whether a side reaches maintenance margin within the searched range."""

    REACHED = "reached"
    NOT_WITHIN_RANGE = "not within range"
    ALREADY_BELOW = "already below maintenance"


@dataclass(frozen=True)
class LiquidationSide:
    """One side of the search: the signed move (-0.23 is 23% down) and the account that breaches.

    ``move_fraction`` is 0.0 when already below maintenance and None when no account
    reaches it within the range.
    """

    status: LiquidationStatus
    move_fraction: float | None
    account: Account | None


@dataclass(frozen=True)
class LiquidationDistance:
    """The distance to liquidation, down and up, of a move of the underlyings in ``scope``."""

    scope: tuple[str, ...]
    spot_usd: Mapping[str, float]
    down: LiquidationSide
    up: LiquidationSide
    max_move: float

    def move_usd(self, side: LiquidationSide, underlying: str) -> float | None:
        """Return the spot move of ``underlying`` at liquidation, USD per coin (signed)."""
        return None if side.move_fraction is None else side.move_fraction * self.spot_usd[underlying]

    def liquidation_spot_usd(self, side: LiquidationSide, underlying: str) -> float | None:
        """Return the spot of ``underlying`` at which ``side`` reaches maintenance, USD per coin."""
        move = self.move_usd(side, underlying)
        return None if move is None else self.spot_usd[underlying] + move


def find_liquidation_moves(
    cushion: CushionFunction,
    accounts: Sequence[Account],
    *,
    max_move: float = 0.5,
    grid_points: int = 100,
) -> tuple[LiquidationSide, LiquidationSide]:
    """Return the first move down and up at which some account's cushion reaches zero.

    Parameters
    ----------
    cushion : moves (n,) -> equity minus maintenance margin (n, len(accounts)), USD
    accounts : the accounts of ``cushion``'s columns (those that can be liquidated)
    max_move : float in (0, 1), the largest move searched on each side, fraction of spot
    grid_points : int >= 1, grid moves per side before refining

    Returns
    -------
    (down, up) : LiquidationSide

    Examples
    --------
    One account, 1,000 USD of equity above 400 USD of maintenance, losing 10,000 USD
    per unit of move down: liquidation 6% down, none up.

    >>> account = Account("binance", "USDT")
    >>> cushion = lambda x: (1_000.0 + 10_000.0 * np.minimum(x, 0.0) - 400.0)[:, None]
    >>> down, up = find_liquidation_moves(cushion, [account])
    >>> round(down.move_fraction, 6), up.status.value
    (-0.06, 'not within range')
    """
    if not 0.0 < max_move < 1.0:
        raise ValueError(f"max_move must be in (0, 1), got {max_move}")
    if grid_points < 1:
        raise ValueError(f"grid_points must be >= 1, got {grid_points}")
    if not accounts:
        none = LiquidationSide(LiquidationStatus.NOT_WITHIN_RANGE, None, None)
        return none, none

    steps = np.linspace(0.0, max_move, grid_points + 1)[1:]
    values = cushion(np.concatenate([[0.0], -steps, steps]))
    if values[0].min() <= 0.0:
        below = LiquidationSide(LiquidationStatus.ALREADY_BELOW, 0.0, accounts[int(np.argmin(values[0]))])
        return below, below

    def worst(move: float) -> float:
        return float(cushion(np.array([move])).min())

    def side(grid: FloatArray, side_values: FloatArray) -> LiquidationSide:
        breached = np.flatnonzero(side_values.min(axis=1) <= 0.0)
        if breached.size == 0:
            return LiquidationSide(LiquidationStatus.NOT_WITHIN_RANGE, None, None)
        first = int(breached[0])
        inner = 0.0 if first == 0 else float(grid[first - 1])
        move = float(brentq(worst, inner, float(grid[first]), xtol=1e-12))
        breached = accounts[int(np.argmin(cushion(np.array([move]))[0]))]
        return LiquidationSide(LiquidationStatus.REACHED, move, breached)

    n = grid_points
    return side(-steps, values[1 : n + 1]), side(steps, values[n + 1 :])
