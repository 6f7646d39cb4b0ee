"""batcher.vy: many vaults in one transaction; a vault in band or reverting is skipped, never fatal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.logs import DISCARD
from web3.types import TxReceipt

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem
from hedgekeeper.chain.reader import read_check
from hedgekeeper.chain.units import to_fixed

SKIPPED_IN_BAND, SKIPPED_REVERTED = 1, 2
STRANGER, ATTACKER = 5, 6
USDC = 10**6


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def _move_oracle(system: DeployedSystem, price_usd: float) -> None:
    system.chain.transact(system.oracle.functions.submit(to_fixed(price_usd, 8)), system.deployer)


def _batch(system: DeployedSystem, caller: str) -> tuple[list[bool], TxReceipt]:
    vaults = [vault.address for vault in system.vaults]
    function = system.batcher.functions.rebalance_many(vaults)
    done = function.call({"from": caller})
    return done, system.chain.transact(function, caller)


def _skipped(system: DeployedSystem, receipt: TxReceipt) -> dict[str, int]:
    events = system.batcher.events.Skipped().process_receipt(receipt, errors=DISCARD)
    return {event.args.vault: event.args.reason for event in events}


def _holdings(system: DeployedSystem) -> list[tuple[int, int]]:
    return [
        (system.stable.functions.balanceOf(v.address).call(), system.risk_asset.functions.balanceOf(v.address).call())
        for v in system.vaults
    ]


def _rebalanced(system: DeployedSystem, receipt: TxReceipt) -> list[str]:
    return [log.address for log in system.vaults[0].events.Rebalanced().process_receipt(receipt, errors=DISCARD)]


def test_the_batch_skips_a_vault_already_back_in_band(system: DeployedSystem) -> None:
    chain, keeper = system.chain, system.keepers[0]
    _move_oracle(system, 3150.0)
    first = system.vaults[0]
    chain.transact(first.functions.rebalance(read_check(first).trade_risk_asset_1e18, 2**255), keeper)
    done, receipt = _batch(system, keeper)
    assert done == [False, True, True]
    assert _skipped(system, receipt) == {first.address: SKIPPED_IN_BAND}
    assert _rebalanced(system, receipt) == [system.vaults[1].address, system.vaults[2].address]
    assert not any(read_check(vault).needs_rebalance for vault in system.vaults)


def test_a_reverting_vault_is_skipped_and_the_others_go_through(system: DeployedSystem) -> None:
    chain, keeper = system.chain, system.keepers[0]
    chain.transact(system.vaults[2].functions.set_paused(True), system.deployer)
    _move_oracle(system, 3150.0)
    done, receipt = _batch(system, keeper)
    assert done == [True, True, False]
    assert _skipped(system, receipt) == {system.vaults[2].address: SKIPPED_REVERTED}
    assert read_check(system.vaults[2]).needs_rebalance


def test_all_in_band_rebalances_nothing(system: DeployedSystem) -> None:
    done, receipt = _batch(system, system.keepers[0])
    assert done == [False, False, False]
    assert set(_skipped(system, receipt).values()) == {SKIPPED_IN_BAND}
    assert _rebalanced(system, receipt) == []


def test_a_stranger_gets_nothing_done_inside_the_outer_band(system: DeployedSystem) -> None:
    _move_oracle(system, 3150.0)
    done, receipt = _batch(system, system.chain.accounts[STRANGER])
    assert done == [False, False, False]
    assert set(_skipped(system, receipt).values()) == {SKIPPED_REVERTED}


def test_beyond_the_outer_band_a_stranger_batches_and_earns_each_reward(system: DeployedSystem) -> None:
    stranger = system.chain.accounts[STRANGER]
    _move_oracle(system, 3600.0)
    before = system.stable.functions.balanceOf(stranger).call()
    done, _ = _batch(system, stranger)
    assert done == [True, True, True]
    assert system.stable.functions.balanceOf(stranger).call() - before == 3 * 25 * USDC


def test_a_sandwiched_batch_skips_every_vault_and_loses_nothing(system: DeployedSystem) -> None:
    chain, keeper = system.chain, system.keepers[0]
    attacker = chain.accounts[ATTACKER]
    _move_oracle(system, 3150.0)
    chain.transact(system.stable.functions.mint(attacker, 200_000 * USDC), system.deployer)
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), attacker)
    risk_is_token0 = system.pool.functions.token0().call() == system.risk_asset.address
    chain.transact(system.pool.functions.swap_exact_out(not risk_is_token0, 40 * 10**18, 2**255, attacker), attacker)
    holdings = _holdings(system)
    done, receipt = _batch(system, keeper)
    assert done == [False, False, False]
    assert set(_skipped(system, receipt).values()) == {SKIPPED_REVERTED}
    assert _holdings(system) == holdings
