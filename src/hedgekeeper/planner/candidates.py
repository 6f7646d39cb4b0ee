"""The instruments the planner may trade, each described as plain numbers.

A ``Candidate`` is one instrument seen from the planner: what one contract does to
each Greek, what trading it costs, how much of it may be traded and the margin it
takes. The engine fills it from the portfolio (sensitivities, position), the
venue's metadata (lot and minimum size) and the market (price, spread, volume);
the planner reads nothing else.

Units: sizes and positions in contracts (as ``portfolio/instruments.py`` counts
them), money in USD, sensitivities in the units of ``Greek`` per contract.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.planner.errors import MalformedPlanRequest
from hedgekeeper.planner.impact import ImpactCurve
from hedgekeeper.planner.validation import as_greek, require_number
from hedgekeeper.policy.decision import Greek
from hedgekeeper.portfolio.instruments import Instrument

FloatArray = NDArray[np.float64]

# Relative slack when dividing a position range by the lot size, so that 6.3 / 0.1
# counts as 63 lots rather than 62.999...
_LOT_ROUNDING = 1e-9


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One instrument the planner may trade, with its sensitivities, costs and limits.

    Parameters
    ----------
    instrument_id : str, e.g. ``"BTC-PERPETUAL.DERIBIT"``
    sensitivities : mapping from Greek to its change per contract bought, in the
        Greek's unit (delta coin, gamma USD per 1%, vega USD per vol point, weight
        decimal); a Greek left out is 0
    price_usd : float, USD per contract, > 0: the notional that ``cost_fraction``
        applies to (for an option, whatever its fee and spread are quoted on)
    cost_fraction : float, fee plus half the bid-ask spread per USD traded, >= 0
        (0.0005 is 5 bps)
    lot_size : float, contracts, > 0: every trade is a whole number of lots
    min_size : float, contracts, >= 0: the smallest non-zero trade
    position : float, contracts held now, signed
    min_position, max_position : float, contracts, may be infinite: the position
        after the trade must lie between them; a position already outside may stay
        or move toward them, never further out
    impact : ImpactCurve, market impact of the trade's size (none by default)
    initial_margin_long_usd, initial_margin_short_usd : float, USD per contract
        held long and short, >= 0: the initial margin of the position, linear on
        each side (for a long option, its premium, which leaves the balance)

    Raises
    ------
    MalformedPlanRequest
        Naming the candidate and the field: NaN, a lot size <= 0, an unknown Greek,
        ``min_position > max_position``, or a minimum size above one lot with an
        unbounded position (the on/off switch of the minimum size needs a bound).

    Examples
    --------
    One Deribit BTC perpetual contract is 10 USD of face: 1e-4 BTC of delta at 100,000.

    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> perpetual.trade_cost_usd([-9000.0])
    (array([45.]), array([0.]))
    """

    instrument_id: str
    sensitivities: Mapping[Greek, float]
    price_usd: float
    cost_fraction: float
    lot_size: float
    min_size: float = 0.0
    position: float = 0.0
    min_position: float = -math.inf
    max_position: float = math.inf
    impact: ImpactCurve = field(default_factory=ImpactCurve)
    initial_margin_long_usd: float = 0.0
    initial_margin_short_usd: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.instrument_id, str) or not self.instrument_id:
            raise MalformedPlanRequest(
                f"candidate id must be a non-empty string, got {self.instrument_id!r}"
            )
        where = f"candidate {self.instrument_id!r}"
        if not isinstance(self.sensitivities, Mapping):
            raise MalformedPlanRequest(
                f"{where}: sensitivities must be a mapping from Greek to a number"
            )
        sensitivities = {
            as_greek(greek, where): require_number(value, f"{where}: sensitivity {greek}")
            for greek, value in self.sensitivities.items()
        }
        object.__setattr__(self, "sensitivities", sensitivities)
        checks: dict[str, dict[str, Any]] = {
            "price_usd": {"minimum": 0.0, "strict": True},
            "cost_fraction": {"minimum": 0.0},
            "lot_size": {"minimum": 0.0, "strict": True},
            "min_size": {"minimum": 0.0},
            "position": {},
            "min_position": {"allow_infinite": True},
            "max_position": {"allow_infinite": True},
            "initial_margin_long_usd": {"minimum": 0.0},
            "initial_margin_short_usd": {"minimum": 0.0},
        }
        for name, limits in checks.items():
            number = require_number(getattr(self, name), f"{where}: {name}", **limits)
            object.__setattr__(self, name, number)
        if not isinstance(self.impact, ImpactCurve):
            raise MalformedPlanRequest(
                f"{where}: impact must be an ImpactCurve, got {self.impact!r}"
            )
        if self.min_position > self.max_position:
            raise MalformedPlanRequest(
                f"{where}: min_position {self.min_position} is above max_position"
                f" {self.max_position}"
            )
        if self.min_lots > 1 and not all(map(math.isfinite, self.lot_range)):
            raise MalformedPlanRequest(
                f"{where}: min_size {self.min_size} is above the lot size {self.lot_size},"
                " which needs finite min_position and max_position"
            )

    @classmethod
    def from_instrument(cls, instrument: Instrument, **fields: Any) -> Candidate:
        """Return the candidate of ``instrument``: its id, lot and minimum size, and ``fields``.

        >>> from hedgekeeper.portfolio.instruments import example_instruments
        >>> call = Candidate.from_instrument(example_instruments()[1],
        ...     sensitivities={"gamma_usd_per_pct": 310.0}, price_usd=5_000.0,
        ...     cost_fraction=0.003)
        >>> call.lot_size, call.min_size
        (0.1, 0.1)
        """
        return cls(
            instrument_id=instrument.instrument_id,
            lot_size=float(instrument.lot_size),
            min_size=float(instrument.min_size),
            **fields,
        )

    def sensitivity(self, greek: Greek) -> float:
        """Return the change of ``greek`` per contract bought, in its unit (0 if not listed)."""
        return self.sensitivities.get(greek, 0.0)

    @property
    def min_lots(self) -> int:
        """Return the smallest non-zero trade in lots: ``min_size`` rounded up, at least 1."""
        return max(1, math.ceil(self.min_size / self.lot_size - _LOT_ROUNDING))

    @property
    def lot_range(self) -> tuple[float, float]:
        """Return the fewest and most lots that may be traded (signed, possibly infinite).

        The position after the trade must lie in ``[min(min_position, position),
        max(max_position, position)]``, so that the range always contains 0.
        """
        lowest = (min(self.min_position, self.position) - self.position) / self.lot_size
        highest = (max(self.max_position, self.position) - self.position) / self.lot_size
        if math.isfinite(lowest):
            lowest = math.ceil(lowest - _LOT_ROUNDING * max(1.0, abs(lowest)))
        if math.isfinite(highest):
            highest = math.floor(highest + _LOT_ROUNDING * max(1.0, abs(highest)))
        return lowest, highest

    def trade_cost_usd(self, contracts: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the (fee and spread, impact) cost of trading ``contracts`` (signed), USD.

        ``fee and spread = cost_fraction * price_usd * |contracts|`` and impact from
        ``impact``; both broadcast over ``contracts``.
        """
        size = np.abs(np.asarray(contracts, dtype=np.float64))
        return self.cost_fraction * self.price_usd * size, self.impact.cost_usd(size)

    def initial_margin_usd(self, position: ArrayLike) -> FloatArray:
        """Return the initial margin of holding ``position`` contracts (signed), USD.

        ``initial_margin_long_usd * max(position, 0)
        + initial_margin_short_usd * max(-position, 0)``.
        """
        held = np.asarray(position, dtype=np.float64)
        long_usd = self.initial_margin_long_usd * np.maximum(held, 0.0)
        return long_usd + self.initial_margin_short_usd * np.maximum(-held, 0.0)
