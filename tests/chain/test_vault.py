"""vault.vy: on-chain delta against hedgekeeper.pricing, check(), and every rebalance guard.

Each test runs on the in-process EVM and on anvil, against one system deployed
per module (three vaults short 10 calls at 3,200 and 5 puts at 2,800 on ETH at
3,000 USD, hedged at deployment), with the chain reverted after each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import (
    DeployedSystem,
    OptionConfig,
    SystemConfig,
    TokenConfig,
    VaultConfig,
    deploy_contract,
    deploy_system,
    deploy_vault,
)
from hedgekeeper.chain.errors import TransactionReverted
from hedgekeeper.chain.compile import compile_contract
from hedgekeeper.chain.reader import read_check, read_pool
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.pricing.black_scholes import black_scholes_greeks
from hedgekeeper.venues.amm.constant_product import ConstantProductPool

ONE = 10**18
USDC = 10**6
YEAR_S = 365 * 86400
STRANGER, ATTACKER = 5, 6
REENTRANT_POOL = Path(__file__).resolve().parent / "contracts" / "reentrant_pool.vy"


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def _move_oracle(system: DeployedSystem, price_usd: float) -> None:
    system.chain.transact(system.oracle.functions.submit(to_fixed(price_usd, 8)), system.deployer)


def _balances(system: DeployedSystem, owner: str) -> tuple[int, int]:
    return system.stable.functions.balanceOf(owner).call(), system.risk_asset.functions.balanceOf(owner).call()


def _pool_model(system: DeployedSystem) -> tuple[ConstantProductPool, bool]:
    """Return the pool as the Python Uniswap v2 model, and whether the risk asset is token0."""
    state = read_pool(system.pool)
    return state.model(), state.token0 == system.risk_asset.address


def _expected_net_delta(vault: Contract, spot_usd: float, vol: float, block: int) -> float:
    """Net delta (coin) by hedgekeeper.pricing: held - sum(size * delta) at the block's time."""
    now_s = vault.w3.eth.get_block(block)["timestamp"]
    count = vault.functions.option_count().call()
    options = [vault.functions.options(i).call() for i in range(count)]
    strikes = np.array([o[0] / ONE for o in options])
    t_years = np.array([max(o[1] - now_s, 0) / YEAR_S for o in options])
    sizes = np.array([o[2] / ONE for o in options])
    is_call = np.array([o[3] for o in options])
    live = t_years > 0
    deltas = black_scholes_greeks(spot_usd, strikes, t_years, vol, is_call).delta
    risk_asset = vault.w3.eth.contract(address=vault.functions.risk_asset().call(), abi=compile_contract("erc20").abi)
    balance = risk_asset.functions.balanceOf(vault.address).call(block_identifier=block)
    return balance / vault.functions.risk_unit().call() - float(np.sum(np.where(live, sizes * deltas, 0.0)))


@pytest.fixture
def book_vault(system: DeployedSystem) -> Contract:
    """A vault with a full book of eight options (calls and puts, 1 day to 1 year), holding 4 WETH."""
    options = [
        OptionConfig(kind=kind, strike_usd=strike, expiry_days=days, size_coin=size)
        for kind, strike, days, size in [
            ("call", 3000.0, 1.0, 2.0),
            ("put", 3000.0, 1.0, 1.5),
            ("call", 3500.0, 7.0, 4.0),
            ("put", 2500.0, 7.0, 3.0),
            ("call", 2000.0, 45.0, 1.0),
            ("put", 4200.0, 90.0, 2.5),
            ("call", 4500.0, 180.0, 6.0),
            ("put", 1800.0, 365.0, 8.0),
        ]
    ]
    config = VaultConfig(
        options=options, implied_vol=0.8, inner_band_coin=0.5, outer_band_coin=2.0, max_trade_coin=5.0, risk_asset_coin=4.0
    )
    return deploy_vault(
        system.chain, config, stable=system.stable, risk_asset=system.risk_asset, oracle=system.oracle, pool=system.pool,
        batcher=system.batcher, keepers=system.keepers, spot_usd=3000.0, stable_decimals=6, risk_decimals=18, sender=system.deployer,
    )


def test_net_delta_agrees_with_hedgekeeper_pricing_over_spots_and_vols(system: DeployedSystem, book_vault: Contract) -> None:
    chain = system.chain
    for vol in (0.3, 0.8, 1.6):
        chain.transact(book_vault.functions.set_implied_vol(to_fixed(vol)), system.deployer)
        block = chain.w3.eth.block_number
        for spot in (1500.0, 2500.0, 2999.0, 3000.0, 3500.0, 5000.0):
            got = book_vault.functions.delta_at(to_fixed(spot)).call(block_identifier=block) / ONE
            expected = _expected_net_delta(book_vault, spot, vol, block)
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-12), (vol, spot)


def test_each_option_delta_agrees_with_hedgekeeper_pricing(system: DeployedSystem, book_vault: Contract) -> None:
    block = system.chain.w3.eth.block_number
    now_s = system.chain.w3.eth.get_block(block)["timestamp"]
    for index in range(8):
        strike, expiry_ts, _, is_call = book_vault.functions.options(index).call()
        for spot in (2000.0, 3000.0, 4000.0):
            got = book_vault.functions.option_delta(index, to_fixed(spot)).call(block_identifier=block) / ONE
            expected = float(black_scholes_greeks(spot, strike / ONE, (expiry_ts - now_s) / YEAR_S, 0.8, is_call).delta)
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-15)


def test_an_expired_option_drops_out_of_the_delta(system: DeployedSystem, book_vault: Contract) -> None:
    assert book_vault.functions.option_delta(0, to_fixed(3100.0)).call() != 0
    system.chain.advance_time(2 * 86400)
    assert book_vault.functions.option_delta(0, to_fixed(3100.0)).call() == 0
    assert book_vault.functions.option_delta(2, to_fixed(3100.0)).call() != 0


def test_check_is_in_band_after_deployment_and_reports_the_oracle_age(system: DeployedSystem) -> None:
    for vault in system.vaults:
        check = read_check(vault)
        assert not check.needs_rebalance and not check.beyond_outer_band and check.trade_risk_asset_1e18 == 0
        assert abs(check.delta_deviation_coin) < 1e-3
        updated_at = system.oracle.functions.latestTimestamp().call()
        assert check.oracle_age_s == system.chain.timestamp() - updated_at


def test_check_after_a_move_reports_the_deviation_and_the_trade_that_fixes_it(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    vault = system.vaults[0]
    block = system.chain.w3.eth.block_number
    check = read_check(vault, block)
    expected = _expected_net_delta(vault, 3150.0, 0.8, block)
    assert check.needs_rebalance and not check.beyond_outer_band
    assert check.delta_deviation_coin == pytest.approx(expected, rel=1e-6)
    assert check.delta_deviation_1e18 < -ONE // 2  # short calls: delta falls as ETH rises
    assert check.trade_risk_asset_1e18 == -check.delta_deviation_1e18  # within max trade: the whole fix
    assert check.oracle_age_s == 0


def test_a_keeper_rebalance_buys_at_the_pool_quote_and_lands_in_band(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    vault, keeper = system.vaults[0], system.keepers[0]
    check = read_check(vault)
    model, risk_is_token0 = _pool_model(system)
    cost = model.amount_in(check.trade_risk_asset_1e18, zero_for_one=not risk_is_token0)
    stable_before, risk_before = _balances(system, vault.address)
    receipt = system.chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, cost), keeper)
    stable_after, risk_after = _balances(system, vault.address)
    assert (stable_before - stable_after, risk_after - risk_before) == (cost, check.trade_risk_asset_1e18)
    (event,) = vault.events.Rebalanced().process_receipt(receipt, errors=DISCARD)
    assert event.args.keeper == keeper and event.args.stable_amount == cost and not event.args.emergency
    assert event.args.reward == 0
    after = read_check(vault)
    assert not after.needs_rebalance and abs(after.delta_deviation_coin) < 0.01


def test_a_stranger_cannot_rebalance_inside_the_outer_band(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    vault, stranger = system.vaults[0], system.chain.accounts[STRANGER]
    check = read_check(vault)
    assert check.needs_rebalance and not check.beyond_outer_band
    with pytest.raises(TransactionReverted, match="not a keeper") as refused:
        system.chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, 2**255), stranger)
    assert refused.value.reason == "vault: not a keeper (inside the outer band)"


def test_beyond_the_outer_band_anyone_may_rebalance_and_earns_the_reward(system: DeployedSystem) -> None:
    _move_oracle(system, 3600.0)
    vault, stranger = system.vaults[0], system.chain.accounts[STRANGER]
    check = read_check(vault)
    assert check.beyond_outer_band and check.trade_risk_asset_1e18 == min(5 * ONE, -check.delta_deviation_1e18)
    reward = vault.functions.ripcord_reward().call()
    assert reward == 25 * USDC
    before = system.stable.functions.balanceOf(stranger).call()
    receipt = system.chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, 2**255), stranger)
    assert system.stable.functions.balanceOf(stranger).call() - before == reward
    (event,) = vault.events.Rebalanced().process_receipt(receipt, errors=DISCARD)
    assert event.args.emergency and event.args.reward == reward and event.args.keeper == stranger


def test_a_ripcord_must_do_the_whole_job_to_earn_the_reward(system: DeployedSystem) -> None:
    _move_oracle(system, 3600.0)
    vault, stranger = system.vaults[0], system.chain.accounts[STRANGER]
    check = read_check(vault)
    inner = vault.functions.inner_band_1e18().call()
    least = min(-check.delta_deviation_1e18 - inner, vault.functions.max_trade_1e18().call())
    for dust in (10**12, least - 10**15):
        with pytest.raises(TransactionReverted, match="a ripcord trades at least"):
            system.chain.transact(vault.functions.rebalance(dust, 2**255), stranger)
    system.chain.transact(vault.functions.rebalance(least + 10**15, 2**255), stranger)


def test_a_sandwich_moves_the_pool_and_the_rebalance_reverts_with_nothing_lost(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    attacker = chain.accounts[ATTACKER]
    _move_oracle(system, 3150.0)
    check = read_check(vault)
    # The pool still prices ETH near 3,000 (below the oracle): the keeper's buy is cheap.
    # The attacker front-runs: buys 40 WETH, lifting the pool price some 8%.
    chain.transact(system.stable.functions.mint(attacker, 200_000 * USDC), system.deployer)
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), attacker)
    _, risk_is_token0 = _pool_model(system)
    chain.transact(system.pool.functions.swap_exact_out(not risk_is_token0, 40 * ONE, 2**255, attacker), attacker)
    vault_before, pool_before = _balances(system, vault.address), _pool_model(system)[0]
    # Even a keeper that sets no bound of its own is held to the oracle price + max_slippage_bps.
    with pytest.raises(TransactionReverted, match="slippage: input above maximum"):
        chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, 2**255), keeper)
    assert _balances(system, vault.address) == vault_before
    assert _pool_model(system)[0] == pool_before
    assert read_check(vault).needs_rebalance


def test_the_keeper_bound_is_enforced_too(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    vault, keeper = system.vaults[0], system.keepers[0]
    check = read_check(vault)
    model, risk_is_token0 = _pool_model(system)
    cost = model.amount_in(check.trade_risk_asset_1e18, zero_for_one=not risk_is_token0)
    with pytest.raises(TransactionReverted, match="slippage: input above maximum"):
        system.chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, cost - 1), keeper)


def test_a_stale_oracle_blocks_rebalancing_until_a_fresh_answer(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    _move_oracle(system, 3150.0)
    chain.advance_time(3601)
    check = read_check(vault)
    assert check.oracle_age_s > vault.functions.max_oracle_age_s().call() == 3600
    with pytest.raises(TransactionReverted, match="vault: stale oracle"):
        chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, 2**255), keeper)
    _move_oracle(system, 3150.0)  # the heartbeat makes an update due
    check = read_check(vault)
    chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, 2**255), keeper)
    assert not read_check(vault).needs_rebalance


def test_the_cooldown_holds_between_rebalances(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    chain.transact(vault.functions.set_limits(100, 3600, 600, to_fixed(0.4), 25 * USDC), system.deployer)
    _move_oracle(system, 3150.0)
    trade = read_check(vault).trade_risk_asset_1e18
    assert trade == to_fixed(0.4)
    chain.transact(vault.functions.rebalance(trade, 2**255), keeper)
    assert read_check(vault).needs_rebalance  # 0.4 coin did not close a ~1.1 coin gap
    with pytest.raises(TransactionReverted, match="vault: cooldown"):
        chain.transact(vault.functions.rebalance(trade, 2**255), keeper)
    chain.advance_time(601)
    chain.transact(vault.functions.rebalance(read_check(vault).trade_risk_asset_1e18, 2**255), keeper)
    assert vault.functions.last_rebalance_ts().call() == chain.timestamp()


def test_the_max_trade_size_holds(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    chain.transact(vault.functions.set_limits(100, 3600, 0, to_fixed(0.3), 25 * USDC), system.deployer)
    _move_oracle(system, 3150.0)
    assert read_check(vault).trade_risk_asset_1e18 == to_fixed(0.3)
    with pytest.raises(TransactionReverted, match="trade above max_trade_1e18"):
        chain.transact(vault.functions.rebalance(to_fixed(0.31), 2**255), keeper)
    chain.transact(vault.functions.rebalance(to_fixed(0.3), 2**255), keeper)


def test_a_trade_the_wrong_way_or_past_the_far_band_reverts(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    _move_oracle(system, 3150.0)
    check = read_check(vault)
    with pytest.raises(TransactionReverted, match="wrong way"):
        chain.transact(vault.functions.rebalance(-check.trade_risk_asset_1e18, 0), keeper)
    overshoot = check.trade_risk_asset_1e18 + to_fixed(0.6)  # lands 0.6 past the target, inner band 0.5
    with pytest.raises(TransactionReverted, match="overshoots the inner band"):
        chain.transact(vault.functions.rebalance(overshoot, 2**255), keeper)
    chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18 + to_fixed(0.4), 2**255), keeper)


def test_in_band_rebalance_reverts(system: DeployedSystem) -> None:
    with pytest.raises(TransactionReverted, match="vault: in band"):
        system.chain.transact(system.vaults[0].functions.rebalance(ONE, 2**255), system.keepers[0])


def test_the_owner_pauses_and_resumes_and_nobody_else_can(system: DeployedSystem) -> None:
    chain, vault, keeper = system.chain, system.vaults[0], system.keepers[0]
    stranger = chain.accounts[STRANGER]
    with pytest.raises(TransactionReverted, match="only the owner"):
        chain.transact(vault.functions.set_paused(True), stranger)
    chain.transact(vault.functions.set_paused(True), system.deployer)
    assert vault.functions.paused().call()
    _move_oracle(system, 3600.0)  # beyond the outer band: still paused for everyone
    trade = read_check(vault).trade_risk_asset_1e18
    for caller in (keeper, stranger):
        with pytest.raises(TransactionReverted, match="vault: paused"):
            chain.transact(vault.functions.rebalance(trade, 2**255), caller)
    chain.transact(vault.functions.set_paused(False), system.deployer)
    chain.transact(vault.functions.rebalance(trade, 2**255), keeper)


def test_the_reentrancy_guard_refuses_a_callback_into_rebalance(system: DeployedSystem) -> None:
    chain = system.chain
    token0, token1 = sorted([system.stable.address, system.risk_asset.address], key=lambda a: int(a, 16))
    hostile = deploy_contract(chain, REENTRANT_POOL, token0, token1)
    config = VaultConfig(
        options=[], implied_vol=0.8, target_delta_coin=5.0, inner_band_coin=0.5, outer_band_coin=10.0,
        max_trade_coin=5.0, risk_asset_coin=0.0,
    )
    vault = deploy_vault(
        chain, config, stable=system.stable, risk_asset=system.risk_asset, oracle=system.oracle, pool=hostile,
        batcher=None, keepers=system.keepers, spot_usd=3000.0, stable_decimals=6, risk_decimals=18, sender=system.deployer,
    )
    chain.transact(hostile.functions.set_target(vault.address), system.deployer)
    chain.transact(vault.functions.rebalance(ONE, 2**255), system.keepers[0])
    assert hostile.functions.reentry_attempted().call()
    assert not hostile.functions.reentry_succeeded().call()
    assert hostile.functions.reentry_revert_data().call() == b""  # the lock's bare revert, not a guard's message


def test_only_the_batcher_may_call_rebalance_from_batcher(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    with pytest.raises(TransactionReverted, match="only the batcher"):
        system.chain.transact(system.vaults[0].functions.rebalance_from_batcher(system.keepers[0]), system.keepers[0])


def test_owner_setters_update_the_getters_and_refuse_strangers(system: DeployedSystem) -> None:
    chain, vault = system.chain, system.vaults[1]
    stranger = chain.accounts[STRANGER]
    chain.transact(vault.functions.set_band(to_fixed(-1.5), to_fixed(0.25), to_fixed(3.0)), system.deployer)
    band = [getattr(vault.functions, name)().call() for name in ("target_delta_1e18", "inner_band_1e18", "outer_band_1e18")]
    assert band == [to_fixed(-1.5), to_fixed(0.25), to_fixed(3.0)]
    chain.transact(vault.functions.set_limits(250, 120, 30, to_fixed(7.5), 3 * USDC), system.deployer)
    getters = ("max_slippage_bps", "max_oracle_age_s", "cooldown_s", "max_trade_1e18", "ripcord_reward")
    assert [getattr(vault.functions, g)().call() for g in getters] == [250, 120, 30, to_fixed(7.5), 3 * USDC]
    assert vault.functions.implied_vol_1e18().call() == to_fixed(0.8)
    with pytest.raises(TransactionReverted, match="inner band wider"):
        chain.transact(vault.functions.set_band(0, to_fixed(2.0), to_fixed(1.0)), system.deployer)
    for call in (
        vault.functions.set_band(0, 1, 2),
        vault.functions.set_implied_vol(ONE),
        vault.functions.set_limits(1, 1, 1, 1, 1),
        vault.functions.add_option(ONE, 2**30, ONE, True),
        vault.functions.clear_options(),
        vault.functions.set_keeper(stranger, True),
        vault.functions.set_batcher(stranger),
        vault.functions.transfer_ownership(stranger),
    ):
        with pytest.raises(TransactionReverted, match="vault: only the owner"):
            chain.transact(call, stranger)


def test_a_risk_asset_with_8_decimals_and_a_stablecoin_with_18_rebalance_alike(
    chain: Chain, make_system_config: Callable[..., SystemConfig]
) -> None:
    base = make_system_config(vault_count=1)
    config = base.model_copy(
        update={
            "risk_asset": TokenConfig(name="Wrapped Bitcoin", symbol="WBTC", decimals=8),
            "stable": TokenConfig(name="Dai", symbol="DAI", decimals=18),
        }
    )
    system = deploy_system(config, chain)
    vault, keeper = system.vaults[0], system.keepers[0]
    assert (vault.functions.risk_unit().call(), vault.functions.stable_unit().call()) == (10**8, 10**18)
    assert not read_check(vault).needs_rebalance
    _move_oracle(system, 3150.0)
    check = read_check(vault)
    expected = _expected_net_delta(vault, 3150.0, 0.8, chain.w3.eth.block_number)
    assert check.delta_deviation_coin == pytest.approx(expected, rel=1e-6)
    stable_before, risk_before = _balances(system, vault.address)
    model, risk_is_token0 = _pool_model(system)
    bought = check.trade_risk_asset_1e18 // 10**10  # WBTC base units
    cost = model.amount_in(bought, zero_for_one=not risk_is_token0)
    chain.transact(vault.functions.rebalance(check.trade_risk_asset_1e18, cost), keeper)
    stable_after, risk_after = _balances(system, vault.address)
    assert (risk_after - risk_before, stable_before - stable_after) == (bought, cost)
    assert cost == pytest.approx(bought / 1e8 * 3000.0 * 1e18, rel=0.01)  # about the pool price, in DAI wei
    assert not read_check(vault).needs_rebalance
