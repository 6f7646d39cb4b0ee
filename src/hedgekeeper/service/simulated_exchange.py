"""The built-in simulated exchange as the service runs it: a journal of its own, so it outlives the service.

A real exchange keeps our orders and fills when our process dies, and keeps
trading while it is down. The simulated exchange does the same:

- its requests (place, cancel, amend) are written to its own SQLite journal,
  apart from the service's store, *before* the exchange acts on them, each with
  the number of market events it had taken in by then;
- it runs on market time: its own ``SimulatedClock`` moves to each event's time,
  and a request is stamped with the last event's (so it is deterministic);
- ``SimulatedMarketVenues.open`` rebuilds it after a restart: the same market
  (the source is deterministic) fed again up to the time the service resumes,
  with each journaled request replayed after the same number of events. The
  exchange thereby also lives through the time the service was down: an order
  that arrived at the book then is filled then, and the restarted service finds
  the fill (``service/recovery.py``).

``SimulatedMarketVenues.feed`` takes every event of the source (before the engine
sees it, so the engine's edge validation, which depends on the wall clock, changes
nothing here); ``venues`` are the ``Venue`` adapters, one per exchange.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.execution.fees import FeeSchedule
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce, VenueOrder
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

logger = logging.getLogger(__name__)

EXCHANGE_KINDS = (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE)
NS_PER_MS = 1_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    sequence INTEGER PRIMARY KEY,
    venue TEXT NOT NULL,
    events_fed INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def request_payload(request: OrderRequest) -> dict[str, Any]:
    """Return an order request as JSON-ready strings.

    >>> from hedgekeeper.portfolio.values import Quantity
    >>> request_payload(OrderRequest(client_order_id="a-1", instrument_id="X", side=Side.BUY,
    ...     quantity=Quantity(Decimal("0.5"), 1), order_type=OrderType.MARKET))["quantity"]
    '0.5'
    """
    return {"client_order_id": request.client_order_id, "instrument_id": request.instrument_id,
            "side": request.side.value, "quantity": str(request.quantity.value), "order_type": request.order_type.value,
            "price": None if request.price is None else str(request.price.value),
            "time_in_force": request.time_in_force.value, "reduce_only": request.reduce_only}


def request_of(payload: Mapping[str, Any], instrument: Instrument) -> OrderRequest:
    """Return the order request of a payload, its size and price at the instrument's precision."""
    price = payload["price"]
    return OrderRequest(
        client_order_id=payload["client_order_id"], instrument_id=payload["instrument_id"],
        side=Side(payload["side"]), quantity=instrument.make_qty(Decimal(payload["quantity"]), round_down=True),
        order_type=OrderType(payload["order_type"]),
        price=None if price is None else instrument.make_price(Decimal(price), round_down=True),
        time_in_force=TimeInForce(payload["time_in_force"]), reduce_only=bool(payload["reduce_only"]),
    )


class ExchangeJournal:
    """The requests every simulated exchange of the service received, in an SQLite file of its own.

    Parameters
    ----------
    path : the journal's file (created with its folder)
    market_key : what identifies the market the journal belongs to; a journal of
        another market is refused (its requests would meet other prices)
    """

    def __init__(self, path: str | Path, market_key: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'market'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('market', ?)", (market_key,))
        elif row[0] != market_key:
            raise ConfigError(f"{self.path}: the simulated exchange's journal belongs to another market "
                              f"({row[0][:60]}...); give exchange.simulated.journal_path a new file")

    def append(self, venue: str, events_fed: int, ts_ns: int, kind: str, payload: Mapping[str, Any]) -> None:
        """Write one request, durably, before the exchange acts on it."""
        self._db.execute("INSERT INTO requests (venue, events_fed, ts_ns, kind, payload) VALUES (?, ?, ?, ?, ?)",
                         (venue, events_fed, ts_ns, kind, json.dumps(dict(payload))))

    def requests(self) -> list[tuple[str, int, int, str, dict[str, Any]]]:
        """Return every request, in the order received: ``(venue, events_fed, ts_ns, kind, payload)``."""
        rows = self._db.execute("SELECT venue, events_fed, ts_ns, kind, payload FROM requests ORDER BY sequence")
        return [(v, n, ts, kind, json.loads(payload)) for v, n, ts, kind, payload in rows]

    def close(self) -> None:
        """Close the file."""
        self._db.close()


class JournaledExchange(SimulatedExchange):
    """The ``Venue`` of one simulated exchange whose requests are journaled before they are acted on."""

    def __init__(self, core: ExchangeCore, market: SimulatedMarketVenues) -> None:
        super().__init__(core)
        self._market = market

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Journal, then send ``request`` (idempotent on the client order id)."""
        self._market.journal_request(self.name, "place", request_payload(request))
        return await super().place(request)

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Journal, then send a cancel."""
        self._market.journal_request(self.name, "cancel", {"instrument_id": instrument_id,
                                                           "client_order_id": client_order_id})
        return await super().cancel(instrument_id, client_order_id)

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Journal, then send an amend."""
        self._market.journal_request(self.name, "amend", {
            "instrument_id": instrument_id, "client_order_id": client_order_id,
            "quantity": None if quantity is None else str(quantity), "price": None if price is None else str(price)})
        return await super().amend(instrument_id, client_order_id, quantity=quantity, price=price)

    async def close(self) -> None:
        """End the exchange's streams (its journal stays)."""
        self.core.close()


def exchange_instruments(instruments: Iterable[Instrument]) -> dict[str, list[Instrument]]:
    """Return the futures and perpetuals among ``instruments``, by venue."""
    by_venue: dict[str, list[Instrument]] = {}
    for instrument in instruments:
        if instrument.kind in EXCHANGE_KINDS:
            by_venue.setdefault(instrument.venue, []).append(instrument)
    return by_venue


class SimulatedMarketVenues:
    """The service's simulated exchanges, the journal they share, and their clock on market time.

    Parameters
    ----------
    instruments : the instruments traded (each on its venue's exchange)
    streams : stream name -> instrument id, for the books the exchanges keep
    balances : the starting balances (only each venue's own are used)
    fees : FeeSchedule with a rate for each venue
    margin : the margin model, or None for the defaults
    order_latency_ns : ns from a request to its arrival at the book
    journal : ExchangeJournal
    start_ns : the market's first time, ns
    """

    def __init__(self, instruments: Sequence[Instrument], streams: Mapping[str, str], balances: Sequence[Balance],
                 fees: FeeSchedule, margin: MarginModel | None, order_latency_ns: int, journal: ExchangeJournal,
                 start_ns: int) -> None:
        self.clock = SimulatedClock(start_ns=start_ns)
        self.journal = journal
        self.events_fed = 0
        self._streams = dict(streams)
        self._replaying = False
        self.cores: dict[str, ExchangeCore] = {}
        for venue, listed in exchange_instruments(instruments).items():
            config = SimulatedExchangeConfig(
                name=venue, order_latency_ns=order_latency_ns,
                balances={b.money.currency: b.money.amount for b in balances if b.venue == venue},
                **({} if margin is None else {"margin": margin}),
            )
            self.cores[venue] = ExchangeCore(config, listed, fees, self.clock)
        self._core_of = {i.instrument_id: self.cores[i.venue] for i in instruments if i.venue in self.cores}
        self.venues = {venue: JournaledExchange(core, self) for venue, core in self.cores.items()}

    @classmethod
    def open(cls, instruments: Sequence[Instrument], streams: Mapping[str, str], balances: Sequence[Balance],
             fees: FeeSchedule, margin: MarginModel | None, order_latency_ns: int, journal: ExchangeJournal,
             start_ns: int, history: Iterator[MarketEvent]) -> tuple[SimulatedMarketVenues, int]:
        """Return the exchanges as they stand after ``history`` and the journaled requests; and how many were replayed.

        ``history`` is the market from its start up to the time the service resumes.
        """
        market = cls(instruments, streams, balances, fees, margin, order_latency_ns, journal, start_ns)
        requests = journal.requests()
        market._replaying = True
        index = 0
        for event in history:
            while index < len(requests) and requests[index][1] <= market.events_fed:
                market._replay(requests[index])
                index += 1
            market.feed(event)
        for request in requests[index:]:
            market._replay(request)
        market._replaying = False
        return market, len(requests)

    def feed(self, event: MarketEvent) -> None:
        """Take in one event of the market (every event of the source, in order)."""
        self.events_fed += 1
        instrument_id = self._streams.get(event.stream)
        if instrument_id is None:
            return
        if event.ts_ns > self.clock.now_ns():
            self.clock.advance_to(event.ts_ns)
        core = self._core_of[instrument_id]
        core.on_market_event(event if instrument_id == event.stream else dataclasses.replace(event, stream=instrument_id))

    def journal_request(self, venue: str, kind: str, payload: Mapping[str, Any]) -> None:
        """Write a request to the journal before the exchange acts on it (not while replaying)."""
        if not self._replaying:
            self.journal.append(venue, self.events_fed, self.clock.now_ns(), kind, payload)

    def _replay(self, request: tuple[str, int, int, str, dict[str, Any]]) -> None:
        venue, _, _, kind, payload = request
        core = self.cores[venue]
        try:
            if kind == "place":
                core.submit(request_of(payload, core.registry.get(payload["instrument_id"])))
            elif kind == "cancel":
                core.request_cancel(payload["instrument_id"], payload["client_order_id"])
            else:
                core.request_amend(payload["instrument_id"], payload["client_order_id"],
                                   quantity=None if payload["quantity"] is None else Decimal(payload["quantity"]),
                                   price=None if payload["price"] is None else Decimal(payload["price"]))
        except HedgekeeperError as refusal:  # refused then as now: the journal keeps what was asked
            logger.debug("replayed %s on %s refused again: %s", kind, venue, refusal)

    def close(self) -> None:
        """Close the journal."""
        self.journal.close()
