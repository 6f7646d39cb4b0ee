"""Put the live engine together: the book, the clock, the venues, the order manager, the executor, the hedger.

Everything here is the backtest's machinery (``backtest/runner.py``,
``backtest/exchanges.py``) with the live parts put in: a ``WallClock``, venues
whose orders are written to the store before they leave (``order_journal.py``),
the simulated exchange with its own journal or real exchanges through ccxt, and
the kill switch in front of the safety limits (``controls.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import Clock
from hedgekeeper.engine.hedging import HedgeInstrument, PlannerHedger
from hedgekeeper.engine.loop import Engine
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.instrument_books import BooksByInstrument
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.pacing import TwapPacing
from hedgekeeper.execution.safety import SafetyGuard
from hedgekeeper.execution.simulated_taker import SimulatedTaker
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.market.validation import EdgeValidator
from hedgekeeper.policy.config import build_policy
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.controls import ControlledPolicy, KillSwitchCheck
from hedgekeeper.service.simulated_exchange import EXCHANGE_KINDS

NS_PER_SECOND = 1_000_000_000


class LiveExecutor(ExchangeExecutor):
    """The ``ExchangeExecutor``, with a way to run other calls on the event loop its venues live on."""

    def run(self, coroutine: Any) -> Any:
        """Run ``coroutine`` to its end on the executor's event loop (a ccxt session is bound to its loop)."""
        return self._loop.run_until_complete(coroutine)


def hedge_streams(spec: ServiceSpec) -> dict[str, str]:
    """Return the book stream of each hedged future or perpetual: stream -> instrument id."""
    streams: dict[str, str] = {}
    for underlying in spec.file.hedging.underlyings.values():
        for entry in underlying.instruments:
            instrument = spec.book.registry.get(entry.instrument_id)
            if instrument.kind in EXCHANGE_KINDS and instrument.instrument_id not in streams.values():
                streams[entry.book_stream or instrument.instrument_id] = instrument.instrument_id
    return streams


def exchange_traded(spec: ServiceSpec) -> list[Instrument]:
    """Return the hedged futures and perpetuals, each traded on its venue's exchange."""
    return [spec.book.registry.get(i) for i in hedge_streams(spec).values()]


def market_key(spec: ServiceSpec) -> str:
    """Return a digest of the market and the instruments traded: what a simulated exchange's journal belongs to."""
    file = spec.file
    source = file.simulation.model_dump(mode="json") if file.simulation is not None else \
        file.replay.model_dump(mode="json")  # type: ignore[union-attr]
    traded = [i.instrument_id for i in exchange_traded(spec)]
    document = json.dumps({"source": source, "traded": traded, "as_of": spec.book.market.as_of_ns}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass
class Machinery:
    """The live engine and what it trades through."""

    engine: Engine
    policy: ControlledPolicy
    check: KillSwitchCheck
    manager: OrderManager
    executor: LiveExecutor | None
    hedger: PlannerHedger


def build_machinery(spec: ServiceSpec, *, clock: Clock, book: BookState, profile: RiskProfile,
                    venues: Mapping[str, Any], id_prefix: str, order_clock: Clock | None = None) -> Machinery:
    """Return the engine over ``book`` on ``clock``, trading through ``venues`` (already journaled).

    Parameters
    ----------
    spec : the service file
    clock : the engine's clock
    book : the book to start from (the file's, or the store's after a restart)
    profile : the bands in force
    venues : the venues by name, each with its orders written before they are sent
    id_prefix : the client order ids' prefix, distinct for every start
    order_clock : the clock stamping orders and their transitions (default ``clock``): the
        simulated exchange's market time, which its fills are stamped with, so that an
        order's fills are never dated before it
    """
    file = spec.file
    policy = ControlledPolicy(build_policy(spec.policy, profile))  # may fail (a model file): before any event loop
    order_books: dict[str, OrderBook] = {}
    streams = hedge_streams(spec)
    instrument_books = {instrument_id: stream for stream, instrument_id in streams.items()}
    limits = file.execution.safety
    check = KillSwitchCheck(None if limits is None else SafetyGuard(limits), spec.book.registry.get, order_books,
                            instrument_books)
    manager = OrderManager(dict(venues), order_clock or clock, pre_trade_check=check, id_prefix=id_prefix)
    executor = None
    real_venues = file.exchange.kind == "ccxt"
    if streams:
        executor = LiveExecutor(
            manager, spec.book.registry, BooksByInstrument(order_books, instrument_books),
            protection_bps=file.execution.protection_bps,
            pacing=TwapPacing(slices=file.execution.slices, interval_ns=int(file.execution.interval_s * NS_PER_SECOND)),
            poll_interval_ns=file.execution.poll_interval_ns(real_venues),
            fill_stream=file.execution.streams_fills(real_venues),
            fill_check_interval_ns=int(file.execution.fill_check_s * NS_PER_SECOND),
            reopen_s=file.execution.fill_reopen_s,
        )
    taker = SimulatedTaker(file.fees)
    hedger = PlannerHedger(
        instruments={name: [HedgeInstrument(**entry.model_dump()) for entry in underlying.instruments]
                     for name, underlying in file.hedging.underlyings.items()},
        taker=taker, option_vol_spread=file.hedging.option_vol_spread, executor=executor,
    )
    first_hedge = {name: u.instruments[0] for name, u in file.hedging.underlyings.items()}
    registry = spec.book.registry

    def cost_fraction(underlying: str, books: Mapping[str, OrderBook]) -> float:
        """Return the taker fee plus half the spread of the underlying's first hedge instrument."""
        entry = first_hedge[underlying]
        fee = taker.fees.rates(registry.get(entry.instrument_id).venue).taker
        order_book = books.get(entry.book_stream or entry.instrument_id)
        if order_book is None or order_book.mid_usd is None:
            return fee
        return fee + (order_book.best_ask_usd - order_book.best_bid_usd) / (2.0 * order_book.mid_usd)

    engine_config = file.engine
    engine = Engine(
        clock=clock, book=book, feeds=spec.feeds(), policy=policy, hedger=hedger,
        validator=EdgeValidator(max_delay_ns=int(engine_config.max_event_delay_s * NS_PER_SECOND),
                                max_oracle_age_ns=int(engine_config.max_oracle_age_s * NS_PER_SECOND)),
        cost_fraction=cost_fraction, settings=engine_config.settings(), order_books=order_books,
    )
    return Machinery(engine, policy, check, manager, executor, hedger)
