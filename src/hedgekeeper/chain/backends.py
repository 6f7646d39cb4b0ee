"""Two chain backends behind one handle: the in-process EVM and any JSON-RPC node.

``InProcessBackend`` (the zero-set-up default) runs py-evm inside this process
through eth-tester and web3's ``EthereumTesterProvider``; ``RpcBackend`` talks to
a node by URL through ``HTTPProvider`` (anvil, a dev node, an L2, mainnet). Both
give a ``Chain``: a ``Web3`` plus the few things tests, deployment and the keeper
need that the two providers spell differently (snapshots, moving time) and one
way to send a transaction that turns a revert into ``TransactionReverted``.

Waiting for a receipt polls every ``receipt_poll_latency_s``: web3's default of
0.1 s would make a node that mines instantly (anvil) crawl.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import pydantic
from eth_account import Account
from eth_tester.exceptions import TransactionFailed
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import TxReceipt

from hedgekeeper.chain.errors import NodeUnavailable, TransactionReverted
from hedgekeeper.config import StrictModel


class InProcessBackend(StrictModel):
    """The in-process EVM (py-evm through eth-tester): ten funded, unlocked accounts, nothing to start."""

    kind: Literal["in_process"] = "in_process"


class RpcBackend(StrictModel):
    """A JSON-RPC node by URL.

    Attributes
    ----------
    url : str, ``http://`` or ``https://`` endpoint, e.g. ``http://127.0.0.1:8545``
    receipt_poll_latency_s : float, seconds between receipt polls (> 0)
    receipt_timeout_s : float, seconds to wait for a receipt before giving up (> 0)
    request_timeout_s : float, seconds one HTTP request may take (> 0)
    private_key_env : str or None, the name of an environment variable holding the
        sender's private key (hex); None uses the node's unlocked accounts (anvil's)
    """

    kind: Literal["rpc"] = "rpc"
    url: Annotated[str, pydantic.Field(pattern=r"^https?://")]
    receipt_poll_latency_s: Annotated[float, pydantic.Field(gt=0.0)] = 0.01
    receipt_timeout_s: Annotated[float, pydantic.Field(gt=0.0)] = 60.0
    request_timeout_s: Annotated[float, pydantic.Field(gt=0.0)] = 10.0
    private_key_env: str | None = None


BackendConfig = Annotated[InProcessBackend | RpcBackend, pydantic.Field(discriminator="kind")]
"""Either backend, chosen by its ``kind`` field (``"in_process"`` or ``"rpc"``)."""


_REVERTS = (ContractLogicError, TransactionFailed)  # web3 over a node; eth-tester in process


def revert_reason(error: Exception) -> str:
    """Return the revert string of a failed call ("" when the contract gave none)."""
    message = getattr(error, "message", None) or str(error)
    prefix = "execution reverted: "
    if prefix in message:
        return message.split(prefix, 1)[1].strip()
    return "" if message.strip() in ("execution reverted", "") else message.strip()


class Chain:
    """A connected chain: ``w3``, its accounts, transactions, snapshots and time.

    Parameters
    ----------
    w3 : Web3, connected
    backend : InProcessBackend or RpcBackend, the configuration it came from
    """

    def __init__(self, w3: Web3, backend: InProcessBackend | RpcBackend) -> None:
        self.w3 = w3
        self.backend = backend
        self.signer: str | None = None

    @property
    def is_in_process(self) -> bool:
        """True for the in-process EVM."""
        return isinstance(self.backend, InProcessBackend)

    @property
    def accounts(self) -> list[str]:
        """Return the accounts this chain signs for (checksum addresses), the deployer first."""
        return [self.signer] if self.signer is not None else list(self.w3.eth.accounts)

    def _poll_latency_s(self) -> float:
        return self.backend.receipt_poll_latency_s if isinstance(self.backend, RpcBackend) else 0.0

    def _timeout_s(self) -> float:
        return self.backend.receipt_timeout_s if isinstance(self.backend, RpcBackend) else 10.0

    def wait(self, tx_hash: bytes, what: str = "transaction") -> TxReceipt:
        """Return the receipt of ``tx_hash``; raise ``TransactionReverted`` if its status is 0.

        Raises
        ------
        TransactionReverted
            The transaction was mined and reverted.
        NodeUnavailable
            No receipt within ``receipt_timeout_s``.
        """
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._timeout_s(), poll_latency=self._poll_latency_s()
            )
        except TimeExhausted as error:
            raise NodeUnavailable(f"{what}: no receipt for {tx_hash.hex()} within {self._timeout_s()} s") from error
        if receipt["status"] != 1:
            raise TransactionReverted(f"{what} reverted in block {receipt['blockNumber']} (tx {tx_hash.hex()})")
        return receipt

    def transact(self, function: ContractFunction | ContractConstructor, sender: str, **tx: Any) -> TxReceipt:
        """Send ``function`` from ``sender``, wait for the receipt and return it.

        Gas is estimated by the node first, so a call that would revert is refused
        before anything is sent (nothing is spent).

        Parameters
        ----------
        function : a bound contract function, e.g. ``vault.functions.rebalance(trade, limit)``
        sender : str, an account this chain signs for
        **tx : extra transaction fields (``gas``, ``maxFeePerGas``, ...)

        Raises
        ------
        TransactionReverted
            The call reverts; ``reason`` is the revert string.
        """
        what = f"{getattr(function, 'address', None) or 'new contract'}.{getattr(function, 'fn_name', 'constructor')}"
        try:
            tx_hash = function.transact({"from": sender, **tx})
        except _REVERTS as error:
            reason = revert_reason(error)
            raise TransactionReverted(f"{what} reverted: {reason or '(no reason)'}", reason) from error
        return self.wait(tx_hash, what)

    def call(self, function: ContractFunction, sender: str | None = None) -> Any:
        """Return the result of calling ``function`` at the latest block.

        Raises
        ------
        TransactionReverted
            The call reverts; ``reason`` is the revert string.
        """
        try:
            return function.call({} if sender is None else {"from": sender})
        except _REVERTS as error:
            reason = revert_reason(error)
            what = f"{function.address}.{function.fn_name}"
            raise TransactionReverted(f"{what} reverted: {reason or '(no reason)'}", reason) from error

    def snapshot(self) -> Any:
        """Save the chain's state; return an id for ``revert``."""
        return self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]

    def revert(self, snapshot_id: Any) -> None:
        """Restore the state saved as ``snapshot_id`` (anvil forgets the id once used)."""
        self.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]

    def timestamp(self) -> int:
        """Return the latest block's timestamp, unix seconds."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> int:
        """Mine a block ``seconds`` after the latest one; return its timestamp (unix seconds)."""
        target = self.timestamp() + int(seconds)
        if self.is_in_process:
            tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
            tester.time_travel(target)
            if self.timestamp() < target:  # py-evm may land one second short
                tester.time_travel(target + 1)
        else:
            self.w3.provider.make_request("evm_mine", [target])  # type: ignore[arg-type]
        return self.timestamp()

    def mine(self) -> None:
        """Mine one empty block."""
        if self.is_in_process:
            self.w3.provider.ethereum_tester.mine_blocks(1)  # type: ignore[attr-defined]
        else:
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def connect(backend: InProcessBackend | RpcBackend | None = None) -> Chain:
    """Return a ``Chain`` on ``backend`` (default: a fresh in-process EVM).

    Raises
    ------
    NodeUnavailable
        The RPC node does not answer.
    ConfigError
        ``private_key_env`` names an unset environment variable.
    """
    backend = InProcessBackend() if backend is None else backend
    if isinstance(backend, InProcessBackend):
        return Chain(Web3(EthereumTesterProvider()), backend)
    provider = HTTPProvider(backend.url, request_kwargs={"timeout": backend.request_timeout_s})
    w3 = Web3(provider)
    try:
        w3.eth.chain_id
    except Exception as error:  # requests' connection errors and the like
        raise NodeUnavailable(f"{backend.url}: the node does not answer ({type(error).__name__}: {error})") from error
    chain = Chain(w3, backend)
    if backend.private_key_env is not None:
        from hedgekeeper.errors import ConfigError

        key = os.environ.get(backend.private_key_env)
        if not key:
            raise ConfigError(f"backend.private_key_env: environment variable {backend.private_key_env} is not set")
        account = Account.from_key(key)
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
        w3.eth.default_account = account.address
        chain.signer = account.address
    return chain
