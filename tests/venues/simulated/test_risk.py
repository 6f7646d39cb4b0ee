"""The exchange's risk views: equity, the margin check of an order, reduce-only, breaches."""

from __future__ import annotations

from decimal import Decimal

from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.venues.orders import OrderStatus, Side
from hedgekeeper.venues.simulated.accounts import Ledger
from hedgekeeper.venues.simulated.margin import ExchangeMargin
from hedgekeeper.venues.simulated.risk import AccountRisk, Breach
from hedgekeeper.venues.simulated.working_order import WorkingOrder

from venues.simulated.builders import linear_perpetual, order

D = Decimal
PERP = linear_perpetual()


def risk_of(balance: int, position: int, entry: int, mark: int) -> tuple[AccountRisk, dict]:
    ledger = Ledger("main", {"USDC": D(balance)})
    if position:
        ledger.apply_fill(PERP, D(position), D(entry), D(0))
    open_orders: dict = {}
    risk = AccountRisk(InstrumentRegistry([PERP]), ExchangeMargin(MarginModel(), [PERP]), {"main": ledger},
                       open_orders, {PERP.instrument_id: D(mark)})
    return risk, open_orders


def working(side: Side, quantity: int, price: int) -> WorkingOrder:
    request = order(f"{side}-{quantity}-{price}", PERP, side, quantity, price)
    return WorkingOrder(account="main", request=request, venue_order_id=request.client_order_id,
                        quantity=request.quantity, price=request.price, priority=0, status=OrderStatus.ACKNOWLEDGED)


def test_an_order_is_refused_when_it_lifts_initial_margin_above_equity() -> None:
    risk, _ = risk_of(balance=1_000, position=0, entry=100_000, mark=100_000)
    assert risk.margin_problem(working(Side.BUY, 1, 100_000), D(1), D(100_000)) is None  # needs 900
    problem = risk.margin_problem(working(Side.BUY, 2, 100_000), D(2), D(100_000))  # needs 1,900
    assert problem == ("initial margin would be 1900 USDC with the order, above the equity 1000 USDC "
                       "(free collateral 1000 USDC)")


def test_a_reducing_order_passes_even_under_margin_and_working_orders_count() -> None:
    risk, open_orders = risk_of(balance=100, position=1, entry=100_000, mark=100_000)
    assert risk.margin_problem(working(Side.SELL, 1, 100_000), D(1), D(100_000)) is None
    resting = working(Side.SELL, 1, 100_000)
    open_orders["main"] = {"x": resting}
    assert risk.requirement("main", "USDC")[0] == D(900)
    assert risk.margin_problem(working(Side.SELL, 1, 100_000), D(1), D(100_000)) is None  # short 1 after both
    assert risk.margin_problem(working(Side.SELL, 2, 100_000), D(2), D(100_000)) is not None


def test_reduce_only_must_shrink_the_position_and_not_exceed_it() -> None:
    risk, _ = risk_of(balance=1_000, position=2, entry=100, mark=100)
    assert risk.reduce_only_problem(working(Side.SELL, 2, 100)) is None
    assert risk.reduce_only_problem(working(Side.SELL, 3, 100)) is not None
    assert "would not reduce" in risk.reduce_only_problem(working(Side.BUY, 1, 100))


def test_breaches_list_accounts_under_maintenance_at_the_mark() -> None:
    # Long 1 from 100,000 with 500 USDC: equity m - 99,500 against maintenance 0.5% m - 50.
    assert risk_of(balance=500, position=1, entry=100_000, mark=100_000)[0].breaches() == []
    risk, _ = risk_of(balance=500, position=1, entry=100_000, mark=99_900)
    assert risk.breaches() == [Breach("main", "USDC", D(400), D("449.5"))]
