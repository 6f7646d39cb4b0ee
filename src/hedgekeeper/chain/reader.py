"""Read the contracts' state for the keeper: a vault's ``check()``, its parameters, the oracle's rounds, the pool.

Thin adapters: each function makes the contract calls and returns a frozen
dataclass that keeps the contract's integers (``*_1e18``, base units, oracle
decimals) and offers float views in coin and USD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.types import BlockIdentifier

from hedgekeeper.chain.errors import StaleOracle
from hedgekeeper.chain.units import from_fixed
from hedgekeeper.venues.amm.constant_product import ConstantProductPool


@dataclass(frozen=True, slots=True)
class VaultCheck:
    """A vault's ``check()`` at one block.

    Attributes
    ----------
    vault : str, the vault's address
    needs_rebalance : bool, net delta outside the inner band
    beyond_outer_band : bool, outside the outer band: anyone may rebalance, for the reward
    delta_deviation_1e18 : int, net delta - target, coin, 18-decimal fixed point
    trade_risk_asset_1e18 : int, the trade to send now (> 0 buys), coin, 1e18, clipped to the max trade
    oracle_age_s : int, seconds since the oracle's answer was posted
    block : BlockIdentifier, the block the call was made at
    """

    vault: str
    needs_rebalance: bool
    beyond_outer_band: bool
    delta_deviation_1e18: int
    trade_risk_asset_1e18: int
    oracle_age_s: int
    block: BlockIdentifier

    @property
    def delta_deviation_coin(self) -> float:
        """Return net delta minus target, coin."""
        return from_fixed(self.delta_deviation_1e18)

    @property
    def trade_risk_asset_coin(self) -> float:
        """Return the trade to send, coin (> 0 buys the risk asset)."""
        return from_fixed(self.trade_risk_asset_1e18)


def read_check(vault: Contract, block: BlockIdentifier = "latest") -> VaultCheck:
    """Return ``vault.check()`` at ``block``."""
    needs, beyond, deviation, trade, age = vault.functions.check().call(block_identifier=block)
    return VaultCheck(vault.address, bool(needs), bool(beyond), int(deviation), int(trade), int(age), block)


def read_checks(batcher: Contract, vaults: Sequence[str], block: BlockIdentifier = "latest") -> list[VaultCheck]:
    """Return ``check()`` of every vault (at most 64) in one call through ``batcher.check_many``.

    Parameters
    ----------
    batcher : the batcher contract
    vaults : addresses of the vaults, in the order wanted
    """
    rows = batcher.functions.check_many(list(vaults)).call(block_identifier=block)
    return [
        VaultCheck(address, bool(needs), bool(beyond), int(deviation), int(trade), int(age), block)
        for address, needs, beyond, deviation, trade, age in rows
    ]


@dataclass(frozen=True, slots=True)
class OracleRound:
    """One round of a Chainlink-style aggregator.

    Attributes
    ----------
    round_id : int
    answer : int, USD per coin with ``decimals`` decimals
    started_at_s, updated_at_s : int, unix seconds
    answered_in_round : int
    decimals : int, the answer's decimals (8 for USD feeds)
    """

    round_id: int
    answer: int
    started_at_s: int
    updated_at_s: int
    answered_in_round: int
    decimals: int

    @property
    def price_usd(self) -> float:
        """Return the answer in USD per coin."""
        return from_fixed(self.answer, self.decimals)

    def age_s(self, now_s: int) -> int:
        """Return the answer's age at ``now_s`` (unix seconds), seconds."""
        return max(0, now_s - self.updated_at_s)


def read_oracle_round(oracle: Contract, round_id: int | None = None, block: BlockIdentifier = "latest") -> OracleRound:
    """Return the oracle's latest round, or round ``round_id``."""
    if round_id is None:
        data = oracle.functions.latestRoundData().call(block_identifier=block)
    else:
        data = oracle.functions.getRoundData(round_id).call(block_identifier=block)
    decimals = oracle.functions.decimals().call(block_identifier=block)
    return OracleRound(*(int(x) for x in data), decimals=int(decimals))


def require_fresh(round_: OracleRound, now_s: int, max_age_s: int, description: str = "oracle") -> OracleRound:
    """Return ``round_`` if its answer is at most ``max_age_s`` old at ``now_s``.

    Raises
    ------
    StaleOracle
        "ETH / USD oracle is 412 s old, limit 120 s".
    """
    age = round_.age_s(now_s)
    if age > max_age_s:
        raise StaleOracle(f"{description} is {age} s old, limit {max_age_s} s (round {round_.round_id})")
    return round_


@dataclass(frozen=True, slots=True)
class VaultOption:
    """One written option of a vault's book: strike USD per coin (1e18), expiry unix s, size coin (1e18)."""

    strike_1e18: int
    expiry_ts: int
    size_1e18: int
    is_call: bool


@dataclass(frozen=True, slots=True)
class VaultParameters:
    """A vault's configuration as its public getters return it (units in ``vault.vy``)."""

    owner: str
    stable: str
    risk_asset: str
    oracle: str
    pool: str
    batcher: str
    paused: bool
    last_rebalance_ts: int
    implied_vol_1e18: int
    target_delta_1e18: int
    inner_band_1e18: int
    outer_band_1e18: int
    max_slippage_bps: int
    max_oracle_age_s: int
    cooldown_s: int
    max_trade_1e18: int
    ripcord_reward: int
    options: tuple[VaultOption, ...]


_PARAMETER_GETTERS = tuple(name for name in VaultParameters.__dataclass_fields__ if name != "options")


def read_vault_parameters(vault: Contract, block: BlockIdentifier = "latest") -> VaultParameters:
    """Return every parameter of ``vault`` and its options book."""
    values: dict[str, Any] = {
        name: getattr(vault.functions, name)().call(block_identifier=block) for name in _PARAMETER_GETTERS
    }
    count = vault.functions.option_count().call(block_identifier=block)
    options = tuple(VaultOption(*vault.functions.options(i).call(block_identifier=block)) for i in range(count))
    return VaultParameters(**values, options=options)


@dataclass(frozen=True, slots=True)
class PoolState:
    """A constant-product pool's tokens, reserves (base units) and fee (bps)."""

    token0: str
    token1: str
    reserve0: int
    reserve1: int
    fee_bps: int

    def model(self) -> ConstantProductPool:
        """Return the pool as ``hedgekeeper.venues.amm``'s Uniswap v2 model (exact to the contract's integers)."""
        return ConstantProductPool(self.reserve0, self.reserve1, fee_pips=self.fee_bps * 100)


def read_pool(pool: Contract, block: BlockIdentifier = "latest") -> PoolState:
    """Return ``pool``'s tokens, reserves and fee at ``block``."""
    token0, token1, reserve0, reserve1, fee_bps = (
        getattr(pool.functions, name)().call(block_identifier=block)
        for name in ("token0", "token1", "reserve0", "reserve1", "fee_bps")
    )
    return PoolState(token0, token1, int(reserve0), int(reserve1), int(fee_bps))
