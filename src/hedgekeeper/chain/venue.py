"""The deployed constant-product pool (``contracts/pool.vy``) as a ``Venue``: orders become swap transactions.

``ChainPoolVenue`` is ``venues/amm/venue.py``'s ``PoolVenue`` on a real chain
(the in-process EVM or any JSON-RPC node), with the same semantics:

- a swap executes whole at once or not at all, so an order is immediate-or-cancel
  and fill-or-kill at once; one that would rest (GTC, post-only) or amend is
  refused (the request checks are ``PoolVenue``'s, ``swap_request_problem``);
- a buy asks for exactly its quantity of the coin (``swap_exact_out``), a sell pays
  exactly its quantity in (``swap_exact_in``);
- a limit price bounds the average price and becomes the transaction's bound: a
  buy's ``max_in`` is ``floor(limit * quantity)`` USD base units, a sell's
  ``min_out`` is ``ceil(limit * quantity)``, so the pool reverts ("slippage: ...")
  rather than fill beyond it. A market order is bounded by the quote on the
  reserves read on chain just before, ``market_tolerance_bps`` worse. An order
  whose swap reverts ends ``EXPIRED`` (slippage, or a pool that cannot fill it) or
  ``REJECTED`` (any other revert: an empty balance, ...) with the revert reason;
  nothing moves.

A place is: read the pool, approve the pool for the input token if its allowance
is short (once, for the maximum), send the swap, wait for its receipt. The gas
node estimates the swap before it is sent, so a swap that would revert at that
moment is never sent and costs nothing; one that reverts once mined (another
transaction moved the pool first in the same block) costs its gas, kept in the
order's ``raw`` and in ``gas_spent_usd``.

Idempotency: the swap's transaction hash is remembered under the client order id
the moment it is sent. A place or ``order`` of that id afterwards looks the
receipt up and never sends again. A receipt not there within
``receipt_timeout_s`` raises ``SwapPending`` (a ``RequestTimeout``: the order
manager looks the order up, finds it ``ACKNOWLEDGED`` and settles it at the next
reconciliation).

Fills come from the receipt: the pool's ``Swap`` event gives the exact amounts in
base units. The fill's quantity is the coin, ``raw["usd"]`` the USD paid or
received and the price their ratio (28 significant digits), as ``PoolVenue``. The
fee of a fill is the gas its order paid (the swap's, and the approval's when one
was sent for it): ``gas used * effective gas price`` in wei of the chain's native
coin, converted to USD at the price oracle's answer at the swap's block (the
oracle must price the native coin: ``gas_oracle``, by default ``oracle``). The
gas, the gas price, the oracle's answer and round are recorded in the fill's
``raw``.

Balances are the account's ERC-20 ``balanceOf`` of both tokens, exact; the
position is the coin held. Fills are stamped with ``clock`` (the engine's time);
each keeps its block's timestamp in ``raw``.

Sample ``Swap`` event (``pool.vy``), as web3 decodes it::

    {'args': {'sender': '0x1efF...', 'recipient': '0x1efF...', 'zero_for_one': False,
              'amount_in': 1000000000, 'amount_out': 332222924581397448,
              'reserve0': 999667777075418602552, 'reserve1': 3001000000000},
     'event': 'Swap', 'logIndex': 2, 'blockNumber': 21, ...}
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TimeExhausted, TransactionNotFound
from web3.logs import DISCARD
from web3.types import TxReceipt

from hedgekeeper.chain.backends import Chain, revert_reason
from hedgekeeper.chain.deploy import DeployedSystem
from hedgekeeper.chain.reader import read_pool
from hedgekeeper.errors import InvalidOrder, OrderNotFound, RequestTimeout
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.portfolio.values import Money, Price, decimal_places
from hedgekeeper.timestamps import TimeSource
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.pool_quote import PoolTokens, pool_mid_usd
from hedgekeeper.venues.amm.venue import CAPABILITIES, SwapRefusals, swap_order_view, swap_request_problem
from hedgekeeper.venues.base import Capability, Support
from hedgekeeper.venues.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    Side,
    VenueOrder,
    VenuePosition,
)

MAX_UINT256 = 2**256 - 1
_REVERTS = (ContractLogicError, TransactionFailed)  # web3 over a node; eth-tester in process
_EXPIRING_REASONS = ("slippage:", "pool: insufficient liquidity")  # the market could not fill it: EXPIRED


class SwapPending(RequestTimeout):
    """A swap was sent but its receipt did not come in time; looking the order up later settles it."""


@dataclass
class _Sent:
    """A swap sent for one client order id: its transaction, the approval sent for it, the bounds."""

    request: OrderRequest
    swap_tx: bytes
    approve_tx: bytes | None
    coin_units: int
    bound_units: int  # max_in (buy) or min_out (sell), USD base units
    sent_ns: int


class ChainPoolVenue(SwapRefusals):
    """The ``Venue`` of one account trading one coin/stablecoin pool deployed on a chain.

    Parameters
    ----------
    name : str, the venue's name
    instrument : Instrument, spot, on this venue: quantities in coin, its lot at least one base unit
    chain : Chain, connected (``chain.backends.connect``)
    pool : Contract, the ``pool.vy`` between the coin and the stablecoin
    coin_token, usd_token : Contract, the two ``erc20.vy`` tokens (the risk asset and the stablecoin)
    oracle : Contract, the ``oracle.vy`` pricing the native gas coin in USD (Chainlink-style answer)
    account : str, the address that trades (one the chain signs for)
    clock : TimeSource, stamping orders and fills (ns since the epoch)
    usd_currency : str, the stablecoin's currency name
    market_tolerance_bps : float >= 0, how much worse than the on-chain quote a market order may fill, bps
    receipt_timeout_s : float > 0, how long a place waits for a receipt before ``SwapPending``, seconds
    receipt_poll_latency_s : float > 0, seconds between receipt polls
    swap_gas_units : int > 0, the gas of a swap assumed before one is seen (``gas_estimate_usd``)
    """

    capabilities: Mapping[Capability, Support] = CAPABILITIES

    def __init__(self, name: str, instrument: Instrument, chain: Chain, pool: Contract, coin_token: Contract,
                 usd_token: Contract, oracle: Contract, account: str, clock: TimeSource, *,
                 usd_currency: str = "USDC", market_tolerance_bps: float = 100.0, receipt_timeout_s: float = 30.0,
                 receipt_poll_latency_s: float = 0.01, swap_gas_units: int = 100_000) -> None:
        if instrument.kind is not InstrumentKind.SPOT or instrument.venue != name:
            raise InvalidOrder(f"chain pool venue {name!r} trades a spot instrument of its own, "
                               f"got {instrument.instrument_id} ({instrument.kind}, venue {instrument.venue!r})")
        if not (market_tolerance_bps >= 0 and receipt_timeout_s > 0 and receipt_poll_latency_s > 0
                and swap_gas_units > 0):
            raise InvalidOrder(f"chain pool venue {name!r}: market_tolerance_bps {market_tolerance_bps} must be "
                               f">= 0, receipt_timeout_s {receipt_timeout_s}, receipt_poll_latency_s "
                               f"{receipt_poll_latency_s} and swap_gas_units {swap_gas_units} > 0")
        self.name = name
        self.instrument = instrument
        self.chain = chain
        self.pool = pool
        self.coin_token = coin_token
        self.usd_token = usd_token
        self.oracle = oracle
        self.account = chain.w3.to_checksum_address(account)
        self.clock = clock
        self.usd_currency = usd_currency
        self.market_tolerance_bps = market_tolerance_bps
        self.receipt_timeout_s = receipt_timeout_s
        self.receipt_poll_latency_s = receipt_poll_latency_s
        self.swap_gas_units = swap_gas_units
        token0 = pool.functions.token0().call()
        if {token0, pool.functions.token1().call()} != {coin_token.address, usd_token.address}:
            raise InvalidOrder(f"{name}: pool {pool.address} does not trade {coin_token.address} against "
                               f"{usd_token.address}")
        self.tokens = PoolTokens(coin_is_token0=token0 == coin_token.address,
                                 coin_decimals=int(coin_token.functions.decimals().call()),
                                 usd_decimals=int(usd_token.functions.decimals().call()))
        self.gas_spent_usd = Decimal(0)
        self._orders: dict[str, VenueOrder] = {}
        self._sent: dict[str, _Sent] = {}
        self._approvals: dict[str, bytes] = {}
        self._fills: list[Fill] = []
        self._sequence = itertools.count(1)

    @classmethod
    def from_system(cls, name: str, instrument: Instrument, system: DeployedSystem, account: str, clock: TimeSource,
                    **options: Any) -> ChainPoolVenue:
        """Return the venue of ``account`` on the pool of a system from ``chain.deploy.deploy_system``."""
        return cls(name, instrument, system.chain, system.pool, system.risk_asset, system.stable, system.oracle,
                   account, clock, **options)

    # -- reading the chain ---------------------------------------------------------------------------------

    def pool_model(self) -> ConstantProductPool:
        """Return the pool as it stands on chain, as the exact Python model."""
        return read_pool(self.pool).model()

    def mid_usd(self) -> float:
        """Return the pool's marginal price before fees, USD per coin."""
        return pool_mid_usd(self.pool_model(), self.tokens)

    def native_price_usd(self, block: int | str = "latest") -> tuple[Decimal, int, int, int]:
        """Return the oracle's price of the native coin at ``block``.

        Returns
        -------
        (Decimal USD per coin, int raw answer, int round id, int the answer's updatedAt in unix seconds)
        """
        round_id, answer, _, updated_at, _ = self.oracle.functions.latestRoundData().call(block_identifier=block)
        decimals = int(self.oracle.functions.decimals().call(block_identifier=block))
        return Decimal(int(answer)).scaleb(-decimals), int(answer), int(round_id), int(updated_at)

    def _usd_of_wei(self, wei: int, block: int | str = "latest") -> Decimal:
        return Decimal(wei).scaleb(-18) * self.native_price_usd(block)[0]

    def gas_estimate_usd(self) -> float:
        """Return one swap's gas cost now, USD: the last swap's gas (else ``swap_gas_units``) at the node's gas price."""
        gas = next((int(f.raw["swap_gas_used"]) for f in reversed(self._fills) if f.raw), self.swap_gas_units)
        return float(self._usd_of_wei(gas * int(self.chain.w3.eth.gas_price)))

    def order_tx(self, client_order_id: str) -> bytes | None:
        """Return the hash of the swap sent for ``client_order_id``, None if none was sent."""
        sent = self._sent.get(client_order_id)
        return None if sent is None else sent.swap_tx

    # -- the Venue protocol --------------------------------------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        """Return the pool's one instrument."""
        return [self.instrument]

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Swap ``request``'s quantity in one transaction, whole or not at all; return the order.

        Idempotent on the client order id: a second place of an id returns the order
        known, or waits for the receipt of the swap already sent; it never sends again.

        Raises
        ------
        UnknownInstrument
            If the order is not for the pool's instrument.
        InvalidOrder
            If it would rest (GTC, post-only), its size is off the lot, or a market order carries a price.
        SwapPending
            The swap was sent and its receipt did not come within ``receipt_timeout_s``.
        NodeUnavailable
            The node did not answer.
        """
        known = self._orders.get(request.client_order_id)
        if known is not None and known.status.is_terminal:
            return known
        sent = self._sent.get(request.client_order_id)
        if sent is not None:
            return self._settle(sent, self._wait(sent.swap_tx, request.client_order_id))
        problem = swap_request_problem(self.name, self.instrument, request)
        coin_units = request.quantity.value.scaleb(self.tokens.coin_decimals)
        if problem is None and coin_units != coin_units.to_integral_value():
            problem = f"size {request.quantity} is finer than the coin's {self.tokens.coin_decimals} decimals"
        if problem is not None:
            self._orders[request.client_order_id] = self._view(request, OrderStatus.REJECTED, reason=problem)
            raise InvalidOrder(f"{self.name}: order {request.client_order_id} refused: {problem}")
        return self._send(request, int(coin_units))

    def _bound_units(self, request: OrderRequest, coin_units: int) -> int:
        """Return the swap's max_in (buy) or min_out (sell), USD base units, from the limit or the on-chain quote."""
        usd_scale = Decimal(10) ** self.tokens.usd_decimals
        if request.price is not None:
            notional = request.price.value * request.quantity.value * usd_scale
            return int(notional.to_integral_value(ROUND_FLOOR if request.side is Side.BUY else ROUND_CEILING))
        model = self.pool_model()
        tolerance = self.market_tolerance_bps * 1e-4
        if request.side is Side.BUY:
            return math.floor(model.amount_in(coin_units, not self.tokens.coin_is_token0) * (1.0 + tolerance))
        return math.ceil(model.amount_out(coin_units, self.tokens.coin_is_token0) * (1.0 - tolerance))

    def _send(self, request: OrderRequest, coin_units: int) -> VenueOrder:
        buy = request.side is Side.BUY
        try:
            bound = self._bound_units(request, coin_units)
        except AmmError as error:
            return self._end(request, OrderStatus.EXPIRED, f"the pool cannot fill it: {error}")
        token_in, needed = (self.usd_token, bound) if buy else (self.coin_token, coin_units)
        approve_tx = self._approvals.get(request.client_order_id)  # sent by an earlier try that timed out
        if approve_tx is None and int(token_in.functions.allowance(self.account, self.pool.address).call()) < needed:
            try:
                approve_tx = token_in.functions.approve(self.pool.address, MAX_UINT256).transact(
                    {"from": self.account})
            except _REVERTS as error:
                return self._end(request, OrderStatus.REJECTED, f"approve reverted: {revert_reason(error)}")
            self._approvals[request.client_order_id] = approve_tx
        if approve_tx is not None and self._wait(approve_tx, request.client_order_id)["status"] != 1:
            gas = self._gas_of(approve_tx)
            self.gas_spent_usd += self._usd_of_wei(gas["gas_wei"])
            return self._end(request, OrderStatus.REJECTED, f"approve {Web3.to_hex(approve_tx)} reverted", raw=gas)
        if buy:
            function = self.pool.functions.swap_exact_out(not self.tokens.coin_is_token0, coin_units, bound,
                                                          self.account)
        else:
            function = self.pool.functions.swap_exact_in(self.tokens.coin_is_token0, coin_units, bound, self.account)
        try:
            swap_tx = function.transact({"from": self.account})
        except _REVERTS as error:
            reason = revert_reason(error)
            gas = self._gas_of(approve_tx)
            self.gas_spent_usd += self._usd_of_wei(gas["gas_wei"])
            return self._end(request, _status_of(reason), f"the swap reverts: {reason}",
                             raw={"bound_units": bound, **gas})
        sent = _Sent(request, swap_tx, approve_tx, coin_units, bound, self.clock.now_ns())
        self._sent[request.client_order_id] = sent
        self._orders[request.client_order_id] = self._view(request, OrderStatus.ACKNOWLEDGED,
                                                           venue_order_id=Web3.to_hex(swap_tx))
        return self._settle(sent, self._wait(swap_tx, request.client_order_id))

    def _wait(self, tx_hash: bytes, client_order_id: str) -> TxReceipt:
        try:
            return self.chain.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout_s, poll_latency=self.receipt_poll_latency_s)
        except TimeExhausted as error:
            raise SwapPending(f"{self.name}: order {client_order_id}: no receipt for {Web3.to_hex(tx_hash)} within "
                              f"{self.receipt_timeout_s} s") from error

    def _receipt_now(self, tx_hash: bytes) -> TxReceipt | None:
        try:
            return self.chain.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def _gas_of(self, *tx_hashes: bytes | None) -> dict[str, Any]:
        """Return the gas the mined transactions among ``tx_hashes`` paid: units, wei and per-transaction detail."""
        detail = []
        for tx_hash in tx_hashes:
            receipt = None if tx_hash is None else self._receipt_now(tx_hash)
            if tx_hash is not None and receipt is not None:
                detail.append({"tx": Web3.to_hex(tx_hash), "gas_used": int(receipt["gasUsed"]),
                               "effective_gas_price_wei": int(receipt["effectiveGasPrice"])})
        wei = sum(d["gas_used"] * d["effective_gas_price_wei"] for d in detail)
        return {"gas_used": sum(d["gas_used"] for d in detail), "gas_wei": wei, "transactions": detail}

    def _settle(self, sent: _Sent, receipt: TxReceipt) -> VenueOrder:
        """Turn the mined swap of ``sent`` into the order's final view (and its fill)."""
        request = sent.request
        known = self._orders.get(request.client_order_id)
        if known is not None and known.status.is_terminal:
            return known
        block = int(receipt["blockNumber"])
        gas = self._gas_of(sent.approve_tx, sent.swap_tx)
        price_usd, answer, round_id, updated_at_s = self.native_price_usd(block)
        fee_usd = Decimal(gas["gas_wei"]).scaleb(-18) * price_usd
        block_ts = int(self.chain.w3.eth.get_block(block)["timestamp"])
        raw = {"tx": Web3.to_hex(sent.swap_tx), "block": block, "block_timestamp_s": block_ts, **gas,
               "swap_gas_used": int(receipt["gasUsed"]), "effective_gas_price_wei": int(receipt["effectiveGasPrice"]),
               "oracle_answer": answer, "oracle_round": round_id, "oracle_updated_at_s": updated_at_s,
               "gas_price_usd_per_coin": str(price_usd),
               "bound_units": sent.bound_units}
        if receipt["status"] != 1:
            self.gas_spent_usd += fee_usd
            reason = self._replayed_reason(sent, block)
            return self._end(request, _status_of(reason), f"the swap reverted in block {block}: {reason}; "
                             f"gas {gas['gas_used']} cost {fee_usd} USD", raw={**raw, "gas_usd": str(fee_usd)},
                             venue_order_id=Web3.to_hex(sent.swap_tx))
        events = [e for e in self.pool.events.Swap().process_receipt(receipt, errors=DISCARD)
                  if e["address"] == self.pool.address]
        if len(events) != 1:
            raise OrderNotFound(f"{self.name}: swap {Web3.to_hex(sent.swap_tx)} of order {request.client_order_id} "
                                f"logged {len(events)} Swap events, expected 1")
        args = events[0]["args"]
        buy = request.side is Side.BUY
        coin_units, usd_units = (args["amount_out"], args["amount_in"]) if buy else (args["amount_in"],
                                                                                      args["amount_out"])
        coin = Decimal(coin_units).scaleb(-self.tokens.coin_decimals)
        usd = Decimal(usd_units).scaleb(-self.tokens.usd_decimals)
        self.gas_spent_usd += fee_usd
        average = usd / coin
        sequence = next(self._sequence)
        fill = Fill(
            fill_id=f"{self.name}-{Web3.to_hex(sent.swap_tx)}", client_order_id=request.client_order_id,
            venue_order_id=Web3.to_hex(sent.swap_tx), instrument_id=request.instrument_id, side=request.side,
            quantity=self.instrument.make_qty(coin, round_down=True), price=Price(average, decimal_places(average)),
            fee=Money(fee_usd, self.usd_currency), liquidity=Liquidity.TAKER, ts_ns=self.clock.now_ns(),
            raw={**raw, "usd": str(usd), "usd_units": int(usd_units), "coin_units": int(coin_units),
                 "reserve0": int(args["reserve0"]), "reserve1": int(args["reserve1"]), "sequence": sequence},
        )
        self._fills.append(fill)
        order = self._view(request, OrderStatus.FILLED, venue_order_id=fill.venue_order_id, filled=coin,
                           average=average, raw=fill.raw)
        self._orders[request.client_order_id] = order
        return order

    def _replayed_reason(self, sent: _Sent, block: int) -> str:
        """Return why a mined swap reverted: the same call replayed on the state of its block."""
        tx = self.chain.w3.eth.get_transaction(sent.swap_tx)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.chain.w3.eth.call(call, block_identifier=block)  # type: ignore[arg-type]
        except _REVERTS as error:
            return revert_reason(error)
        return "(no reason: the call succeeds on the block's final state)"

    def _end(self, request: OrderRequest, status: OrderStatus, reason: str, *, raw: Mapping[str, Any] | None = None,
             venue_order_id: str = "") -> VenueOrder:
        order = self._view(request, status, reason=f"{self.name}: {reason}", raw=raw, venue_order_id=venue_order_id)
        self._orders[request.client_order_id] = order
        return order

    def _view(self, request: OrderRequest, status: OrderStatus, *, reason: str = "", venue_order_id: str = "",
              filled: Decimal = Decimal(0), average: Decimal | None = None,
              raw: Mapping[str, Any] | None = None) -> VenueOrder:
        return swap_order_view(request, status, self.clock.now_ns(), reason=reason, venue_order_id=venue_order_id,
                               filled=filled, average=average, raw=raw)

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Return the order as it is: a swap cannot be called back once sent."""
        order = await self.order(instrument_id, client_order_id)
        if order is None:
            raise OrderNotFound(f"{self.name}: no order {client_order_id} on {instrument_id}")
        return order

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        """Return the order's view, None if the venue never saw it; a sent swap's receipt is looked up, not awaited."""
        order = self._orders.get(client_order_id)
        if order is None or order.instrument_id != instrument_id:
            return None
        sent = self._sent.get(client_order_id)
        if not order.status.is_terminal and sent is not None:
            receipt = self._receipt_now(sent.swap_tx)
            if receipt is not None:
                return self._settle(sent, receipt)
        return order

    async def open_orders(self, instrument_id: str | None = None) -> Sequence[VenueOrder]:
        """Return the orders whose swap is sent and not yet mined."""
        return [order for order in self._orders.values() if not order.status.is_terminal
                and (instrument_id is None or order.instrument_id == instrument_id)]

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return the swaps at or after ``since_ns`` (ns since the epoch), oldest first."""
        return [fill for fill in self._fills if fill.ts_ns >= since_ns]

    async def positions(self) -> Sequence[VenuePosition]:
        """Return the coin held (its ERC-20 balance) as a spot position, if any."""
        held = self._balance(self.coin_token, self.tokens.coin_decimals)
        return [VenuePosition(instrument_id=self.instrument.instrument_id, size_contracts=held)] if held else []

    async def balances(self) -> Sequence[Balance]:
        """Return the coin and the stablecoin held (ERC-20 ``balanceOf``), exact."""
        return [
            Balance(self.name, Money(self._balance(self.coin_token, self.tokens.coin_decimals),
                                     self.instrument.underlying)),
            Balance(self.name, Money(self._balance(self.usd_token, self.tokens.usd_decimals), self.usd_currency)),
        ]

    def _balance(self, token: Contract, decimals: int) -> Decimal:
        return Decimal(int(token.functions.balanceOf(self.account).call())).scaleb(-decimals)

    async def close(self) -> None:
        """Release nothing: the chain connection belongs to whoever made it."""


def _status_of(reason: str) -> OrderStatus:
    """Return EXPIRED for a revert that says the market could not fill the order, REJECTED for any other."""
    return OrderStatus.EXPIRED if reason.startswith(_EXPIRING_REASONS) else OrderStatus.REJECTED


__all__ = ["ChainPoolVenue", "SwapPending"]
