"""The ``[policy]`` table: which rule decides when to act, and ``build_policy`` to make it.

A bad field raises ``ConfigError`` naming it (``policy.time.interval_s: ...``). The
table names a ``kind`` and carries the table of that kind (for ``"hybrid"``, the
table of each member); a table the kind does not use is an error, never silently
ignored. An optional ``[policy.ml_gate]`` table, for kind threshold or whalley_wilmott,
puts the rule in the ML gate (``policy/ml_gate.py``, ``MLGateConfig``): ``model_path``
(from ``hedgekeeper train``), ``defer_probability``, ``max_deferral_s``,
``outer_band_multiple``, and ``min_liquidation_distance`` and ``max_leverage``, no
looser than ``[policy.hard_limits]``'. ``[policy.hard_limits]`` is required: ``build_policy``
always wraps the policy in ``HardLimits``, outermost, around the optional cost-aware
skip and the gate::

    [policy]
    kind = "hybrid"                   # threshold, time, oracle_deviation, whalley_wilmott, hybrid
    hedge_to = "edge"                 # edge: to the band's edge; target: to the target

    [policy.hybrid]
    combine = "any"                   # any: one member fires; all: every member fires
    members = ["threshold", "time", "oracle_deviation", "whalley_wilmott"]

    [policy.threshold]
    relative = 0.2                    # optional: |x - target| > 20% of |target|; absent: the band
    floors = { delta_coin = 0.5 }     # relative mode: smallest tolerance, in the field's unit

    [policy.time]
    interval_s = 3600                 # seconds between rebalances

    [policy.oracle_deviation]
    deviation = 0.005                 # fraction of the last reference price (0.5%)
    heartbeat_s = 86400               # optional: act anyway after this many seconds

    [policy.whalley_wilmott]
    risk_aversion_per_usd = 1e-4      # absolute risk aversion, per USD
    rate = 0.0                        # optional: annualised, for e^{-r (T - t)}
    horizon_years = 0.0               # optional: T - t, ACT/365 years
    min_half_width_coin = 0.0         # optional: smallest half-width, coin

    [policy.cost_aware]               # optional: skip hedges costing more than the risk removed
    risk_aversion_per_usd = 1e-4      # absolute risk aversion, per USD
    horizon_hours = 24                # how long the excess would otherwise be carried

    [policy.hard_limits]              # required
    min_liquidation_distance = 0.15   # smallest spot move to liquidation, fraction
    max_leverage = 5.0                # largest gross notional over equity
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic_core import PydanticCustomError

from hedgekeeper.config import StrictModel, validate_table
from hedgekeeper.errors import ConfigError
from hedgekeeper.policy.base import HedgeTo, Policy
from hedgekeeper.policy.cost_aware import HOURS_PER_YEAR, CostAwareSkip
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.hybrid import AllOf, AnyOf
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.policy.triggers import OracleDeviationPolicy, ThresholdPolicy, TimePolicy
from hedgekeeper.policy.whalley_wilmott import WhalleyWilmottPolicy

MemberKind = Literal["threshold", "time", "oracle_deviation", "whalley_wilmott"]
BandField = Literal["delta_coin", "delta_usd", "gamma_usd_per_pct", "vega_usd_per_vol_pt", "weight"]
NS_PER_SECOND = 1_000_000_000


class ThresholdConfig(StrictModel):
    """``[policy.threshold]``: band mode without ``relative``, relative mode with it.

    Attributes
    ----------
    relative : float or None, tolerance as a fraction of ``|target|`` (0.2 is 20%), > 0
    floors : mapping from profile field to the smallest tolerance, in that field's
        unit, >= 0; relative mode only, and required for every band whose target is 0
    """

    relative: float | None = pydantic.Field(None, gt=0)
    floors: dict[BandField, pydantic.NonNegativeFloat] = {}

    @pydantic.model_validator(mode="after")
    def _floors_need_relative(self) -> ThresholdConfig:
        if self.floors and self.relative is None:
            raise PydanticCustomError("floors_without_relative", "floors apply only with relative")
        return self


class TimeConfig(StrictModel):
    """``[policy.time]``: ``interval_s``, seconds between rebalances, > 0."""

    interval_s: float = pydantic.Field(gt=0)


class OracleDeviationConfig(StrictModel):
    """``[policy.oracle_deviation]``.

    Attributes
    ----------
    deviation : float, move of the reference price that fires, fraction (0.005 is 0.5%), > 0
    heartbeat_s : float or None, seconds after which to act anyway, > 0; None for no heartbeat
    """

    deviation: float = pydantic.Field(gt=0)
    heartbeat_s: float | None = pydantic.Field(None, gt=0)


class WhalleyWilmottConfig(StrictModel):
    """``[policy.whalley_wilmott]`` (see ``WhalleyWilmottPolicy``).

    Attributes
    ----------
    risk_aversion_per_usd : float, absolute risk aversion, per USD, > 0
    rate : float, annualised rate for the discount ``e^{-r (T - t)}``, decimal
    horizon_years : float, ``T - t``, ACT/365 years, >= 0
    min_half_width_coin : float, smallest half-width of the band, coin, >= 0
    """

    risk_aversion_per_usd: float = pydantic.Field(gt=0)
    rate: float = 0.0
    horizon_years: float = pydantic.Field(0.0, ge=0)
    min_half_width_coin: float = pydantic.Field(0.0, ge=0)


class HybridConfig(StrictModel):
    """``[policy.hybrid]``: ``combine`` ("any" or "all") over two or more distinct ``members``."""

    combine: Literal["any", "all"]
    members: tuple[MemberKind, ...] = pydantic.Field(min_length=2)

    @pydantic.field_validator("members")
    @classmethod
    def _distinct(cls, members: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(members)) != len(members):
            raise PydanticCustomError("repeated_member", f"members must be distinct, got {list(members)}")
        return members


class CostAwareConfig(StrictModel):
    """``[policy.cost_aware]`` (see ``CostAwareSkip``).

    Attributes
    ----------
    risk_aversion_per_usd : float, absolute risk aversion, per USD, > 0
    horizon_hours : float, hours an excess delta would otherwise be carried, > 0
    """

    risk_aversion_per_usd: float = pydantic.Field(gt=0)
    horizon_hours: float = pydantic.Field(gt=0)


class HardLimitsConfig(StrictModel):
    """``[policy.hard_limits]``, required (see ``HardLimits``).

    Attributes
    ----------
    min_liquidation_distance : float, smallest spot move to liquidation, fraction, in [0, 1)
    max_leverage : float, largest gross notional over equity, > 0
    """

    min_liquidation_distance: float = pydantic.Field(ge=0, lt=1)
    max_leverage: float = pydantic.Field(gt=0)


class MLGateConfig(StrictModel):
    """``[policy.ml_gate]`` (see ``MLGate``).

    Attributes
    ----------
    model_path : Path, a model saved by ``hedgekeeper train`` (relative to the working directory)
    defer_probability : float in (0, 1], defer when the model's probability is at least this
    max_deferral_s : float, longest deferral, seconds, > 0
    outer_band_multiple : float >= 1, band half-widths beyond which nothing is deferred
    min_liquidation_distance : float in [0, 1), no deferral closer to liquidation
    max_leverage : float > 0, no deferral above this leverage
    """

    model_path: Path
    defer_probability: float = pydantic.Field(gt=0, le=1)
    max_deferral_s: float = pydantic.Field(gt=0)
    outer_band_multiple: float = pydantic.Field(ge=1)
    min_liquidation_distance: float = pydantic.Field(ge=0, lt=1)
    max_leverage: float = pydantic.Field(gt=0)


class PolicyConfig(StrictModel):
    """The ``[policy]`` table.

    Attributes
    ----------
    kind : "threshold", "time", "oracle_deviation", "whalley_wilmott" or "hybrid"
    hedge_to : "edge" or "target", where a rebalance brings the measures that fired
    hard_limits : HardLimitsConfig, required
    cost_aware : CostAwareConfig or None, the cost-aware skip, None for none
    threshold, time, oracle_deviation, whalley_wilmott, hybrid : the table of the
        kind (of each member for "hybrid"); the others must be absent
    """

    kind: Literal[MemberKind, "hybrid"]
    hedge_to: HedgeTo
    hard_limits: HardLimitsConfig
    cost_aware: CostAwareConfig | None = None
    threshold: ThresholdConfig | None = None
    time: TimeConfig | None = None
    oracle_deviation: OracleDeviationConfig | None = None
    whalley_wilmott: WhalleyWilmottConfig | None = None
    hybrid: HybridConfig | None = None
    ml_gate: MLGateConfig | None = None

    @pydantic.model_validator(mode="after")
    def _gate_within_limits(self) -> PolicyConfig:
        gate = self.ml_gate
        if gate is None:
            return self
        if self.kind not in ("threshold", "whalley_wilmott"):
            raise PydanticCustomError(
                "gate_kind", f"[policy.ml_gate] gates threshold or whalley_wilmott, not kind = {self.kind!r}")
        if gate.min_liquidation_distance < self.hard_limits.min_liquidation_distance:
            raise PydanticCustomError(
                "gate_limit", f"ml_gate.min_liquidation_distance {gate.min_liquidation_distance} is below "
                f"hard_limits.min_liquidation_distance {self.hard_limits.min_liquidation_distance}")
        if gate.max_leverage > self.hard_limits.max_leverage:
            raise PydanticCustomError(
                "gate_limit", f"ml_gate.max_leverage {gate.max_leverage} is above "
                f"hard_limits.max_leverage {self.hard_limits.max_leverage}")
        return self

    @pydantic.model_validator(mode="after")
    def _tables_match_kind(self) -> PolicyConfig:
        if self.kind == "hybrid":
            if self.hybrid is None:
                raise PydanticCustomError("missing_table", "kind = 'hybrid' needs a [policy.hybrid] table")
            used = set(self.hybrid.members)
        else:
            used = {self.kind}
        for name in _MEMBER_BUILDERS:
            given = getattr(self, name) is not None
            if name in used and not given:
                raise PydanticCustomError(
                    "missing_table", f"kind = {self.kind!r} needs a [policy.{name}] table"
                )
            if given and name not in used:
                raise PydanticCustomError(
                    "unused_table", f"[policy.{name}] is given but kind = {self.kind!r} does not use it"
                )
        return self


def load_policy_config(source: str | Path | Mapping[str, Any], *, prefix: str = "policy") -> PolicyConfig:
    """Return the policy configuration from a TOML file's ``[policy]`` table or from a mapping.

    Raises
    ------
    ConfigError
        If the file is malformed, the table missing or a field invalid, naming the field.

    Examples
    --------
    >>> config = load_policy_config({"kind": "time", "hedge_to": "target", "time": {"interval_s": 3600},
    ...     "hard_limits": {"min_liquidation_distance": 0.15, "max_leverage": 5.0}})
    >>> config.kind, config.time.interval_s
    ('time', 3600.0)
    >>> load_policy_config({"kind": "time", "hedge_to": "target", "time": {"interval_s": -1},
    ...     "hard_limits": {"min_liquidation_distance": 0.15, "max_leverage": 5.0}})
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.ConfigError: invalid configuration: policy.time.interval_s: Input should be
    greater than 0
    """
    return validate_table(PolicyConfig, source, prefix=prefix, what="policy settings")


def _threshold(table: ThresholdConfig, hedge_to: HedgeTo, profile: RiskProfile) -> Policy:
    return ThresholdPolicy(
        profile=profile, hedge_to=hedge_to, relative=table.relative, floors=dict(table.floors)
    )


def _time(table: TimeConfig, hedge_to: HedgeTo, profile: RiskProfile) -> Policy:
    interval_ns = round(table.interval_s * NS_PER_SECOND)
    return TimePolicy(profile=profile, hedge_to=hedge_to, interval_ns=interval_ns)


def _oracle_deviation(table: OracleDeviationConfig, hedge_to: HedgeTo, profile: RiskProfile) -> Policy:
    heartbeat_ns = None if table.heartbeat_s is None else round(table.heartbeat_s * NS_PER_SECOND)
    return OracleDeviationPolicy(
        profile=profile, hedge_to=hedge_to, deviation=table.deviation, heartbeat_ns=heartbeat_ns
    )


def _whalley_wilmott(table: WhalleyWilmottConfig, hedge_to: HedgeTo, profile: RiskProfile) -> Policy:
    return WhalleyWilmottPolicy(profile=profile, hedge_to=hedge_to, **table.model_dump())


_MEMBER_BUILDERS: dict[str, Callable[[Any, HedgeTo, RiskProfile], Policy]] = {
    "threshold": _threshold,
    "time": _time,
    "oracle_deviation": _oracle_deviation,
    "whalley_wilmott": _whalley_wilmott,
}


def _check_floors(table: ThresholdConfig, profile: RiskProfile) -> None:
    # In relative mode a band with target 0 tolerates nothing unless it has a floor.
    if table.relative is None:
        return
    for underlying in profile.underlyings:
        for name, band in profile.bands(underlying):
            if band is not None and band.target == 0.0 and name not in table.floors:
                raise ConfigError(
                    f"invalid configuration: policy.threshold.floors.{name}: required in relative mode, "
                    f"since profile.{underlying}.{name} has target 0 (the tolerance would be 0)"
                )


def _ml_gate(table: MLGateConfig, policy: Policy, profile: RiskProfile) -> Policy:
    from hedgekeeper.ml.features import FEATURES  # the model's libraries load only when a gate is configured
    from hedgekeeper.ml.model import load_model
    from hedgekeeper.policy.ml_gate import MLGate

    try:
        saved = load_model(table.model_path, FEATURES)
    except FileNotFoundError as error:
        raise ConfigError(f"invalid configuration: policy.ml_gate.model_path: no model at {table.model_path}") from error
    return MLGate(
        policy=policy, profile=profile, model=saved.model, defer_probability=table.defer_probability,
        max_deferral_ns=round(table.max_deferral_s * NS_PER_SECOND), outer_band_multiple=table.outer_band_multiple,
        min_liquidation_distance=table.min_liquidation_distance, max_leverage=table.max_leverage,
    )


def build_policy(config: PolicyConfig, profile: RiskProfile) -> HardLimits:
    """Return the configured policy, in the ML gate and the cost-aware skip if configured, always within ``HardLimits``.

    Parameters
    ----------
    config : PolicyConfig, the validated ``[policy]`` table
    profile : RiskProfile, the bands per underlying

    Raises
    ------
    ConfigError
        If relative thresholds meet a band whose target is 0 without a floor.

    Examples
    --------
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> config = load_policy_config({"kind": "hybrid", "hedge_to": "edge",
    ...     "hybrid": {"combine": "any", "members": ["threshold", "time"]},
    ...     "threshold": {}, "time": {"interval_s": 3600},
    ...     "cost_aware": {"risk_aversion_per_usd": 1e-4, "horizon_hours": 24},
    ...     "hard_limits": {"min_liquidation_distance": 0.15, "max_leverage": 5.0}})
    >>> policy = build_policy(config, profile)
    >>> type(policy).__name__, type(policy.policy).__name__, type(policy.policy.policy).__name__
    ('HardLimits', 'CostAwareSkip', 'AnyOf')
    """
    if config.threshold is not None:
        _check_floors(config.threshold, profile)
    names = config.hybrid.members if config.hybrid is not None else (config.kind,)
    members = tuple(
        _MEMBER_BUILDERS[name](getattr(config, name), config.hedge_to, profile) for name in names
    )
    if config.hybrid is None:
        policy = members[0]
    else:
        policy = (AnyOf if config.hybrid.combine == "any" else AllOf)(members)
    if config.ml_gate is not None:
        policy = _ml_gate(config.ml_gate, policy, profile)
    if config.cost_aware is not None:
        policy = CostAwareSkip(
            policy,
            risk_aversion_per_usd=config.cost_aware.risk_aversion_per_usd,
            horizon_years=config.cost_aware.horizon_hours / HOURS_PER_YEAR,
        )
    return HardLimits(
        policy,
        profile=profile,
        min_liquidation_distance=config.hard_limits.min_liquidation_distance,
        max_leverage=config.hard_limits.max_leverage,
    )
