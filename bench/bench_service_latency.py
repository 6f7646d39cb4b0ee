"""Benchmark: tick-to-decision latency of the running service for a 1,000-position book.

The service of ``examples/service.toml`` (the wall clock, the simulated Heston
market, the simulated exchange with its journal, the order manager and safety
limits, the SQLite store and its writer thread, uvicorn serving the API with a
client reading the live stream), its book grown to 1,000 option positions (calls
and puts, strikes 70k..130k, expiries 10..90 days) hedged with the perpetual.
Latency is measured for every market event, from the moment the service takes
it to the moment its decision is recorded (handed to the store, the snapshot
inputs updated): the exchange's matching, validation, the book, the risk ladder,
the policy, and the planner, orders and fills when it acts.

The peer is the bare engine loop on the same events and book: the same engine,
hedger and simulated exchange on a simulated clock, without the store, the
journals, the API or the snapshot. The ratio is the service's overhead.

    NUMBA_NUM_THREADS=1 python bench/bench_service_latency.py [--events 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import tempfile
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pydantic

from hedgekeeper.config import load_toml
from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.market.simulators.runner import simulate_events
from hedgekeeper.service.config import ServiceSpec, parse_service
from hedgekeeper.service.main import SWITCH_INTERVAL_S
from hedgekeeper.service.runtime import Service
from hedgekeeper.service.simulated_exchange import SimulatedMarketVenues
from hedgekeeper.service.wiring import build_machinery, exchange_traded, hedge_streams

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "service.toml"
TOKEN = "bench-token"
EVENTS_PER_STEP = 3  # top of book, level-2 book, option quote
STEP_S = 10.0


def spec_of(folder: Path, events: int, speed: float, positions: int = 1_000) -> ServiceSpec:
    """Return the example service with ``positions`` option positions, long enough for ``events`` events."""
    document = load_toml(EXAMPLE)
    rng = np.random.default_rng(7)
    as_of = document["as_of"]
    for i in range(positions - 1):
        expiry = as_of + dt.timedelta(days=int(rng.integers(10, 91)))
        document["instruments"].append({
            "id": f"BTC-OPT-{i}", "venue": "deribit", "kind": "option", "settlement": "linear", "underlying": "BTC",
            "settlement_currency": "USDC", "contract_size": "1", "tick_size": "5", "lot_size": "0.01",
            "min_size": "0.01", "expiry": expiry, "strike_usd": int(rng.integers(70, 131)) * 1000,
            "option_type": "call" if rng.random() < 0.5 else "put"})
        document["positions"].append({"instrument": f"BTC-OPT-{i}",
                                      "size_contracts": float(rng.integers(-20, 21)) / 100 or 0.01})
    document["balances"] = [{"venue": "deribit", "currency": "USDC", "amount": "20000000"},
                            {"venue": "binance", "currency": "USDT", "amount": "20000000"}]
    document["profile"]["BTC"]["delta_coin"] = {"target": 0.0, "width": 2.0}
    document["simulation"]["duration_s"] = (events // EVENTS_PER_STEP + 100) * STEP_S
    # A full revaluation of 1,000 options takes tens of ms: the ladder is rebuilt hourly (and whenever spot
    # leaves it or a fill changes the book), not every 5 minutes as for the small example book.
    document["engine"].update(max_event_delay_s=3600.0, ladder_max_age_s=3600.0)
    document["service"].update(speed=speed, database_url=f"sqlite:///{folder / 'store.sqlite'}", heartbeat_s=1.0)
    document["api"].update(port=0, token_file=str(folder / "token"))
    document["exchange"]["simulated"].update(journal_path=str(folder / "exchange.sqlite"))
    document["chain"]["enabled"] = False  # the engine's path alone: the chain ticks on its own thread
    return parse_service(document, source="bench")


def percentiles(latencies_ns: list[int]) -> tuple[float, float, float]:
    """Return the p50, p99 and max of latencies, microseconds."""
    values = np.array(latencies_ns, dtype=np.float64) / 1e3
    return float(np.percentile(values, 50)), float(np.percentile(values, 99)), float(values.max())


def bare_engine(spec: ServiceSpec, events: int, warmup: int) -> tuple[list[int], float]:
    """Run the bare engine loop over the events; return its per-event latencies (ns) and rate (events/s)."""
    book = spec.book
    clock = SimulatedClock(start_ns=book.market.as_of_ns)
    market = SimulatedMarketVenues.__new__(SimulatedMarketVenues)  # the exchanges, without a journal
    from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
    from hedgekeeper.venues.simulated.exchange import ExchangeCore
    from hedgekeeper.venues.simulated.venue import SimulatedExchange

    cores = {i.venue: ExchangeCore(SimulatedExchangeConfig(
        name=i.venue, balances={b.money.currency: b.money.amount for b in book.balances if b.venue == i.venue},
        margin=book.margin_model), [i], spec.file.fees, clock) for i in exchange_traded(spec)}
    streams = hedge_streams(spec)
    del market
    machinery = build_machinery(spec, clock=clock, book=BookState(book.registry, book.positions, book.balances,
                                                                 book.market, book.margin_model),
                                profile=spec.profile, venues={v: SimulatedExchange(c) for v, c in cores.items()},
                                id_prefix="peer")
    engine = machinery.engine
    core = next(iter(cores.values()))
    stream_of = {stream: instrument for stream, instrument in streams.items()}
    latencies: list[int] = []
    source = list(itertools.islice(simulate_events(spec.file.simulation), events + warmup))
    started = time.perf_counter()
    for n, event in enumerate(source):
        t0 = time.perf_counter_ns()
        if event.ts_ns > clock.now_ns():
            clock.advance_to(event.ts_ns)
        if event.stream in stream_of:
            core.on_market_event(event)
        engine.process(event)
        recorder = engine.recorder
        if recorder.decisions or recorder.samples or recorder.fills:
            recorder.decisions.clear(), recorder.samples.clear(), recorder.fills.clear()
        if n >= warmup:
            latencies.append(time.perf_counter_ns() - t0)
        if n == warmup:
            started = time.perf_counter()
    return latencies, events / (time.perf_counter() - started)


def running_service(spec: ServiceSpec, events: int, warmup: int) -> tuple[list[int], float, Service, int]:
    """Run the service with its API and a stream reader until it took ``events + warmup`` events."""
    import uvicorn

    from hedgekeeper.api.app import create_app

    service = Service(spec, record_latencies=True)
    service.start()  # its threads hand the GIL over every SWITCH_INTERVAL_S, as under ``hedgekeeper run``
    server = uvicorn.Server(uvicorn.Config(create_app(service, pydantic.SecretStr(TOKEN)), host="127.0.0.1",
                                           port=0, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    frames = [0]

    def read_stream() -> None:
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/stream", timeout=None,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            for _ in response.iter_lines():
                frames[0] += 1
                if server.should_exit:
                    return

    threading.Thread(target=read_stream, daemon=True).start()
    target = events + warmup
    while len(service.latencies_ns or []) < warmup:
        time.sleep(0.01)
    started = time.perf_counter()
    while len(service.latencies_ns or []) < target and service.status == "running":
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    service.stop()
    server.should_exit = True
    latencies = (service.latencies_ns or [])[warmup:target]
    return latencies, len(latencies) / elapsed, service, frames[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="market events measured")
    parser.add_argument("--warmup", type=int, default=2_000, help="events before measuring (JIT, first ladder)")
    parser.add_argument("--load", type=float, default=0.5,
                        help="offered event rate as a fraction of the bare loop's capacity")
    options = parser.parse_args()
    import numba

    numba.set_num_threads(1)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with tempfile.TemporaryDirectory() as folder:
        probe = spec_of(Path(folder), options.events + options.warmup, speed=1.0)
        peer, peer_rate = bare_engine(probe, options.events, options.warmup)
        # Pace the market so that the service is offered ``load`` times what the bare loop can take.
        speed = options.load * peer_rate * STEP_S / EVENTS_PER_STEP
        spec = spec_of(Path(folder), options.events + options.warmup, speed=speed)
        ours, rate, service, frames = running_service(spec, options.events, options.warmup)
    p50, p99, worst = percentiles(ours)
    q50, q99, qworst = percentiles(peer)
    snapshot = service.snapshot
    print(f"Tick-to-decision latency, {len(spec.book.positions):,}-position book (999 options + call) hedged with a "
          f"perpetual, {len(ours):,} events, one core for numba")
    print(f"{'loop':<62}{'events/s':>10}{'p50 us':>9}{'p99 us':>9}{'max us':>10}")
    print(f"{'hedgekeeper run (store, exchange journal, API + live stream)':<62}{rate:>10,.0f}{p50:>9.1f}"
          f"{p99:>9.1f}{worst:>10,.0f}")
    print(f"{'peer: bare engine loop (no store, journal, API or snapshot)':<62}{peer_rate:>10,.0f}{q50:>9.1f}"
          f"{q99:>9.1f}{qworst:>10,.0f}")
    print(f"overhead: p50 {p50 / q50:.2f}x, p99 {p99 / q99:.2f}x the bare loop; target p99 < 1,000 us: "
          f"{'met' if p99 < 1000 else 'MISSED'}. Service paced at {speed:,.0f}x real time "
          f"({options.load:.0%} of the bare loop's capacity); decisions {snapshot.counters['decisions']}, "
          f"fills {snapshot.counters['fills']}, stream lines read {frames:,}")


if __name__ == "__main__":
    main()
