"""The service's Prometheus metrics, in a registry of its own (so several services may live in one process).

==============================================  =======================================================
metric                                          what
==============================================  =======================================================
``hedgekeeper_events_processed_total``          market events taken through the loop
``hedgekeeper_events_rejected_total``           events refused at the edge (bad, late, stale)
``hedgekeeper_decision_latency_seconds``        one event's time in the loop: engine, records, snapshot
``hedgekeeper_decisions_total``                 decisions a rule fired on, by ``act`` (true, false)
``hedgekeeper_orders``                          orders by ``state``
``hedgekeeper_band_breaches_total``             risk samples outside a band, by ``underlying`` and ``greek``
``hedgekeeper_costs_usd``                       costs paid so far, by ``kind`` (fee, slippage), USD
``hedgekeeper_fills_total``                     fills booked
``hedgekeeper_market_stream_age_seconds``       with ``[live]``: engine seconds since each stream's last
                                                event (venue time), by ``stream``; alert on it
``hedgekeeper_market_books_coalesced_total``    with ``[live]``: book snapshots dropped unread for a newer
                                                one of their stream (the engine fell behind), by ``stream``
==============================================  =======================================================
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS_S = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 2.0)


class ServiceMetrics:
    """The metrics of one service."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter("hedgekeeper_events_processed", "Market events taken through the loop", registry=r)
        self.rejected = Counter("hedgekeeper_events_rejected", "Market events refused at the edge", registry=r)
        self.latency = Histogram("hedgekeeper_decision_latency_seconds",
                                 "Time of one market event in the loop, from arrival to recorded decision",
                                 buckets=LATENCY_BUCKETS_S, registry=r)
        self.decisions = Counter("hedgekeeper_decisions", "Decisions a rule fired on", ["act"], registry=r)
        self.orders = Gauge("hedgekeeper_orders", "Orders by state", ["state"], registry=r)
        self.breaches = Counter("hedgekeeper_band_breaches", "Risk samples outside a band", ["underlying", "greek"],
                                registry=r)
        self.costs = Gauge("hedgekeeper_costs_usd", "Costs paid so far, USD", ["kind"], registry=r)
        self.fills = Counter("hedgekeeper_fills", "Fills booked", registry=r)
        self.stream_age = Gauge("hedgekeeper_market_stream_age_seconds",
                                "Engine seconds since the live stream's last event (venue time)", ["stream"],
                                registry=r)
        self.books_coalesced = Counter("hedgekeeper_market_books_coalesced",
                                       "Live book snapshots dropped unread for a newer one of their stream",
                                       ["stream"], registry=r)

    def exposition(self) -> bytes:
        """Return the metrics in Prometheus's text format."""
        return generate_latest(self.registry)
