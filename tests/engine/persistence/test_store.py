"""The store writes the engine's records and reads them back exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hedgekeeper.engine.persistence.rows import decision_row, fill_row, greeks_row, order_row, transition_rows
from hedgekeeper.engine.persistence.store import Store, StoreError, create_store_engine
from hedgekeeper.engine.records import RiskSample
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.execution.order_state import ManagedOrder, OrderEvent
from hedgekeeper.policy.decision import Decision, Greek
from hedgekeeper.portfolio.instruments import example_instruments
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Fill, Liquidity, OrderRequest, Side, TimeInForce

PERPETUAL = example_instruments()[0]


def _order(cid: str = "hk-1") -> ManagedOrder:
    request = OrderRequest(client_order_id=cid, instrument_id=PERPETUAL.instrument_id, side=Side.BUY,
                           quantity=PERPETUAL.make_qty(30, round_down=True),
                           price=PERPETUAL.make_price(100_000.5, round_down=True), time_in_force=TimeInForce.IOC)
    return ManagedOrder(request, "deribit", created_ns=1_000)


def _fill(order: ManagedOrder, fill_id: str, contracts: int, ts_ns: int) -> Fill:
    return Fill(fill_id=fill_id, client_order_id=order.client_order_id, venue_order_id="v-1",
                instrument_id=PERPETUAL.instrument_id, side=Side.BUY,
                quantity=PERPETUAL.make_qty(contracts, round_down=True),
                price=PERPETUAL.make_price(100_000.5, round_down=True),
                fee=Money(Decimal("0.000001234567890123"), "BTC"), liquidity=Liquidity.TAKER, ts_ns=ts_ns)


@pytest.fixture
def store(database_url: str) -> Store:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def test_orders_and_every_transition_are_kept_in_order(store: Store) -> None:
    order = _order()
    with store.transaction() as connection:
        run_id = Store.write_run_start(connection, id_prefix="hk", wall_ns=5, engine_ns=6)
        Store.write_order(connection, run_id, order_row(order))
    order.apply(OrderEvent.ACCEPTED, 2_000, "venue ack")
    order.add_fill(_fill(order, "f-1", 10, 3_000))
    with store.transaction() as connection:
        Store.write_order_state(connection, order.client_order_id, status=order.status.value, venue_order_id="v-1",
                                reason="", updated_ns=3_000, transitions=transition_rows(order.transitions),
                                first_sequence=0)
    order.add_fill(_fill(order, "f-2", 20, 4_000))
    with store.transaction() as connection:
        Store.write_order_state(connection, order.client_order_id, status=order.status.value, venue_order_id="v-1",
                                reason="", updated_ns=4_000, transitions=transition_rows(order.transitions[2:]),
                                first_sequence=2)
    [stored] = store.orders()
    assert (stored.status, stored.quantity, stored.price, stored.transition_count) == ("filled", "30", "100000.5", 3)
    assert store.orders(working_only=True) == []
    events = [(t["sequence"], t["before"], t["event"], t["after"]) for t in store.transitions("hk-1")]
    assert events == [(0, "new", "accepted", "acknowledged"),
                      (1, "acknowledged", "partially_filled", "partially_filled"),
                      (2, "partially_filled", "filled", "filled")]
    assert store.order_status_counts() == {"filled": 1}


def test_a_transition_numbered_twice_is_refused(store: Store) -> None:
    order = _order()
    order.apply(OrderEvent.ACCEPTED, 2_000)
    with store.transaction() as connection:
        run_id = Store.write_run_start(connection, id_prefix="hk", wall_ns=5, engine_ns=6)
        Store.write_order(connection, run_id, order_row(order))
        Store.write_order_state(connection, "hk-1", status="acknowledged", venue_order_id="", reason="",
                                updated_ns=2_000, transitions=transition_rows(order.transitions), first_sequence=0)
    with pytest.raises(Exception, match="(?i)unique"), store.transaction() as connection:
        Store.write_order_state(connection, "hk-1", status="acknowledged", venue_order_id="", reason="",
                                updated_ns=2_000, transitions=transition_rows(order.transitions), first_sequence=0)


def test_fills_keep_exact_fees_and_add_up_to_the_costs(store: Store) -> None:
    order = _order()
    rows = []
    for i, (fee_usd, slippage_usd) in enumerate([(1.25, 0.5), (2.0, -0.25)]):
        record = FillRecord(ts_ns=10 + i, instrument_id=PERPETUAL.instrument_id, venue="deribit", size_contracts=10.0,
                            price_usd=100_000.5, mid_usd=100_000.0, notional_usd=100.0, fee_usd=fee_usd,
                            slippage_usd=slippage_usd)
        rows.append(fill_row("deribit", _fill(order, f"f-{i}", 10, 10 + i), record))
    with store.transaction() as connection:
        Store.write_fills(connection, rows)
    assert store.fill_ids() == {"f-0", "f-1"} and store.fill_ids("binance") == set()
    newest = store.fills(limit=1)[0]
    assert (newest.fill_id, newest.fee, newest.fee_currency) == ("f-1", "0.000001234567890123", "BTC")
    assert store.costs() == pytest.approx({"fee": 3.25, "slippage": 0.25})


def test_the_same_venue_fill_cannot_be_stored_twice(store: Store) -> None:
    order = _order()
    record = FillRecord(ts_ns=10, instrument_id=PERPETUAL.instrument_id, venue="deribit", size_contracts=10.0,
                        price_usd=1.0, mid_usd=1.0, notional_usd=1.0, fee_usd=0.0, slippage_usd=0.0)
    row = fill_row("deribit", _fill(order, "f-1", 10, 10), record)
    with store.transaction() as connection:
        Store.write_fills(connection, [row])
    with pytest.raises(Exception, match="(?i)unique"), store.transaction() as connection:
        Store.write_fills(connection, [row])
    assert len(store.fills()) == 1


def test_decisions_keep_their_reasons_and_goal(store: Store) -> None:
    decision = Decision(ts_ns=7, underlying="BTC", act=True, trigger="threshold",
                        reasons=("delta_coin 3.4 above band upper 2.5",), goal={Greek.DELTA_COIN: (-0.5, 0.5)},
                        expected_cost_usd=12.5, expected_benefit_usd=math.inf)
    with store.transaction() as connection:
        Store.write_decisions(connection, [decision_row(decision)])
    [row] = store.decisions()
    assert row["reasons"] == ["delta_coin 3.4 above band upper 2.5"]
    assert row["goal"] == {"delta_coin": [-0.5, 0.5]}
    assert (row["act"], row["trigger"], row["expected_cost_usd"]) == (True, "threshold", 12.5)
    assert store.decision_count() == 1


def test_greeks_with_no_liquidation_in_range_read_back_as_infinite(store: Store) -> None:
    samples = [RiskSample(ts_ns=t, underlying="BTC", spot_usd=100_000.0, delta_coin=0.5 * t, gamma_usd_per_pct=-7.0,
                          vega_usd_per_vol_pt=-30.0, weight=0.01, equity_usd=1e6,
                          liquidation_distance=math.inf if t == 2 else 0.25) for t in (1, 2)]
    with store.transaction() as connection:
        Store.write_greeks(connection, [greeks_row(s) for s in samples])
    rows = store.greeks("BTC")
    assert [r["delta_coin"] for r in rows] == [0.5, 1.0]
    assert [r["liquidation_distance"] for r in rows] == [0.25, math.inf]


def test_book_is_replaced_whole_and_balances_stay_exact(store: Store) -> None:
    assert store.book() is None
    with store.transaction() as connection:
        Store.write_book(connection, [("A", 1.5, 100.0), ("B", -2.0, None)], [("deribit", "BTC", "1.000000001")], 1)
    with store.transaction() as connection:
        Store.write_book(connection, [("A", 2.5, 101.0)], [("deribit", "BTC", "0.123456789012345678")], 2)
    assert store.book() == ([("A", 2.5, 101.0)], [("deribit", "BTC", "0.123456789012345678")])


def test_configuration_versions_count_up_and_the_latest_is_in_force(store: Store) -> None:
    with store.transaction() as connection:
        first = Store.write_config_version(connection, ts_ns=1, source="file", profile={"BTC": {}}, document={})
        second = Store.write_config_version(connection, ts_ns=2, source="api", profile={"ETH": {}}, document={})
    assert (first, second) == (1, 2)
    assert store.latest_config()["profile"] == {"ETH": {}}
    assert [v["source"] for v in store.config_versions()] == ["file", "api"]


def test_runs_record_heartbeats_recovery_and_a_clean_stop(store: Store) -> None:
    with store.transaction() as connection:
        run_id = Store.write_run_start(connection, id_prefix="hk1", wall_ns=10, engine_ns=100)
        Store.write_heartbeat(connection, run_id, wall_ns=20, engine_ns=700)
        Store.write_recovery(connection, run_id, {"fills_recovered": 2})
    [run] = store.runs()
    assert (run.heartbeat_wall_ns, run.heartbeat_engine_ns, run.clean_stop) == (20, 700, False)
    assert run.recovery == {"fills_recovered": 2}
    with store.transaction() as connection:
        Store.write_run_stop(connection, run_id, wall_ns=30, engine_ns=800)
    assert store.runs()[0].clean_stop


def test_hedge_memories_and_controls_round_trip(store: Store) -> None:
    with store.transaction() as connection:
        Store.write_hedge_memories(connection, {"BTC": (5, 100_000.0), "ETH": (None, None)})
        Store.write_control(connection, "kill_switch", "operator", 9)
        Store.write_control(connection, "kill_switch", "", 10)
    assert store.hedge_memories() == {"BTC": (5, 100_000.0), "ETH": (None, None)}
    assert store.controls() == {"kill_switch": ""}


def test_a_malformed_or_foreign_url_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="give sqlite:///PATH or postgresql"):
        create_store_engine("mysql://user@host/db")


def test_an_unreachable_postgresql_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match=r"cannot open the store postgresql\+psycopg://someone:\*\*\*@127.0.0.1:1/x"):
        Store.open("postgresql+psycopg://someone:hunter2@127.0.0.1:1/x?connect_timeout=2")
