"""keeper.py on the in-process EVM and on anvil: skip or act, batch, replace, confirm, survive reverts.

The system is conftest's (three vaults short 10 calls at 3,200 and 5 puts at
2,800, ETH at 3,000 USD, inner band 0.5 coin, outer 2 coin, max trade 5 coin,
pool fee 30 bps). A move of the oracle to 3,150 puts every vault about 1.1 coin
out of its inner band; 3,600 puts it beyond the outer band. Tests that want one
vault out of band widen the others' bands. Automatic mining is switched off where
a test needs transactions to wait in the mempool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3.exceptions import TransactionNotFound

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem
from hedgekeeper.chain.gas import (
    REPLACEMENT_BUMP_BPS,
    WEI_PER_ETH,
    ecotone_l1_fee_wei,
    unsigned_type2_bytes,
)
from hedgekeeper.chain.keeper import Keeper
from hedgekeeper.chain.keeper_config import KeeperConfig, OpStackFeeConfig
from hedgekeeper.chain.reader import read_check
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.cli import app
from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError

GWEI = 10**9
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chain.toml"
RUNNER = CliRunner(env={"COLUMNS": "200"})
USDC = 10**6
ATTACKER, STRANGER = 6, 5
YEAR_H = 365 * 24
CHEAP_RISK = 1e-7  # risk aversion at which a 1 coin excess is worth cents: every rebalance costs more
DEAR_RISK = 1e-2  # at which it is worth hundreds of USD: every rebalance pays


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def _move_oracle(system: DeployedSystem, price_usd: float) -> int:
    """Post ``price_usd``; return the block that holds it."""
    receipt = system.chain.transact(system.oracle.functions.submit(to_fixed(price_usd, 8)), system.deployer)
    return int(receipt["blockNumber"])


def _only_first_vault_kept(system: DeployedSystem) -> None:
    for vault in system.vaults[1:]:
        system.chain.transact(vault.functions.set_band(0, 100 * 10**18, 100 * 10**18), system.deployer)


def _automine(chain: Chain, on: bool) -> None:
    if chain.is_in_process:
        tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        if on:
            tester.enable_auto_mine_transactions()
        else:
            tester.disable_auto_mine_transactions()
    else:
        chain.w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


@contextmanager
def _mempool(chain: Chain) -> Iterator[None]:
    """Hold transactions in the mempool until a block is mined; mine automatically again after."""
    _automine(chain, False)
    try:
        yield
    finally:
        _automine(chain, True)


def _mine_ignoring_the_mempool(chain: Chain, blocks: int) -> None:
    """Mine ``blocks`` blocks that include none of the pending transactions.

    On anvil for the real reason: a base fee above every pending offer. eth-tester
    has no fee market, so its backend mines empty blocks beside the pending list.
    """
    if chain.is_in_process:
        chain.w3.provider.ethereum_tester.backend.mine_blocks(blocks)  # type: ignore[attr-defined]
    else:
        chain.w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(500 * GWEI)])  # type: ignore[arg-type]
        for _ in range(blocks):
            chain.mine()


@contextmanager
def _base_fee_restored(chain: Chain) -> Iterator[None]:
    """Put anvil's base fee back where it was: ``evm_revert`` does not undo ``anvil_setNextBlockBaseFeePerGas``."""
    base_fee = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    try:
        yield
    finally:
        if not chain.is_in_process:
            chain.w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(base_fee)])  # type: ignore[arg-type]


def _step(keeper: Keeper) -> None:
    """Step, wait until the node has mined what the step sent (anvil mines after answering), step again."""
    keeper.step()
    for tx_hash in keeper.awaiting_receipt.values():
        keeper.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)  # type: ignore[arg-type]
    keeper.step()


def _receipt(chain: Chain, tx_hash: str) -> dict | None:
    try:
        return dict(chain.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
    except TransactionNotFound:
        return None


def test_a_rebalance_whose_gas_costs_more_than_the_risk_it_removes_is_skipped(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    dear_gas = KeeperConfig(risk_aversion_per_usd=DEAR_RISK, priority_fee_gwei=1000.0, fee_history_blocks=0)
    keeper = Keeper.for_system(system, dear_gas)
    _move_oracle(system, 3150.0)
    check = read_check(system.vaults[0])
    vol = system.vaults[0].functions.implied_vol_1e18().call() / 1e18
    assert keeper.step()
    (decision,) = keeper.records.decisions
    assert not decision.act and decision.reason.startswith("cost above benefit") and decision.hard_limit == ""
    # The trade-off computed here from its definition: (gamma / 2) (trade S sigma)^2 tau against gas + pool fee.
    trade = check.trade_risk_asset_1e18 / 1e18
    assert decision.benefit_usd == pytest.approx(0.5 * DEAR_RISK * (trade * 3150.0 * vol) ** 2 * 24 / YEAR_H)
    assert decision.gas_price_wei > 1000 * GWEI  # base fee + the 1,000 gwei tip
    assert decision.gas > 21_000 and decision.gas_shared_by == 1
    gas_usd = decision.gas * decision.gas_price_wei / WEI_PER_ETH * 3150.0
    assert decision.cost_usd == pytest.approx(gas_usd + abs(trade) * 3150.0 * 0.003)
    assert decision.benefit_usd > abs(trade) * 3150.0 * 0.003  # worth the pool fee: the gas tipped it
    assert decision.cost_usd > decision.benefit_usd
    assert keeper.records.transactions == []
    assert read_check(system.vaults[0]).needs_rebalance


def test_a_rebalance_not_worth_its_pool_fee_is_skipped_before_estimating_gas(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=CHEAP_RISK))
    _move_oracle(system, 3150.0)
    trade = read_check(system.vaults[0]).trade_risk_asset_coin
    keeper.step()
    (decision,) = keeper.records.decisions
    assert not decision.act and decision.reason.endswith("(gas not estimated)") and decision.gas == 0
    assert decision.cost_usd == pytest.approx(abs(trade) * 3150.0 * 0.003)
    assert decision.cost_usd > decision.benefit_usd
    assert keeper.records.transactions == []


def test_beyond_the_outer_band_the_keeper_acts_whatever_the_cost(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=CHEAP_RISK))
    _move_oracle(system, 3150.0)
    keeper.step()
    assert not keeper.records.decisions[-1].act
    _move_oracle(system, 3600.0)
    assert read_check(system.vaults[0]).beyond_outer_band
    _step(keeper)
    decision = keeper.records.decisions[-1]
    assert decision.act and decision.hard_limit == "beyond the outer band"
    assert decision.cost_usd > decision.benefit_usd  # not worth it by price: the limit made it act
    (confirmed,) = keeper.records.events("confirmed")
    assert confirmed.kind == "single" and confirmed.rebalanced == (system.vaults[0].address,)
    assert abs(read_check(system.vaults[0]).delta_deviation_1e18) < abs(decision.deviation_coin) * 10**18


def test_out_of_band_too_long_is_a_hard_limit_too(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=CHEAP_RISK, max_out_of_band_s=600))
    _move_oracle(system, 3150.0)
    keeper.step()
    system.chain.advance_time(300)
    keeper.step()
    assert [d.act for d in keeper.records.decisions] == [False, False]
    system.chain.advance_time(301)
    _step(keeper)
    decision = keeper.records.decisions[-1]
    assert decision.act and decision.hard_limit.startswith("out of band for ")
    assert int(decision.hard_limit.split()[4]) >= 600
    assert not read_check(system.vaults[0]).needs_rebalance


def test_a_call_that_would_revert_is_skipped_with_the_reason_and_nothing_sent(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    stranger = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK),
                                 account=system.chain.accounts[STRANGER])  # fmt: skip
    _move_oracle(system, 3150.0)
    stranger.step()
    (decision,) = stranger.records.decisions
    assert not decision.act and decision.reason == "would revert: vault: not a keeper (inside the outer band)"
    assert stranger.records.transactions == []


def test_several_vaults_out_of_band_go_in_one_batch_in_the_next_block(system: DeployedSystem) -> None:
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK))
    keeper.step()
    oracle_block = _move_oracle(system, 3150.0)
    assert all(read_check(vault).needs_rebalance for vault in system.vaults)
    _step(keeper)
    assert [d.act for d in keeper.records.decisions] == [True, True, True]
    assert all(d.reason.startswith("worth it") and d.benefit_usd > d.cost_usd for d in keeper.records.decisions)
    (sent,) = keeper.records.events("sent")
    (confirmed,) = keeper.records.events("confirmed")
    assert sent.kind == "batch" and set(sent.vaults) == {vault.address for vault in system.vaults}
    assert confirmed.included_block == oracle_block + 1  # reaction: the next block
    assert set(confirmed.rebalanced) == set(sent.vaults)
    transaction = system.chain.w3.eth.get_transaction(confirmed.tx_hash)  # type: ignore[arg-type]
    assert transaction["to"] == system.batcher.address
    assert not any(read_check(vault).needs_rebalance for vault in system.vaults)
    receipt = system.chain.w3.eth.get_transaction_receipt(confirmed.tx_hash)  # type: ignore[arg-type]
    assert confirmed.gas_used == receipt["gasUsed"] and confirmed.cost_usd > 0


def test_a_vault_the_batch_would_skip_is_left_out_with_its_own_reason(system: DeployedSystem) -> None:
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK))
    system.chain.transact(system.vaults[2].functions.set_paused(True), system.deployer)
    _move_oracle(system, 3150.0)
    _step(keeper)
    by_vault = {decision.vault: decision for decision in keeper.records.decisions}
    assert by_vault[system.vaults[2].address].reason == "would revert: vault: paused"
    assert all(by_vault[vault.address].act and by_vault[vault.address].gas_shared_by == 2 for vault in system.vaults[:2])
    (confirmed,) = keeper.records.events("confirmed")
    assert confirmed.kind == "batch" and confirmed.rebalanced == tuple(v.address for v in system.vaults[:2])
    assert read_check(system.vaults[2]).needs_rebalance


def test_a_stuck_transaction_is_replaced_with_higher_fees_and_its_nonce(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    chain = system.chain
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK, stuck_after_blocks=3))
    _move_oracle(system, 3150.0)
    nonce_before = chain.w3.eth.get_transaction_count(keeper.account)
    with _mempool(chain), _base_fee_restored(chain):
        keeper.step()
        (sent,) = keeper.records.events("sent")
        assert sent.nonce == nonce_before
        _mine_ignoring_the_mempool(chain, 2)
        keeper.step()
        assert keeper.records.events("replaced") == []  # 2 blocks: not yet stuck
        _mine_ignoring_the_mempool(chain, 1)
        keeper.step()
        (replaced,) = keeper.records.events("replaced")
        assert replaced.nonce == sent.nonce and replaced.tx_hash != sent.tx_hash
        bump = (10_000 + REPLACEMENT_BUMP_BPS) / 10_000
        assert replaced.max_fee_per_gas_wei >= sent.max_fee_per_gas_wei * bump
        assert replaced.max_priority_fee_per_gas_wei >= sent.max_priority_fee_per_gas_wei * bump
        chain.mine()
    keeper.step()
    (confirmed,) = keeper.records.events("confirmed")
    assert confirmed.tx_hash == replaced.tx_hash
    assert _receipt(chain, sent.tx_hash) is None  # the stuck one never made it
    assert chain.w3.eth.get_transaction(replaced.tx_hash)["nonce"] == sent.nonce  # type: ignore[arg-type]
    assert chain.w3.eth.get_transaction_count(keeper.account) == nonce_before + 1
    # The next transaction takes the next nonce.
    _move_oracle(system, 3600.0)
    _step(keeper)
    assert [event.nonce for event in keeper.records.events("confirmed")] == [nonce_before, nonce_before + 1]


def test_a_nonce_taken_by_another_sender_of_the_key_drops_the_transaction(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    chain = system.chain
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK))
    _move_oracle(system, 3150.0)
    with _mempool(chain):
        keeper.step()
        (sent,) = keeper.records.events("sent")
        # Someone else holding the keeper's key spends the same nonce, paying more.
        chain.w3.eth.send_transaction({"from": keeper.account, "to": chain.accounts[3], "value": 1, "gas": 21_000,
                                       "nonce": sent.nonce, "maxFeePerGas": 2 * sent.max_fee_per_gas_wei,
                                       "maxPriorityFeePerGas": 2 * sent.max_priority_fee_per_gas_wei})  # fmt: skip
        chain.mine()
    _step(keeper)
    (dropped,) = keeper.records.events("dropped")
    assert dropped.tx_hash == sent.tx_hash and dropped.reason == f"nonce {sent.nonce} was used by another transaction"
    (confirmed,) = keeper.records.events("confirmed")  # checked again, rebalanced with the next nonce
    assert confirmed.nonce == sent.nonce + 1 and not read_check(system.vaults[0]).needs_rebalance


def test_a_sandwiched_rebalance_reverts_is_recorded_and_the_keeper_carries_on(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    chain = system.chain
    attacker = chain.accounts[ATTACKER]
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK))
    chain.transact(system.stable.functions.mint(attacker, 500_000 * USDC), system.deployer)
    chain.transact(system.stable.functions.approve(system.pool.address, 2**256 - 1), attacker)
    chain.transact(system.risk_asset.functions.approve(system.pool.address, 2**256 - 1), attacker)
    risk_is_token0 = system.pool.functions.token0().call() == system.risk_asset.address
    _move_oracle(system, 3150.0)
    nonce = chain.w3.eth.get_transaction_count(keeper.account)
    front_run = system.pool.functions.swap_exact_out(not risk_is_token0, 40 * 10**18, 2**255, attacker)
    gas = front_run.estimate_gas({"from": attacker})
    with _mempool(chain):
        # The attacker's buy waits in the mempool with a higher tip; the keeper checks the mined state.
        front_run.transact({"from": attacker, "gas": 2 * gas, "maxFeePerGas": 200 * GWEI,
                            "maxPriorityFeePerGas": 50 * GWEI})  # fmt: skip
        keeper.step()
        (sent,) = keeper.records.events("sent")
        assert sent.kind == "single"
        chain.mine()
    keeper.step()
    (reverted,) = keeper.records.events("reverted")
    assert reverted.tx_hash == sent.tx_hash and reverted.nonce == nonce
    assert reverted.reason.startswith("slippage")
    assert reverted.gas_used > 0 and reverted.rebalanced == ()
    assert _receipt(chain, sent.tx_hash)["status"] == 0  # type: ignore[index]
    assert chain.w3.eth.get_transaction_count(keeper.account) == nonce + 1  # the nonce is spent
    assert keeper.in_flight == {}
    # Checked again at once: the pool is still off, so the keeper does not send into it.
    last = keeper.records.decisions[-1]
    assert not last.act and last.reason.startswith("would revert: slippage")
    # The attacker sells back; the keeper rebalances with the next nonce.
    chain.transact(system.pool.functions.swap_exact_in(risk_is_token0, 40 * 10**18, 0, attacker), attacker)
    _step(keeper)
    (confirmed,) = keeper.records.events("confirmed")
    assert confirmed.nonce == nonce + 1 and confirmed.rebalanced == (system.vaults[0].address,)
    assert not read_check(system.vaults[0]).needs_rebalance


def test_the_keeper_waits_for_the_configured_confirmations(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK, confirmations=3))
    _move_oracle(system, 3150.0)
    _step(keeper)
    (included,) = keeper.records.events("included")
    assert keeper.records.events("confirmed") == [] and len(keeper.in_flight) == 1
    system.chain.mine()
    keeper.step()
    assert keeper.records.events("confirmed") == []
    system.chain.mine()
    keeper.step()
    (confirmed,) = keeper.records.events("confirmed")
    assert confirmed.block - confirmed.included_block + 1 == 3  # type: ignore[operator]
    assert confirmed.tx_hash == included.tx_hash and keeper.in_flight == {}
    # While it was waiting, the vault (back in band) was not rebalanced twice.
    assert len(keeper.records.events("sent")) == 1


def test_an_l2_data_fee_is_priced_into_the_cost(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    l2 = OpStackFeeConfig(l1_base_fee_gwei=30.0, l1_blob_base_fee_gwei=5.0)
    config = KeeperConfig(risk_aversion_per_usd=DEAR_RISK, priority_fee_gwei=1000.0, fee_history_blocks=0, l2=l2)
    keeper = Keeper.for_system(system, config)  # gas so dear that it skips: the vault's state stays as priced
    _move_oracle(system, 3150.0)
    keeper.step()
    (decision,) = keeper.records.decisions
    expected_usd = (decision.gas * decision.gas_price_wei + decision.l1_fee_wei) / WEI_PER_ETH * 3150.0
    assert decision.gas_cost_usd == pytest.approx(expected_usd, rel=1e-12)
    vault = system.vaults[0]
    check = read_check(vault)
    limit = keeper.slippage_limit(vault, check.trade_risk_asset_1e18, 3150.0)
    data = vault.encode_abi("rebalance", args=[check.trade_risk_asset_1e18, limit])

    def l1_fee(fee_wei: int) -> int:
        unsigned = unsigned_type2_bytes({"to": vault.address, "data": data, "gas": decision.gas, "nonce": 0,
                                         "chainId": 1, "maxFeePerGas": fee_wei, "maxPriorityFeePerGas": fee_wei})
        return ecotone_l1_fee_wei(unsigned, 30 * GWEI, 5 * GWEI, 1368, 810949)

    # The offered fees' own bytes (1 to 8 of them each) bound the fee from both sides.
    assert l1_fee(1) < decision.l1_fee_wei < l1_fee(2**64 - 1)


def test_run_steps_on_new_blocks_and_stops_on_request(system: DeployedSystem) -> None:
    _only_first_vault_kept(system)
    keeper = Keeper.for_system(system, KeeperConfig(risk_aversion_per_usd=DEAR_RISK, poll_interval_s=0.01))
    _move_oracle(system, 3150.0)
    keeper.run(max_blocks=2)  # the oracle's block, then the block holding the rebalance
    assert len(keeper.records.events("confirmed")) == 1
    timer = threading.Timer(0.2, keeper.stop)
    timer.start()
    keeper.run()  # no new block comes: returns once stopped
    timer.join()
    assert len(keeper.records.events("sent")) == 1


def test_a_bad_keeper_field_is_named() -> None:
    with pytest.raises(ConfigError, match="fee_bump_bps"):
        validate(KeeperConfig, {"fee_bump_bps": 500})
    with pytest.raises(ConfigError, match="confirmations"):
        validate(KeeperConfig, {"confirmations": 0})


def test_the_cli_posts_prices_and_keeps_the_vault(chain: Chain, tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("vault_count = 3", "vault_count = 1")
    if not chain.is_in_process:
        url = chain.backend.url  # type: ignore[union-attr]
        text = text.replace('kind = "in_process"', f'kind = "rpc"\nurl = "{url}"\nreceipt_poll_latency_s = 0.01')
    text += "\n[keeper]\nrisk_aversion_per_usd = 0.01\nhorizon_hours = 24.0\n"
    config = tmp_path / "chain.toml"
    config.write_text(text)
    result = RUNNER.invoke(app, ["chain", "keep", str(config), "--blocks", "4", "--interval-s", "3600", "--vol", "2.5", "--seed", "1", "--move-time"])
    assert result.exit_code == 0, result.output
    assert "4 prices from gbm" in result.output
    assert "act: worth it" in result.output and "confirmed" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("risk_aversion_per_usd = 0.01", "risk_aversion_per_usd = -1"))
    result = RUNNER.invoke(app, ["chain", "keep", str(bad)])
    assert result.exit_code == 1 and "keeper.risk_aversion_per_usd" in result.output
