"""gas.py against EIP-1559 written out independently, the nodes' own base fees, and the OP-stack formula.

The chain tests run on the in-process EVM (py-evm) and on anvil: both compute
each block's base fee themselves, so ``next_base_fee_wei`` of every block must
give the next block's ``baseFeePerGas`` exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest
import rlp
from eth_account import Account

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem
from hedgekeeper.chain.gas import (
    REPLACEMENT_BUMP_BPS,
    Eip1559Fees,
    bump,
    calldata_l1_gas,
    ecotone_l1_fee_wei,
    effective_gas_price_wei,
    next_base_fee_wei,
    priority_fee_from_history_wei,
    replacement_fees,
    suggest_fees,
    transaction_cost_usd,
    unsigned_type2_bytes,
)
from hedgekeeper.errors import BadData

GWEI = 10**9


@pytest.fixture
def _isolated(isolate: Chain) -> Iterator[None]:
    yield


def eip1559_reference(parent_base: int, used: int, limit: int) -> int:
    """EIP-1559's ``calc_base_fee`` as its specification reads, step by step (elasticity 2, denominator 8)."""
    target = limit // 2
    if used == target:
        return parent_base
    if used > target:
        gas_used_delta = used - target
        base_fee_per_gas_delta = max(parent_base * gas_used_delta // target // 8, 1)
        return parent_base + base_fee_per_gas_delta
    gas_used_delta = target - used
    base_fee_per_gas_delta = parent_base * gas_used_delta // target // 8
    return parent_base - base_fee_per_gas_delta


def test_base_fee_moves_at_most_one_eighth_and_matches_the_reference_on_random_blocks() -> None:
    rng = np.random.default_rng(11)
    limit = 30_000_000
    assert next_base_fee_wei(8 * GWEI, limit, limit) == 9 * GWEI  # full block: +12.5%
    assert next_base_fee_wei(8 * GWEI, 0, limit) == 7 * GWEI  # empty block: -12.5%
    assert next_base_fee_wei(8 * GWEI, limit // 2, limit) == 8 * GWEI  # at target: unchanged
    assert next_base_fee_wei(7, limit // 2 + 1, limit) == 8  # a rise is at least 1 wei
    for _ in range(2000):
        base = int(rng.integers(1, 500 * GWEI))
        used = int(rng.integers(0, limit + 1))
        assert next_base_fee_wei(base, used, limit) == eip1559_reference(base, used, limit)
        assert abs(next_base_fee_wei(base, used, limit) - base) <= max(base // 8, 1)


def test_next_base_fee_is_what_the_node_puts_in_the_next_block(system: DeployedSystem, _isolated: None) -> None:
    # Blocks mined here, with a deployment's worth of transactions: an earlier test on the same node may
    # have left a base-fee override pending (anvil keeps it across evm_revert), which only the first
    # block mined after it carries; every block after that follows EIP-1559 from its parent.
    w3, chain = system.chain.w3, system.chain
    first = w3.eth.block_number + 1
    for _ in range(6):
        chain.transact(system.stable.functions.mint(chain.accounts[2], 10**6), system.deployer)
    blocks = [w3.eth.get_block(number) for number in range(first, w3.eth.block_number + 1)]
    assert len(blocks) >= 6 and all(block["gasUsed"] > 0 for block in blocks)
    for parent, child in itertools.pairwise(blocks):
        predicted = next_base_fee_wei(parent["baseFeePerGas"], parent["gasUsed"], parent["gasLimit"])
        assert predicted == child["baseFeePerGas"], f"block {child['number']}"


def test_the_receipt_charges_the_effective_price(system: DeployedSystem, _isolated: None) -> None:
    w3 = system.chain.w3
    sender, receiver = system.chain.accounts[2], system.chain.accounts[3]
    latest = w3.eth.get_block("latest")
    base = next_base_fee_wei(latest["baseFeePerGas"], latest["gasUsed"], latest["gasLimit"])
    capped = Eip1559Fees(base + GWEI // 2, GWEI // 2 + base // 2, base)  # the max fee binds, not base + tip
    for fees in (suggest_fees(base, 3 * GWEI), capped):
        tx_hash = w3.eth.send_transaction(
            {"from": sender, "to": receiver, "value": 1, "gas": 21_000, **fees.as_transaction_fields()}
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.01)
        block_base = w3.eth.get_block(receipt["blockNumber"])["baseFeePerGas"]
        assert receipt["effectiveGasPrice"] == fees.effective_gas_price_wei(block_base)
        assert receipt["effectiveGasPrice"] == min(fees.max_fee_per_gas_wei, block_base + fees.max_priority_fee_per_gas_wei)


def test_the_offer_is_twice_the_base_fee_plus_the_tip_and_the_cap_holds() -> None:
    fees = suggest_fees(30 * GWEI, 2 * GWEI)
    assert fees.max_fee_per_gas_wei == 62 * GWEI
    assert fees.effective_gas_price_wei() == 32 * GWEI
    assert fees.includable(62 * GWEI) and not fees.includable(62 * GWEI + 1)
    capped = suggest_fees(30 * GWEI, 2 * GWEI, max_fee_cap_wei=40 * GWEI)
    assert capped.max_fee_per_gas_wei == 40 * GWEI and capped.max_priority_fee_per_gas_wei == 2 * GWEI
    assert effective_gas_price_wei(39 * GWEI, 40 * GWEI, 2 * GWEI) == 40 * GWEI


def test_a_replacement_raises_both_fees_by_at_least_the_bump() -> None:
    rng = np.random.default_rng(5)
    for _ in range(500):
        tip = int(rng.integers(0, 50 * GWEI))
        stuck = Eip1559Fees(tip + int(rng.integers(1, 200 * GWEI)), tip, 0)
        fresh = suggest_fees(int(rng.integers(1, 300 * GWEI)), int(rng.integers(0, 5 * GWEI)))
        new = replacement_fees(stuck, fresh)
        for old_fee, new_fee in (
            (stuck.max_fee_per_gas_wei, new.max_fee_per_gas_wei),
            (stuck.max_priority_fee_per_gas_wei, new.max_priority_fee_per_gas_wei),
        ):
            assert Fraction(new_fee) >= Fraction(old_fee) * Fraction(10_000 + REPLACEMENT_BUMP_BPS, 10_000)
            assert new_fee > old_fee
        assert new.max_fee_per_gas_wei >= fresh.max_fee_per_gas_wei
        assert new.max_fee_per_gas_wei >= new.max_priority_fee_per_gas_wei
    assert bump(8 * GWEI) == 9 * GWEI


def test_the_tip_is_the_median_of_the_fee_history_or_the_fallback(system: DeployedSystem) -> None:
    assert priority_fee_from_history_wei([[5], [1], [9], [7]], 0) == 5
    history = system.chain.w3.eth.fee_history(5, "latest", [50.0])
    rewards = history.get("reward") or []
    tip = priority_fee_from_history_wei(rewards, fallback_tip_wei=123)
    if rewards:  # anvil reports the tips paid (1 gwei by default)
        assert tip == sorted(row[0] for row in rewards)[(len(rewards) - 1) // 2]
    else:  # eth-tester reports none
        assert tip == 123


def test_the_ecotone_fee_matches_the_published_decimal_form() -> None:
    # OP Mainnet's Ecotone parameters as published in decimal form (ethereum-optimism/optimism
    # discussion #9879): fee = l1_gas * (0.001368 * L1 base fee + 0.810949 * L1 blob base fee / 16)
    rng = np.random.default_rng(3)
    for _ in range(200):
        raw = rng.integers(0, 256, int(rng.integers(0, 400)))
        raw[rng.random(raw.size) < 0.4] = 0  # calldata is full of zero bytes
        data = bytes(raw.astype(np.uint8))
        l1_base, blob_base = int(rng.integers(1, 200 * GWEI)), int(rng.integers(1, 50 * GWEI))
        zeros = data.count(0)
        l1_gas = 4 * zeros + 16 * (len(data) - zeros) + 68 * 16
        assert calldata_l1_gas(data) == l1_gas
        exact = l1_gas * (Fraction("0.001368") * l1_base + Fraction("0.810949") * blob_base / 16)
        fee = ecotone_l1_fee_wei(data, l1_base, blob_base, 1368, 810949)
        assert fee == int(exact)  # the predeploy rounds down


def test_unsigned_encoding_is_the_signed_transaction_without_its_signature() -> None:
    account = Account.create("keeper")
    transaction = {
        "chainId": 10, "nonce": 7, "maxPriorityFeePerGas": 2 * GWEI, "maxFeePerGas": 50 * GWEI, "gas": 250_000,
        "to": "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB", "value": 0, "data": "0x" + "00" * 4 + "12" * 64, "type": 2, "accessList": [],
    }  # fmt: skip
    raw = bytes(account.sign_transaction(transaction).raw_transaction)
    assert raw[0] == 2
    signed_fields = rlp.decode(raw[1:])
    unsigned = unsigned_type2_bytes(transaction)
    assert unsigned[0] == 2
    assert rlp.decode(unsigned[1:]) == signed_fields[:9]


def test_cost_in_usd_is_gas_times_price_plus_l1_fee_at_the_eth_price() -> None:
    assert transaction_cost_usd(150_000, 20 * GWEI, 2500.0) == pytest.approx(150_000 * 20e-9 * 2500.0, rel=1e-15)
    assert transaction_cost_usd(21_000, GWEI, 3000.0, l1_fee_wei=10**15) == pytest.approx(
        (21_000 * 1e-9 + 1e-3) * 3000.0, rel=1e-15
    )
    with pytest.raises(BadData, match="eth_usd is nan"):
        transaction_cost_usd(1, 1, float("nan"))
