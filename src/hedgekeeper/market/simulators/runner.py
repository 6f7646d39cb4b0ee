"""Turn a ``SimulationConfig`` into one time-ordered stream of market events.

The path (spot and instantaneous variance, scenarios injected) is simulated once,
on arrays; events are then made ``chunk_steps`` steps at a time, so memory stays
bounded by the chunk whatever the duration. Per chunk, every source works on
arrays, builds its events, and the chunk's events are merged by time (stable, so
ties keep the source order: venues as listed, then oracles, then options).

Randomness: ``SeedSequence(seed).spawn`` gives the path its own generator and each
venue one each for its book sizes, trade counts and trade details. Every generator
draws step after step in the same order whatever the chunking, so the events
depend on the configuration and the seed only, and a venue added to the
configuration leaves the path and the other venues' events as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.market.events import (
    BookUpdate,
    Funding,
    MarketEvent,
    OptionQuote,
    OracleUpdate,
    TopOfBook,
    Trade,
)
from hedgekeeper.market.simulators.books import BPS, BookLevels, book_levels
from hedgekeeper.market.simulators.config import (
    OptionsParameters,
    SimulationConfig,
    VenueParameters,
)
from hedgekeeper.market.simulators.funding import funding_rates, funding_times_ns
from hedgekeeper.market.simulators.market_path import MarketPath, simulate_market_path
from hedgekeeper.market.simulators.option_quotes import option_quote_vols
from hedgekeeper.market.simulators.oracle import oracle_round_indices
from hedgekeeper.market.simulators.surface_dynamics import SurfacePath
from hedgekeeper.market.simulators.trades import draw_trades, trade_counts

IntArray = NDArray[np.int64]
Batch: TypeAlias = tuple[IntArray, list[MarketEvent]]
"""Events of one source over a chunk, with their times."""

_VENUE_GENERATORS = 3  # book sizes, trade counts, trade details


def simulate_path(config: SimulationConfig) -> MarketPath:
    """Return the configured run's market path, ``step_count + 1`` points from ``start_ts_ns``.

    Examples
    --------
    >>> from hedgekeeper.market.simulators.gbm import GbmParameters
    >>> config = SimulationConfig(seed=1, start_ts_ns=0, step_s=1.0, duration_s=3.0,
    ...     spot_usd=100.0, model=GbmParameters(drift=0.0, vol=0.8))
    >>> simulate_path(config).spot_usd.round(3)
    array([100.   ,  99.991,  99.996,  99.991])
    """
    path_sequence = np.random.SeedSequence(config.seed).spawn(1)[0]
    return simulate_market_path(
        config.model, config.spot_usd, config.start_ts_ns, config.step_ns, config.step_count,
        config.scenarios, np.random.default_rng(path_sequence),
    )


def simulate_events(config: SimulationConfig) -> Iterator[MarketEvent]:
    """Yield the configured run's events in time order, ``chunk_steps`` steps at a time.

    Parameters
    ----------
    config : SimulationConfig

    Yields
    ------
    MarketEvent, with ``ts_ns`` non-decreasing over ``[start_ts_ns, start_ts_ns + duration)``

    Examples
    --------
    An oracle feed alone, 1 bp deviation threshold, 4-second heartbeat:

    >>> from hedgekeeper.market.simulators.gbm import GbmParameters
    >>> from hedgekeeper.market.simulators.oracle import OracleParameters
    >>> feed = OracleParameters(stream="BTC/USD", deviation_threshold=0.0001, heartbeat_s=4.0)
    >>> config = SimulationConfig(seed=1, start_ts_ns=0, step_s=1.0, duration_s=10.0,
    ...     spot_usd=100.0, model=GbmParameters(drift=0.0, vol=0.8), oracles=[feed])
    >>> for event in simulate_events(config):
    ...     print(event.ts_ns // 10**9, event.round_id, round(event.price_usd, 3))
    0 1 100.0
    4 2 100.007
    5 3 99.968
    6 4 99.953
    8 5 99.966
    9 6 99.981
    """
    run = _Run.start(config)
    for first in range(0, config.step_count, config.chunk_steps):
        yield from run.chunk_events(first, min(first + config.chunk_steps, config.step_count))


@dataclass(frozen=True)
class _Run:
    config: SimulationConfig
    path: MarketPath
    venue_generators: list[list[np.random.Generator]]
    oracle_rounds: list[IntArray]
    surface: SurfacePath | None

    @classmethod
    def start(cls, config: SimulationConfig) -> _Run:
        root = np.random.SeedSequence(config.seed)
        venue_sequences = root.spawn(1 + len(config.venues))[1:]
        path = simulate_path(config)
        observed_price, observed_ns = path.spot_usd[:-1], path.ts_ns[:-1]
        surface = None if config.options is None else SurfacePath(path, config.options.surface)
        return cls(
            config=config,
            path=path,
            venue_generators=[
                [np.random.default_rng(child) for child in sequence.spawn(_VENUE_GENERATORS)]
                for sequence in venue_sequences
            ],
            oracle_rounds=[
                oracle_round_indices(observed_price, observed_ns, feed) for feed in config.oracles
            ],
            surface=surface,
        )

    def chunk_events(self, first: int, stop: int) -> list[MarketEvent]:
        batches: list[Batch] = []
        for venue, generators in zip(self.config.venues, self.venue_generators, strict=True):
            batches += self._venue_events(venue, generators, first, stop)
        for oracle, rounds in zip(self.config.oracles, self.oracle_rounds, strict=True):
            batches.append(self._oracle_events(oracle.stream, rounds, first, stop))
        if self.config.options is not None:
            batches.append(self._option_events(self.config.options, first, stop))
        if not batches:
            return []
        times = np.concatenate([ts for ts, _ in batches])
        events = [event for _, batch in batches for event in batch]
        return [events[i] for i in np.argsort(times, kind="stable").tolist()]

    def _venue_events(
        self, venue: VenueParameters, generators: list[np.random.Generator], first: int, stop: int
    ) -> list[Batch]:
        book_rng, count_rng, detail_rng = generators
        ts = self.path.ts_ns[first:stop]
        mid = self.path.spot_usd[first:stop] * (1.0 + venue.mid_offset_bps * BPS)
        levels = book_levels(mid, self.path.vol[first:stop], venue.book, book_rng)
        shown = np.flatnonzero(np.arange(first, stop) % venue.interval_steps == 0)
        batches = []
        if venue.top_of_book:
            batches.append((ts[shown], _top_of_book_events(ts[shown], venue.stream, levels, shown)))
        if venue.level2_book:
            batches.append((ts[shown], _book_update_events(ts[shown], venue.stream, levels, shown)))
        if venue.trades is not None:
            step_ns = self.config.step_ns
            counts = trade_counts(stop - first, step_ns, venue.trades, count_rng)
            trades = draw_trades(counts, step_ns, venue.trades, detail_rng)
            trade_ts = ts[trades.step_index] + trades.offset_ns
            at = trades.step_index
            price = np.where(trades.aggressor > 0, levels.ask_usd[at, 0], levels.bid_usd[at, 0])
            events = list(map(
                Trade, trade_ts.tolist(), [venue.stream] * trade_ts.size, price.tolist(),
                trades.size_coin.tolist(), trades.aggressor.tolist(),
            ))
            batches.append((trade_ts, events))
        if venue.funding is not None:
            batches.append(self._funding_events(venue, first, stop))
        return batches

    def _funding_events(self, venue: VenueParameters, first: int, stop: int) -> Batch:
        funding = venue.funding
        step_ns, start_ns = self.config.step_ns, self.config.start_ts_ns
        times = funding_times_ns(start_ns + first * step_ns, start_ns + stop * step_ns, funding)
        interval_ns = round(funding.interval_s * 1e9)
        index = (times - start_ns) // step_ns
        previous = np.maximum(times - interval_ns - start_ns, 0) // step_ns
        mark = self.path.spot_usd * (1.0 + venue.mid_offset_bps * BPS)
        rates = funding_rates(mark[index], mark[previous], funding)
        events = list(map(
            Funding, times.tolist(), [venue.stream] * times.size, rates.tolist(),
            mark[index].tolist(),
        ))
        return times, events

    def _oracle_events(self, stream: str, rounds: IntArray, first: int, stop: int) -> Batch:
        index = rounds[(rounds >= first) & (rounds < stop)]
        ts = self.path.ts_ns[index]
        round_ids = (np.searchsorted(rounds, index) + 1).tolist()
        events = list(map(
            OracleUpdate, ts.tolist(), [stream] * index.size, round_ids,
            self.path.spot_usd[index].tolist(), ts.tolist(),
        ))
        return ts, events

    def _option_events(self, options: OptionsParameters, first: int, stop: int) -> Batch:
        steps = np.arange(first, stop)
        steps = steps[steps % options.interval_steps == 0]
        strikes = np.array([option.strike_usd for option in options.instruments])
        expiries = np.array([option.expiry_ts_ns for option in options.instruments], dtype=np.int64)
        live_step, live_option = np.nonzero(self.path.ts_ns[steps][:, None] < expiries[None, :])
        step = steps[live_step]
        mark_vol = self.surface.implied_vol(step, strikes[live_option], expiries[live_option])
        bid_vol, ask_vol = option_quote_vols(mark_vol, self.path.vol[step], options.quote)
        forward = self.surface.forward_usd(step, expiries[live_option])
        ts = self.path.ts_ns[step]
        streams = [options.instruments[i].stream for i in live_option.tolist()]
        events = list(map(
            OptionQuote, ts.tolist(), streams, bid_vol.tolist(), ask_vol.tolist(),
            mark_vol.tolist(), forward.tolist(),
        ))
        return ts, events


def _top_of_book_events(
    ts: IntArray, stream: str, levels: BookLevels, shown: IntArray
) -> list[MarketEvent]:
    return list(map(
        TopOfBook, ts.tolist(), [stream] * ts.size,
        levels.bid_usd[shown, 0].tolist(), levels.bid_size_coin[shown, 0].tolist(),
        levels.ask_usd[shown, 0].tolist(), levels.ask_size_coin[shown, 0].tolist(),
    ))


def _book_update_events(
    ts: IntArray, stream: str, levels: BookLevels, shown: IntArray
) -> list[MarketEvent]:
    def side(prices: np.ndarray, sizes: np.ndarray) -> list[tuple[tuple[float, float], ...]]:
        price_rows, size_rows = prices[shown].tolist(), sizes[shown].tolist()
        rows = [tuple(zip(p, q, strict=True)) for p, q in zip(price_rows, size_rows, strict=True)]
        # A far level that a very wide spread pushed to a price <= 0 is left out of its snapshot.
        for row in np.flatnonzero(np.any(prices[shown] <= 0.0, axis=1)).tolist():
            rows[row] = tuple(level for level in rows[row] if level[0] > 0.0)
        return rows

    bids = side(levels.bid_usd, levels.bid_size_coin)
    asks = side(levels.ask_usd, levels.ask_size_coin)
    return list(map(BookUpdate, ts.tolist(), [stream] * ts.size, bids, asks, [True] * ts.size))
