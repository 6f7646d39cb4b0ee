"""Simulation configurations shared by the simulator tests, as raw mappings (TOML-shaped)."""

from __future__ import annotations

import copy
from typing import Any

from hedgekeeper.config import validate
from hedgekeeper.market.simulators.config import SimulationConfig

NS_PER_SECOND = 1_000_000_000
START_NS = 1_750_032_000 * NS_PER_SECOND  # 2025-06-16T00:00:00Z, a funding time
DAY_NS = 86_400 * NS_PER_SECOND

MODELS: dict[str, dict[str, Any]] = {
    "gbm": {"kind": "gbm", "drift": 0.0, "vol": 0.6},
    "heston": {"kind": "heston", "drift": 0.0, "initial_variance": 0.36, "long_run_variance": 0.36,
               "mean_reversion_per_year": 5.0, "vol_of_variance": 2.0, "correlation": -0.5},
    "merton": {"kind": "merton", "drift": 0.0, "vol": 0.5,
               "jumps": {"intensity_per_year": 2000.0, "mean_log": -0.002, "vol_log": 0.005}},
    "regime_switching": {"kind": "regime_switching", "initial_regime": "calm", "regimes": [
        {"name": "calm", "drift": 0.0, "vol": 0.4, "mean_duration_hours": 2.0},
        {"name": "stressed", "drift": -1.0, "vol": 1.5, "mean_duration_hours": 0.5,
         "jumps": {"intensity_per_year": 5000.0, "mean_log": -0.003, "vol_log": 0.004}}]},
}

SURFACE = {"long_run_vol": 0.6, "mean_reversion_per_year": 5.0, "calm_vol": 0.5,
           "stressed_vol": 1.5, "calm_rho": -0.2, "stressed_rho": -0.6, "calm_eta": 1.0,
           "stressed_eta": 1.2}

BOOK = {"level_count": 5, "base_spread_bps": 0.5, "spread_bps_per_vol": 2.0,
        "base_depth_coin": 5.0, "depth_decay_per_vol": 0.5, "depth_decay_per_level": 0.1,
        "size_noise": 0.3, "tick_size_usd": 0.5}

# (strike USD, time to expiry ns): two weeklies, two monthlies, one expiring within the hour.
OPTIONS = ((80_000, 7 * DAY_NS), (100_000, 7 * DAY_NS), (120_000, 30 * DAY_NS),
           (100_000.5, 30 * DAY_NS), (100_001, 3_600 * NS_PER_SECOND))


def raw_config(
    model: str = "heston", duration_s: float = 7_200.0, **overrides: Any
) -> dict[str, Any]:
    """Return a TOML-shaped mapping: two venues, five options, one oracle, a flash crash."""
    data: dict[str, Any] = {
        "seed": 7,
        "start_ts_ns": START_NS,
        "step_s": 1.0,
        "duration_s": duration_s,
        "spot_usd": 100_000.0,
        "model": copy.deepcopy(MODELS[model]),
        "scenarios": [{"kind": "flash_crash", "start_s": 1_800.0, "drop_fraction": 0.08,
                       "drop_s": 15.0, "recovery_s": 300.0, "vol_multiplier": 3.0}],
        "venues": [
            {"stream": "BTC-PERPETUAL.DERIBIT", "book": dict(BOOK), "level2_book": True,
             "trades": {"trades_per_second": 0.5, "mean_size_coin": 0.2},
             "funding": {"interval_s": 3_600.0, "base_rate": 0.0001, "premium_sensitivity": 0.05,
                         "cap": 0.0075}},
            {"stream": "BTCUSDT.BINANCE", "mid_offset_bps": 1.0,
             "book": dict(BOOK, tick_size_usd=0.1), "interval_steps": 5},
        ],
        "options": {
            "surface": dict(SURFACE),
            "quote": {"base_spread_vol": 0.01, "spread_per_vol": 0.02},
            "interval_steps": 10,
            "instruments": [
                {"stream": f"BTC-{strike}-C", "strike_usd": float(strike),
                 "expiry_ts_ns": START_NS + expiry_ns}
                for strike, expiry_ns in OPTIONS
            ],
        },
        "oracles": [{"stream": "BTC/USD", "deviation_threshold": 0.002, "heartbeat_s": 600.0}],
        "chunk_steps": 1_000,
    }
    data.update(overrides)
    return data


def config(
    model: str = "heston", duration_s: float = 7_200.0, **overrides: Any
) -> SimulationConfig:
    """Return ``raw_config`` validated."""
    return validate(SimulationConfig, raw_config(model, duration_s, **overrides))
