"""Benchmark: the cost-versus-risk frontier of hedging policies on a standard task.

The task: a short 30-day at-the-money BTC call book (25 calls) delta-hedged with a
USDT perpetual, paying a 5 bps taker fee plus the half-spread and the book walk.
It runs through the real engine (``backtest.runner``), on

- Heston-with-jumps (Bates) paths: ``--paths`` seeds of 30 days at 5-minute steps;
- the recorded Gemini BTC/USD 1-minute candles of 2021-03-16 .. 2021-04-15 (when
  ``../shared/data`` is there), the option marked at Deribit's DVOL (its first value, 2021-03-24: the index starts then).

Policy families: time-based (several intervals), fixed delta thresholds (several
widths) and the Whalley-Wilmott band (several risk aversions). Risk is the hedging
error (standard deviation of hourly hedged P&L, USD), cost the fees plus slippage
(USD). For each hedging-error level reached by the Whalley-Wilmott runs the script
prints each family's lowest cost at that risk (linear along its efficient frontier)
and the ratios.

    python bench/bench_frontier.py [--paths 2] [--days 30]   # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import logging
import math
import time
import tomllib
from pathlib import Path

from hedgekeeper.backtest.frontier import Market, sweep_frontier
from hedgekeeper.backtest.metrics import cost_at_risk

EXAMPLE = Path(__file__).parents[1] / "examples" / "backtest_short_call.toml"
FAMILIES = {
    "time": [("time", {"kind": "time", "time": {"interval_s": s}}, {}, s) for s in (900.0, 3600.0, 14400.0, 43200.0)],
    "threshold": [("threshold", {"kind": "threshold"}, {"BTC": {"delta_coin": {"target": 0.0, "width": w}}}, w)
                  for w in (0.25, 0.5, 1.0, 2.0, 4.0)],
    "whalley_wilmott": [("whalley_wilmott",
                         {"kind": "whalley_wilmott", "whalley_wilmott": {"risk_aversion_per_usd": g}},
                         {"BTC": {"delta_coin": {"target": 0.0, "width": 1000.0}}}, g)
                        for g in (1e-7, 1e-6, 1e-5, 1e-4, 1e-3)],
}


def _document(days: float) -> dict:
    with EXAMPLE.open("rb") as handle:
        document = tomllib.load(handle)
    document["sweep"] = [
        {"label": f"{family}-{parameter:g}", "family": family, "parameter": parameter, "policy": policy,
         "profile": profile}
        for runs in FAMILIES.values() for family, policy, profile, parameter in runs
    ]
    document["engine"]["sample_interval_s"] = 3600.0
    simulation = document["simulation"]
    simulation.update(step_s=300.0, duration_s=days * 86_400.0)
    simulation["scenarios"] = []
    simulation.pop("options")
    simulation["model"] = {"kind": "heston", "drift": 0.0, "initial_variance": 0.25, "long_run_variance": 0.25,
                           "mean_reversion_per_year": 5.0, "vol_of_variance": 1.0, "correlation": -0.4,
                           "jumps": {"intensity_per_year": 25.0, "mean_log": -0.01, "vol_log": 0.03}}
    simulation["venues"][0].update(level2_book=False)
    return document


def _recorded_document(days: float) -> dict | None:
    from hedgekeeper.market.data_dir import dataset_path
    from hedgekeeper.market.replay.deribit import load_dvol
    from hedgekeeper.market.replay.scenarios import scenario

    try:
        month = scenario("gemini-btcusd-2021-03-16-30d")
        first = next(iter(month.events(spread_bps=1.0)))
        dvol = load_dvol(dataset_path("deribit-dvol-daily") / "btc_dvol.csv")
    except FileNotFoundError as error:
        print(f"recorded data: skipped ({error})")
        return None
    document = _document(days)
    del document["simulation"]
    start_ns = month.start_ns
    spot = round(first.price_usd if hasattr(first, "price_usd") else first.mid_usd, 0)
    vol = float(dvol.value_at(start_ns))
    if math.isnan(vol):  # DVOL starts on 2021-03-24: take its first value
        vol = float(dvol.values[0])
    document["as_of"] = "2021-03-16T00:00:00Z"
    option = next(i for i in document["instruments"] if i["kind"] == "option")
    option.update(expiry="2021-04-15T00:00:00Z", strike_usd=int(spot))
    document["market"]["BTC"].update(spot_usd=spot, vol=vol)
    document["replay"] = {"scenario": month.name, "spread_bps": 1.0}
    for underlying in document["hedging"]["underlyings"].values():
        underlying["spot_stream"] = "BTCUSD.GEMINI"
        underlying["instruments"][0]["book_stream"] = "BTCUSD.GEMINI"
    document["backtest"]["name"] = "frontier-recorded"
    return document


def _seeded(seed: int | None) -> Market:
    def market(document: dict) -> None:
        if seed is not None:
            document["simulation"]["seed"] = seed

    return market


def _frontier(document: dict, seeds: list[int | None]) -> dict[str, list[tuple[float, float]]]:
    """Return, per family, the (hedging error, cost) of every variant, averaged over seeds."""
    points: dict[str, list[tuple[float, float]]] = {}
    for point in sweep_frontier(document, [_seeded(seed) for seed in seeds], progress=lambda line: print(f"  {line}")):
        points.setdefault(point.family, []).append((point.hedging_error_usd, point.cost_usd))
    return points


def _print_table(title: str, points: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{title}: lowest cost (USD) reached at each hedging-error level")
    header = f"{'hedging error USD':>18}" + "".join(f"{family:>18}" for family in FAMILIES)
    print(header + f"{'WW / threshold':>16}{'WW / time':>12}")
    for error, _ in sorted(points["whalley_wilmott"]):
        costs = {family: cost_at_risk(points[family], error) for family in FAMILIES}
        row = f"{error:>18,.0f}" + "".join(f"{costs[f]:>18,.0f}" for f in FAMILIES)
        ratios = [costs["whalley_wilmott"] / costs[f] for f in ("threshold", "time")]
        print(row + "".join(f"{r:>{w}.2f}" for r, w in zip(ratios, (16, 12), strict=True)))
    print("(NaN: that family's runs do not reach that level of risk)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=2, help="simulated paths (seeds) per policy")
    parser.add_argument("--days", type=float, default=30.0, help="days simulated per path")
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # row-by-row notes of the replay stay out of the figures
    start = time.perf_counter()
    print(f"Heston with jumps, {options.paths} paths of {options.days:g} days at 5-minute steps")
    simulated = _frontier(_document(options.days), list(range(1, options.paths + 1)))
    _print_table("Simulated (Bates)", simulated)
    recorded_document = _recorded_document(options.days)
    if recorded_document is not None:
        print("\nRecorded: Gemini BTC/USD 1-minute, 2021-03-16 .. 2021-04-15")
        _print_table("Recorded", _frontier(recorded_document, [None]))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
