"""The API's request and response models (they document the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

import pydantic

from hedgekeeper.policy.risk_profile import UnderlyingBands


class Status(pydantic.BaseModel):
    """Where the service stands."""

    name: str
    status: str = pydantic.Field(description="starting, recovering, running, stopping or stopped")
    engine_ns: int = pydantic.Field(description="the engine's time, ns since the epoch (UTC)")
    speed: float = pydantic.Field(description="engine seconds per wall-clock second")
    paused: bool
    kill_switch: str = pydantic.Field(description="the kill switch's reason; empty when off")
    config_version: int
    hedging: list[str] = pydantic.Field(description="underlyings whose rebalance is being executed")
    counters: dict[str, int]
    recovery: dict[str, Any] = pydantic.Field(description="what the last start's recovery found")


class UnderlyingGreeks(pydantic.BaseModel):
    """One underlying's latest risk sample against its bands."""

    spot_usd: float | None = pydantic.Field(None, description="USD per coin")
    ts_ns: int | None = None
    greeks: dict[str, float | None] = pydantic.Field(
        default_factory=dict, description="delta_coin (coin), delta_usd (USD), gamma_usd_per_pct (USD per 1%), "
                                          "vega_usd_per_vol_pt (USD per vol point), weight (decimal)")
    bands: dict[str, dict[str, float] | None] = pydantic.Field(description="target, lower, upper per Greek; "
                                                                           "null when unconstrained")
    breaches: list[str] = pydantic.Field(description="the Greeks outside their band")
    equity_usd: float | None = None
    liquidation_distance: float | None = pydantic.Field(None, description="smallest spot move to liquidation, "
                                                                          "fraction; null when none in range")


class GreeksReport(pydantic.BaseModel):
    """Greeks per underlying against bands, with recent history if asked."""

    engine_ns: int
    underlyings: dict[str, UnderlyingGreeks]
    history: dict[str, list[list[float | None]]] = pydantic.Field(
        default_factory=dict,
        description="per underlying: [ts_ns, delta_coin, gamma_usd_per_pct, vega_usd_per_vol_pt, weight, spot_usd, "
                    "liquidation_distance]")


class Costs(pydantic.BaseModel):
    """Costs paid so far, USD."""

    fees_usd: float
    slippage_usd: float
    total_usd: float
    fills: int


class Portfolio(pydantic.BaseModel):
    """The book: positions, balances, Greeks and costs."""

    engine_ns: int
    positions: list[dict[str, Any]]
    balances: list[dict[str, Any]]
    underlyings: dict[str, UnderlyingGreeks]
    costs: Costs


class BandChange(UnderlyingBands):
    """New bands for one underlying: each Greek's ``{target, width}`` or ``{target, lower, upper}``; omitted is unconstrained."""


class BandChangeResult(pydantic.BaseModel):
    """The configuration version a band change made."""

    version: int
    profile: dict[str, Any]


class KillSwitchRequest(pydantic.BaseModel):
    """Why the kill switch is engaged."""

    model_config = pydantic.ConfigDict(extra="forbid")

    reason: str = pydantic.Field(min_length=1, max_length=500)


class ControlResult(pydantic.BaseModel):
    """The state after a control: paused, the kill switch and how many orders a kill cancelled."""

    paused: bool
    kill_switch: str
    cancelled: int = 0
