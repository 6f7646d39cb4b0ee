"""Gas prices and transaction costs: EIP-1559 fees, an OP-stack L1 data fee, USD.

Pure functions on integers (wei, gas) and floats (USD). Units: fees per gas in
wei (1 gwei = 10**9 wei), gas in gas units, ETH in ether (10**18 wei), USD.

EIP-1559 (https://eips.ethereum.org/EIPS/eip-1559)
--------------------------------------------------
A block's base fee follows from its parent's: with ``target = gas_limit // 2``
(the elasticity multiplier 2) and the change denominator 8,

    used == target: base' = base
    used  > target: base' = base + max(base * (used - target) // target // 8, 1)
    used  < target: base' = base - base * (target - used) // target // 8

so a full block raises it by 12.5% and an empty one lowers it by 12.5%. A
type-2 transaction offers ``max_fee_per_gas`` and ``max_priority_fee_per_gas``
(the tip); it pays ``min(max_fee, base + tip)`` per gas and is includable only
while ``max_fee >= base``. The keeper offers ``max_fee = 2 * base + tip``, which
stays includable through six full blocks in a row (1.125**6 = 2.03).

OP-stack L1 data fee (Ecotone)
------------------------------
A rollup also charges for posting the transaction's bytes to L1. After Ecotone
the ``GasPriceOracle`` predeploy (ethereum-optimism/optimism,
``packages/contracts-bedrock/src/L2/GasPriceOracle.sol``, ``_getL1FeeEcotone``
and ``_getCalldataGas``; https://docs.optimism.io/stack/transactions/fees,
"Ecotone") computes, on the unsigned RLP-encoded transaction::

    l1_gas  = 4 * zero_bytes + 16 * nonzero_bytes + 68 * 16      (68 bytes for the signature)
    l1_fee  = l1_gas * (16 * base_fee_scalar * l1_base_fee
                        + blob_base_fee_scalar * l1_blob_base_fee) // (16 * 10**6)

with the scalars as integers of 6 decimals (OP Mainnet: 1368 and 810949, i.e.
0.001368 and 0.810949). ``l1_gas / 16`` is the spec's ``tx_compressed_size``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils import to_bytes

from hedgekeeper.errors import BadData

WEI_PER_GWEI = 10**9
WEI_PER_ETH = 10**18
ELASTICITY_MULTIPLIER = 2
BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
REPLACEMENT_BUMP_BPS = 1250
"""The least fee increase a node accepts for a same-nonce replacement, bps (geth's and anvil's 10%, reth's 12.5%)."""
SIGNATURE_L1_GAS = 68 * 16
ECOTONE_SCALAR_DECIMALS = 6


def next_base_fee_wei(
    parent_base_fee_wei: int,
    parent_gas_used: int,
    parent_gas_limit: int,
    elasticity_multiplier: int = ELASTICITY_MULTIPLIER,
    max_change_denominator: int = BASE_FEE_MAX_CHANGE_DENOMINATOR,
) -> int:
    """Return the base fee of the block after a parent, per EIP-1559, wei per gas.

    Parameters
    ----------
    parent_base_fee_wei : int, the parent block's base fee, wei per gas
    parent_gas_used, parent_gas_limit : int, gas units of the parent block
    elasticity_multiplier : int, gas limit over gas target (2 on Ethereum)
    max_change_denominator : int, 8 on Ethereum (at most 12.5% per block)

    Returns
    -------
    int, wei per gas

    Examples
    --------
    >>> next_base_fee_wei(10**9, 30_000_000, 30_000_000), next_base_fee_wei(10**9, 0, 30_000_000)
    (1125000000, 875000000)
    >>> next_base_fee_wei(10**9, 15_000_000, 30_000_000)
    1000000000
    """
    target = parent_gas_limit // elasticity_multiplier
    if target == 0 or parent_gas_used == target:
        return parent_base_fee_wei
    if parent_gas_used > target:
        delta = parent_base_fee_wei * (parent_gas_used - target) // target // max_change_denominator
        return parent_base_fee_wei + max(delta, 1)
    delta = parent_base_fee_wei * (target - parent_gas_used) // target // max_change_denominator
    return parent_base_fee_wei - delta


def priority_fee_from_history_wei(rewards: Sequence[Sequence[int]], fallback_tip_wei: int, column: int = 0) -> int:
    """Return the median over blocks of one percentile column of ``eth_feeHistory``'s ``reward``, wei per gas.

    Parameters
    ----------
    rewards : per block, the tips paid at the requested percentiles, wei per gas
        (``eth_feeHistory(block_count, "latest", percentiles)["reward"]``)
    fallback_tip_wei : int, returned when there is no reward (a node without
        tips, such as eth-tester, or only empty blocks), wei per gas
    column : int, which requested percentile to use

    Returns
    -------
    int, wei per gas

    Examples
    --------
    >>> priority_fee_from_history_wei([[1, 5], [3, 7], [2, 9]], 10**9, column=1), priority_fee_from_history_wei([], 7)
    (7, 7)
    """
    tips = [int(row[column]) for row in rewards if len(row) > column]
    if not tips:
        return fallback_tip_wei
    return int(statistics.median_low(tips))


@dataclass(frozen=True, slots=True)
class Eip1559Fees:
    """The fees a type-2 transaction offers, wei per gas.

    Attributes
    ----------
    max_fee_per_gas_wei : int, the most paid per gas (base fee + tip included)
    max_priority_fee_per_gas_wei : int, the tip offered to the block builder
    base_fee_wei : int, the base fee the offer was made against (the next block's)
    """

    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    base_fee_wei: int

    def effective_gas_price_wei(self, base_fee_wei: int | None = None) -> int:
        """Return the price paid per gas at ``base_fee_wei`` (default: the offer's): ``min(max fee, base + tip)``."""
        base = self.base_fee_wei if base_fee_wei is None else base_fee_wei
        return effective_gas_price_wei(base, self.max_fee_per_gas_wei, self.max_priority_fee_per_gas_wei)

    def includable(self, base_fee_wei: int) -> bool:
        """Return whether a block with ``base_fee_wei`` can include the transaction (max fee >= base fee)."""
        return self.max_fee_per_gas_wei >= base_fee_wei

    def as_transaction_fields(self) -> dict[str, int]:
        """Return web3's transaction fields ``maxFeePerGas`` and ``maxPriorityFeePerGas``."""
        return {"maxFeePerGas": self.max_fee_per_gas_wei, "maxPriorityFeePerGas": self.max_priority_fee_per_gas_wei}


def effective_gas_price_wei(base_fee_wei: int, max_fee_per_gas_wei: int, max_priority_fee_per_gas_wei: int) -> int:
    """Return what a type-2 transaction pays per gas: ``min(max_fee, base + tip)``, wei.

    >>> effective_gas_price_wei(30 * 10**9, 100 * 10**9, 2 * 10**9), effective_gas_price_wei(99, 100, 2)
    (32000000000, 100)
    """
    return min(max_fee_per_gas_wei, base_fee_wei + max_priority_fee_per_gas_wei)


def suggest_fees(next_base_fee: int, tip_wei: int, max_fee_cap_wei: int | None = None) -> Eip1559Fees:
    """Return the offer ``max_fee = 2 * base + tip`` for the next block's base fee, wei per gas.

    Parameters
    ----------
    next_base_fee : int, the base fee expected in the next block, wei per gas
    tip_wei : int, the priority fee, wei per gas
    max_fee_cap_wei : int or None, the most the keeper ever offers per gas (the
        offer is capped there, tip included)

    Examples
    --------
    >>> suggest_fees(10 * 10**9, 10**9)
    Eip1559Fees(max_fee_per_gas_wei=21000000000, max_priority_fee_per_gas_wei=1000000000, base_fee_wei=10000000000)
    """
    max_fee = 2 * next_base_fee + tip_wei
    if max_fee_cap_wei is not None:
        max_fee = min(max_fee, max_fee_cap_wei)
        tip_wei = min(tip_wei, max_fee)
    return Eip1559Fees(max_fee, tip_wei, next_base_fee)


def bump(value_wei: int, bump_bps: int = REPLACEMENT_BUMP_BPS) -> int:
    """Return ``value_wei`` raised by ``bump_bps``, rounded up (so the raise is never short by rounding).

    >>> bump(100), bump(8), bump(0)
    (113, 9, 1)
    """
    return max(-(-value_wei * (10_000 + bump_bps) // 10_000), value_wei + 1)


def replacement_fees(stuck: Eip1559Fees, fresh: Eip1559Fees, bump_bps: int = REPLACEMENT_BUMP_BPS) -> Eip1559Fees:
    """Return fees for a same-nonce replacement: at least ``bump_bps`` above ``stuck`` on both fields, and ``fresh``.

    Nodes drop a replacement that does not raise both the max fee and the tip by
    their bump (10% in geth and anvil); taking the larger of the bumped offer and
    a fresh one also covers a base fee that rose past the stuck max fee.

    >>> stuck = Eip1559Fees(100, 10, 45)
    >>> replacement_fees(stuck, Eip1559Fees(90, 5, 42))
    Eip1559Fees(max_fee_per_gas_wei=113, max_priority_fee_per_gas_wei=12, base_fee_wei=42)
    """
    tip = max(bump(stuck.max_priority_fee_per_gas_wei, bump_bps), fresh.max_priority_fee_per_gas_wei)
    max_fee = max(bump(stuck.max_fee_per_gas_wei, bump_bps), fresh.max_fee_per_gas_wei, tip)
    return Eip1559Fees(max_fee, tip, fresh.base_fee_wei)


def calldata_l1_gas(data: bytes) -> int:
    """Return the OP-stack L1 gas of unsigned transaction bytes: 4 per zero, 16 per other byte, + 68 * 16.

    >>> calldata_l1_gas(bytes([0, 0, 1])), calldata_l1_gas(b"")
    (1112, 1088)
    """
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros) + SIGNATURE_L1_GAS


def ecotone_l1_fee_wei(
    unsigned_transaction: bytes,
    l1_base_fee_wei: int,
    l1_blob_base_fee_wei: int,
    base_fee_scalar: int,
    blob_base_fee_scalar: int,
) -> int:
    """Return the OP-stack (Ecotone) L1 data fee of a transaction, wei (see the module docstring).

    Parameters
    ----------
    unsigned_transaction : bytes, the unsigned RLP-encoded transaction
    l1_base_fee_wei, l1_blob_base_fee_wei : int, L1's base fee and blob base fee, wei per gas
    base_fee_scalar, blob_base_fee_scalar : int, the chain's scalars, 6 decimals (1368 is 0.001368)

    Returns
    -------
    int, wei, rounded down as the predeploy does

    Examples
    --------
    >>> ecotone_l1_fee_wei(bytes(100) + bytes([1] * 100), 20 * 10**9, 10**9, 1368, 810949)
    241000837000
    """
    weighted = 16 * base_fee_scalar * l1_base_fee_wei + blob_base_fee_scalar * l1_blob_base_fee_wei
    return calldata_l1_gas(unsigned_transaction) * weighted // (16 * 10**ECOTONE_SCALAR_DECIMALS)


def transaction_cost_usd(
    gas: int, gas_price_wei: int, eth_usd: float, l1_fee_wei: int = 0
) -> float:
    """Return the USD cost of ``gas`` units at ``gas_price_wei`` plus an L1 data fee, ETH at ``eth_usd``.

    Parameters
    ----------
    gas : int, gas units
    gas_price_wei : int, the effective price per gas, wei
    eth_usd : float, USD per ETH (the oracle's price when the chain's gas token is the vault's risk asset)
    l1_fee_wei : int, a rollup's L1 data fee, wei (0 on L1)

    Returns
    -------
    float, USD

    >>> transaction_cost_usd(200_000, 20 * 10**9, 3000.0)
    12.0
    """
    if not math.isfinite(eth_usd) or eth_usd <= 0.0:
        raise BadData(f"eth_usd is {eth_usd}, not a positive price")
    return (gas * gas_price_wei + l1_fee_wei) / WEI_PER_ETH * eth_usd


def unsigned_type2_bytes(transaction: dict[str, Any]) -> bytes:
    """Return the unsigned EIP-1559 (type 2) encoding of ``transaction``: ``0x02 || rlp([...])``.

    Fields are web3's (``chainId``, ``nonce``, ``maxPriorityFeePerGas``, ``maxFeePerGas``,
    ``gas``, ``to``, ``value``, ``data``); the access list is empty.
    """
    data = transaction.get("data", b"")
    payload = [
        int(transaction.get("chainId", 1)),
        int(transaction.get("nonce", 0)),
        int(transaction["maxPriorityFeePerGas"]),
        int(transaction["maxFeePerGas"]),
        int(transaction["gas"]),
        to_bytes(hexstr=transaction["to"]),
        int(transaction.get("value", 0)),
        to_bytes(hexstr=data) if isinstance(data, str) else bytes(data),
        [],
    ]
    return b"\x02" + rlp.encode(payload)
