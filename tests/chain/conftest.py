"""Chain fixtures: every test here runs on the in-process EVM and on a local anvil.

``chain`` is module-scoped and parametrized over both backends; the anvil one
skips with the reason when the binary is missing (``make test`` installs it with
npm). One anvil serves the whole session. ``system`` deploys a small system once
per module; ``isolate`` (used by the test modules) snapshots the chain before each
test and reverts after, so tests share deployments but never state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hedgekeeper.chain.anvil import AnvilNode, find_anvil
from hedgekeeper.chain.backends import Chain, connect
from hedgekeeper.chain.deploy import (
    DeployedSystem,
    OptionConfig,
    OracleConfig,
    PoolConfig,
    SystemConfig,
    VaultConfig,
    deploy_system,
)

BACKENDS = ("in_process", "anvil")

# Accounts by role (indexes into the chain's unlocked accounts).
DEPLOYER, KEEPER, STRANGER, ATTACKER = 0, 1, 5, 6


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    """Start one anvil for the session, or skip with the reason."""
    if find_anvil() is None:
        pytest.skip("anvil binary not found (node_modules/.bin/anvil): `make test` installs it through npm")
    node = AnvilNode().start()
    yield node
    node.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def chain(request: pytest.FixtureRequest) -> Chain:
    """Return a chain: a fresh in-process EVM, or the session's anvil."""
    if request.param == "in_process":
        return connect()
    node: AnvilNode = request.getfixturevalue("anvil_node")
    return connect(node.backend())


def system_config(vault_count: int = 3, **vault_overrides: object) -> SystemConfig:
    """Return the tests' system: ETH at 3,000 USD, a 1,000 WETH pool, vaults short calls and puts."""
    vault = {
        "options": [
            OptionConfig(kind="call", strike_usd=3200.0, expiry_days=30.0, size_coin=10.0),
            OptionConfig(kind="put", strike_usd=2800.0, expiry_days=60.0, size_coin=5.0),
        ],
        "implied_vol": 0.8,
        "inner_band_coin": 0.5,
        "outer_band_coin": 2.0,
        "max_slippage_bps": 100,
        "max_oracle_age_s": 3600,
        "cooldown_s": 0,
        "max_trade_coin": 5.0,
        "ripcord_reward_usd": 25.0,
        "collateral_usd": 1_000_000.0,
    }
    vault.update(vault_overrides)
    return SystemConfig(
        oracle=OracleConfig(price_usd=3000.0, deviation_threshold_bps=10, heartbeat_s=3600),
        pool=PoolConfig(fee_bps=30, risk_reserve_coin=1000.0),
        vault=VaultConfig(**vault),  # type: ignore[arg-type]
        vault_count=vault_count,
        keeper_account_indexes=[KEEPER],
    )


@pytest.fixture(scope="session")
def make_system_config() -> Callable[..., SystemConfig]:
    """Return ``system_config``, for tests that deploy a variant."""
    return system_config


@pytest.fixture(scope="module")
def system(chain: Chain) -> DeployedSystem:
    """Deploy the tests' system once per module and backend."""
    return deploy_system(system_config(), chain)


@pytest.fixture
def isolate(chain: Chain) -> Iterator[Chain]:
    """Snapshot the chain before the test and revert after it."""
    snapshot = chain.snapshot()
    yield chain
    chain.revert(snapshot)
