"""The deployed pool as a Venue, on the in-process EVM and on anvil.

Truth is taken independently of the venue: amounts from the Python model of a
Uniswap v2 pair on the reserves read straight from the contract, gas from the
account's native balance and the receipts, balances from ``balanceOf``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem, SystemConfig, deploy_system
from hedgekeeper.chain.venue import ChainPoolVenue, SwapPending
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.errors import InvalidOrder
from hedgekeeper.execution.routed_executor import PoolRoute
from hedgekeeper.execution.order_manager import OrderManager, RetryPolicy
from hedgekeeper.execution.routing import RouteLeg
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.base import Venue
from hedgekeeper.venues.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

TRADER, ATTACKER = 3, 6  # the chain's accounts (conftest: 0 deploys, 1 keeps)
ETH = Instrument(instrument_id="ETH-USDC.CHAIN", venue="chain", kind=InstrumentKind.SPOT,
                 settlement=Settlement.LINEAR, underlying="ETH", settlement_currency="USDC",
                 contract_size=Decimal(1), tick_size=Decimal("0.000001"), lot_size=Decimal("0.0001"),
                 min_size=Decimal("0.0001"))
START_NS = 1_750_000_000_000_000_000


@pytest.fixture(scope="module")
def system(chain: Chain, make_system_config: Callable[..., SystemConfig]) -> DeployedSystem:
    """ETH at 3,000 USD, a 1,000 WETH pool at 30 bps; the trader and the attacker hold USDC and WETH."""
    system = deploy_system(make_system_config(vault_count=1), chain)
    owner = system.deployer
    for index in (TRADER, ATTACKER):
        account = chain.w3.eth.accounts[index]
        chain.transact(system.stable.functions.mint(account, 1_000_000 * 10**6), owner)
        chain.transact(system.risk_asset.functions.mint(account, 100 * 10**18), owner)
    attacker = chain.w3.eth.accounts[ATTACKER]
    for token in (system.stable, system.risk_asset):
        chain.transact(token.functions.approve(system.pool.address, 2**256 - 1), attacker)
    return system


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def _venue(system: DeployedSystem, **options: object) -> ChainPoolVenue:
    return ChainPoolVenue.from_system("chain", ETH, system, system.chain.w3.eth.accounts[TRADER],
                                      SimulatedClock(start_ns=START_NS), **options)  # type: ignore[arg-type]


def _order(client_order_id: str, side: Side, size: str, price: float | None = None,
           tif: TimeInForce = TimeInForce.IOC) -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, instrument_id=ETH.instrument_id, side=side,
                        quantity=ETH.make_qty(size, round_down=True),
                        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                        price=None if price is None else ETH.make_price(price, round_down=side is Side.SELL),
                        time_in_force=tif)


def _model(system: DeployedSystem) -> ConstantProductPool:
    pool = system.pool.functions
    return ConstantProductPool(pool.reserve0().call(), pool.reserve1().call(), fee_pips=pool.fee_bps().call() * 100)


def _holdings(system: DeployedSystem, account: str) -> tuple[int, int, int]:
    """Return the account's USDC and WETH base units and its native balance, wei."""
    return (system.stable.functions.balanceOf(account).call(), system.risk_asset.functions.balanceOf(account).call(),
            system.chain.w3.eth.get_balance(account))


def _coin_is_token0(system: DeployedSystem) -> bool:
    return system.pool.functions.token0().call() == system.risk_asset.address


def _pause_mining(chain: Chain) -> None:
    if chain.is_in_process:
        chain.w3.provider.ethereum_tester.disable_auto_mine_transactions()  # type: ignore[attr-defined]
    else:
        chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]


def _resume_mining(chain: Chain) -> None:
    if chain.is_in_process:
        chain.w3.provider.ethereum_tester.enable_auto_mine_transactions()  # type: ignore[attr-defined]
    else:
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def _gas_wei(chain: Chain, raw: dict[str, object]) -> int:
    """Return what the fill's transactions paid for gas, from their receipts, wei."""
    transactions: list[dict[str, str]] = raw["transactions"]  # type: ignore[assignment]
    receipts = [chain.w3.eth.get_transaction_receipt(t["tx"]) for t in transactions]  # type: ignore[arg-type]
    return sum(r["gasUsed"] * r["effectiveGasPrice"] for r in receipts)


def test_a_buy_then_a_sell_fill_with_the_pools_exact_amounts_and_pay_gas_in_usd(system: DeployedSystem) -> None:
    chain, venue = system.chain, _venue(system)
    trader = venue.account
    coin0 = _coin_is_token0(system)
    model = _model(system)
    usd_in = model.amount_in(2 * 10**18, zero_for_one=not coin0)
    before = _holdings(system, trader)
    bought = asyncio.run(venue.place(_order("buy", Side.BUY, "2")))
    assert bought.status is OrderStatus.FILLED and bought.filled_quantity == Decimal(2)
    fill = asyncio.run(venue.fills())[0]
    assert fill.raw["usd_units"] == usd_in and Decimal(fill.raw["usd"]) == Decimal(usd_in) / 10**6
    assert fill.price.value == pytest.approx(Decimal(usd_in) / 10**6 / 2, abs=Decimal("1e-20"))
    after = _holdings(system, trader)
    gas_wei = before[2] - after[2]
    assert after[:2] == (before[0] - usd_in, before[1] + 2 * 10**18)
    assert gas_wei == _gas_wei(chain, fill.raw) > 0 and len(fill.raw["transactions"]) == 2  # approve + swap
    assert fill.fee.currency == "USDC" and fill.fee.amount == Decimal(gas_wei) / 10**18 * Decimal(3000)
    assert fill.ts_ns == START_NS and fill.raw["oracle_answer"] == 3000 * 10**8
    assert fill.raw["gas_used"] == sum(t["gas_used"] for t in fill.raw["transactions"]) > fill.raw["swap_gas_used"]

    model = _model(system)
    usd_out = model.amount_out(10**18, zero_for_one=coin0)
    sold = asyncio.run(venue.place(_order("sell", Side.SELL, "1", price=2900.0)))
    assert sold.status is OrderStatus.FILLED and sold.average_price == Decimal(usd_out) / 10**6
    fill = asyncio.run(venue.fills())[1]
    final = _holdings(system, trader)
    assert final[:2] == (after[0] + usd_out, after[1] - 10**18)
    assert after[2] - final[2] == _gas_wei(chain, fill.raw) and len(fill.raw["transactions"]) == 2  # WETH approved
    assert fill.fee.amount == Decimal(after[2] - final[2]) / 10**18 * Decimal(3000)
    assert (system.pool.functions.reserve0().call(), system.pool.functions.reserve1().call()) == (
        fill.raw["reserve0"], fill.raw["reserve1"])
    balances = {b.money.currency: b.money.amount for b in asyncio.run(venue.balances())}
    assert balances == {"ETH": Decimal(final[1]) / 10**18, "USDC": Decimal(final[0]) / 10**6}
    assert asyncio.run(venue.positions())[0].size_contracts == Decimal(final[1]) / 10**18


def test_a_limit_beyond_the_price_reverts_and_moves_nothing(system: DeployedSystem) -> None:
    chain, venue = system.chain, _venue(system)
    trader = venue.account
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), trader)
    model = _model(system)
    average = model.amount_in(10 * 10**18, zero_for_one=not _coin_is_token0(system)) / 10**6 / 10  # ~3030
    before, nonce = _holdings(system, trader), chain.w3.eth.get_transaction_count(trader)
    expired = asyncio.run(venue.place(_order("a", Side.BUY, "10", price=average - 1.0)))
    assert expired.status is OrderStatus.EXPIRED and "slippage: input above maximum" in expired.reason
    assert _holdings(system, trader) == before and chain.w3.eth.get_transaction_count(trader) == nonce
    assert _model(system) == model and asyncio.run(venue.fills()) == []
    filled = asyncio.run(venue.place(_order("b", Side.BUY, "10", price=average + 0.01)))
    assert filled.status is OrderStatus.FILLED


def test_a_request_that_would_rest_is_refused_before_anything_is_sent(system: DeployedSystem) -> None:
    venue = _venue(system)
    assert isinstance(venue, Venue) and asyncio.run(venue.instruments()) == [ETH]
    nonce = system.chain.w3.eth.get_transaction_count(venue.account)
    with pytest.raises(InvalidOrder, match="cannot rest"):
        asyncio.run(venue.place(_order("gtc", Side.BUY, "1", price=3100.0, tif=TimeInForce.GTC)))
    assert asyncio.run(venue.order(ETH.instrument_id, "gtc")).status is OrderStatus.REJECTED
    assert system.chain.w3.eth.get_transaction_count(venue.account) == nonce


def test_a_retry_after_a_receipt_timeout_looks_the_swap_up_and_never_sends_two(system: DeployedSystem) -> None:
    chain, venue = system.chain, _venue(system, receipt_timeout_s=0.2)
    trader = venue.account
    chain.transact(system.risk_asset.functions.approve(system.pool.address, 2**256 - 1), trader)
    expected = _model(system).swap_exact_input(10**18, zero_for_one=_coin_is_token0(system))
    nonce = chain.w3.eth.get_transaction_count(trader)
    orders = OrderManager({"chain": venue}, SimulatedClock(start_ns=START_NS), retry=RetryPolicy(2, 0.0))
    _pause_mining(chain)
    try:
        managed = asyncio.run(orders.submit("chain", _order("hk-1", Side.SELL, "1")))
        assert managed.status is OrderStatus.ACKNOWLEDGED  # sent, looked up after the timeout, not resent
        with pytest.raises(SwapPending, match="within 0.2 s"):
            asyncio.run(venue.place(_order("hk-1", Side.SELL, "1")))
    finally:
        _resume_mining(chain)
    asyncio.run(orders.reconcile())
    assert managed.status is OrderStatus.FILLED and len(managed.fills) == 1
    assert asyncio.run(venue.place(_order("hk-1", Side.SELL, "1"))).status is OrderStatus.FILLED
    assert chain.w3.eth.get_transaction_count(trader) == nonce + 1
    assert _model(system) == expected.pool  # one swap, to the unit


def test_a_sandwich_between_quote_and_swap_reverts_the_swap_with_nothing_lost(system: DeployedSystem) -> None:
    chain, venue = system.chain, _venue(system)
    trader, attacker = venue.account, chain.w3.eth.accounts[ATTACKER]
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), trader)
    quote = PoolRoute(venue, max_coin=50.0, tolerance_bps=10.0).quote(Side.BUY)
    quote_usd = _model(system).amount_in(5 * 10**18, zero_for_one=not _coin_is_token0(system)) / 10**6
    assert quote.source.cost_usd(5.0, Side.BUY) == pytest.approx(
        quote_usd - 5.0 * venue.mid_usd() + venue.gas_estimate_usd(), rel=1e-12)
    limit = quote.limit_price_usd(RouteLeg("ETH-USDC.CHAIN", "chain", Decimal(5), quote.source.cost_usd(5.0, Side.BUY)))
    assert limit == pytest.approx(quote_usd / 5.0 * 1.001, rel=1e-12)
    before, nonce = _holdings(system, trader), chain.w3.eth.get_transaction_count(trader)
    coin0 = _coin_is_token0(system)
    chain.transact(system.pool.functions.swap_exact_out(not coin0, 20 * 10**18, 2**256 - 1, attacker), attacker)
    order = asyncio.run(venue.place(_order("victim", Side.BUY, "5", price=limit)))
    assert order.status is OrderStatus.EXPIRED and "slippage" in order.reason
    assert _holdings(system, trader) == before and chain.w3.eth.get_transaction_count(trader) == nonce
    assert asyncio.run(venue.fills()) == []


def test_a_swap_front_run_in_its_block_reverts_on_chain_and_costs_only_gas(system: DeployedSystem) -> None:
    chain = system.chain
    if chain.is_in_process:
        pytest.skip("eth-tester mines pending transactions in arrival order: nothing can get ahead of the swap")
    venue = _venue(system, receipt_timeout_s=0.2)
    trader, attacker = venue.account, chain.w3.eth.accounts[ATTACKER]
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), trader)
    coin0 = _coin_is_token0(system)
    limit = _model(system).amount_in(5 * 10**18, zero_for_one=not coin0) / 10**6 / 5 * 1.001
    before = _holdings(system, trader)
    _pause_mining(chain)
    try:
        with pytest.raises(SwapPending):
            asyncio.run(venue.place(_order("victim", Side.BUY, "5", price=limit)))
        tip = chain.w3.eth.get_transaction(venue.order_tx("victim"))["maxPriorityFeePerGas"] * 10
        system.pool.functions.swap_exact_out(not coin0, 20 * 10**18, 2**256 - 1, attacker).transact(
            {"from": attacker, "maxPriorityFeePerGas": tip, "maxFeePerGas": tip + 10**10})
    finally:
        _resume_mining(chain)
    order = asyncio.run(venue.order(ETH.instrument_id, "victim"))
    assert order.status is OrderStatus.EXPIRED and "slippage: input above maximum" in order.reason
    after = _holdings(system, trader)
    assert after[:2] == before[:2] and before[2] - after[2] == order.raw["gas_wei"] > 0
    assert venue.gas_spent_usd == Decimal(order.raw["gas_wei"]) / 10**18 * Decimal(3000)
