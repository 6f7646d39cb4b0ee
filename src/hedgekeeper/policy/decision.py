"""What a policy sees (``PolicyInput``) and what it decides (``Decision``).

A policy is a pure function of its input: ``decide(PolicyInput) -> Decision``. The
input carries everything it may look at, including the memory of the last
rebalance, so that a policy holds parameters only and the engine keeps the state.
The decision says whether to act, why (which trigger, which Greek, the numbers),
and the goal handed to the planner: an interval per Greek that the book must be
brought into (the band itself to hedge to its edge, or the target alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Greek(StrEnum):
    """The per-underlying risk measures that bands constrain, with their units."""

    DELTA_COIN = "delta_coin"  # coin of the underlying
    GAMMA_USD_PER_PCT = "gamma_usd_per_pct"  # USD change of delta per 1% move
    VEGA_USD_PER_VOL_PT = "vega_usd_per_vol_pt"  # USD per volatility point
    WEIGHT = "weight"  # net USD delta over equity, decimal


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """One underlying's risk at one instant, as the engine computed it.

    Attributes
    ----------
    ts_ns : int, ns since the epoch (UTC)
    underlying : str, e.g. "BTC"
    spot_usd : float, USD per coin
    delta_coin : float, coin (collateral included, premium-adjusted for inverse)
    gamma_coin_per_usd : float, d(delta_coin)/d(spot), coin per USD
    vega_usd_per_vol_pt : float, USD per volatility point
    weight : float, net USD delta over portfolio equity, decimal
    leverage : float, portfolio gross notional over equity
    liquidation_distance : float, smallest spot move (fraction, either side) to
        liquidation; ``math.inf`` when none is within the searched range
    vol : float, annualised volatility of the underlying used for risk, decimal
    """

    ts_ns: int
    underlying: str
    spot_usd: float
    delta_coin: float
    gamma_coin_per_usd: float
    vega_usd_per_vol_pt: float
    weight: float
    leverage: float
    liquidation_distance: float = math.inf
    vol: float = 0.0

    @property
    def gamma_usd_per_pct(self) -> float:
        """Return the USD change of delta per 1% move: gamma * spot^2 / 100."""
        return self.gamma_coin_per_usd * self.spot_usd * self.spot_usd * 0.01

    def value(self, greek: Greek) -> float:
        """Return the measure named by ``greek`` in its unit."""
        return getattr(self, greek.value)


@dataclass(frozen=True, slots=True)
class HedgeMemory:
    """What the engine remembers of the last rebalance of an underlying.

    ``last_rebalance_ts_ns`` and ``last_reference_usd`` (the oracle or spot price at
    that rebalance) are ``None`` before the first one. ``deferred_since_ns`` is when
    the rebalance now being deferred (a ``Decision`` with ``deferred=True``) was first
    deferred, ``None`` when none is.
    """

    last_rebalance_ts_ns: int | None = None
    last_reference_usd: float | None = None
    deferred_since_ns: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyInput:
    """Everything a policy may look at for one underlying at one instant.

    Attributes
    ----------
    risk : RiskSnapshot
    memory : HedgeMemory
    oracle_usd : float or None, the reference price (an oracle round), USD per coin
    cost_fraction : float, expected cost of trading one USD of the hedge instrument,
        decimal (fee + half-spread + impact for a typical size; 0.0005 is 5 bps)
    features : mapping from name to value or None, market features computed causally
        from the events before ``risk.ts_ns`` (``ml/features.py``); None when the engine
        computes none
    """

    risk: RiskSnapshot
    memory: HedgeMemory = HedgeMemory()
    oracle_usd: float | None = None
    cost_fraction: float = 0.0
    features: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's verdict for one underlying, acted on or not, always recorded.

    Attributes
    ----------
    ts_ns : int, ns since the epoch (UTC)
    underlying : str
    act : bool, whether to rebalance now
    trigger : str, the rule that fired ("threshold", "time", "oracle_deviation",
        "whalley_wilmott", "hard_limit:liquidation", ...), "" when none did
    reasons : tuple of str, each with its numbers, e.g. "delta_coin 3.4 above band
        upper 2.5"; for a skip, why it was skipped
    goal : mapping from Greek to the (lower, upper) interval to bring it into
    forced : bool, a hard limit was crossed: the rebalance may not be skipped
    expected_cost_usd : float, the estimated cost of the rebalance, USD
    expected_benefit_usd : float, the estimated risk removed, USD of certainty equivalent
    deferred : bool, a rule fired but the rebalance was put off (the ML gate); the
        engine then remembers since when in ``HedgeMemory.deferred_since_ns``
    """

    ts_ns: int
    underlying: str
    act: bool
    trigger: str = ""
    reasons: tuple[str, ...] = ()
    goal: dict[Greek, tuple[float, float]] = field(default_factory=dict)
    forced: bool = False
    expected_cost_usd: float = 0.0
    expected_benefit_usd: float = 0.0
    deferred: bool = False
