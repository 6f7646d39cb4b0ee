"""What the keeper did: its verdict on each vault out of band, and every event of each of its transactions.

``Keeper.records`` (``chain/keeper.py``) is a ``KeeperRecorder``; the service stores each
record as it comes (``chain_records``) and shows the latest on ``/api/chain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeeperDecision:
    """The keeper's verdict on one vault out of band, at one block.

    Attributes
    ----------
    block : int, the block the vault was checked at
    ts_s : int, that block's timestamp, unix seconds
    vault : str, the vault's address
    act : bool, whether a rebalance was sent
    reason : str, why, with the numbers
    hard_limit : str, the hard limit crossed ("" when none)
    deviation_coin, trade_coin : float, net delta - target and the trade to send, coin
    gas : int, ``eth_estimateGas`` of the vault's rebalance, or its share of the batch's, gas units (0: not estimated)
    gas_shared_by : int, the vaults of the batch whose estimate ``gas`` is a share of (1: its own call; 0: none)
    gas_price_wei : int, the effective price expected per gas, wei
    l1_fee_wei : int, the OP-stack L1 data fee expected (0 without ``l2``), wei
    gas_cost_usd : float, gas and L1 data fee, USD
    cost_usd : float, gas cost plus the pool's fee on the trade, USD (the fee alone when gas was not estimated)
    benefit_usd : float, certainty equivalent of the delta risk removed, USD
    spot_usd : float, the oracle price used, USD per coin
    oracle_round : int, the oracle round it came from
    """

    block: int
    ts_s: int
    vault: str
    act: bool
    reason: str
    hard_limit: str
    deviation_coin: float
    trade_coin: float
    gas: int
    gas_shared_by: int
    gas_price_wei: int
    l1_fee_wei: int
    gas_cost_usd: float
    cost_usd: float
    benefit_usd: float
    spot_usd: float
    oracle_round: int


@dataclass(frozen=True, slots=True)
class KeeperTransaction:
    """One event in a keeper transaction's life.

    Attributes
    ----------
    block : int, the block at which the keeper saw the event
    event : str, ``sent``, ``replaced``, ``send_failed``, ``included``, ``reverted``, ``confirmed`` or
        ``dropped`` (its nonce went to a transaction sent by someone else with the same key)
    tx_hash : str, 0x-hex ("" when the node refused the send)
    nonce : int, the sender's nonce (a replacement keeps it)
    kind : str, ``single`` (``vault.rebalance``) or ``batch`` (``batcher.rebalance_many``)
    vaults : tuple of str, the vaults the transaction rebalances
    max_fee_per_gas_wei, max_priority_fee_per_gas_wei : int, the fees offered, wei per gas
    gas_limit : int, gas units
    included_block : int or None, the block that holds it
    gas_used : int, gas units (0 before inclusion)
    effective_gas_price_wei : int, wei per gas paid (0 before inclusion)
    cost_usd : float, gas paid (and L1 data fee) at the oracle price, USD
    rebalanced : tuple of str, the vaults actually rebalanced (a batch skips those back in band)
    reason : str, the revert reason, the node's refusal, or what was replaced
    """

    block: int
    event: str
    tx_hash: str
    nonce: int
    kind: str
    vaults: tuple[str, ...]
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    gas_limit: int
    included_block: int | None = None
    gas_used: int = 0
    effective_gas_price_wei: int = 0
    cost_usd: float = 0.0
    rebalanced: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class KeeperRecorder:
    """Every decision and transaction event of a keeper, in order."""

    decisions: list[KeeperDecision] = field(default_factory=list)
    transactions: list[KeeperTransaction] = field(default_factory=list)

    def events(self, event: str) -> list[KeeperTransaction]:
        """Return the transaction events named ``event`` (e.g. ``"confirmed"``)."""
        return [record for record in self.transactions if record.event == event]
