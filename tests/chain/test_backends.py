"""backends.py: both backends behind one Chain; configuration validated; failures named."""

from __future__ import annotations

import pytest

from hedgekeeper.chain.anvil import AnvilNode, free_port
from hedgekeeper.chain.backends import Chain, InProcessBackend, RpcBackend, connect
from hedgekeeper.chain.deploy import SystemConfig, deploy_contract
from hedgekeeper.chain.errors import NodeUnavailable, TransactionReverted
from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's first dev account
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_the_in_process_evm_is_the_default_backend() -> None:
    vault = {"options": [], "implied_vol": 0.5, "inner_band_coin": 1.0, "outer_band_coin": 2.0, "max_trade_coin": 1.0}
    config = validate(SystemConfig, {"oracle": {"price_usd": 1.0}, "vault": vault})
    assert isinstance(config.backend, InProcessBackend)
    assert connect().is_in_process


def test_an_rpc_backend_needs_an_http_url_and_positive_latencies() -> None:
    with pytest.raises(ConfigError, match="url"):
        validate(RpcBackend, {"url": "127.0.0.1:8545"}, prefix="backend")
    with pytest.raises(ConfigError, match="backend.receipt_poll_latency_s"):
        validate(RpcBackend, {"url": "http://127.0.0.1:8545", "receipt_poll_latency_s": 0}, prefix="backend")
    assert RpcBackend(url="http://127.0.0.1:8545").receipt_poll_latency_s <= 0.05


def test_an_unreachable_node_is_node_unavailable() -> None:
    with pytest.raises(NodeUnavailable, match="does not answer"):
        connect(RpcBackend(url=f"http://127.0.0.1:{free_port()}", request_timeout_s=1.0))


def test_snapshot_revert_and_time_travel(chain: Chain) -> None:
    token = deploy_contract(chain, "erc20", "T", "T", 18)
    owner = chain.accounts[0]
    snapshot = chain.snapshot()
    chain.transact(token.functions.mint(owner, 5), owner)
    assert token.functions.totalSupply().call() == 5
    chain.revert(snapshot)
    assert token.functions.totalSupply().call() == 0
    before = chain.timestamp()
    assert chain.advance_time(3600) == before + 3600


def test_a_revert_carries_its_reason_and_spends_nothing(chain: Chain) -> None:
    token = deploy_contract(chain, "erc20", "T", "T", 18)
    stranger = chain.accounts[3]
    nonce = chain.w3.eth.get_transaction_count(stranger)
    with pytest.raises(TransactionReverted) as refused:
        chain.transact(token.functions.mint(stranger, 1), stranger)
    assert refused.value.reason == "erc20: only the owner mints"
    assert chain.w3.eth.get_transaction_count(stranger) == nonce


def test_a_private_key_from_the_environment_signs(anvil_node: AnvilNode, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGEKEEPER_TEST_KEY", ANVIL_KEY_0)
    chain = connect(RpcBackend(url=anvil_node.url, private_key_env="HEDGEKEEPER_TEST_KEY"))
    assert chain.accounts == [ANVIL_ADDRESS_0]
    token = deploy_contract(chain, "erc20", "T", "T", 6)
    assert token.functions.owner().call() == ANVIL_ADDRESS_0
    monkeypatch.delenv("HEDGEKEEPER_TEST_KEY")
    with pytest.raises(ConfigError, match="HEDGEKEEPER_TEST_KEY is not set"):
        connect(RpcBackend(url=anvil_node.url, private_key_env="HEDGEKEEPER_TEST_KEY"))
