"""The simulated exchanges a backtest trades on, and the executor that sends them its hedges.

Every venue of a hedged future or perpetual becomes a simulated exchange
(``venues/simulated/``) on the backtest's clock: it keeps its own book from the
same market events as the engine (its own, so liquidity a hedge takes stays taken
until the market refills it), starts flat with the book's balances at that venue,
and charges the backtest's fees. Hedges reach it through the ``ExchangeExecutor``,
the ``OrderManager`` and the safety limits: the very path a live run takes to a
real exchange, so a backtest's costs are those of its executions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from hedgekeeper.backtest.config import Backtest
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.instrument_books import BooksByInstrument
from hedgekeeper.execution.order_manager import OrderManager, PreTradeCheck
from hedgekeeper.execution.safety import SafetyGuard
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.venues.orders import OrderRequest
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

_EXCHANGE_KINDS = (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE)
NS_PER_MS = 1_000_000


def simulated_execution(
    backtest: Backtest, clock: SimulatedClock, order_books: Mapping[str, OrderBook]
) -> tuple[ExchangeExecutor, Callable[[MarketEvent], None]] | None:
    """Return the executor of the backtest's hedges and the listener feeding its exchanges, or None without any.

    Parameters
    ----------
    backtest : Backtest
    clock : the engine's clock, which the exchanges share
    order_books : the engine's books by stream, for the mid at each slice
    """
    book = backtest.book
    settings = backtest.file.execution
    streams: dict[str, str] = {}  # book stream -> instrument id
    by_venue: dict[str, list[Instrument]] = {}
    for underlying in backtest.file.hedging.underlyings.values():
        for entry in underlying.instruments:
            instrument = book.registry.get(entry.instrument_id)
            if instrument.kind in _EXCHANGE_KINDS and instrument.instrument_id not in streams.values():
                streams[entry.book_stream or instrument.instrument_id] = instrument.instrument_id
                by_venue.setdefault(instrument.venue, []).append(instrument)
    if not by_venue:
        return None
    cores = {
        venue: ExchangeCore(
            SimulatedExchangeConfig(
                name=venue, order_latency_ns=int(settings.order_latency_ms * NS_PER_MS),
                balances={b.money.currency: b.money.amount for b in book.balances if b.venue == venue},
                margin=book.margin_model,
            ),
            instruments, backtest.file.fees, clock,
        )
        for venue, instruments in by_venue.items()
    }
    instrument_books = {instrument_id: stream for stream, instrument_id in streams.items()}
    check = None if settings.safety is None else _safety_check(SafetyGuard(settings.safety), book.registry.get,
                                                                order_books, instrument_books)
    orders = OrderManager({venue: SimulatedExchange(core) for venue, core in cores.items()}, clock,
                          pre_trade_check=check)
    executor = ExchangeExecutor(
        orders, book.registry, BooksByInstrument(order_books, instrument_books), pacing=settings.pacing(),
        protection_bps=settings.protection_bps, passive_ns=int(settings.passive_s * 1e9),
    )
    core_of = {instrument.instrument_id: cores[instrument.venue] for ins in by_venue.values() for instrument in ins}

    def feed(event: MarketEvent) -> None:
        """Give the exchange of the event's instrument its copy, under the instrument's id."""
        instrument_id = streams.get(event.stream)
        if instrument_id is not None:
            core_of[instrument_id].on_market_event(
                event if instrument_id == event.stream else dataclasses.replace(event, stream=instrument_id))

    return executor, feed


def _safety_check(guard: SafetyGuard, instrument_of: Callable[[str], Instrument], order_books: Mapping[str, OrderBook],
                  streams: Mapping[str, str]) -> PreTradeCheck:
    """Return the order manager's pre-trade check: the safety limits at the instrument's mid."""

    def check(venue: str, request: OrderRequest, now_ns: int) -> None:
        book = order_books.get(streams.get(request.instrument_id, request.instrument_id))
        mid = None if book is None else book.mid_usd
        limit = 0.0 if request.price is None else float(request.price.value)  # 0 without a mid: refused
        guard.check_request(request, instrument_of(request.instrument_id),
                            underlying_price_usd=mid if mid is not None else limit, mid_price=mid, now_ns=now_ns)

    return check

