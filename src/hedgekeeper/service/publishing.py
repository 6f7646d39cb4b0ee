"""Publishing: the snapshot handed to the API, and the Prometheus metrics brought up to date with it.

The engine's thread calls ``Publisher.publish`` every ``snapshot_interval_s``, after
the commands it took and at each change of status. It builds a new
``ServiceSnapshot`` (``snapshot.py``) from the engine, the order manager, the
kill switch and the records (``recording.py``), and moves the metrics that follow
the engine's own counters (events, rejections, orders by state, costs) to their
values now (and, with ``[live]``, each stream's age and the book snapshots it
coalesced). The service hands the snapshot to the API in one reference assignment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.service.components import ServiceComponent
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.live_market import LiveMarket
from hedgekeeper.service.metrics import ServiceMetrics
from hedgekeeper.service.recording import RecordKeeper
from hedgekeeper.service.snapshot import ServiceSnapshot, bands_view, breaches, finite, sample_measures
from hedgekeeper.service.wiring import Machinery


class Publisher:
    """Build the service's snapshots and keep the metrics in step with the engine.

    Parameters
    ----------
    spec : the service file (the service's name and speed, the feeds, the instruments)
    machinery : the live engine (and its clock), its policy, kill switch and order manager
    records : the recent decisions, fills and risk samples, the counts and the costs
    metrics : the service's metrics
    components : the parts started with the service; those with a ``view()`` are shown
    live_market : the venues' streams, or None
    """

    def __init__(self, spec: ServiceSpec, machinery: Machinery, records: RecordKeeper, metrics: ServiceMetrics,
                 components: Sequence[ServiceComponent], live_market: LiveMarket | None) -> None:
        self._spec = spec
        self._machinery = machinery
        self._records = records
        self._metrics = metrics
        self._components = components
        self._live_market = live_market
        self._sequence = 0
        self._published_events = 0
        self._published_rejected = 0
        self._published_coalesced: dict[str, int] = {}

    def publish(self, status: str, profile: RiskProfile, config_version: int,
                recovery: Mapping[str, Any]) -> ServiceSnapshot:
        """Bring the metrics up to date and return the service's view now.

        Parameters
        ----------
        status : the service's status (``ServiceSnapshot.status``)
        profile : the bands in force
        config_version : their configuration version
        recovery : what the start's recovery found
        """
        engine, manager, records = self._machinery.engine, self._machinery.manager, self._records
        events = engine.events_processed
        rejected = engine.validator.rejected
        self._metrics.events.inc(events - self._published_events)
        self._metrics.rejected.inc(rejected - self._published_rejected)
        self._published_events, self._published_rejected = events, rejected
        for state, count in manager.status_counts().items():
            self._metrics.orders.labels(state=state.value).set(count)
        for kind, total in records.costs.items():
            self._metrics.costs.labels(kind=kind).set(total)
        now_ns = engine.clock.now_ns()
        streams = {} if self._live_market is None else self._live_market.view()
        for name, stream in streams.items():
            if stream["last_ts_ns"] is not None:
                self._metrics.stream_age.labels(stream=name).set((now_ns - stream["last_ts_ns"]) / 1e9)
            coalesced = stream["books_coalesced"]
            self._metrics.books_coalesced.labels(stream=name).inc(coalesced - self._published_coalesced.get(name, 0))
            self._published_coalesced[name] = coalesced
        registry = self._spec.book.registry
        underlyings = {}
        for feed in self._spec.feeds():
            u = feed.underlying
            sample = records.latest.get(u)
            book = engine.order_books.get(feed.spot_stream)
            view: dict[str, Any] = {"spot_usd": None if book is None else book.mid_usd,
                                    "bands": bands_view(profile, u), "breaches": []}
            if sample is not None:
                view.update(ts_ns=sample.ts_ns, greeks=sample_measures(sample), equity_usd=sample.equity_usd,
                            liquidation_distance=finite(sample.liquidation_distance),
                            breaches=breaches(sample, profile))
            underlyings[u] = view
        self._sequence += 1
        costs, counts, settings = records.costs, records.counts, self._spec.file.service
        return ServiceSnapshot(
            name=settings.name, status=status, engine_ns=now_ns, speed=settings.speed,
            paused=self._machinery.policy.paused, kill_switch=self._machinery.check.reason,
            config_version=config_version, profile=profile.model_dump(mode="json"),
            underlyings=underlyings, history={u: list(h) for u, h in records.history.items()},
            positions=[{"instrument_id": p.instrument_id, "venue": registry.get(p.instrument_id).venue,
                        "underlying": registry.get(p.instrument_id).underlying, "size_contracts": p.size_contracts,
                        "entry_price_usd": p.entry_price_usd} for p in engine.book.positions],
            balances=[{"venue": b.venue, "currency": b.money.currency, "amount": str(b.money.amount)}
                      for b in engine.book.balances],
            open_orders=[{"client_order_id": o.client_order_id, "venue": o.venue,
                          "instrument_id": o.request.instrument_id, "side": o.request.side.value,
                          "quantity": str(o.request.quantity.value),
                          "price": None if o.request.price is None else str(o.request.price.value),
                          "status": o.status.value, "filled": str(o.filled_quantity), "created_ns": o.created_ns}
                         for o in manager.working()],
            decisions=list(records.decisions), fills=list(records.fills),
            costs={"fees_usd": costs["fee"], "slippage_usd": costs["slippage"],
                   "total_usd": costs["fee"] + costs["slippage"], "fills": counts["fills"]},
            counters={"events_processed": events, "events_rejected": rejected, "quiet_ticks": engine.quiet_ticks,
                      "decisions": counts["decisions"], "fills": counts["fills"]},
            hedging=list(engine.hedging_underlyings()), recovery=dict(recovery), sequence=self._sequence,
            components={c.name: c.view() for c in self._components if callable(getattr(c, "view", None))}
            | ({"live_market": streams} if self._live_market is not None else {}),
        )
