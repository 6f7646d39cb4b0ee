"""A typical request: 20 candidates (4 perpetual venues, 16 listed BTC options), 3 Greeks.

Run as a script to time the planner on 50 such requests, delta-only goals and
delta + gamma + vega goals, at several accepted gaps::

    PYTHONPATH=tests .venv/bin/python -m planner.typical

It prints wall and CPU milliseconds per request and how many needed branch and
bound (the others were settled by rounding the linear relaxation).
"""

from __future__ import annotations

import time

import numpy as np

from hedgekeeper.planner import Candidate, PlanRequest, plan_trades, square_root_impact
from hedgekeeper.planner import solve as solve_module
from hedgekeeper.policy.decision import Greek
from hedgekeeper.pricing import black76_greeks

DELTA, GAMMA, VEGA = Greek.DELTA_COIN, Greek.GAMMA_USD_PER_PCT, Greek.VEGA_USD_PER_VOL_PT
SPOT_USD = 100_000.0

# Taker fee and daily volume (USD) of each perpetual venue.
_VENUES = ((0.0005, 1e9), (0.0002, 3e8), (0.0004, 5e8), (0.00045, 2e9))


def typical_candidates() -> list[Candidate]:
    """Return 4 BTC perpetual venues (10 USD contracts) and 16 options (7 and 30 days)."""
    candidates = []
    for index, (fee, volume_usd) in enumerate(_VENUES):
        candidates.append(Candidate(
            instrument_id=f"PERPETUAL-{index}", sensitivities={DELTA: 10.0 / SPOT_USD},
            price_usd=10.0, cost_fraction=fee, lot_size=1.0, min_size=1.0,
            min_position=-5e5, max_position=5e5,
            impact=square_root_impact(10.0, 0.03, volume_usd / 10.0),
            initial_margin_long_usd=0.2, initial_margin_short_usd=0.2,
        ))
    for strike in (80e3, 90e3, 95e3, 100e3, 105e3, 110e3, 120e3, 130e3):
        for days in (7, 30):
            is_call = strike >= SPOT_USD
            greeks = black76_greeks(SPOT_USD, strike, days / 365, 0.55, is_call)
            price = float(greeks.price)
            vega_usd_per_vol_pt = float(greeks.vega) * 0.01
            fee_usd = min(0.0003 * SPOT_USD, 0.125 * price)  # Deribit: 3 bps of the underlying
            half_spread_usd = vega_usd_per_vol_pt * 1.0  # quotes two vol points wide
            candidates.append(Candidate(
                instrument_id=f"BTC-{days}D-{strike:.0f}-{'C' if is_call else 'P'}",
                sensitivities={
                    DELTA: float(greeks.delta),
                    GAMMA: float(greeks.gamma) * SPOT_USD**2 * 0.01,
                    VEGA: vega_usd_per_vol_pt,
                },
                price_usd=price, cost_fraction=(fee_usd + half_spread_usd) / price,
                lot_size=0.1, min_size=0.1, min_position=-100.0, max_position=100.0,
                impact=square_root_impact(price, 0.03, 1_000.0),
                initial_margin_long_usd=price, initial_margin_short_usd=0.15 * SPOT_USD + price,
            ))
    return candidates


def typical_request(
    rng: np.random.Generator, *, three_greeks: bool, candidates: list[Candidate] | None = None
) -> PlanRequest:
    """Return a short-gamma, short-vega book with a random delta, banded on delta (gamma, vega)."""
    greeks = {
        DELTA: rng.uniform(-8, 8),
        GAMMA: rng.uniform(-40_000, -15_000),
        VEGA: rng.uniform(-9_000, -3_000),
    }
    goal = {DELTA: (-0.5, 0.5)}
    if three_greeks:
        goal |= {GAMMA: (-10_000.0, 10_000.0), VEGA: (-2_000.0, 2_000.0)}
    return PlanRequest(
        greeks=greeks, goal=goal, margin_available_usd=2e6,
        candidates=typical_candidates() if candidates is None else candidates,
    )


def _time_requests() -> None:
    branch_and_bound = 0
    real_milp = solve_module.milp

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal branch_and_bound
        branch_and_bound += kwargs.get("integrality") is not None
        return real_milp(*args, **kwargs)

    solve_module.milp = counting
    candidates = typical_candidates()
    for three_greeks in (False, True):
        for relative_gap in (1e-3, 1e-2, 0.0):
            rng = np.random.default_rng(1)
            branch_and_bound, wall_ms, cpu_ms = 0, [], []
            for _ in range(50):
                request = typical_request(rng, three_greeks=three_greeks, candidates=candidates)
                cpu_started = time.process_time()
                plan = plan_trades(request, relative_gap=relative_gap,
                                   absolute_gap_usd=0.01 if relative_gap else 0.0, time_limit_s=5.0)
                cpu_ms.append((time.process_time() - cpu_started) * 1e3)
                wall_ms.append(plan.solve_time_s * 1e3)
            goal = "delta, gamma, vega" if three_greeks else "delta"
            print(f"{goal:18s} gap {relative_gap:<6g}"
                  f" wall median {np.median(wall_ms):6.1f} ms"
                  f" p90 {np.percentile(wall_ms, 90):6.1f} max {max(wall_ms):7.1f}"
                  f" | cpu median {np.median(cpu_ms):6.1f} ms"
                  f" | branch and bound {branch_and_bound}/50")
    solve_module.milp = real_milp


if __name__ == "__main__":
    _time_requests()
