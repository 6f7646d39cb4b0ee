"""Recording: what the engine recorded (decisions, risk samples, fills) written to the store, the recent part kept.

The engine's recorder collects decisions, risk samples and fills as it takes an
event; ``RecordKeeper.record`` empties it after every event. Decisions and risk
samples are queued on the ``StoreWriter``; fills are written with the book they
changed, in one transaction, and the call waits for the commit. The keeper also
keeps what the snapshot (``publishing.py``) shows of them: the newest decisions and
fills, each underlying's recent risk history and latest sample, the counts and the
costs, which a restart continues from the store (``RecordKeeper.load``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.loop import Engine
from hedgekeeper.engine.persistence.rows import decision_row, fill_row, greeks_row, off_venue_fill_row
from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.engine.persistence.writer import StoreWriter
from hedgekeeper.engine.records import RiskSample
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.portfolio.config import Book
from hedgekeeper.service.metrics import ServiceMetrics
from hedgekeeper.service.order_journal import PersistedVenue
from hedgekeeper.service.snapshot import breaches, finite, sample_measures

logger = logging.getLogger(__name__)

RECENT = 200
HISTORY = 600

PositionRow = tuple[str, float, float | None]
BalanceRow = tuple[str, str, str]


def book_rows(book: Book | BookState) -> tuple[list[PositionRow], list[BalanceRow]]:
    """Return the book as the store keeps it.

    Returns
    -------
    positions ``(instrument id, contracts, entry USD)`` and balances ``(venue, currency, amount)``
    """
    return ([(p.instrument_id, p.size_contracts, p.entry_price_usd) for p in book.positions],
            [(b.venue, b.money.currency, str(b.money.amount)) for b in book.balances])


def hedge_memory_rows(engine: Engine) -> dict[str, tuple[int | None, float | None]]:
    """Return each underlying's memory of its last rebalance as the store keeps it: ``(ts ns, reference USD)``."""
    return {u: (m.last_rebalance_ts_ns, m.last_reference_usd) for u, m in engine.hedge_memories().items()}


def vars_of(record: Any) -> dict[str, Any]:
    """Return a slotted dataclass's fields as a dict."""
    return {name: getattr(record, name) for name in record.__slots__}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (finite(v) if isinstance(v, float) else v) for k, v in row.items() if k != "id"}


class RecordKeeper:
    """Write what the engine recorded to the store; keep the recent part, the counts and the costs for the API.

    Parameters
    ----------
    engine : the engine whose recorder is emptied
    writer : the store's writer
    venues : the venues by name, which match a fill record to the venue's own fill
    metrics : the service's metrics (decisions, breaches, fills counted here)
    run_id : this run's id, in the ids of fills made off any venue

    Attributes
    ----------
    decisions, fills : the newest ``RECENT`` rows, newest first, each with its ``sequence``
    history : per underlying, the newest ``HISTORY`` samples
        ``[ts_ns, delta_coin, gamma_usd_per_pct, vega_usd_per_vol_pt, weight, spot_usd, liquidation_distance]``
    latest : per underlying, its latest risk sample
    counts : decisions, fills and fills off any venue, since the store began (off-venue: this run)
    costs : ``fee`` and ``slippage`` paid since the store began, USD
    """

    def __init__(self, engine: Engine, writer: StoreWriter, venues: Mapping[str, PersistedVenue],
                 metrics: ServiceMetrics, run_id: int) -> None:
        self._engine = engine
        self._writer = writer
        self._venues = venues
        self._metrics = metrics
        self._run_id = run_id
        self.decisions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.fills: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.history: dict[str, deque[list[float | None]]] = {}
        self.latest: dict[str, RiskSample] = {}
        self.counts = {"decisions": 0, "fills": 0, "off_venue_fills": 0}
        self.costs = {"fee": 0.0, "slippage": 0.0}

    def load(self, store: Store) -> None:
        """Continue the counts, the costs and the newest decisions and fills from ``store``."""
        costs = store.costs()
        self.costs = {"fee": costs.get("fee", 0.0), "slippage": costs.get("slippage", 0.0)}
        self.counts["decisions"] = total = store.decision_count()
        for i, row in enumerate(store.decisions(RECENT)):  # newest first, as the deques keep them
            self.decisions.append(_jsonable(row) | {"sequence": total - i})
        self.counts["fills"] = total = len(store.fill_ids())
        for i, fill in enumerate(store.fills(RECENT)):
            self.fills.append(_jsonable(vars_of(fill)) | {"sequence": total - i})

    def record(self, profile: RiskProfile, *, recovered: bool = False) -> None:
        """Write what the engine recorded since the last call, and keep the recent part for the API.

        Parameters
        ----------
        profile : the bands in force (a sample outside one counts as a breach)
        recovered : the fills were picked up by recovery (stored so)
        """
        recorder = self._engine.recorder
        writes = []
        if recorder.decisions:
            decisions = list(recorder.decisions)
            recorder.decisions.clear()
            rows = [decision_row(d) for d in decisions]
            writes.append(lambda c, rows=rows: Store.write_decisions(c, rows))
            for decision, row in zip(decisions, rows, strict=True):
                self.counts["decisions"] += 1
                self.decisions.appendleft(row | {"sequence": self.counts["decisions"]})
                self._metrics.decisions.labels(act=str(decision.act).lower()).inc()
            if any(d.act for d in decisions):
                memories = hedge_memory_rows(self._engine)
                writes.append(lambda c, memories=memories: Store.write_hedge_memories(c, memories))
        if recorder.samples:
            samples = list(recorder.samples)
            recorder.samples.clear()
            rows = [greeks_row(s) for s in samples]
            writes.append(lambda c, rows=rows: Store.write_greeks(c, rows))
            for sample in samples:
                self.latest[sample.underlying] = sample
                measures = sample_measures(sample)
                self.history.setdefault(sample.underlying, deque(maxlen=HISTORY)).append(
                    [sample.ts_ns, measures["delta_coin"], measures["gamma_usd_per_pct"],
                     measures["vega_usd_per_vol_pt"], measures["weight"], sample.spot_usd,
                     finite(sample.liquidation_distance)])
                for greek in breaches(sample, profile):
                    self._metrics.breaches.labels(underlying=sample.underlying, greek=greek).inc()
        if recorder.fills:
            self._record_fills(writes, recovered)
        for write in writes:
            self._writer.submit(write)

    def _record_fills(self, writes: list[Callable[[Any], None]], recovered: bool) -> None:
        """Write the new fills with the book they changed, in one transaction, and wait for the commit."""
        recorder = self._engine.recorder
        records = list(recorder.fills)
        recorder.fills.clear()
        rows = []
        for record in records:
            venue = self._venues.get(record.venue)
            fill = None if venue is None else venue.take_fill(record.instrument_id, record.ts_ns,
                                                                 record.size_contracts, record.price_usd)
            if fill is not None:
                row = fill_row(record.venue, fill, record, recovered=recovered)
            else:  # an option traded at the model price, off any venue
                if venue is not None:
                    logger.error("fill of %g %s at %g on %s matches no venue fill: stored under our own id",
                                 record.size_contracts, record.instrument_id, record.price_usd, record.venue)
                self.counts["off_venue_fills"] += 1
                row = off_venue_fill_row(f"taker-{self._run_id}-{self.counts['off_venue_fills']}", record,
                                         record.price_usd, record.fee_usd, "USD")
            rows.append(row)
            self.counts["fills"] += 1
            self.costs["fee"] += record.fee_usd
            self.costs["slippage"] += record.slippage_usd
            self.fills.appendleft({k: v for k, v in row.items()} | {"sequence": self.counts["fills"]})
            self._metrics.fills.inc()
        positions, balances = book_rows(self._engine.book)
        now_ns = self._engine.clock.now_ns()

        def write(connection: Any) -> None:
            Store.write_fills(connection, rows)
            Store.write_book(connection, positions, balances, now_ns)

        writes.append(write)
        for pending in writes:
            self._writer.submit(pending)
        writes.clear()
        self._writer.flush()
