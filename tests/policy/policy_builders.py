"""Inputs for the policy tests: a profile, snapshots, states, fixed-verdict policies, strategies."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from hedgekeeper.policy.decision import Decision, HedgeMemory, PolicyInput, RiskSnapshot
from hedgekeeper.policy.quiet import Quiet, RiskCells
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile

AS_OF_NS = 1_749_801_600_000_000_000  # 2025-06-13T08:00:00Z
SECOND_NS = 1_000_000_000
HOUR_NS = 3_600 * SECOND_NS

PROFILE = load_risk_profile({
    "BTC": {
        "delta_coin": {"target": 0.0, "width": 2.5},
        "vega_usd_per_vol_pt": {"target": 0.0, "lower": -5000.0, "upper": 1000.0},
        "weight": {"target": 0.2, "lower": 0.15, "upper": 0.25},
    },
    "ETH": {"delta_usd": {"target": 50_000.0, "lower": 0.0, "upper": 100_000.0}},
})

_SNAPSHOT = RiskSnapshot(
    ts_ns=AS_OF_NS, underlying="BTC", spot_usd=100_000.0, delta_coin=0.0, gamma_coin_per_usd=0.0,
    vega_usd_per_vol_pt=0.0, weight=0.2, leverage=1.0, liquidation_distance=math.inf, vol=0.6,
)


def snapshot(**fields: Any) -> RiskSnapshot:
    """Return a BTC snapshot inside every band of ``PROFILE``, with ``fields`` replaced."""
    return dataclasses.replace(_SNAPSHOT, **fields)


def state(
    memory: HedgeMemory = HedgeMemory(), oracle_usd: float | None = None, cost_fraction: float = 0.0005,
    **fields: Any,
) -> PolicyInput:
    """Return a policy input around ``snapshot(**fields)``."""
    return PolicyInput(snapshot(**fields), memory, oracle_usd, cost_fraction)


def remembered(seconds_ago: float, reference_usd: float = 100_000.0) -> HedgeMemory:
    """Return the memory of a rebalance ``seconds_ago`` before ``AS_OF_NS`` at ``reference_usd``."""
    return HedgeMemory(AS_OF_NS - round(seconds_ago * SECOND_NS), reference_usd)


@dataclass(frozen=True)
class FixedPolicy:
    """A policy whose verdict is fixed, to test wrappers and combinations."""

    decision: Decision

    def decide(self, state: PolicyInput) -> Decision:
        return dataclasses.replace(self.decision, ts_ns=state.risk.ts_ns, underlying=state.risk.underlying)

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        return None if self.decision.trigger or self.decision.act else Quiet(cells.everywhere())


def verdict(act: bool, **fields: Any) -> FixedPolicy:
    """Return a fixed policy deciding ``act`` with ``fields``."""
    return FixedPolicy(Decision(ts_ns=0, underlying="", act=act, **fields))


def config_table(kind: str, **tables: Any) -> dict[str, Any]:
    """Return a valid ``[policy]`` table of ``kind`` with ``tables``, hedging to the edge."""
    return {
        "kind": kind, "hedge_to": "edge",
        "hard_limits": {"min_liquidation_distance": 0.1, "max_leverage": 5.0}, **tables,
    }


def policy_inputs(profile: RiskProfile = PROFILE) -> st.SearchStrategy[PolicyInput]:
    """Return a strategy of plausible policy inputs for the underlyings of ``profile``."""
    finite = {"allow_nan": False, "allow_infinity": False}
    spot = st.floats(1_000.0, 200_000.0, **finite)
    risk = st.builds(
        RiskSnapshot,
        ts_ns=st.integers(AS_OF_NS, AS_OF_NS + 10 * HOUR_NS),
        underlying=st.sampled_from(profile.underlyings),
        spot_usd=spot,
        delta_coin=st.floats(-10.0, 10.0, **finite),
        gamma_coin_per_usd=st.floats(-1e-3, 1e-3, **finite),
        vega_usd_per_vol_pt=st.floats(-10_000.0, 10_000.0, **finite),
        weight=st.floats(-1.0, 1.0, **finite),
        leverage=st.floats(0.0, 10.0, **finite),
        liquidation_distance=st.one_of(st.just(math.inf), st.floats(0.0, 1.0, **finite)),
        vol=st.floats(0.0, 2.0, **finite),
    )
    memory = st.builds(
        HedgeMemory,
        last_rebalance_ts_ns=st.one_of(st.none(), st.integers(AS_OF_NS - 10 * HOUR_NS, AS_OF_NS)),
        last_reference_usd=st.one_of(st.none(), spot),
    )
    return st.builds(
        PolicyInput, risk=risk, memory=memory, oracle_usd=st.one_of(st.none(), spot),
        cost_fraction=st.floats(0.0, 0.01, **finite),
    )
