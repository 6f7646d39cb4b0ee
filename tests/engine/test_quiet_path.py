"""The quiet path: ticks skipped inside a policy's quiet window change nothing.

Three checks, from the bottom up: the ladder's cell bounds contain the risk the
engine reads; each policy's quiet region keeps its promise on a real book's ladder
(and is not needlessly small); and whole runs give the same decisions, fills and
samples with quiet windows on and off.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import astuple
from typing import Any

import numpy as np
import pytest
from engine.engine_builders import CALL, PERP_ID, T0_NS, book_state, engine, gbm_spots, ticks

from hedgekeeper.engine.risk_cache import LadderRisk
from hedgekeeper.market.events import Funding, MarketEvent, OptionQuote
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.config import build_policy, load_policy_config
from hedgekeeper.policy.decision import HedgeMemory, PolicyInput, RiskSnapshot
from hedgekeeper.policy.quiet import Quiet
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.positions import Position

SECOND_NS = 10**9
PROFILE = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 0.5}}})
WIDE_PROFILE = load_risk_profile({"BTC": {
    "delta_usd": {"target": 0.0, "width": 60_000.0},
    "gamma_usd_per_pct": {"target": 0.0, "lower": -400_000.0, "upper": 400_000.0},
    "vega_usd_per_vol_pt": {"target": 0.0, "lower": -20_000.0, "upper": 20_000.0},
    "weight": {"target": 0.0, "width": 0.5},
}})
HARD_LIMITS = {"min_liquidation_distance": 0.05, "max_leverage": 50.0}
POLICIES: dict[str, tuple[dict[str, Any], RiskProfile]] = {
    "threshold": ({"kind": "threshold", "threshold": {}}, PROFILE),
    "threshold_every_band": ({"kind": "threshold", "threshold": {}}, WIDE_PROFILE),
    "relative": ({"kind": "threshold", "threshold": {"relative": 0.2, "floors": {"delta_coin": 0.4}}}, PROFILE),
    "time": ({"kind": "time", "time": {"interval_s": 1800}}, PROFILE),
    "oracle_deviation": ({"kind": "oracle_deviation",
                          "oracle_deviation": {"deviation": 0.004, "heartbeat_s": 7200}}, PROFILE),
    "whalley_wilmott": ({"kind": "whalley_wilmott", "whalley_wilmott": {"risk_aversion_per_usd": 1e-5}}, PROFILE),
    "whalley_wilmott_cost_aware": ({
        "kind": "whalley_wilmott", "whalley_wilmott": {"risk_aversion_per_usd": 1e-5},
        "cost_aware": {"risk_aversion_per_usd": 1e-4, "horizon_hours": 4}}, PROFILE),
    "any_of": ({"kind": "hybrid", "hybrid": {"combine": "any", "members": ["threshold", "time"]},
                "threshold": {}, "time": {"interval_s": 3600}}, PROFILE),
    "all_of": ({"kind": "hybrid", "hybrid": {"combine": "all", "members": ["threshold", "oracle_deviation"]},
                "threshold": {}, "oracle_deviation": {"deviation": 0.003}}, PROFILE),
}


def _policy(name: str, hedge_to: str = "target", hard_limits: dict[str, float] = HARD_LIMITS) -> Policy:
    table, profile = POLICIES[name]
    return build_policy(load_policy_config({"hedge_to": hedge_to, "hard_limits": hard_limits, **table}), profile)


def _book(collateral_usd: str = "1000000"):
    return book_state([Position(CALL.instrument_id, -10.0), Position(PERP_ID, 5.0, 100_000.0)], usdc=collateral_usd,
                      usdt=collateral_usd)


def _ladder(collateral_usd: str = "1000000") -> LadderRisk:
    return LadderRisk.build(_book(collateral_usd).portfolio, "BTC", T0_NS)


def _snapshot(ladder: LadderRisk, spot_usd: float, ts_ns: int = T0_NS) -> RiskSnapshot:
    return ladder.at(spot_usd).snapshot("BTC", ts_ns, ladder.liquidation_distance(spot_usd), 0.6)


def _dense_spots(ladder: LadderRisk, per_cell: int = 16) -> np.ndarray:
    cells = ladder.cells()
    fractions = np.linspace(0.0, 1.0, per_cell, endpoint=False)[1:]
    return (cells.spot_low_usd[:, None] + fractions * (cells.spot_high_usd - cells.spot_low_usd)[:, None]).ravel()


@pytest.mark.parametrize("collateral_usd", ["1000000", "300000"])
def test_cell_bounds_contain_every_measure_the_engine_reads(collateral_usd: str) -> None:
    ladder = _ladder(collateral_usd)
    cells = ladder.cells()
    readers = {
        "delta_coin": lambda r: r.delta_coin, "delta_usd": lambda r: r.delta_coin * r.spot_usd,
        "gamma_usd_per_pct": lambda r: r.gamma_usd_per_pct, "vega_usd_per_vol_pt": lambda r: r.vega_usd_per_vol_pt,
        "weight": lambda r: r.weight, "leverage": lambda r: r.leverage,
        "liquidation_distance": lambda r: r.liquidation_distance,
    }
    if collateral_usd == "300000":
        assert ladder.liquidation_spots_usd != (None, None)  # the thin book has a level to respect
    for name, read in readers.items():
        low, high = cells.measure(name)
        for spot_usd in _dense_spots(ladder):
            cell = ladder.cell_of(spot_usd)
            assert low[cell] <= read(_snapshot(ladder, spot_usd)) <= high[cell], (name, spot_usd)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_quiet_region_keeps_its_promise_on_a_real_ladder(name: str) -> None:
    ladder = _ladder("300000")
    policy = _policy(name)
    cells = ladder.cells()
    memory = HedgeMemory(last_rebalance_ts_ns=T0_NS - 60 * SECOND_NS, last_reference_usd=100_000.0)
    now = PolicyInput(_snapshot(ladder, 100_000.0), memory, None, 0.0005)
    assert not policy.decide(now).trigger
    region = policy.quiet(now, cells)
    assert region is not None and region.cells.sum() >= 4  # several cells around the spot at least
    later_ns = min(region.until_ns - 1, T0_NS + 3600 * SECOND_NS)
    costs = [region.cost_fraction[0], 0.01] if math.isfinite(region.cost_fraction[0]) else [0.0, 0.0005, 0.01]
    for spot_usd in _dense_spots(ladder):
        if not region.cells[ladder.cell_of(spot_usd)]:
            continue
        for ts_ns in (T0_NS, later_ns):
            for cost in costs:
                decision = policy.decide(PolicyInput(_snapshot(ladder, spot_usd, ts_ns), memory, None, cost))
                assert not decision.trigger and not decision.act, (spot_usd, ts_ns, cost, decision.reasons)


@pytest.mark.parametrize("name", ["threshold", "threshold_every_band", "whalley_wilmott"])
def test_a_quiet_run_ends_within_two_cells_of_where_the_policy_fires(name: str) -> None:
    ladder = _ladder("300000")
    policy = _policy(name, hard_limits={"min_liquidation_distance": 0.0, "max_leverage": 1e9})
    now = PolicyInput(_snapshot(ladder, 100_000.0), HedgeMemory(), None, 0.0005)
    region = policy.quiet(now, ladder.cells())
    run = region.run_around(ladder.cell_of(100_000.0))
    spots = _dense_spots(ladder, per_cell=64)
    fires = np.array([bool(policy.decide(dataclasses.replace(now, risk=_snapshot(ladder, s))).trigger)
                      for s in spots])
    below, above = spots[fires & (spots < 100_000.0)], spots[fires & (spots > 100_000.0)]
    assert below.size and above.size  # the bands are crossed inside the ladder
    cells = ladder.cells()
    cell_usd = cells.spot_high_usd - cells.spot_low_usd
    assert below.max() <= cells.spot_low_usd[run[0]] <= below.max() + 2 * cell_usd[run[0]]
    assert above.min() - 2 * cell_usd[run[1]] <= cells.spot_high_usd[run[1]] <= above.min()


def _events(seed: int) -> list[MarketEvent]:
    """Ticks every second for ten hours, with hourly funding and option marks every ten minutes."""
    rng = np.random.default_rng(seed)
    events = ticks(gbm_spots(36_000, 1.0, 1.5, rng), 1.0)
    extra: list[MarketEvent] = [Funding(T0_NS + h * 3600 * SECOND_NS + 1, PERP_ID, 1e-4, 100_000.0)
                                for h in range(1, 10)]
    extra += [OptionQuote(T0_NS + m * 600 * SECOND_NS + 2, CALL.instrument_id, 0.58, 0.62, 0.6 + 0.01 * (m % 3),
                          100_000.0) for m in range(1, 60)]
    return sorted(events + extra, key=lambda event: event.ts_ns)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_runs_with_and_without_quiet_windows_record_the_same(name: str) -> None:
    events = _events(seed=11)
    runs = [engine(_book(), _policy(name), quiet_windows=quiet) for quiet in (True, False)]
    fast, slow = (run.run(events) for run in runs)
    assert fast.decisions == slow.decisions
    assert [astuple(f) for f in fast.fills] == [astuple(f) for f in slow.fills]
    assert [astuple(s) for s in fast.samples] == [astuple(s) for s in slow.samples]
    assert len(slow.decisions) >= 3  # the path makes the policy act
    # Ticks whose verdict is recorded (cost-aware skips, every tick outside a band) are never quiet.
    assert runs[0].quiet_ticks > 0.3 * runs[0].events_processed and runs[1].quiet_ticks == 0


def test_an_unbounded_policy_is_asked_at_every_tick() -> None:
    class Opaque:
        def __init__(self, inner: Policy) -> None:
            self.inner = inner

        def decide(self, state: PolicyInput):  # noqa: ANN201
            return self.inner.decide(state)

        def quiet(self, state: PolicyInput, cells) -> Quiet | None:  # noqa: ANN001
            return None

    run = engine(_book(), Opaque(_policy("threshold")))
    run.run(ticks(gbm_spots(2_000, 1.0, 0.8, np.random.default_rng(3)), 1.0))
    assert run.quiet_ticks == 0 and run.events_processed == 2_000
