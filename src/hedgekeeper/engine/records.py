"""What the engine records: risk over time, every decision with its reasons, every fill.

A run's ``Recorder`` keeps, in memory and in arrival order:

- ``RiskSample``: one underlying's risk and the book's equity, sampled by the loop;
- ``Decision`` (``policy/decision.py``): every verdict, acted on or skipped;
- ``FillRecord``: every execution, with its fee and its slippage against the mid.

Backtest metrics, reports and persistence read these records and nothing else,
so a backtest and a live run are judged from the same evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.policy.decision import Decision


@dataclass(frozen=True, slots=True)
class RiskSample:
    """One underlying's risk and the whole book's value at ``ts_ns``.

    Attributes
    ----------
    ts_ns : int, ns since the epoch (UTC)
    underlying : str
    spot_usd : float, USD per coin
    delta_coin : float, coin
    gamma_usd_per_pct : float, USD change of delta per 1% move
    vega_usd_per_vol_pt : float, USD per volatility point
    weight : float, net USD delta over equity, decimal
    equity_usd : float, the whole book's mark-to-market equity, USD, costs paid included
    liquidation_distance : float, smallest spot move to liquidation, fraction (inf if none)
    """

    ts_ns: int
    underlying: str
    spot_usd: float
    delta_coin: float
    gamma_usd_per_pct: float
    vega_usd_per_vol_pt: float
    weight: float
    equity_usd: float
    liquidation_distance: float


@dataclass
class Recorder:
    """Collect a run's risk samples, decisions and fills, in arrival order."""

    samples: list[RiskSample] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)

    def sample_columns(self, underlying: str) -> dict[str, np.ndarray]:
        """Return one underlying's risk samples as NumPy columns named as ``RiskSample``'s fields."""
        rows = [s for s in self.samples if s.underlying == underlying]
        return {
            f.name: np.array([getattr(row, f.name) for row in rows])
            for f in fields(RiskSample)
            if f.name != "underlying"
        }

    def fill_columns(self) -> dict[str, np.ndarray]:
        """Return the fills as NumPy columns named as ``FillRecord``'s fields."""
        return {f.name: np.array([getattr(row, f.name) for row in self.fills]) for f in fields(FillRecord)}
