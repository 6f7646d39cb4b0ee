"""What the API shows: an immutable view of the running service, handed over by reference.

The engine's thread builds a new ``ServiceSnapshot`` every ``snapshot_interval_s``
(and after a command; ``publishing.py``) and replaces the service's reference to it, one atomic
assignment; the API's threads read whichever snapshot is current and never touch
the engine's own objects, so neither waits on the other. Everything in it is plain
JSON-ready data: numbers, strings, lists and dicts. Infinite floats are None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hedgekeeper.engine.records import RiskSample
from hedgekeeper.policy.risk_profile import RiskProfile

GREEKS = ("delta_coin", "delta_usd", "gamma_usd_per_pct", "vega_usd_per_vol_pt", "weight")


def finite(value: float | None) -> float | None:
    """Return ``value``, None when it is missing or not finite (JSON has no infinity).

    >>> finite(1.5), finite(math.inf)
    (1.5, None)
    """
    return value if value is not None and math.isfinite(value) else None


def sample_measures(sample: RiskSample) -> dict[str, float | None]:
    """Return a sample's Greeks by band name (``delta_usd`` is delta coin times spot)."""
    return {"delta_coin": sample.delta_coin, "delta_usd": sample.delta_coin * sample.spot_usd,
            "gamma_usd_per_pct": sample.gamma_usd_per_pct, "vega_usd_per_vol_pt": sample.vega_usd_per_vol_pt,
            "weight": finite(sample.weight)}


def bands_view(profile: RiskProfile, underlying: str) -> dict[str, dict[str, float] | None]:
    """Return an underlying's bands by Greek: ``{"target", "lower", "upper"}`` or None (unconstrained)."""
    bands = profile.bands(underlying)
    out: dict[str, dict[str, float] | None] = {}
    for greek in GREEKS:
        band = getattr(bands, greek)
        out[greek] = None if band is None else {"target": band.target, "lower": band.lower, "upper": band.upper}
    return out


def breaches(sample: RiskSample, profile: RiskProfile) -> list[str]:
    """Return the Greeks of ``sample`` outside their band."""
    bands = profile.bands(sample.underlying)
    measures = sample_measures(sample)
    return [greek for greek in GREEKS
            if (band := getattr(bands, greek)) is not None and measures[greek] is not None
            and not band.contains(measures[greek])]  # type: ignore[arg-type]


@dataclass(frozen=True)
class ServiceSnapshot:
    """The service as the API sees it at ``engine_ns``.

    Attributes
    ----------
    name, status : the service's name; ``starting``, ``recovering``, ``running``, ``stopping``, ``stopped``
    engine_ns : the engine's time, ns since the epoch (UTC)
    speed : engine seconds per wall-clock second
    paused : whether deciding is paused
    kill_switch : the kill switch's reason, "" when off
    config_version : the configuration version in force
    profile : the bands in force, as configured (``RiskProfile``'s JSON)
    underlyings : per underlying: spot, Greeks, bands, breaches, equity, distance to liquidation
    history : per underlying, the recent samples ``[ts_ns, delta_coin, gamma, vega, weight, spot]``
    positions, balances, open_orders, decisions, fills : lists of dicts, newest decisions and fills first
    costs : ``fees_usd``, ``slippage_usd``, ``total_usd``, ``fills``
    counters : events processed and rejected, quiet ticks, decisions, fills
    hedging : underlyings whose rebalance is being executed
    recovery : what the last start's recovery found
    components : per component with a ``view()`` (the chain), what it is doing
    """

    name: str
    status: str
    engine_ns: int
    speed: float
    paused: bool = False
    kill_switch: str = ""
    config_version: int = 0
    profile: Mapping[str, Any] = field(default_factory=dict)
    underlyings: Mapping[str, Any] = field(default_factory=dict)
    history: Mapping[str, list[list[float | None]]] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)
    open_orders: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    costs: Mapping[str, float] = field(default_factory=dict)
    counters: Mapping[str, int] = field(default_factory=dict)
    hedging: list[str] = field(default_factory=list)
    recovery: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, Any] = field(default_factory=dict)
    sequence: int = 0
