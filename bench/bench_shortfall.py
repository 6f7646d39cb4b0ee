"""Benchmark: implementation shortfall of hedges of 5%, 20% and 50% of the visible depth, on recorded books.

Market: the Binance L2 websocket capture of 2024-08-08 23:54-24:00 UTC
(``binance-l2-ws-2024-08-08-hftbacktest``): the USD-M BTCUSDT perpetual and the
COIN-M BTCUSD perpetual (100 USD inverse contracts), each replayed into its own
simulated exchange (``venues/simulated``: price-time matching, 5 ms latency,
5 bps taker fee). A level our orders take stays taken until the recorded feed
updates that price (the replay does not know we traded). The on-chain pool is a
Uniswap v3 WBTC/USDC 0.05% pool simulated on its exact integer math, one position
over about +-5% holding ``POOL_COIN_WITHIN_10_BPS`` coin within 10 bps of its
price, re-centred on the perpetual's mid before each hedge (arbitrageurs), gas
``GAS_USD`` per swap (assumptions, stated, not data).

Hedges: one every ``SPACING_S`` seconds from a minute after the book snapshot,
sides alternating, each ``fraction`` of the USD-M book's depth within 10 bps of
the mid on the side taken at that moment. Every execution runs through the real
execution path (``OrderManager`` with IOC children on the simulated exchanges,
the ``PoolVenue``), one fresh pass over the capture per strategy:

- market: the whole hedge at once on the USD-M book (and, for the router's peer,
  at once on the COIN-M book and through the pool: the best single venue);
- TWAP: ``TWAP_SLICES`` slices ``SLICE_S`` seconds apart on the USD-M book;
- Almgren-Chriss: the optimal trajectory on a model calibrated on the book at
  arrival (``execution/pacing.py``), ``SLICE_S`` seconds between slices;
- passive variants of both: each slice rests ``SLICE_S`` seconds as a post-only
  order at the touch (maker fee 2 bps), then what is left is taken;
- router: at once, split across both books and the pool (``execution/routed_executor.py``),
  re-planned on the venues' live books for what the first round could not fill.

What if the second exchange were deeper: the COIN-M book (its levels, top of book
and trades) is scaled by each of ``DEPTH_SCALES`` and the COIN-M market order and
the router are run again; the other venues are unchanged. This shows how deep a
second book must be for routing to meet its target; it is not recorded data.

Shortfall of one hedge: the sum over its fills of ``side * (price - m_v) * coin +
fees (+ gas)``, with ``m_v`` the mid of the fill's venue when the hedge was
decided, over the hedge's value at the USD-M mid, in basis points; the table
shows the mean over hedges with its standard error, and each ratio its standard
error with the hedges paired (the same times in every run). Targets: slicing at
least 40% below one market order for the large hedges; the router at least 15%
below the best single venue.

    python bench/bench_shortfall.py [--spacing-s 20] [--depth-scales 1.5 2]
"""

from __future__ import annotations

import argparse
import heapq
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.pacing import AlmgrenChrissPacing, TwapPacing, coin_per_contract
from hedgekeeper.execution.routed_executor import BookRoute, PoolRoute, RoutedExecutor
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.market.data_dir import data_dir
from hedgekeeper.market.events import BookUpdate, MarketEvent, TopOfBook, Trade
from hedgekeeper.market.replay.binance_capture import read_binance_capture
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.venues.amm.concentrated import ConcentratedPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens
from hedgekeeper.venues.amm.price import price_to_sqrt_price_x96
from hedgekeeper.venues.amm.tick_math import get_tick_at_sqrt_ratio
from hedgekeeper.venues.amm.venue import PoolVenue
from hedgekeeper.venues.orders import Side
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

DATASET = "binance-l2-ws-2024-08-08-hftbacktest"
USDM = Instrument(instrument_id="BTCUSDT.binance-usdm", venue="binance-usdm", kind=InstrumentKind.PERPETUAL,
                  settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
                  contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"),
                  min_size=Decimal("0.001"))
COINM = Instrument(instrument_id="BTCUSD_PERP.binance-coinm", venue="binance-coinm", kind=InstrumentKind.PERPETUAL,
                   settlement=Settlement.INVERSE, underlying="BTC", settlement_currency="BTC",
                   contract_size=Decimal(100), tick_size=Decimal("0.1"), lot_size=Decimal(1), min_size=Decimal(1))
POOL = Instrument(instrument_id="WBTC-USDC.uniswap", venue="uniswap", kind=InstrumentKind.SPOT,
                  settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDC",
                  contract_size=Decimal(1), tick_size=Decimal("0.000001"), lot_size=Decimal("0.001"),
                  min_size=Decimal("0.001"))
REGISTRY = InstrumentRegistry([USDM, COINM, POOL])
FEES = FeeSchedule(venues={"binance-usdm": VenueFees(taker=0.0005, maker=0.0002),
                           "binance-coinm": VenueFees(taker=0.0005, maker=0.0002)})
TOKENS = PoolTokens(coin_is_token0=True, coin_decimals=8, usd_decimals=6)
POOL_COIN_WITHIN_10_BPS = 30.0
POOL_HALF_RANGE_TICKS = 500  # about +-5%
GAS_USD = Decimal("3.90")  # 150,000 gas at 10 gwei, ETH at 2,600 USD
LATENCY_NS = 5_000_000
FRACTIONS = (0.05, 0.20, 0.50)
DEPTH_BPS = 10.0
TWAP_SLICES, SLICE_S = 10, 1.0
AC_VOL, AC_RISK_AVERSION = 0.6, 1e-3
POLL_NS = 50_000_000
MARKET, TWAP, AC, ROUTER = "market (USD-M)", f"TWAP {TWAP_SLICES} x {SLICE_S:g} s", "Almgren-Chriss", "router"
COINM_MARKET = "market (COIN-M)"
SINGLE_VENUES = (MARKET, COINM_MARKET, "market (pool)")
DEPTH_SCALES = (1.5, 2.0)
WARM_UP_NS = 60 * 10**9
NS = 10**9


def read_events() -> list[MarketEvent]:
    """Return both perpetuals' captured book updates and trades merged in receive order, streams named by instrument."""
    folder = data_dir() / DATASET
    usdm = read_binance_capture([folder / "usdm_btcusdt_20240808.jsonl.gz"], USDM.instrument_id)
    coinm = read_binance_capture([folder / "coinm_btcusd_perp_20240808.jsonl.gz"], COINM.instrument_id,
                                 contract_size_usd=100.0)
    return list(heapq.merge(usdm, coinm, key=lambda e: e.ts_ns))


def deeper(events: Sequence[MarketEvent], stream: str, factor: float) -> list[MarketEvent]:
    """Return ``events`` with every size of ``stream`` (book levels, top of book, trades) times ``factor``."""

    def scaled(event: MarketEvent) -> MarketEvent:
        if event.stream != stream:
            return event
        if isinstance(event, BookUpdate):
            return replace(event, bids=tuple((p, q * factor) for p, q in event.bids),
                           asks=tuple((p, q * factor) for p, q in event.asks))
        if isinstance(event, TopOfBook):
            return replace(event, bid_size_coin=event.bid_size_coin * factor,
                           ask_size_coin=event.ask_size_coin * factor)
        if isinstance(event, Trade):
            return replace(event, size_coin=event.size_coin * factor)
        return event

    return [scaled(event) for event in events]


def centred_pool(mid_usd: float) -> ConcentratedPool:
    """Return the WBTC/USDC pool at ``mid_usd``, its liquidity holding ``POOL_COIN_WITHIN_10_BPS`` near the price."""
    sqrt_price = price_to_sqrt_price_x96(mid_usd, TOKENS.coin_decimals, TOKENS.usd_decimals)
    tick = get_tick_at_sqrt_ratio(sqrt_price) // 10 * 10
    raw_price = mid_usd * 10.0 ** (TOKENS.usd_decimals - TOKENS.coin_decimals)
    # Coin between the price p and p (1 + d): L (1/sqrt(p) - 1/sqrt(p (1 + d))) ~ L d / (2 sqrt(p)), base units.
    liquidity = int(POOL_COIN_WITHIN_10_BPS * 10**TOKENS.coin_decimals * 2.0 * math.sqrt(raw_price) / 1e-3)
    position = (tick - POOL_HALF_RANGE_TICKS, tick + POOL_HALF_RANGE_TICKS, liquidity)
    return ConcentratedPool.from_positions(sqrt_price, [position], fee_pips=500, tick_spacing=10)


@dataclass
class Hedge:
    """One hedge: when, which side, how much, and the venues' mids when it was decided."""

    ts_ns: int
    side: Side
    size_coin: float
    mids_usd: dict[str, float]
    depth_coin: dict[str, float]  # each exchange's depth within ``DEPTH_BPS`` on the side taken, coin
    fills: list[TakerFill]

    def shortfall_bps(self, with_fees: bool = True) -> float:
        """Return the hedge's cost against each venue's arrival mid, bps of its value at the USD-M mid."""
        cost = 0.0
        for fill in self.fills:
            record = fill.record
            instrument = REGISTRY.get(record.instrument_id)
            coin = record.size_contracts * coin_per_contract(instrument, record.price_usd)
            cost += (record.price_usd - self.mids_usd[record.venue]) * coin + with_fees * record.fee_usd
        return cost / (self.size_coin * self.mids_usd[USDM.venue]) * 1e4

    def filled_coin(self) -> float:
        """Return the coin filled, all venues."""
        return sum(abs(f.record.size_contracts) * coin_per_contract(REGISTRY.get(f.record.instrument_id),
                                                                    f.record.price_usd) for f in self.fills)


class Market:
    """Both simulated exchanges and the pool on one clock, fed the capture; the executor under test."""

    def __init__(self, start_ns: int) -> None:
        self.clock = SimulatedClock(start_ns=start_ns)
        self.cores = {
            USDM.venue: ExchangeCore(SimulatedExchangeConfig(name=USDM.venue, order_latency_ns=LATENCY_NS,
                                                             balances={"USDT": Decimal(10**9)}), [USDM], FEES,
                                     self.clock),
            COINM.venue: ExchangeCore(SimulatedExchangeConfig(name=COINM.venue, order_latency_ns=LATENCY_NS,
                                                              balances={"BTC": Decimal(10**5)}), [COINM], FEES,
                                      self.clock),
        }
        self.exchanges = {name: SimulatedExchange(core) for name, core in self.cores.items()}
        self.pool = PoolVenue(POOL.venue, POOL, centred_pool(60_000.0), TOKENS, self.clock, gas_cost_usd=GAS_USD,
                              balances={"USDC": Decimal(10**9), "BTC": Decimal(10**5)})

    def book(self, instrument: Instrument):  # noqa: ANN201 - an OrderBook
        return self.exchanges[instrument.venue].book_snapshot(instrument.instrument_id)

    def orders(self, *venues: str) -> OrderManager:
        every = {**self.exchanges, POOL.venue: self.pool}
        return OrderManager({name: every[name] for name in venues}, self.clock)

    def feed(self, event: MarketEvent) -> None:
        self.clock.advance_to(event.ts_ns)
        self.clock.fire_due()
        self.cores[REGISTRY.get(event.stream).venue].on_market_event(event)  # book updates and trades


Strategy = Callable[[Market], tuple[object, Instrument]]
"""Build the executor under test on a market; return it and the instrument its hedges are given in."""


def exchange_strategy(instrument: Instrument, pacing: object, passive_ns: int = 0) -> Strategy:
    def build(market: Market) -> tuple[object, Instrument]:
        books = _LiveBooks(market)
        executor = ExchangeExecutor(market.orders(instrument.venue), REGISTRY, books, pacing=pacing,
                                    protection_bps=200.0, passive_ns=passive_ns)
        return executor, instrument
    return build


def pool_only(market: Market) -> tuple[object, Instrument]:
    routes = {"BTC": [PoolRoute(market.pool, max_coin=1_000.0, tolerance_bps=50.0)]}
    return RoutedExecutor(market.orders(POOL.venue), REGISTRY, routes, Decimal("0.001")), POOL


def router(market: Market) -> tuple[object, Instrument]:
    routes = {"BTC": [
        BookRoute(USDM, partial(market.book, USDM), 0.0005),
        BookRoute(COINM, partial(market.book, COINM), 0.0005),
        PoolRoute(market.pool, max_coin=1_000.0, tolerance_bps=50.0),
    ]}
    orders = market.orders(USDM.venue, COINM.venue, POOL.venue)
    return RoutedExecutor(orders, REGISTRY, routes, Decimal("0.001")), USDM


class _LiveBooks(Mapping):
    """Each exchange's own book as it stands when the executor reads it (what a live feed shows)."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def __getitem__(self, instrument_id: str):  # noqa: ANN204 - an OrderBook
        return self.market.book(REGISTRY.get(instrument_id))

    def __iter__(self) -> Iterator[str]:
        return iter((USDM.instrument_id, COINM.instrument_id))

    def __len__(self) -> int:
        return 2


def run(events: Sequence[MarketEvent], strategy: Strategy, fraction: float, spacing_ns: int) -> list[Hedge]:
    """Replay the capture once, starting a hedge every ``spacing_ns``; return the hedges with their fills."""
    market = Market(events[0].ts_ns)
    executor, instrument = strategy(market)
    first_ns = events[0].ts_ns + WARM_UP_NS
    last_ns = events[-1].ts_ns - 2 * TWAP_SLICES * int(SLICE_S * NS)
    next_hedge_ns, next_poll_ns = first_ns, first_ns
    hedges: list[Hedge] = []
    side = Side.BUY
    for event in events:
        market.feed(event)
        now = event.ts_ns
        if now >= next_hedge_ns and now <= last_ns:
            usdm_book = market.book(USDM)
            bid_coin, ask_coin = usdm_book.depth_within_bps(DEPTH_BPS)
            size_coin = round(fraction * (ask_coin if side is Side.BUY else bid_coin), 3)
            mids = {venue.venue: _mid(market, venue) for venue in (USDM, COINM)}
            depths = {venue.venue: market.book(venue).depth_within_bps(DEPTH_BPS)[side is Side.BUY]
                      for venue in (USDM, COINM)}
            market.pool.pool = centred_pool(mids[USDM.venue])
            mids[POOL.venue] = mids[USDM.venue]
            hedge = Hedge(now, side, size_coin, mids, depths, [])
            hedges.append(hedge)
            book = market.book(instrument) if instrument is not POOL else usdm_book
            contracts = size_coin / coin_per_contract(instrument, _mid(market, instrument) or mids[USDM.venue])
            _own(executor.execute(instrument, side.sign * contracts, book, now), hedge)
            side = Side.SELL if side is Side.BUY else Side.BUY
            next_hedge_ns += spacing_ns
        if now >= next_poll_ns:
            _own(executor.poll(now), hedges[-1] if hedges else None)
            next_poll_ns = now + POLL_NS
    executor.close()
    return hedges


def _mid(market: Market, instrument: Instrument) -> float | None:
    if instrument is POOL:
        return None
    return market.book(instrument).mid_usd


def _own(fills: Sequence[TakerFill], hedge: Hedge | None) -> None:
    # Hedges never overlap (spacing > horizon), so a fill belongs to the latest hedge.
    if hedge is not None:
        hedge.fills.extend(fills)


@dataclass(frozen=True)
class Summary:
    """A strategy's hedges at one size: mean shortfall (bps) with its standard error, before fees, coin filled."""

    mean_bps: float
    error_bps: float
    before_fees_bps: float
    filled: float
    coinm_depth_ratio: float  # the COIN-M book's depth on the side taken over USD-M's, mean over hedges
    values_bps: tuple[float, ...]  # each hedge's shortfall, all costs, in hedge order

    @classmethod
    def of(cls, hedges: Sequence[Hedge]) -> Summary:
        values = [h.shortfall_bps() for h in hedges]
        error = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
        before_fees = statistics.fmean(h.shortfall_bps(with_fees=False) for h in hedges)
        filled = sum(h.filled_coin() for h in hedges) / sum(h.size_coin for h in hedges)
        ratio = statistics.fmean(h.depth_coin[COINM.venue] / h.depth_coin[USDM.venue] for h in hedges)
        return cls(statistics.fmean(values), error, before_fees, filled, ratio, tuple(values))

    def ratio_to(self, peers: Sequence[Summary]) -> tuple[float, float, float]:
        """Return this mean over the cheapest peer's, its standard error, and the same ratio before fees.

        The hedges are paired (the same times in every run); the error is the delta
        method's on the ratio of two means, that of ``mean(a - r b) / mean(b)``. Before
        fees, the peer is the one cheapest before fees.
        """
        best = min(peers, key=lambda peer: peer.mean_bps)
        ratio = self.mean_bps / best.mean_bps
        residuals = [a - ratio * b for a, b in zip(self.values_bps, best.values_bps, strict=True)]
        error = statistics.stdev(residuals) / math.sqrt(len(residuals)) / best.mean_bps
        return ratio, error, self.before_fees_bps / min(peer.before_fees_bps for peer in peers)


def measure(events: Sequence[MarketEvent], strategies: Mapping[str, Strategy], spacing_ns: int
            ) -> dict[tuple[str, float], Summary]:
    """Run every strategy at every size of ``FRACTIONS`` on ``events``; return their summaries, logging progress."""
    results: dict[tuple[str, float], Summary] = {}
    for fraction in FRACTIONS:
        for name, strategy in strategies.items():
            began = time.perf_counter()
            hedges = run(events, strategy, fraction, spacing_ns)
            result = results[name, fraction] = Summary.of(hedges)
            print(f"  {fraction:>4.0%} {name:<24} {len(hedges)} hedges, {result.mean_bps:7.2f} +- "
                  f"{result.error_bps:.2f} bps, {result.filled:.1%} filled ({time.perf_counter() - began:.1f} s)",
                  file=sys.stderr)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing-s", type=float, default=20.0, help="seconds between hedges")
    parser.add_argument("--depth-scales", type=float, nargs="*", default=DEPTH_SCALES,
                        help="factors on the COIN-M book's sizes for the what-if runs (none: skip them)")
    args = parser.parse_args(argv)
    if not (data_dir() / DATASET).is_dir():
        print(f"skipped: {data_dir() / DATASET} is absent (set HEDGEKEEPER_DATA_DIR)")
        return 0
    started = time.perf_counter()
    events = read_events()
    print(f"{len(events):,} book events, {(events[-1].ts_ns - events[0].ts_ns) / NS:.0f} s of capture, "
          f"read in {time.perf_counter() - started:.1f} s")
    slice_ns = int(SLICE_S * NS)
    almgren_chriss = AlmgrenChrissPacing(slice_ns, AC_VOL, AC_RISK_AVERSION, DEPTH_BPS, max_slices=TWAP_SLICES)
    strategies: dict[str, Strategy] = {
        MARKET: exchange_strategy(USDM, TwapPacing()),
        COINM_MARKET: exchange_strategy(COINM, TwapPacing()),
        "market (pool)": pool_only,
        TWAP: exchange_strategy(USDM, TwapPacing(TWAP_SLICES, slice_ns)),
        AC: exchange_strategy(USDM, almgren_chriss),
        TWAP + ", passive": exchange_strategy(USDM, TwapPacing(TWAP_SLICES, slice_ns), passive_ns=slice_ns),
        AC + ", passive": exchange_strategy(USDM, almgren_chriss, passive_ns=slice_ns),
        ROUTER: router,
    }
    spacing_ns = int(args.spacing_s * NS)
    results = measure(events, strategies, spacing_ns)
    _print_table(results, list(strategies))
    what_if = {1.0: results}
    for factor in args.depth_scales:
        print(f"  what if: the COIN-M book x{factor:g}", file=sys.stderr)
        what_if[factor] = measure(deeper(events, COINM.instrument_id, factor),
                                  {name: strategies[name] for name in (COINM_MARKET, ROUTER)}, spacing_ns)
    _print_what_if(results, what_if)
    return 0


def _print_table(results: dict[tuple[str, float], Summary], names: Sequence[str]) -> None:
    print("\nimplementation shortfall, bps of the hedge's value: mean +- standard error, all costs "
          "[before exchange fees and gas] (% of coin filled)")
    print(f"{'strategy':<26}" + "".join(f"{f'{f:.0%} of depth':>32}" for f in FRACTIONS))
    for name in names:
        cells = "".join(
            f"{f'{r.mean_bps:.2f} +- {r.error_bps:.2f} [{r.before_fees_bps:.2f}] ({r.filled:.0%})':>32}"
            for r in (results[name, f] for f in FRACTIONS)
        )
        print(f"{name:<26}{cells}")
    print("\nratios, all costs +- standard error (hedges paired) [before exchange fees and gas] (targets: "
          "slicing <= 0.60 of one market order for the large hedges; router <= 0.85 of the best single venue)")
    comparisons = [(f"{name} / market", name, (MARKET,)) for name in names
                   if name.startswith((TWAP, AC))] + [("router / best single venue", ROUTER, SINGLE_VENUES)]
    for fraction in FRACTIONS:
        print(f"  {fraction:.0%} of depth")
        for label, name, peers in comparisons:
            ratio, error, before = results[name, fraction].ratio_to([results[p, fraction] for p in peers])
            print(f"    {label:<40} {ratio:.2f} +- {error:.2f} [{before:.2f}]")



def _print_what_if(recorded: dict[tuple[str, float], Summary],
                   what_if: dict[float, dict[tuple[str, float], Summary]]) -> None:
    print("\nwhat if the second exchange were deeper (the COIN-M book's sizes scaled; not recorded data): "
          "router / best single venue, all costs [before exchange fees and gas]")
    print(f"{'COIN-M book':<14}{'its depth / USD-M':>18}" + "".join(f"{f'{f:.0%} of depth':>22}" for f in FRACTIONS))
    for factor, results in what_if.items():
        cells = ""
        for fraction in FRACTIONS:
            peers = [results.get((name, fraction), recorded[name, fraction]) for name in SINGLE_VENUES]
            router_cost = results[ROUTER, fraction]
            ratio, error, before = router_cost.ratio_to(peers)
            cells += f"{f'{ratio:.2f} +- {error:.2f} [{before:.2f}]':>22}"
        depth_ratio = results[COINM_MARKET, FRACTIONS[-1]].coinm_depth_ratio
        print(f"{f'x{factor:g}':<14}{depth_ratio:>18.2f}{cells}")


if __name__ == "__main__":
    raise SystemExit(main())
