"""reader.py and attach_system: what the keeper reads, from handles rebuilt out of addresses."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem, attach_system
from hedgekeeper.chain.reader import read_check, read_checks, read_oracle_round, read_pool, read_vault_parameters
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def test_attach_rebuilds_the_handles_from_the_printed_addresses(system: DeployedSystem) -> None:
    addresses = json.loads(json.dumps(system.addresses()))  # as `chain deploy --json` prints them
    attached = attach_system(system.chain, addresses)
    assert attached.addresses() == system.addresses()
    assert [read_check(v) for v in attached.vaults] == [read_check(v) for v in system.vaults]
    assert read_vault_parameters(attached.vaults[0]) == read_vault_parameters(system.vaults[0])


def test_attach_names_a_missing_role(system: DeployedSystem) -> None:
    addresses = system.addresses()
    del addresses["batcher"]
    with pytest.raises(ConfigError, match="missing batcher"):
        attach_system(system.chain, addresses)


def test_the_check_converts_to_coin(system: DeployedSystem) -> None:
    system.chain.transact(system.oracle.functions.submit(to_fixed(3150.0, 8)), system.deployer)
    check = read_check(system.vaults[0])
    assert check.delta_deviation_coin == check.delta_deviation_1e18 / 1e18
    assert check.trade_risk_asset_coin == check.trade_risk_asset_1e18 / 1e18 > 0


def test_the_pool_state_is_the_exact_python_model(system: DeployedSystem) -> None:
    state = read_pool(system.pool)
    model = state.model()
    for amount, zero_for_one in ((10**18, True), (3000 * 10**6, False), (10**20, True)):
        assert model.amount_out(amount, zero_for_one) == system.pool.functions.get_amount_out(amount, zero_for_one).call()
    assert {state.token0, state.token1} == {system.stable.address, system.risk_asset.address}


def test_the_oracle_round_reads_price_and_age(system: DeployedSystem) -> None:
    round_ = read_oracle_round(system.oracle)
    assert round_.price_usd == 3000.0 and round_.decimals == 8
    assert round_.age_s(round_.updated_at_s + 30) == 30 and round_.age_s(0) == 0


def test_check_many_returns_each_vaults_check_in_one_call(system: DeployedSystem) -> None:
    system.chain.transact(system.oracle.functions.submit(to_fixed(3150.0, 8)), system.deployer)
    first = system.vaults[0]
    system.chain.transact(first.functions.rebalance(read_check(first).trade_risk_asset_1e18, 2**255), system.keepers[0])
    addresses = [vault.address for vault in reversed(system.vaults)]
    checks = read_checks(system.batcher, addresses)
    assert checks == [read_check(system.vaults[i]) for i in (2, 1, 0)]
    assert [check.needs_rebalance for check in checks] == [True, True, False]
