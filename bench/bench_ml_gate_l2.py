"""Benchmark: the gate's market features on a recorded Binance order book, a sanity study.

The recorded L2 capture (``binance-l2-2024-08-08``: raw websocket depth diffs, trades
and best bid/ask of USD-M BTCUSDT, about 6 minutes around 2024-08-09 00:00 UTC) is
too short to train or judge the gate (a 15-minute label horizon does not fit in it),
so this script checks the features instead, at 1-second steps:

- the quoted spread and top-of-book imbalance the ``FeatureTracker`` reads, against
  the exchange's own best bid/ask (``@bookTicker``) at the same instants; with the
  depth diffs read as if their first levels were the top (what the tracker did
  before it kept the book) and as the tracker reads them now;
- order-flow imbalance (Cont, Kukanov and Stoikov, 2014) against the mid's return
  over the same second and the next one: OFI should move with the price, and
  carries little about the next second;
- VPIN, realized vol and the jump indicator: finite, in range.

    python bench/bench_ml_gate_l2.py   # about 30 s
"""

from __future__ import annotations

import math
import time

import numpy as np

from hedgekeeper.market.events import BookUpdate, TopOfBook
from hedgekeeper.market.replay.scenarios import BINANCE_PERP_BTC, scenario
from hedgekeeper.ml.features import FeatureTracker

STEP_S = 1.0
NS_PER_SECOND = 1_000_000_000


class _DeltaAsTop(FeatureTracker):
    """The tracker as it read a depth diff before: its first levels taken as the top of the book."""

    def update(self, event):  # noqa: ANN001, ANN201
        if isinstance(event, BookUpdate):
            if event.bids and event.asks:
                self._roll(event.ts_ns)
                (bid, bid_size), (ask, ask_size) = event.bids[0], event.asks[0]
                self._quote(bid, bid_size, ask, ask_size)
            return
        super().update(event)


def _percentiles(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return "no finite value"
    p5, p50, p95 = np.percentile(finite, [5, 50, 95])
    return f"p5 {p5:>9.3f}   median {p50:>9.3f}   p95 {p95:>9.3f}"


def main() -> None:
    start = time.perf_counter()
    recorded = scenario("binance-l2-2024-08-08")
    trackers = {"tracker (book kept)": FeatureTracker(step_s=STEP_S, streams=(BINANCE_PERP_BTC,)),
                "diff levels taken as the top": _DeltaAsTop(step_s=STEP_S, streams=(BINANCE_PERP_BTC,))}
    step_ns = int(STEP_S * NS_PER_SECOND)
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in trackers}
    quoted_spread, quoted_imbalance, mids = [], [], []
    top: TopOfBook | None = None
    grid: int | None = None
    counts = {"TopOfBook": 0, "BookUpdate": 0, "Trade": 0}
    for event in recorded.events(spread_bps=None):
        if getattr(event, "stream", None) != BINANCE_PERP_BTC:
            continue
        counts[type(event).__name__] = counts.get(type(event).__name__, 0) + 1
        if grid is None:
            grid = (event.ts_ns // step_ns + 1) * step_ns
        while event.ts_ns > grid:  # the grid time is final: every event at or before it was seen
            if top is not None:
                for name, tracker in trackers.items():
                    rows[name].append(tracker.market_features(grid))
                mid = 0.5 * (top.bid_usd + top.ask_usd)
                quoted_spread.append((top.ask_usd - top.bid_usd) / mid * 1e4)
                quoted_imbalance.append((top.bid_size_coin - top.ask_size_coin) / (top.bid_size_coin + top.ask_size_coin))
                mids.append(mid)
            grid += step_ns
        for tracker in trackers.values():
            tracker.update(event)
        if isinstance(event, TopOfBook):
            top = event
    spread = np.array(quoted_spread)
    imbalance = np.array(quoted_imbalance)
    mid = np.array(mids)
    print(f"Binance USD-M BTCUSDT L2 capture: {len(mid):,d} one-second steps; events: "
          + ", ".join(f"{count:,d} {name}" for name, count in counts.items()))
    print(f"\n  quoted spread (bookTicker), bps                  {_percentiles(spread)}")
    for name, features in rows.items():
        column = {key: np.array([row[key] for row in features]) for key in features[0]}
        agree_spread = np.mean(np.abs(column["spread_bps"] - spread) < 1e-6)
        agree_imbalance = np.mean(np.abs(column["depth_imbalance"] - imbalance) < 1e-6)
        print(f"\n  {name}:")
        print(f"    spread_bps                                     {_percentiles(column['spread_bps'])}")
        print(f"    steps whose spread equals the bookTicker's: {agree_spread:.1%}; top imbalance: {agree_imbalance:.1%}")
        returns = np.diff(np.log(mid))
        ofi = column["ofi"][1:]  # OFI known at the end of each second
        same = np.corrcoef(np.diff(column["ofi"]), returns)[0, 1]
        next_second = np.corrcoef(ofi[:-1], returns[1:])[0, 1]
        print(f"    OFI change against the same second's mid return: correlation {same:+.3f}; OFI against "
              f"the next second's return: {next_second:+.3f}")
        print(f"    vpin  {_percentiles(column['vpin'])}")
        print(f"    rv_30 {_percentiles(column['rv_30'])}  (annualised)")
        print(f"    jumps flagged: {int(column['jump'].sum())}; every feature finite: "
              f"{all(np.isfinite(values).all() for values in column.values())}")
    realized = math.sqrt(np.sum(np.diff(np.log(mid)) ** 2) * 365 * 86_400 / max(len(mid) - 1, 1))
    print(f"\n  realized vol of the 1-second mid over the capture: {realized:.1%} (annualised)")
    print("  labels: not studied; a label looks 15 one-minute steps ahead, and the capture is 6 minutes long")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
