"""The service in one process: it trades, records everything, reconciles with its exchange, stops and resumes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from service.service_builders import service_spec, wait_for

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import HedgekeeperError
from hedgekeeper.service.market_feed import source_events, split_at
from hedgekeeper.service.runtime import Service
from hedgekeeper.service.simulated_exchange import ExchangeJournal, SimulatedMarketVenues
from hedgekeeper.service.wiring import exchange_traded, hedge_streams, market_key


def rebuilt_exchange(spec, folder: Path, until_ns: int) -> SimulatedMarketVenues:  # noqa: ANN001
    """Return the simulated exchange rebuilt independently from its journal and the market up to ``until_ns``."""
    events, start_ns = source_events(spec.file)
    market, _ = SimulatedMarketVenues.open(
        exchange_traded(spec), hedge_streams(spec), spec.book.balances, spec.file.fees, spec.book.margin_model,
        int(spec.file.exchange.simulated.order_latency_ms * 1e6),
        ExchangeJournal(folder / "exchange.sqlite", market_key(spec)), start_ns, split_at(events, until_ns).before())
    return market


def test_service_trades_records_every_fill_and_reconciles_with_its_exchange(tmp_path: Path) -> None:
    spec = service_spec(tmp_path)
    service = Service(spec)
    service.start()
    wait_for(lambda: service.snapshot.counters.get("fills", 0) >= 6 and service.snapshot.counters["decisions"] >= 2,
             what="fills and decisions")
    service.stop()
    assert service.error is None and service.snapshot.status == "stopped"

    store = Store.open(spec.file.service.database_url)
    [run] = store.runs()
    assert run.clean_stop and run.recovery["first_start"]
    market = rebuilt_exchange(spec, tmp_path, run.heartbeat_engine_ns + 1)
    core = market.cores["binance"]
    venue_fills = {fill.fill_id: fill for fill in core.fills()}
    stored = [fill for fill in store.fills() if fill.venue == "binance"]
    assert {f.fill_id for f in stored} == set(venue_fills)
    for fill in stored:
        assert fill.quantity == str(venue_fills[fill.fill_id].quantity.value)
        assert fill.price == str(venue_fills[fill.fill_id].price.value)
    positions = {i: s for i, s, _ in store.book()[0]}
    [venue_position] = core.positions()
    assert positions[venue_position.instrument_id] == pytest.approx(float(venue_position.size_contracts), abs=1e-9)
    assert sum(f.size_contracts for f in stored) == pytest.approx(positions[venue_position.instrument_id], abs=1e-9)
    orders = store.orders()
    assert all(o.status in ("filled", "cancelled", "expired", "rejected") for o in orders)
    placed = Counter(p["client_order_id"] for _, _, _, kind, p in market.journal.requests() if kind == "place")
    assert placed and max(placed.values()) == 1
    assert set(placed) <= {o.client_order_id for o in orders}
    assert store.decision_count() >= 2 and store.greeks("BTC")
    assert all(store.transitions(o.client_order_id) for o in orders)
    market.close()
    store.close()


def test_a_restarted_service_resumes_with_the_same_book_and_keeps_deciding(tmp_path: Path) -> None:
    spec = service_spec(tmp_path)
    first = Service(spec)
    first.start()
    wait_for(lambda: first.snapshot.counters.get("fills", 0) >= 3, what="fills")
    first.stop()
    stopped_at = Store.open(spec.file.service.database_url).runs()[-1].heartbeat_engine_ns
    positions = first.snapshot.positions

    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="recovery")
    recovery = second.snapshot.recovery
    assert recovery["first_start"] is False and recovery["reconciled"] is True
    assert recovery["exchange_requests_replayed"] > 0
    assert second.snapshot.counters["fills"] >= first.snapshot.counters["fills"]
    assert second.snapshot.costs["fees_usd"] >= first.snapshot.costs["fees_usd"] > 0
    sequences = [d["sequence"] for d in second.snapshot.decisions]
    assert sequences == list(range(sequences[0], sequences[0] - len(sequences), -1))
    assert first.snapshot.counters["decisions"] in sequences
    assert second.snapshot.engine_ns >= stopped_at
    assert {p["instrument_id"]: p["size_contracts"] for p in second.snapshot.positions} == \
        {p["instrument_id"]: p["size_contracts"] for p in positions}
    before = second.snapshot.counters["events_processed"]
    wait_for(lambda: second.snapshot.counters["events_processed"] > before + 20, what="events after restart")
    second.stop()
    assert second.error is None
    assert [r.clean_stop for r in Store.open(spec.file.service.database_url).runs()] == [True, True]


def test_a_command_to_a_stopped_service_is_refused(tmp_path: Path) -> None:
    service = Service(service_spec(tmp_path))
    with pytest.raises(HedgekeeperError, match="the service is starting: pause refused"):
        service.submit("pause").result(timeout=1)


def test_an_order_written_but_never_sent_is_rejected_at_restart_and_never_sent(tmp_path: Path) -> None:
    spec = service_spec(tmp_path)
    first = Service(spec)
    first.start()
    wait_for(lambda: first.snapshot.status == "running", what="start")
    first.stop()
    store = Store.open(spec.file.service.database_url)
    run_id = store.runs()[0].id
    with store.transaction() as connection:  # what the service writes before sending, then died
        Store.write_order(connection, run_id, {
            "client_order_id": "hk-lost-1", "venue": "binance", "instrument_id": "BTCUSDT-PERP.BINANCE",
            "side": "buy", "quantity": "1.000", "order_type": "limit", "price": "100000.0", "time_in_force": "ioc",
            "reduce_only": False, "status": "new", "venue_order_id": "", "reason": "", "created_ns": 1,
            "updated_ns": 1})

    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="recovery")
    second.stop()
    [order] = [o for o in store.orders() if o.client_order_id == "hk-lost-1"]
    assert (order.status, order.reason) == ("rejected", "the venue never received the order")
    [transition] = store.transitions("hk-lost-1")
    assert transition["detail"] == "reconciliation: the venue never received the order"
    assert second.snapshot.recovery["orders_restored"] == 1
    assert second.snapshot.recovery["orders_still_working"] == 0
    journal = ExchangeJournal(tmp_path / "exchange.sqlite", market_key(spec))
    assert "hk-lost-1" not in {p["client_order_id"] for _, _, _, _, p in journal.requests()}
    journal.close()
    store.close()


def test_the_service_keeps_its_state_in_postgresql_by_url(tmp_path: Path, postgres) -> None:  # noqa: ANN001
    url = postgres.database()
    spec = service_spec(tmp_path, database_url=url)
    first = Service(spec)
    first.start()
    wait_for(lambda: first.snapshot.counters.get("fills", 0) >= 3, what="fills")
    first.stop()
    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="recovery")
    second.stop()
    assert second.error is None and second.snapshot.recovery["reconciled"] is True
    store = Store.open(url)
    assert store.url.startswith("postgresql+psycopg://")
    assert [run.clean_stop for run in store.runs()] == [True, True]
    assert len(store.fills()) >= 3 and store.decision_count() >= 1
    assert {i for i, _, _ in store.book()[0]} == {"BTC-15JUL25-100000-C.DERIBIT", "BTCUSDT-PERP.BINANCE"}
    store.close()


class RecordingComponent:
    """A part joining the service at the seam the chain will use: it records what the service asks of it."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.oracle_or_book_events = 0

    def start(self, service: Service) -> None:
        self.calls.append(f"start:{service.status}")

    def recover(self, service: Service) -> dict:
        self.calls.append("recover")
        return {"pending_transactions": 0}

    def on_event(self, event) -> None:  # noqa: ANN001
        self.oracle_or_book_events += 1

    def stop(self) -> None:
        self.calls.append("stop")


def test_a_component_is_started_recovered_fed_and_stopped_with_the_service(tmp_path: Path) -> None:
    component = RecordingComponent()
    service = Service(service_spec(tmp_path), components=[component])
    service.start()
    wait_for(lambda: component.oracle_or_book_events > 10, what="events")
    service.stop()
    assert component.calls == ["start:starting", "recover", "stop"]
    assert service.snapshot.recovery["recorder"] == {"pending_transactions": 0}
    assert Store.open(service.spec.file.service.database_url).runs()[0].recovery["recorder"] == \
        {"pending_transactions": 0}


def test_the_market_moves_on_while_the_service_is_down_at_most_max_catch_up(tmp_path: Path) -> None:
    spec = service_spec(tmp_path)
    first = Service(spec)
    first.start()
    wait_for(lambda: first.snapshot.counters.get("events_processed", 0) > 10, what="events")
    first.stop()
    store = Store.open(spec.file.service.database_url)
    [run] = store.runs()
    ten_hours_ns = 10 * 3600 * 10**9
    with store.transaction() as connection:
        Store.write_heartbeat(connection, run.id, wall_ns=run.heartbeat_wall_ns - ten_hours_ns,
                              engine_ns=run.heartbeat_engine_ns)
    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="recovery")
    resumed_ns = second.clock.start_ns
    second.stop()
    cap_ns = int(spec.file.service.max_catch_up_s * 10**9)
    assert resumed_ns - run.heartbeat_engine_ns == cap_ns


def test_the_service_replays_recorded_data_at_a_chosen_speed(tmp_path: Path, dataset) -> None:  # noqa: ANN001
    import datetime as dt

    from service.service_builders import service_document

    from hedgekeeper.service.config import parse_service

    dataset("binance-btcusdt-1min-crash-days")
    document = service_document(tmp_path, speed=3000.0, width=0.3)
    document["as_of"] = dt.datetime(2020, 3, 12, tzinfo=dt.UTC)
    document["market"]["BTC"]["spot_usd"] = 7938.0
    call = next(i for i in document["instruments"] if i["kind"] == "option")
    call.update(expiry=dt.datetime(2020, 4, 10, tzinfo=dt.UTC), strike_usd=8000)
    del document["simulation"]
    document["replay"] = {"scenario": "binance-crash-2020-03-12", "spread_bps": 2.0}
    document["hedging"]["underlyings"]["BTC"].update(
        spot_stream="BTCUSDT.BINANCE", instruments=[{"instrument_id": "BTCUSDT-PERP.BINANCE",
                                                      "book_stream": "BTCUSDT.BINANCE"}])
    service = Service(parse_service(document, source="replay"))
    service.start()
    wait_for(lambda: service.snapshot.counters.get("fills", 0) >= 2, what="fills on the replayed crash")
    assert 7_000 < service.snapshot.underlyings["BTC"]["spot_usd"] < 8_000
    engine_ns = service.snapshot.engine_ns
    service.stop()
    assert service.error is None
    assert dt.datetime(2020, 3, 12, tzinfo=dt.UTC) < dt.datetime.fromtimestamp(engine_ns / 1e9, dt.UTC) < \
        dt.datetime(2020, 3, 13, tzinfo=dt.UTC)
    assert Store.open(service.database_url).decision_count() >= 1


def test_bands_changed_at_run_time_survive_a_restart_unless_the_file_is_edited(tmp_path: Path) -> None:
    from hedgekeeper.policy.risk_profile import load_risk_profile

    spec = service_spec(tmp_path, width=0.3)
    first = Service(spec)
    first.start()
    wait_for(lambda: first.snapshot.status == "running", what="start")
    first.submit("set_bands", profile=load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 0.7}}}),
                 source="api").result(timeout=10)
    first.stop()
    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="restart")
    second.stop()
    assert second.snapshot.profile["BTC"]["delta_coin"]["upper"] == 0.7 and second.snapshot.config_version == 2

    edited = service_spec(tmp_path, width=1.5)
    third = Service(edited)
    third.start()
    wait_for(lambda: third.snapshot.status == "running", what="restart with an edited file")
    third.stop()
    assert third.snapshot.profile["BTC"]["delta_coin"]["upper"] == 1.5 and third.snapshot.config_version == 3


def test_an_order_still_working_after_recovery_is_followed_until_it_ends_and_its_fills_booked(tmp_path: Path) -> None:
    # The market moves on by 1 s while the service is down; the order's latency is 120 s of market time, so it is
    # still in flight at the recovery and must be followed afterwards (no hedge of the new run watches it).
    spec = service_spec(tmp_path, speed=300.0, latency_ms=120_000.0)
    spec = spec.model_copy(update={"file": spec.file.model_copy(update={"service": spec.file.service.model_copy(
        update={"on_shutdown": "keep", "max_catch_up_s": 1.0})})})
    first = Service(spec)
    first.start()
    wait_for(lambda: bool(first.snapshot.open_orders), what="an order in flight")
    first.stop()
    store = Store.open(spec.file.service.database_url)
    [kept] = store.orders(working_only=True)
    second = Service(spec)
    second.start()
    wait_for(lambda: second.snapshot.status == "running", what="recovery")
    assert second.snapshot.recovery["orders_restored"] == 1
    assert second.snapshot.recovery["orders_still_working"] == 1
    wait_for(lambda: not any(o.client_order_id == kept.client_order_id for o in store.orders(working_only=True)),
             what="the restored order to end")
    second.stop()
    [order] = [o for o in store.orders() if o.client_order_id == kept.client_order_id]
    filled = sum(float(f.quantity) for f in store.fills() if f.client_order_id == order.client_order_id)
    assert order.status in ("filled", "expired")
    if order.status == "filled":
        assert filled == pytest.approx(float(order.quantity))
    positions = {i: s for i, s, _ in store.book()[0]}
    assert sum(f.size_contracts for f in store.fills()) == pytest.approx(positions["BTCUSDT-PERP.BINANCE"], abs=1e-9)
    assert Store.open(spec.file.service.database_url).runs()[-1].recovery["reconciled"] is True
