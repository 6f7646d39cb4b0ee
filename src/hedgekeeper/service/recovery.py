"""Recovery at start: the book and bands the last run left, then orders, fills and positions reconciled with the venues.

``initial_state`` takes the book and the bands in force from the store (the file's
at the first start; an edited file's bands win). Then ``Reconciler.reconcile``, on
the engine's thread before the engine decides anything, for every venue:

1. the orders left working by the last run are restored from the store (their
   request, state and the fills already booked) into the order manager;
2. ``OrderManager.reconcile`` brings each to the venue's view: an order the venue
   never received is rejected (it never left: the service died between writing it
   and sending it), fills we missed are added, a cancel or expiry recorded. Nothing
   is sent again: recovery only asks;
3. the executor is told the fills the store has booked, then polled: what it
   reports now are the venue's fills the store does not have (made while the
   service was down, or booked in memory and lost with the process), booked now;
4. each venue's positions are compared with the book's (less the positions the
   file starts with, which the simulated exchange does not hold); a difference is
   logged and reported in the summary, never papered over.

A hedge interrupted by the stop is not resumed: its remaining slices are dropped,
and the policy decides afresh from the reconciled book. The restored orders still
working are followed at every heartbeat (``Reconciler.follow_orphans``) until they end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.persistence.store import Store, StoredFill, StoredOrder, json_safe
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.order_state import ManagedOrder
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.order_journal import OrderJournal
from hedgekeeper.service.recording import RecordKeeper, book_rows
from hedgekeeper.service.simulated_exchange import request_of
from hedgekeeper.service.wiring import LiveExecutor, Machinery, exchange_traded
from hedgekeeper.venues.orders import Fill, Liquidity, OrderStatus, Side, VenuePosition

logger = logging.getLogger(__name__)

TOLERANCE_CONTRACTS = 1e-9


def fills_in_transitions(transitions: Sequence[Mapping[str, Any]]) -> set[str]:
    """Return the fill ids an order's stored transitions name (``"fill <id>: ..."``).

    >>> sorted(fills_in_transitions([{"detail": "fill x-1: 2 at 3"}, {"detail": "reconciliation: venue says ..."}]))
    ['x-1']
    """
    return {t["detail"][5:].split(":", 1)[0] for t in transitions if t["detail"].startswith("fill ")}


def restored_order(stored: StoredOrder, fills: Sequence[StoredFill], registry: InstrumentRegistry,
                   reflected: set[str] | frozenset[str] = frozenset()) -> ManagedOrder:
    """Return a stored order as the order manager tracks it, with the fills already booked for it.

    The fills its stored transitions name (``reflected``) are taken as they are; the
    others (booked with the book, their transition lost with the process) are applied
    now, so the order's state catches up with them and the transitions are recorded.
    """
    instrument = registry.get(stored.instrument_id)
    request = request_of({"client_order_id": stored.client_order_id, "instrument_id": stored.instrument_id,
                          "side": stored.side, "quantity": stored.quantity, "order_type": stored.order_type,
                          "price": stored.price, "time_in_force": stored.time_in_force,
                          "reduce_only": stored.reduce_only}, instrument)
    order = ManagedOrder(request, stored.venue, stored.created_ns, status=OrderStatus(stored.status),
                         venue_order_id=stored.venue_order_id, reason=stored.reason)
    for fill in sorted(fills, key=lambda f: f.ts_ns):
        venue_fill = Fill(
            fill_id=fill.fill_id, client_order_id=stored.client_order_id, venue_order_id=stored.venue_order_id,
            instrument_id=stored.instrument_id, side=Side(stored.side),
            quantity=instrument.make_qty(Decimal(fill.quantity), round_down=True),
            price=instrument.make_price(Decimal(fill.price), round_down=True),
            fee=Money(Decimal(fill.fee), fill.fee_currency), liquidity=Liquidity.TAKER, ts_ns=fill.ts_ns,
        )
        if fill.fill_id in reflected:
            order.fills[fill.fill_id] = venue_fill
        else:
            order.add_fill(venue_fill)
    return order


def position_differences(venue_positions: Sequence[VenuePosition], book_positions: Mapping[str, float],
                         initial_positions: Mapping[str, float], instruments: Sequence[str]) -> dict[str, Any]:
    """Return, per instrument, the venue's position and the book's change from the file's; and the mismatches.

    >>> position_differences([VenuePosition(instrument_id="P", size_contracts=Decimal("1.5"))],
    ...                      {"P": 2.5}, {"P": 1.0}, ["P"])["mismatches"]
    []
    """
    held = {p.instrument_id: float(p.size_contracts) for p in venue_positions}
    rows, mismatches = {}, []
    for instrument_id in instruments:
        venue = held.get(instrument_id, 0.0)
        service = book_positions.get(instrument_id, 0.0) - initial_positions.get(instrument_id, 0.0)
        rows[instrument_id] = {"venue": venue, "service": service}
        if abs(venue - service) > TOLERANCE_CONTRACTS:
            mismatches.append(instrument_id)
    return {"positions": rows, "mismatches": mismatches}


def initial_state(spec: ServiceSpec, store: Store, engine_ns: int) -> tuple[BookState, RiskProfile, int]:
    """Return the book, the bands and the configuration version: the store's, or the file's at the first start.

    After a restart the bands in force are the latest version's (a change made through
    the API survives), unless the file's bands differ from those it had at its last
    version: an edited file makes a new version and wins. ``engine_ns`` stamps what is
    written.
    """
    stored = store.book()
    latest = store.latest_config()
    if stored is None or latest is None:
        book = spec.book
        with store.transaction() as connection:
            Store.write_book(connection, *book_rows(book), engine_ns)
            version = Store.write_config_version(connection, ts_ns=engine_ns, source=spec.source,
                                                 profile=spec.profile.model_dump(mode="json"),
                                                 document=spec.document())
        return (BookState(book.registry, book.positions, book.balances, book.market, book.margin_model),
                spec.profile, version)
    positions, balances = stored
    file_profile = json_safe(spec.profile.model_dump(mode="json"))
    from_file = [v for v in store.config_versions() if v["source"] == spec.source]
    if not from_file or from_file[-1]["profile"] != file_profile:  # the file's bands were edited: they win
        with store.transaction() as connection:
            Store.write_config_version(connection, ts_ns=engine_ns, source=spec.source, profile=file_profile,
                                       document=spec.document())
        latest = store.latest_config()
    try:
        profile = load_risk_profile(latest["profile"])
    except ConfigError as error:
        raise ConfigError(f"{store.url}: configuration version {latest['version']}: {error}") from None
    book = BookState(spec.book.registry, [Position(i, s, e) for i, s, e in positions],
                     [Balance(v, Money(Decimal(a), c)) for v, c, a in balances], spec.book.market,
                     spec.book.margin_model)
    return book, profile, int(latest["version"])


class Reconciler:
    """Reconcile the orders, fills and positions with every venue at the start; then follow the orders left working.

    Parameters
    ----------
    spec : the service file (the instruments traded, the positions it starts with)
    machinery : the live engine, its order manager and hedger
    executor : the machinery's executor (there is one: something is traded on an exchange)
    journal : the order journal, which adopts the restored orders
    records : where the fills picked up are written

    Attributes
    ----------
    orphans : the client order ids of the restored orders still working (no hedge of this run follows them)
    """

    def __init__(self, spec: ServiceSpec, machinery: Machinery, executor: LiveExecutor, journal: OrderJournal,
                 records: RecordKeeper) -> None:
        self._spec = spec
        self._machinery = machinery
        self._executor = executor
        self._journal = journal
        self._records = records
        self.orphans: set[str] = set()

    def reconcile(self, store: Store, profile: RiskProfile) -> dict[str, Any]:
        """Restore the working orders, reconcile them, book the missed fills, compare positions; return the summary.

        Parameters
        ----------
        store : the store the last run wrote (the orders left working, their transitions and fills)
        profile : the bands in force (the records count breaches against them)

        Raises
        ------
        ConfigError
            If a venue does not list an instrument traded there.
        """
        machinery, executor, engine = self._machinery, self._executor, self._machinery.engine
        for name, venue in machinery.manager.venues.items():  # a real venue must list what we trade there
            listed = {i.instrument_id for i in executor.run(venue.instruments())}
            missing = sorted(i.instrument_id for i in exchange_traded(self._spec) if i.venue == name
                             and i.instrument_id not in listed)
            if missing:
                raise ConfigError(f"{name} lists no instrument {', '.join(missing)} (it lists "
                                  f"{', '.join(sorted(listed)) or 'none'}); name the hedge instruments as the venue does")
        stored_fills = store.fills()
        by_order: dict[str, list[Any]] = {}
        for fill in stored_fills:
            if fill.client_order_id is not None:
                by_order.setdefault(fill.client_order_id, []).append(fill)
        working = store.orders(working_only=True)
        for stored in working:
            reflected = fills_in_transitions(store.transitions(stored.client_order_id))
            order = restored_order(stored, by_order.get(stored.client_order_id, []), self._spec.book.registry,
                                   reflected)
            self._journal.adopt(order, stored.transition_count)
        transitions = executor.run(machinery.manager.reconcile())
        self._journal.sync()
        fills = machinery.hedger.poll(engine.book, engine.clock.now_ns())
        engine.recorder.fills.extend(fills)
        if fills:
            engine.invalidate()
            self._records.record(profile, recovered=True)
        initial = {p.instrument_id: p.size_contracts for p in self._spec.book.positions}
        book_positions = {p.instrument_id: p.size_contracts for p in engine.book.positions}
        venues: dict[str, Any] = {}
        for name, venue in machinery.manager.venues.items():
            traded = [i.instrument_id for i in exchange_traded(self._spec) if i.venue == name]
            held = executor.run(venue.positions())
            venues[name] = position_differences(held, book_positions, initial, traded)
            for instrument_id in venues[name]["mismatches"]:
                row = venues[name]["positions"][instrument_id]
                logger.error("%s: %s: the venue holds %g contracts, the book's change is %g", name, instrument_id,
                             row["venue"], row["service"])
        self.orphans = {o.client_order_id for o in working
                        if not machinery.manager.orders[o.client_order_id].status.is_terminal}
        return dict(orders_restored=len(working), orders_still_working=len(self.orphans),
                    order_transitions=len(transitions), fills_recovered=len(fills),
                    venues=venues, reconciled=not any(v["mismatches"] for v in venues.values()))

    def follow_orphans(self, now_ns: int, profile: RiskProfile) -> None:
        """Reconcile the orders restored still working; book their fills (against the bands ``profile``)."""
        machinery, engine = self._machinery, self._machinery.engine
        self._executor.run(machinery.manager.reconcile())
        self._journal.sync()
        fills = machinery.hedger.poll(engine.book, now_ns)
        if fills:
            engine.recorder.fills.extend(fills)
            engine.invalidate()
            self._records.record(profile)
        self.orphans = {cid for cid in self.orphans if not machinery.manager.orders[cid].status.is_terminal}
