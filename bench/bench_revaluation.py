"""Benchmark: revaluing a 10,000-position book after one spot tick, full and incremental.

hedgekeeper's ``Portfolio`` (positions grouped by underlying into structure-of-arrays
books, one pricing-kernel call per block, only the ticked underlying recomputed)
against a peer measured in the same run on the same book: a straightforward loop
over positions calling the same pricing functions (``black76_greeks``,
``inverse_greeks``) and margin functions on scalars, aggregating in Python.

Each tick moves BTC's spot. "Full" revalues all 10,000 positions (both underlyings)
and assembles the risk report; "incremental" revalues the BTC book only (5,000
positions) and assembles the report. Both produce price, delta, gamma, vega,
theta, per-account equity, initial and maintenance margin. The peer's results are
checked against hedgekeeper's before timing.

    python bench/bench_revaluation.py [--ticks 200] [--peer-ticks 10] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from decimal import Decimal

import numba
import numpy as np

from hedgekeeper.portfolio import (
    Balance,
    Instrument,
    InstrumentKind,
    InstrumentRegistry,
    MarketSnapshot,
    Money,
    Portfolio,
    Position,
    Settlement,
    UnderlyingMarket,
)
from hedgekeeper.portfolio.margin import (
    MarginModel,
    inverse_future_margin_coin,
    short_option_margin,
    tiered_margin_usd,
)
from hedgekeeper.portfolio.market import NS_PER_DAY, year_fraction
from hedgekeeper.portfolio.positions import account_of
from hedgekeeper.pricing import black76_greeks, inverse_greeks

AS_OF_NS = 1_749_801_600_000_000_000  # 2025-06-13T08:00:00Z
EXPIRY_DAYS = (1, 7, 14, 28, 42, 70, 105, 196)
SPOT_USD = {"BTC": 105_000.0, "ETH": 2_550.0}
BASIS_RATE = 0.06


def build_book(rng: np.random.Generator) -> tuple[InstrumentRegistry, list[Position], list[Balance], MarketSnapshot]:
    """Return a 10,000-position book: per coin 2,700 inverse and 900 linear options, 700 futures, 700 perpetuals."""
    instruments: dict[str, Instrument] = {}
    positions: list[Position] = []

    def add(instrument: Instrument, size: float, entry: float | None = None) -> None:
        instruments.setdefault(instrument.instrument_id, instrument)
        positions.append(Position(instrument.instrument_id, size, entry))

    for coin, spot in SPOT_USD.items():
        step = 1_000.0 if coin == "BTC" else 25.0
        for inverse, count in ((True, 2_700), (False, 900)):
            days = rng.choice(EXPIRY_DAYS, count)
            strikes = np.round(spot * np.exp(rng.normal(0.0, 0.25, count)) / step) * step
            calls = rng.random(count) < 0.5
            sizes = np.round(rng.normal(0.0, 10.0, count), 1) + 0.1
            for day, strike, call, size in zip(days, strikes, calls, sizes, strict=True):
                expiry_ns = AS_OF_NS + int(day) * NS_PER_DAY
                add(Instrument(
                    instrument_id=f"{coin}{'' if inverse else '_USDC'}-{day}-{strike:g}-{'C' if call else 'P'}",
                    venue="deribit", kind=InstrumentKind.OPTION,
                    settlement=Settlement.INVERSE if inverse else Settlement.LINEAR, underlying=coin,
                    settlement_currency=coin if inverse else "USDC", contract_size=Decimal(1),
                    tick_size=Decimal("0.0005") if inverse else Decimal(5), lot_size=Decimal("0.1"),
                    min_size=Decimal("0.1"), expiry_ns=expiry_ns, strike_usd=Decimal(int(strike)), is_call=bool(call),
                ), float(size))
        for inverse, dated, count in ((True, True, 500), (False, True, 200), (True, False, 350), (False, False, 350)):
            for day in rng.choice(EXPIRY_DAYS[2:], count):
                expiry_ns = AS_OF_NS + int(day) * NS_PER_DAY if dated else None
                instrument = Instrument(
                    instrument_id=f"{coin}-{'INV' if inverse else 'LIN'}-{day if dated else 'PERP'}",
                    venue="deribit" if inverse else "binance",
                    kind=InstrumentKind.FUTURE if dated else InstrumentKind.PERPETUAL,
                    settlement=Settlement.INVERSE if inverse else Settlement.LINEAR, underlying=coin,
                    settlement_currency=coin if inverse else "USDT",
                    contract_size=Decimal(10) if inverse else Decimal(1), tick_size=Decimal("0.5"),
                    lot_size=Decimal(1) if inverse else Decimal("0.001"), min_size=Decimal("0.001"),
                    expiry_ns=expiry_ns,
                )
                size = float(rng.normal(0.0, 2_000.0)) if inverse else float(rng.normal(0.0, 2.0))
                add(instrument, size, spot * float(np.exp(rng.normal(0.0, 0.03))))

    def smile(k: np.ndarray, t: np.ndarray) -> np.ndarray:
        return 0.5 + 0.3 * k**2 - 0.08 * k + 0.03 * np.sqrt(t)

    market = MarketSnapshot(AS_OF_NS, {
        coin: UnderlyingMarket(underlying=coin, spot_usd=spot, vol=smile, basis_rate=BASIS_RATE)
        for coin, spot in SPOT_USD.items()
    })
    balances = [
        Balance("deribit", Money(Decimal(400), "BTC")),
        Balance("deribit", Money(Decimal(15_000), "ETH")),
        Balance("deribit", Money(Decimal(20_000_000), "USDC")),
        Balance("binance", Money(Decimal(30_000_000), "USDT")),
    ]
    return InstrumentRegistry(instruments.values()), positions, balances, market


class LoopPeer:
    """The straightforward implementation: one pass over positions, scalar pricing calls, Python sums."""

    def __init__(self, portfolio: Portfolio, registry: InstrumentRegistry, positions: list[Position],
                 balances: list[Balance], market: MarketSnapshot) -> None:
        self.accounts = {account: i for i, account in enumerate(portfolio.accounts)}
        self.model = MarginModel()
        self.spot = {coin: market.underlying(coin).spot_usd for coin in SPOT_USD}
        self.rows: dict[str, list[tuple]] = {coin: [] for coin in SPOT_USD}
        self.coin_balances = {coin: [(float(b.money), self.accounts[b.account])
                                     for b in balances if b.money.currency == coin] for coin in SPOT_USD}
        self.usd_balances = [(float(b.money), self.accounts[b.account]) for b in balances if b.account.is_usd]
        for position in positions:
            instrument = registry.get(position.instrument_id)
            coin_market = market.underlying(instrument.underlying)
            expiry = instrument.expiry_ns
            t_years = 0.0 if expiry is None else year_fraction(AS_OF_NS, expiry)
            ratio = 1.0 if expiry is None else float(coin_market.forward_usd(np.array([expiry]), AS_OF_NS)[0]) / coin_market.spot_usd
            vol = 0.0
            if instrument.is_option:
                strike = float(instrument.strike_usd or 0)
                vol = float(coin_market.implied_vol((instrument.instrument_id,), np.array([strike]),
                                                    np.array([t_years]), np.array([ratio * coin_market.spot_usd]))[0])
            self.rows[instrument.underlying].append((
                instrument, position.size_contracts * float(instrument.contract_size), position.entry_price_usd,
                t_years, ratio, vol, self.accounts[account_of(instrument)],
            ))
        self.results: dict[str, tuple[list[float], np.ndarray]] = {}

    def revalue(self, coins: list[str]) -> None:
        for coin in coins:
            self.results[coin] = self._revalue(coin)

    def _revalue(self, coin: str) -> tuple[list[float], np.ndarray]:
        s = self.spot[coin]
        schedule = self.model.schedule(coin)
        greeks = [0.0, 0.0, 0.0, 0.0]  # delta coin, gamma coin/USD, vega USD/vol, theta USD/year
        accounts = np.zeros((3, len(self.accounts)))
        for amount, account in self.coin_balances[coin]:
            accounts[0, account] += amount * s
            greeks[0] += amount
        for instrument, size, entry, t_years, ratio, vol, account in self.rows[coin]:
            f = s * ratio
            if instrument.is_option:
                strike, call = float(instrument.strike_usd or 0), bool(instrument.is_call)
                otm = max((1.0 if call else -1.0) * (strike - f), 0.0) / f
                if instrument.is_inverse:
                    g = inverse_greeks(f, strike, t_years, vol, call)
                    price, delta, gamma = float(g.price), float(g.delta), float(g.gamma)
                    value, usd_per_unit, mark = s * size * price, s, price
                    greeks[0] += size * (delta + price)
                    greeks[1] += size * ratio * (delta / f + gamma)
                    greeks[2] += s * size * float(g.vega)
                    greeks[3] += s * size * float(g.theta)
                else:
                    g = black76_greeks(f, strike, t_years, vol, call)
                    price = float(g.price)
                    value, usd_per_unit, mark = size * price, f, price / f
                    greeks[0] += size * float(g.delta) * ratio
                    greeks[1] += size * float(g.gamma) * ratio**2
                    greeks[2] += size * float(g.vega)
                    greeks[3] += size * float(g.theta)
                initial, maintenance = short_option_margin(otm, mark, call, schedule.options)
                short = max(-size, 0.0) * usd_per_unit
                accounts[:, account] += (value, short * float(initial), short * float(maintenance))
            elif instrument.is_inverse:
                initial, maintenance = inverse_future_margin_coin(size / f, schedule.inverse_futures)
                accounts[:, account] += (s * size * (1 / entry - 1 / f), s * float(initial), s * float(maintenance))
                greeks[0] += size / entry
            else:
                initial, maintenance = tiered_margin_usd(abs(size) * f, schedule)
                accounts[:, account] += (size * (f - entry), float(initial), float(maintenance))
                greeks[0] += size * ratio
        return greeks, accounts

    def totals(self) -> np.ndarray:
        total = sum(accounts for _, accounts in self.results.values())
        for amount, account in self.usd_balances:
            total[0, account] += amount
        return total


def times_ms(run: Callable[[float], object], spots: np.ndarray) -> np.ndarray:
    """Return the wall time of ``run(spot)`` for each spot, in milliseconds."""
    elapsed = np.empty(len(spots))
    for i, spot in enumerate(spots):
        start = time.perf_counter_ns()
        run(float(spot))
        elapsed[i] = (time.perf_counter_ns() - start) / 1e6
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200, help="timed ticks for hedgekeeper")
    parser.add_argument("--peer-ticks", type=int, default=10, help="timed ticks for the (slow) peer")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    rng = np.random.default_rng(options.seed)
    registry, positions, balances, market = build_book(rng)
    portfolio = Portfolio(registry, positions, balances, market)
    peer = LoopPeer(portfolio, registry, positions, balances, market)
    spots = SPOT_USD["BTC"] * np.exp(np.cumsum(rng.normal(0.0, 2e-4, options.ticks + 20)))

    def ours_full(spot: float) -> object:
        portfolio.update_spot("BTC", spot)
        portfolio.revalue(["ETH"])
        return portfolio.risk()

    def ours_incremental(spot: float) -> object:
        portfolio.update_spot("BTC", spot)
        return portfolio.risk()

    def peer_full(spot: float) -> object:
        peer.spot["BTC"] = spot
        peer.revalue(["BTC", "ETH"])
        return peer.totals()

    def peer_incremental(spot: float) -> object:
        peer.spot["BTC"] = spot
        peer.revalue(["BTC"])
        return peer.totals()

    # Agreement first (and warm-up): the same tick through both.
    ours_full(float(spots[0]))
    peer_full(float(spots[0]))
    risk = portfolio.risk()
    totals = peer.totals()
    valuation = portfolio.valuation()
    ours_greeks = {
        coin: (r.delta_coin, r.gamma_coin_per_usd, r.vega_usd_per_vol_pt * 100.0, r.theta_usd_per_day * 365.0)
        for coin in SPOT_USD for r in [risk.underlying(coin)]
    }
    gap = max(
        *(float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12)))
          for ours, theirs in ((valuation.equity_usd, totals[0]), (valuation.initial_margin_usd, totals[1]),
                               (valuation.maintenance_margin_usd, totals[2]))),
        *(abs(mine - theirs) / abs(theirs) for coin in SPOT_USD
          for mine, theirs in zip(ours_greeks[coin], peer.results[coin][0], strict=True)),
    )
    for spot in spots[1:20]:
        ours_full(float(spot))

    timed = spots[20:]
    full = times_ms(ours_full, timed)
    incremental = times_ms(ours_incremental, timed)
    peer_timed = timed[: options.peer_ticks]
    peer_full_ms = times_ms(peer_full, peer_timed)
    peer_incremental_ms = times_ms(peer_incremental, peer_timed)

    counts = {kind: sum(registry.get(p.instrument_id).kind is kind for p in positions) for kind in InstrumentKind}
    print(
        f"Revaluation after one BTC tick, {len(positions):,} positions ({counts[InstrumentKind.OPTION]:,} options, "
        f"{counts[InstrumentKind.FUTURE]:,} futures, {counts[InstrumentKind.PERPETUAL]:,} perpetuals; BTC and ETH, "
        f"{len(portfolio.accounts)} margin accounts), cores = {os.cpu_count()}, numba threads = {numba.get_num_threads()}"
    )
    print(f"{'':<44}{'median ms':>11}{'p99 ms':>10}{'ticks':>7}")
    for label, ours_ms, peer_ms in (
        ("full: all 10,000 positions", full, peer_full_ms),
        ("incremental: the BTC book only", incremental, peer_incremental_ms),
    ):
        print(label)
        for name, values in (("  hedgekeeper (arrays per underlying)", ours_ms), ("  peer: per-position Python loop", peer_ms)):
            print(f"{name:<44}{np.median(values):>11.3f}{np.percentile(values, 99):>10.3f}{len(values):>7}")
        print(f"{'  ratio peer / hedgekeeper (median)':<44}{np.median(peer_ms) / np.median(ours_ms):>10.0f}x")
    print(f"agreement: per-account equity and margins, delta, gamma, vega, theta within {gap:.1e} (relative) of the peer's")


if __name__ == "__main__":
    main()
