"""The one contract every venue adapter keeps, run on each: the simulated exchange, a swap pool, Deribit
through ccxt, and the deployed pool on the in-process EVM.

What ``venues/base.py`` promises, checked the same way everywhere: the protocol and
its capabilities map; instruments with their rules; ``place`` idempotent on the
client order id (a second place returns the first order and trades nothing more);
``order`` finds a placed order and answers None for an id never sent; ``cancel`` of
a terminal order returns it as it is; fills oldest first and distinct, ours
naming the order placed (``fills(1)``: since the first ns); balances as exact
``Money``; a size off the lot refused as ``VenueRejected``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from venues.ccxt.recorded_venues import RecordedDeribit
from venues.ccxt.venue_builders import config_for, instrument_of, limit_order, recorded_venue

from hedgekeeper.chain.backends import connect
from hedgekeeper.chain.deploy import DeployedSystem, deploy_system, load_system_config
from hedgekeeper.chain.venue import ChainPoolVenue
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.errors import VenueRejected
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.portfolio.values import Money, Quantity
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens
from hedgekeeper.venues.amm.venue import PoolVenue
from hedgekeeper.venues.base import Support, Venue
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange


EXAMPLES = Path(__file__).parents[2] / "examples"


@dataclass(frozen=True)
class Case:
    """A venue under test and an order it accepts."""

    venue: Venue
    request: OrderRequest


PERP = Instrument(instrument_id="BTCUSDT.sim", venue="sim", kind=InstrumentKind.PERPETUAL,
                  settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
                  contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"),
                  min_size=Decimal("0.001"))
SPOT = Instrument(instrument_id="ETH-USDC.pool", venue="pool", kind=InstrumentKind.SPOT, settlement=Settlement.LINEAR,
                  underlying="ETH", settlement_currency="USDC", contract_size=Decimal(1),
                  tick_size=Decimal("0.000001"), lot_size=Decimal("0.001"), min_size=Decimal("0.001"))


def _ioc(instrument: Instrument, side: Side, size: str, price: str) -> OrderRequest:
    return OrderRequest(client_order_id="hk-0001", instrument_id=instrument.instrument_id, side=side,
                        quantity=instrument.make_qty(size, round_down=True), order_type=OrderType.LIMIT,
                        price=instrument.make_price(price, round_down=False), time_in_force=TimeInForce.IOC)


@asynccontextmanager
async def simulated() -> AsyncIterator[Case]:
    clock = SimulatedClock(start_ns=1)
    core = ExchangeCore(SimulatedExchangeConfig(name="sim", balances={"USDT": Decimal(1_000_000)}), [PERP],
                        FeeSchedule(venues={"sim": VenueFees(taker=0.0005, maker=0.0002)}), clock)
    core.on_market_event(BookUpdate(1, PERP.instrument_id, ((99_999.5, 2.0),), ((100_000.5, 1.0), (100_001.0, 1.0)),
                                    True))
    yield Case(SimulatedExchange(core), _ioc(PERP, Side.BUY, "1.5", "100001"))


@asynccontextmanager
async def pool() -> AsyncIterator[Case]:
    amm = ConstantProductPool(30_000_000 * 10**6, 10_000 * 10**18)
    venue = PoolVenue("pool", SPOT, amm, PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6),
                      SimulatedClock(start_ns=1), gas_cost_usd=Decimal(3), balances={"USDC": Decimal(100_000)})
    yield Case(venue, _ioc(SPOT, Side.BUY, "2", "3100"))


@functools.cache
def _deployed() -> DeployedSystem:
    """Deploy the example system once on an in-process EVM; the trader holds 1M USDC."""
    chain = connect()
    system = deploy_system(load_system_config(EXAMPLES / "chain.toml"), chain)
    chain.transact(system.stable.functions.mint(chain.w3.eth.accounts[3], 1_000_000 * 10**6), system.deployer)
    return system


@asynccontextmanager
async def chain_pool() -> AsyncIterator[Case]:
    system = _deployed()
    snapshot = system.chain.snapshot()
    instrument = replace(SPOT, instrument_id="ETH-USDC.chain", venue="chain")
    venue = ChainPoolVenue.from_system("chain", instrument, system, system.chain.w3.eth.accounts[3],
                                       SimulatedClock(start_ns=1))
    try:
        yield Case(venue, _ioc(instrument, Side.BUY, "2", "4000"))
    finally:
        system.chain.revert(snapshot)


@asynccontextmanager
async def deribit() -> AsyncIterator[Case]:
    config = config_for("deribit", ["BTC-PERPETUAL"])
    async with recorded_venue(RecordedDeribit().routes(), config) as (_, venue):
        perpetual = await instrument_of(venue, "BTC-PERPETUAL.DERIBIT")
        yield Case(venue, limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))


VENUES: dict[str, Callable[[], AbstractAsyncContextManager[Case]]] = {
    "simulated exchange": simulated, "swap pool": pool, "deribit (ccxt, recorded)": deribit,
    "chain pool (in-process EVM)": chain_pool,
}
IN_PROCESS = {name: make for name, make in VENUES.items() if not name.startswith("deribit")}


def run(make: Callable[[], AbstractAsyncContextManager[Case]], check: Callable[[Case], object]) -> object:
    async def scenario() -> object:
        async with make() as case:
            return await check(case)  # type: ignore[misc]

    return asyncio.run(scenario())


@pytest.mark.parametrize("make", VENUES.values(), ids=VENUES.keys())
def test_a_venue_keeps_the_protocol_and_states_its_capabilities(make) -> None:
    async def check(case: Case) -> None:
        assert isinstance(case.venue, Venue)
        assert case.venue.capabilities and all(isinstance(s, Support) for s in case.venue.capabilities.values())
        instruments = {one.instrument_id: one for one in await case.venue.instruments()}
        assert case.request.instrument_id in instruments
        assert instruments[case.request.instrument_id].is_tradable_size(case.request.quantity)

    run(make, check)


@pytest.mark.parametrize("make", VENUES.values(), ids=VENUES.keys())
def test_placing_a_client_order_id_twice_makes_one_order(make) -> None:
    async def check(case: Case) -> None:
        first = await case.venue.place(case.request)
        fills_after_first = list(await case.venue.fills(1))
        second = await case.venue.place(case.request)
        assert second.client_order_id == first.client_order_id == case.request.client_order_id
        assert second.venue_order_id == first.venue_order_id
        assert list(await case.venue.fills(1)) == fills_after_first

    run(make, check)


@pytest.mark.parametrize("make", VENUES.values(), ids=VENUES.keys())
def test_a_placed_order_is_found_and_an_unsent_id_is_not(make) -> None:
    async def check(case: Case) -> None:
        placed = await case.venue.place(case.request)
        found = await case.venue.order(case.request.instrument_id, case.request.client_order_id)
        assert found is not None and found.client_order_id == placed.client_order_id
        assert (found.side, found.quantity) == (case.request.side, case.request.quantity)
        assert await case.venue.order(case.request.instrument_id, "never-sent") is None

    run(make, check)


@pytest.mark.parametrize("make", VENUES.values(), ids=VENUES.keys())
def test_fills_are_oldest_first_and_name_placed_orders_and_balances_are_exact_money(make) -> None:
    async def check(case: Case) -> None:
        await case.venue.place(case.request)
        fills = list(await case.venue.fills(1))
        instruments = {one.instrument_id for one in await case.venue.instruments()}
        assert [f.ts_ns for f in fills] == sorted(f.ts_ns for f in fills)
        assert len({f.fill_id for f in fills}) == len(fills)
        for fill in fills:
            assert fill.instrument_id in instruments and isinstance(fill.fee, Money)
            if fill.client_order_id == case.request.client_order_id:
                assert fill.side is case.request.side
                assert await case.venue.order(fill.instrument_id, fill.client_order_id) is not None
        balances = list(await case.venue.balances())
        assert balances and all(isinstance(b, Balance) and isinstance(b.money.amount, Decimal) for b in balances)

    run(make, check)


@pytest.mark.parametrize("make", IN_PROCESS.values(), ids=IN_PROCESS.keys())
def test_a_terminal_order_is_cancelled_as_it_is(make) -> None:
    async def check(case: Case) -> None:
        placed = await case.venue.place(case.request)  # an IOC: terminal once it arrives
        assert placed.status.is_terminal
        assert await case.venue.cancel(case.request.instrument_id, case.request.client_order_id) == placed

    run(make, check)


@pytest.mark.parametrize("make", IN_PROCESS.values(), ids=IN_PROCESS.keys())
def test_a_size_off_the_lot_is_refused_by_the_venue(make) -> None:
    async def check(case: Case) -> None:
        off_lot = Quantity(case.request.quantity.value + Decimal("0.0001"), 4)
        with pytest.raises(VenueRejected, match="lot"):
            await case.venue.place(replace(case.request, client_order_id="hk-off-lot", quantity=off_lot))

    run(make, check)
