"""The keeper: follows blocks, checks every vault, rebalances those worth it, and sees each transaction through.

One block's work is ``Keeper.step()`` (tests and the engine drive it
deterministically); ``Keeper.run()`` polls ``eth_blockNumber`` and steps on each
new block until ``stop()`` or a block budget. A step:

1. reconciles the transactions in flight: a receipt frees its vaults (a revert is
   recorded with the contract's reason, replayed by ``eth_call``, and the vault is
   checked again this very step); a successful one is confirmed once
   ``confirmations`` blocks hold it; one not mined ``stuck_after_blocks`` after it
   was sent is replaced with the same nonce and fees at least ``fee_bump_bps``
   higher on both the max fee and the tip; one whose nonce another sender of the
   key spent is recorded as dropped;
2. reads every vault's ``check()`` in one call (``batcher.check_many``, 64 a call)
   and the oracle's latest round;
3. for each vault out of band and not in flight, prices its rebalance against the
   certainty equivalent of the delta risk it removes
   (``policy.cost_aware.hedge_benefit_usd``: ``(gamma / 2) (trade S sigma)^2 tau``
   with the vault's implied vol). The cost is the pool's fee on the trade plus
   gas: ``eth_estimateGas`` on the real call (the vault's ``rebalance`` when one
   vault, an equal share of ``rebalance_many`` when several; a vault whose call
   would revert is skipped with its reason, nothing spent), EIP-1559 fees for the
   next block (``gas.py``) and an optional OP-stack L1 data fee, all in USD at the
   oracle price. A vault whose benefit does not even cover the pool fee is
   skipped before any estimate. It acts when the benefit exceeds the cost, or
   regardless when a hard limit is crossed (beyond the outer band, or out of band
   for ``max_out_of_band_s``);
4. sends one transaction for the vaults acted on: ``vault.rebalance`` with the
   slippage bound against the oracle price when one, ``batcher.rebalance_many``
   (at most ``max_batch`` a transaction) when several; nonces come from the
   keeper's own counter (the node's pending count is read once, at the first
   send, and again only after a send fails), so a nonce is never reused.

Every verdict (``KeeperDecision``) and every transaction event
(``KeeperTransaction``) is kept in ``records`` and logged.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

from eth_tester.exceptions import TransactionFailed
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3Exception
from web3.logs import DISCARD
from web3.types import TxReceipt

from hedgekeeper.chain.backends import Chain, revert_reason
from hedgekeeper.chain.deploy import MAX_BATCH, DeployedSystem
from hedgekeeper.chain.errors import NodeUnavailable
from hedgekeeper.chain.gas import (
    WEI_PER_GWEI,
    Eip1559Fees,
    ecotone_l1_fee_wei,
    next_base_fee_wei,
    priority_fee_from_history_wei,
    replacement_fees,
    suggest_fees,
    transaction_cost_usd,
    unsigned_type2_bytes,
)
from hedgekeeper.chain.keeper_config import BPS, KeeperConfig
from hedgekeeper.chain.keeper_records import KeeperDecision, KeeperRecorder, KeeperTransaction
from hedgekeeper.chain.reader import VaultCheck, read_checks, read_oracle_round
from hedgekeeper.chain.units import from_fixed
from hedgekeeper.policy.cost_aware import HOURS_PER_YEAR, hedge_benefit_usd, hedge_cost_usd

logger = logging.getLogger(__name__)

_REVERTS = (ContractLogicError, TransactionFailed)  # a node's revert; eth-tester's


@dataclass
class _InFlight:
    nonce: int
    kind: str
    vaults: tuple[str, ...]
    transaction: dict[str, Any]  # web3 fields, fees included
    fees: Eip1559Fees
    hashes: list[bytes]
    sent_block: int
    l1_fee_wei: int
    receipt: TxReceipt | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    vault: Contract
    check: VaultCheck
    hard: str
    benefit_usd: float
    swap_cost_usd: float
    function: Any  # the vault's own rebalance call


@dataclass(frozen=True, slots=True)
class _VaultInfo:
    implied_vol: float
    max_slippage_bps: int
    stable_unit: int


class Keeper:
    """Keep vaults in band at least cost; see the module docstring.

    Parameters
    ----------
    chain : Chain
    batcher : Contract, the batcher (``check_many``, ``rebalance_many``)
    vaults : sequence of Contract, the vaults kept
    oracle : Contract, the price oracle the vaults read (its price values the gas too)
    pool : Contract, the pool the vaults trade against (its fee is a cost)
    account : str, the keeper's address (an account the chain signs for)
    config : KeeperConfig

    Attributes
    ----------
    records : KeeperRecorder
    last_block_ : int or None, the last block stepped
    oracle_round_ : int, the oracle round seen at the last step

    Examples
    --------
    >>> system = deploy_system(load_system_config("examples/chain.toml"))  # doctest: +SKIP
    >>> keeper = Keeper.for_system(system, KeeperConfig(confirmations=2))  # doctest: +SKIP
    >>> keeper.step()  # one block's work; keeper.run() loops until keeper.stop()  # doctest: +SKIP
    True
    >>> [(d.vault, d.act, d.reason) for d in keeper.records.decisions]  # doctest: +SKIP
    """

    def __init__(
        self,
        chain: Chain,
        *,
        batcher: Contract,
        vaults: list[Contract] | tuple[Contract, ...],
        oracle: Contract,
        pool: Contract,
        account: str,
        config: KeeperConfig | None = None,
    ) -> None:
        self.chain = chain
        self.batcher = batcher
        self.vaults = tuple(vaults)
        self.oracle = oracle
        self.pool = pool
        self.account = account
        self.config = KeeperConfig() if config is None else config
        self.records = KeeperRecorder()
        self.last_block_: int | None = None
        self.oracle_round_ = 0
        self._stop = threading.Event()
        self._next_nonce: int | None = None
        self._in_flight: dict[int, _InFlight] = {}
        self._out_of_band_since: dict[str, int] = {}
        self._info: dict[str, _VaultInfo] = {}
        self._by_address = {vault.address: vault for vault in self.vaults}
        self._pool_fee_fraction: float | None = None
        self._single_gas: dict[str, int] = {}
        self._batch_gas: dict[tuple[str, ...], int] = {}
        self._prepared = False

    @classmethod
    def for_system(cls, system: DeployedSystem, config: KeeperConfig | None = None, account: str | None = None) -> Keeper:
        """Return a keeper of every vault of ``system``, sending from ``account`` (default: its first keeper)."""
        return cls(
            system.chain,
            batcher=system.batcher,
            vaults=system.vaults,
            oracle=system.oracle,
            pool=system.pool,
            account=system.keepers[0] if account is None else account,
            config=config,
        )

    # ------------------------------------------------------------------ loop

    def step(self, force: bool = False) -> bool:
        """Do one block's work if a block came since the last step (or ``force``); return whether it did."""
        w3 = self.chain.w3
        number = int(w3.eth.block_number)
        if not force and self.last_block_ is not None and number <= self.last_block_:
            return False
        block = w3.eth.get_block(number)
        if not self._prepared:
            self.prepare()
        self._reconcile(number)
        oracle_round = read_oracle_round(self.oracle, block=number)
        if oracle_round.round_id != self.oracle_round_:
            logger.info("block %d: oracle round %d at %.2f USD", number, oracle_round.round_id, oracle_round.price_usd)
            self.oracle_round_ = oracle_round.round_id
        checks = self._checks(number)
        fees = self._fees(block)
        acted = self._decide(number, int(block["timestamp"]), checks, fees, oracle_round.price_usd)
        self._send(number, acted, fees, oracle_round.price_usd)
        self.last_block_ = number  # done: a step that failed before is tried again (vaults in flight are not resent)
        self._reconcile(int(w3.eth.block_number), after_send=True)
        return True

    def prepare(self) -> Keeper:
        """Read what the keeper needs and does not change block to block; return self.

        Every vault's implied vol, slippage limit and stablecoin unit, and the pool's
        fee, so that the first vault to leave its band costs no more calls than the
        next. ``step`` calls it once; call it again after the owner changes a vault.
        """
        self._info = {vault.address: self._read_vault_info(vault) for vault in self.vaults}
        self._pool_fee_fraction = int(self.pool.functions.fee_bps().call()) / BPS
        self._prepared = True
        return self

    def run(self, max_blocks: int | None = None) -> KeeperRecorder:
        """Step on every new block until ``stop()`` or ``max_blocks`` blocks were stepped; return the records.

        A step that fails on the node (no answer, an RPC error) is logged and tried
        again at the next poll; the transactions in flight stay tracked.
        """
        self._stop.clear()
        stepped = 0
        while not self._stop.is_set() and (max_blocks is None or stepped < max_blocks):
            try:
                if self.step():
                    stepped += 1
                    continue
            except (Web3Exception, OSError, NodeUnavailable) as error:  # the node: try again next poll
                logger.warning("keeper step failed at block %s: %s: %s", self.last_block_, type(error).__name__, error)
            self._stop.wait(self.config.poll_interval_s)
        return self.records

    def stop(self) -> None:
        """Make ``run`` return after the current step."""
        self._stop.set()

    @property
    def in_flight(self) -> dict[int, tuple[str, ...]]:
        """Return the transactions not yet final: nonce -> vaults."""
        return {nonce: flight.vaults for nonce, flight in self._in_flight.items()}

    @property
    def awaiting_receipt(self) -> dict[int, str]:
        """Return the transactions sent and not yet seen in a block: nonce -> the latest hash (0x-hex)."""
        return {
            nonce: "0x" + flight.hashes[-1].hex() for nonce, flight in self._in_flight.items() if flight.receipt is None
        }

    # --------------------------------------------------------------- reading

    def _checks(self, block: int) -> list[VaultCheck]:
        addresses = [vault.address for vault in self.vaults]
        checks: list[VaultCheck] = []
        for start in range(0, len(addresses), MAX_BATCH):
            checks.extend(read_checks(self.batcher, addresses[start : start + MAX_BATCH], block))
        return checks

    def _fees(self, block: Any) -> Eip1559Fees:
        """Return the offer for the next block: its base fee from ``block`` and the tip (history or configured)."""
        config = self.config
        base = next_base_fee_wei(int(block["baseFeePerGas"]), int(block["gasUsed"]), int(block["gasLimit"]))
        tip = round(config.priority_fee_gwei * WEI_PER_GWEI)
        if config.fee_history_blocks > 0:
            try:
                history = self.chain.w3.eth.fee_history(
                    config.fee_history_blocks, block["number"], [config.fee_history_percentile]
                )
                tip = max(tip, priority_fee_from_history_wei(history.get("reward") or [], tip))
            except (Web3Exception, ValueError, NotImplementedError) as error:
                logger.debug("eth_feeHistory unavailable (%s): configured tip %d wei", error, tip)
        cap = None if config.max_fee_gwei is None else round(config.max_fee_gwei * WEI_PER_GWEI)
        return suggest_fees(base, tip, cap)

    @staticmethod
    def _read_vault_info(vault: Contract) -> _VaultInfo:
        functions = vault.functions
        return _VaultInfo(
            from_fixed(functions.implied_vol_1e18().call()),
            int(functions.max_slippage_bps().call()),
            int(functions.stable_unit().call()),
        )

    def _vault_info(self, vault: Contract) -> _VaultInfo:
        info = self._info.get(vault.address)
        if info is None:
            info = self._info[vault.address] = self._read_vault_info(vault)
        return info

    def _swap_fee_fraction(self) -> float:
        if self._pool_fee_fraction is None:
            self._pool_fee_fraction = int(self.pool.functions.fee_bps().call()) / BPS
        return self._pool_fee_fraction

    def _l1_fee_wei(self, transaction: dict[str, Any]) -> int:
        """Return the OP-stack L1 data fee of ``transaction`` (0 without ``l2``), wei."""
        l2 = self.config.l2
        if l2 is None:
            return 0
        return ecotone_l1_fee_wei(
            unsigned_type2_bytes(transaction),
            round(l2.l1_base_fee_gwei * WEI_PER_GWEI),
            round(l2.l1_blob_base_fee_gwei * WEI_PER_GWEI),
            l2.base_fee_scalar,
            l2.blob_base_fee_scalar,
        )

    def slippage_limit(self, vault: Contract, trade_1e18: int, spot_usd: float) -> int:
        """Return ``rebalance``'s bound for ``trade_1e18`` at the oracle price, stablecoin base units.

        A buy pays at most the trade's oracle value plus the slippage, a sell receives
        at least its value less it (``slippage_bps``, or the vault's own limit).
        """
        info = self._vault_info(vault)
        bps = info.max_slippage_bps if self.config.slippage_bps is None else self.config.slippage_bps
        value = abs(trade_1e18) * spot_usd * info.stable_unit / 10**18
        if trade_1e18 > 0:
            return math.ceil(value * (BPS + bps) / BPS)
        return math.floor(value * (BPS - bps) / BPS)

    # -------------------------------------------------------------- deciding

    def _hard_limit(self, check: VaultCheck, now_s: int) -> str:
        if check.beyond_outer_band:
            return "beyond the outer band"
        limit = self.config.max_out_of_band_s
        since = self._out_of_band_since.get(check.vault)
        if limit is not None and since is not None and now_s - since >= limit:
            return f"out of band for {now_s - since} s, limit {limit} s"
        return ""

    def _decide(
        self, block: int, now_s: int, checks: list[VaultCheck], fees: Eip1559Fees, spot_usd: float
    ) -> list[tuple[Contract, VaultCheck]]:
        """Record a verdict for every vault out of band; return those to rebalance."""
        busy = {vault for flight in self._in_flight.values() if flight.receipt is None for vault in flight.vaults}
        config = self.config
        horizon_years = config.horizon_hours / HOURS_PER_YEAR
        fee_fraction = self._swap_fee_fraction() if config.include_swap_fee else 0.0
        candidates: list[_Candidate] = []
        for check in checks:
            if not check.needs_rebalance:
                self._out_of_band_since.pop(check.vault, None)
                continue
            self._out_of_band_since.setdefault(check.vault, now_s)
            vault = self._by_address[check.vault]
            trade_coin = check.trade_risk_asset_coin
            candidate = _Candidate(
                vault, check, self._hard_limit(check, now_s),
                hedge_benefit_usd(trade_coin, spot_usd, self._vault_info(vault).implied_vol,
                                  config.risk_aversion_per_usd, horizon_years),
                hedge_cost_usd(trade_coin, spot_usd, fee_fraction),
                vault.functions.rebalance(
                    check.trade_risk_asset_1e18, self.slippage_limit(vault, check.trade_risk_asset_1e18, spot_usd)
                ),
            )  # fmt: skip
            if check.vault in busy:
                self._skip(block, now_s, spot_usd, candidate, "a rebalance is in flight")
            elif not candidate.hard and candidate.benefit_usd <= candidate.swap_cost_usd:
                self._skip(block, now_s, spot_usd, candidate,
                           f"cost above benefit: benefit {candidate.benefit_usd:.4f} USD not above the pool fee "
                           f"{candidate.swap_cost_usd:.4f} USD alone (gas not estimated)")  # fmt: skip
            else:
                candidates.append(candidate)
        gas_price = fees.effective_gas_price_wei()
        acted: list[tuple[Contract, VaultCheck]] = []
        for candidate, (gas, shared_by, l1_fee) in self._estimate(block, now_s, spot_usd, candidates, fees):
            gas_cost = transaction_cost_usd(gas, gas_price, spot_usd, l1_fee)
            cost = gas_cost + candidate.swap_cost_usd
            share = f", its share of a batch of {shared_by}" if shared_by > 1 else ""
            numbers = (
                f"benefit {candidate.benefit_usd:.4f} USD, cost {cost:.4f} USD (gas {gas}{share} at "
                f"{gas_price / WEI_PER_GWEI:.3f} gwei = {gas_cost:.4f} USD, pool fee {candidate.swap_cost_usd:.4f} "
                f"USD); trade {candidate.check.trade_risk_asset_coin:+.4f} coin at {spot_usd:.2f}"
            )
            if candidate.hard:
                act, reason = True, f"hard limit: {candidate.hard}; {numbers}"
            elif candidate.benefit_usd > cost:
                act, reason = True, f"worth it: {numbers}"
            else:
                act, reason = False, f"cost above benefit: {numbers}"
            self._record(self._decision(block, now_s, spot_usd, candidate, act, reason, gas=gas, gas_shared_by=shared_by,
                                        gas_price_wei=gas_price, l1_fee_wei=l1_fee, gas_cost_usd=gas_cost,
                                        cost_usd=cost))  # fmt: skip
            if act:
                acted.append((candidate.vault, candidate.check))
        return acted

    def _decision(
        self, block: int, now_s: int, spot_usd: float, candidate: _Candidate, act: bool, reason: str, **costs: Any
    ) -> KeeperDecision:
        check = candidate.check
        values: dict[str, Any] = {"gas": 0, "gas_shared_by": 0, "gas_price_wei": 0, "l1_fee_wei": 0,
                                  "gas_cost_usd": 0.0, "cost_usd": 0.0, **costs}  # fmt: skip
        return KeeperDecision(
            block=block, ts_s=now_s, vault=check.vault, act=act, reason=reason, hard_limit=candidate.hard,
            deviation_coin=check.delta_deviation_coin, trade_coin=check.trade_risk_asset_coin,
            benefit_usd=candidate.benefit_usd, spot_usd=spot_usd, oracle_round=self.oracle_round_, **values,
        )  # fmt: skip

    def _skip(self, block: int, now_s: int, spot_usd: float, candidate: _Candidate, reason: str) -> None:
        self._record(self._decision(block, now_s, spot_usd, candidate, False, reason, cost_usd=candidate.swap_cost_usd))

    def _estimate_gas(self, function: Any) -> int:
        return int(function.estimate_gas({"from": self.account}, block_identifier="latest"))

    def _estimate(
        self, block: int, now_s: int, spot_usd: float, candidates: list[_Candidate], fees: Eip1559Fees
    ) -> list[tuple[_Candidate, tuple[int, int, int]]]:
        """Return each candidate that would not revert with (gas, vaults sharing it, L1 fee wei), by ``eth_estimateGas``.

        One vault: its ``rebalance`` call. Several: ``rebalance_many`` over them (in
        chunks of ``max_batch``), each vault charged an equal share; the batch's
        ``eth_call`` first tells which vaults it would skip, and their own call the
        reason. A vault whose call would revert is recorded as skipped.
        """
        self._single_gas.clear()
        self._batch_gas.clear()
        estimated: list[tuple[_Candidate, tuple[int, int, int]]] = []

        def single(candidate: _Candidate) -> None:
            try:
                gas = self._estimate_gas(candidate.function)
            except _REVERTS as error:
                self._skip(block, now_s, spot_usd, candidate, f"would revert: {revert_reason(error) or '(no reason)'}")
                return
            self._single_gas[candidate.vault.address] = gas
            transaction = {"to": candidate.vault.address, "data": candidate.vault.encode_abi("rebalance", args=candidate.function.args),
                           "gas": gas, **fees.as_transaction_fields()}  # fmt: skip
            estimated.append((candidate, (gas, 1, self._l1_fee_wei(transaction))))

        if len(candidates) == 1:
            single(candidates[0])
            return estimated
        size = self.config.max_batch
        for start in range(0, len(candidates), size):
            chunk = candidates[start : start + size]
            addresses = [candidate.vault.address for candidate in chunk]
            done = self.batcher.functions.rebalance_many(addresses).call({"from": self.account}, "latest")
            kept = []
            for candidate, ok in zip(chunk, done, strict=True):
                if ok:
                    kept.append(candidate)
                else:
                    self._skip(block, now_s, spot_usd, candidate, f"would revert: {self._call_reason(candidate)}")
            if len(kept) == 1:
                single(kept[0])
            elif kept:
                function = self.batcher.functions.rebalance_many([candidate.vault.address for candidate in kept])
                gas = self._estimate_gas(function)
                self._batch_gas[tuple(candidate.vault.address for candidate in kept)] = gas
                data = self.batcher.encode_abi("rebalance_many", args=function.args)
                transaction = {"to": self.batcher.address, "data": data, "gas": gas, **fees.as_transaction_fields()}
                l1_fee = self._l1_fee_wei(transaction)
                count = len(kept)
                estimated.extend((candidate, (-(-gas // count), count, -(-l1_fee // count))) for candidate in kept)
        return estimated

    def _call_reason(self, candidate: _Candidate) -> str:
        try:
            candidate.function.call({"from": self.account}, "latest")
        except _REVERTS as error:
            return revert_reason(error) or "(no reason)"
        return "(the batch skips it, its own call does not revert)"

    # --------------------------------------------------------------- sending

    def _send(self, block: int, acted: list[tuple[Contract, VaultCheck]], fees: Eip1559Fees, spot_usd: float) -> None:
        if not acted:
            return
        margin = self.config.gas_limit_margin
        if len(acted) == 1:
            vault, check = acted[0]
            limit = self.slippage_limit(vault, check.trade_risk_asset_1e18, spot_usd)
            function = vault.functions.rebalance(check.trade_risk_asset_1e18, limit)
            gas = self._single_gas.get(vault.address)
            try:
                gas = self._estimate_gas(function) if gas is None else gas
            except _REVERTS as error:
                self._record(KeeperTransaction(block, "send_failed", "", -1, "single", (vault.address,), 0, 0, 0,
                                               reason=f"estimate reverted: {revert_reason(error)}"))  # fmt: skip
                return
            self._send_new(block, "single", (vault.address,), function, math.ceil(gas * margin), fees)
            return
        size = self.config.max_batch
        for start in range(0, len(acted), size):
            chunk = tuple(vault.address for vault, _ in acted[start : start + size])
            function = self.batcher.functions.rebalance_many(list(chunk))
            gas = self._batch_gas.get(chunk)
            try:
                gas = self._estimate_gas(function) if gas is None else gas
            except _REVERTS as error:
                self._record(KeeperTransaction(block, "send_failed", "", -1, "batch", chunk, 0, 0, 0,
                                               reason=f"estimate reverted: {revert_reason(error)}"))  # fmt: skip
                continue
            self._send_new(block, "batch", chunk, function, math.ceil(gas * margin), fees)

    def _nonce(self) -> int:
        if self._next_nonce is None:
            # The node's count, never below a nonce still in flight here (eth-tester's
            # "pending" count does not see its own mempool).
            pending = int(self.chain.w3.eth.get_transaction_count(self.account, "pending"))
            self._next_nonce = max(pending, max(self._in_flight, default=-1) + 1)
        return self._next_nonce

    def _send_new(
        self, block: int, kind: str, vaults: tuple[str, ...], function: Any, gas_limit: int, fees: Eip1559Fees
    ) -> None:
        nonce = self._nonce()
        transaction = function.build_transaction(
            {"from": self.account, "nonce": nonce, "gas": gas_limit, **fees.as_transaction_fields()}
        )
        flight = _InFlight(nonce, kind, vaults, transaction, fees, [], block, self._l1_fee_wei(transaction))
        if self._transmit(block, flight, "sent", ""):
            self._next_nonce = nonce + 1
            self._in_flight[nonce] = flight

    def _transmit(self, block: int, flight: _InFlight, event: str, reason: str) -> bool:
        """Send ``flight.transaction``; record ``event`` or ``send_failed``; return whether the node took it."""
        try:
            tx_hash = bytes(self.chain.w3.eth.send_transaction(flight.transaction))  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 (the refusal: nonce too low, underpriced...; web3 or eth-tester types)
            self._record(self._event(block, flight, "send_failed", "", reason=f"{type(error).__name__}: {error}"))
            self._next_nonce = None  # resynchronise from the node at the next send
            return False
        flight.hashes.append(tx_hash)
        flight.sent_block = block
        self._record(self._event(block, flight, event, "0x" + tx_hash.hex(), reason=reason))
        return True

    def _event(self, block: int, flight: _InFlight, event: str, tx_hash: str, **extra: Any) -> KeeperTransaction:
        return KeeperTransaction(
            block, event, tx_hash, flight.nonce, flight.kind, flight.vaults, flight.fees.max_fee_per_gas_wei,
            flight.fees.max_priority_fee_per_gas_wei, int(flight.transaction["gas"]), **extra,
        )

    # ------------------------------------------------------------ following

    def _receipt(self, flight: _InFlight) -> TxReceipt | None:
        for tx_hash in reversed(flight.hashes):
            try:
                receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                continue
            if receipt is not None and receipt.get("blockNumber") is not None:
                return receipt
        return None

    def _reconcile(self, block: int, after_send: bool = False) -> None:
        mined_count: int | None = None  # the account's nonce at the latest block, read when needed
        for nonce in sorted(self._in_flight):
            flight = self._in_flight[nonce]
            receipt = self._receipt(flight)
            if receipt is None:
                if flight.receipt is not None:  # reorganised out: wait again
                    flight.receipt = None
                if mined_count is None:
                    mined_count = int(self.chain.w3.eth.get_transaction_count(self.account, "latest"))
                if mined_count > nonce and self._receipt(flight) is None:
                    # The nonce went to a transaction this keeper did not send (another process
                    # with the same key): ours can never be mined.
                    del self._in_flight[nonce]
                    self._record(self._event(block, flight, "dropped", "0x" + flight.hashes[-1].hex(),
                                             reason=f"nonce {nonce} was used by another transaction"))  # fmt: skip
                    continue
                if not after_send and block - flight.sent_block >= self.config.stuck_after_blocks:
                    self._replace(block, flight)
                continue
            if flight.receipt is None:
                flight.receipt = receipt
                self._included(block, flight, receipt)
                if receipt["status"] != 1:
                    del self._in_flight[nonce]
                    continue
            if block - int(receipt["blockNumber"]) + 1 >= self.config.confirmations:
                del self._in_flight[nonce]
                self._record(self._mined_event(block, flight, receipt, "confirmed"))

    def _replace(self, block: int, flight: _InFlight) -> None:
        fresh = self._fees(self.chain.w3.eth.get_block(block))
        fees = replacement_fees(flight.fees, fresh, self.config.fee_bump_bps)
        stuck = flight.fees
        previous = dict(flight.transaction)
        flight.transaction = {**flight.transaction, **fees.as_transaction_fields()}
        flight.fees = fees
        reason = (
            f"not mined {block - flight.sent_block} blocks after sending (limit {self.config.stuck_after_blocks}); "
            f"max fee {stuck.max_fee_per_gas_wei} -> {fees.max_fee_per_gas_wei} wei, "
            f"tip {stuck.max_priority_fee_per_gas_wei} -> {fees.max_priority_fee_per_gas_wei} wei"
        )
        if not self._transmit(block, flight, "replaced", reason):
            flight.transaction, flight.fees = previous, stuck

    def _mined_event(self, block: int, flight: _InFlight, receipt: TxReceipt, event: str, **extra: Any) -> KeeperTransaction:
        gas_used = int(receipt["gasUsed"])
        price = int(receipt.get("effectiveGasPrice") or 0)
        spot = read_oracle_round(self.oracle, block=int(receipt["blockNumber"])).price_usd
        return self._event(
            block, flight, event, "0x" + bytes(receipt["transactionHash"]).hex(),
            included_block=int(receipt["blockNumber"]), gas_used=gas_used, effective_gas_price_wei=price,
            cost_usd=transaction_cost_usd(gas_used, price, spot, flight.l1_fee_wei),
            rebalanced=self._rebalanced(flight, receipt), **extra,
        )  # fmt: skip

    def _included(self, block: int, flight: _InFlight, receipt: TxReceipt) -> None:
        if receipt["status"] == 1:
            self._record(self._mined_event(block, flight, receipt, "included"))
            return
        reason = self._revert_reason(flight, int(receipt["blockNumber"]))
        self._record(self._mined_event(block, flight, receipt, "reverted", reason=reason))

    def _rebalanced(self, flight: _InFlight, receipt: TxReceipt) -> tuple[str, ...]:
        if receipt["status"] != 1:
            return ()
        events = self.vaults[0].events.Rebalanced().process_receipt(receipt, errors=DISCARD)
        done = {event.address for event in events}
        return tuple(vault for vault in flight.vaults if vault in done)

    def _revert_reason(self, flight: _InFlight, included_block: int) -> str:
        """Return why a mined transaction reverted: replayed by ``eth_call`` after, then before, its block."""
        call = {key: flight.transaction[key] for key in ("from", "to", "data", "value") if key in flight.transaction}
        call["gas"] = flight.transaction["gas"]
        for at in (included_block, included_block - 1):
            try:
                self.chain.w3.eth.call(call, block_identifier=at)  # type: ignore[arg-type]
            except _REVERTS as error:
                return revert_reason(error) or "(no reason)"
            except Web3Exception as error:
                return f"{type(error).__name__}: {error}"
        return "(not reproduced by eth_call: the state that made it revert is gone)"

    def _record(self, record: KeeperDecision | KeeperTransaction) -> None:
        if isinstance(record, KeeperDecision):
            self.records.decisions.append(record)
            logger.info("block %d vault %s: %s: %s", record.block, record.vault,
                        "act" if record.act else "skip", record.reason)
        else:
            self.records.transactions.append(record)
            logger.info("block %d: %s %s tx %s nonce %d (%d vaults)%s", record.block, record.event, record.kind,
                        record.tx_hash or "-", record.nonce, len(record.vaults),
                        f": {record.reason}" if record.reason else "")

