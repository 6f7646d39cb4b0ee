"""deploy.py and ``hedgekeeper chain deploy``: one call wires a whole system that starts in band."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hedgekeeper.chain.anvil import AnvilNode
from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import DeployedSystem, deploy_system, hedge_coin, load_system_config
from hedgekeeper.chain.reader import read_check, read_oracle_round, read_pool, read_vault_parameters
from hedgekeeper.chain.units import to_fixed
from hedgekeeper.cli import app
from hedgekeeper.errors import ConfigError
from hedgekeeper.pricing.black_scholes import black_scholes_greeks

EXAMPLE = Path(__file__).parents[2] / "examples" / "chain.toml"
RUNNER = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def example(chain: Chain) -> DeployedSystem:
    return deploy_system(load_system_config(EXAMPLE), chain)


def test_the_example_deploys_every_vault_in_band_with_its_configured_parameters(example: DeployedSystem) -> None:
    config = example.config
    assert len(example.vaults) == config.vault_count == 3
    for vault in example.vaults:
        parameters = read_vault_parameters(vault)
        roles = ("stable", "risk_asset", "oracle", "pool", "batcher")
        assert [getattr(parameters, role) for role in roles] == [getattr(example, role).address for role in roles]
        assert parameters.owner == example.deployer and not parameters.paused
        assert parameters.implied_vol_1e18 == to_fixed(config.vault.implied_vol)
        assert (parameters.inner_band_1e18, parameters.outer_band_1e18) == (to_fixed(0.5), to_fixed(2.0))
        assert (parameters.max_slippage_bps, parameters.max_oracle_age_s, parameters.cooldown_s) == (100, 3600, 60)
        assert (parameters.max_trade_1e18, parameters.ripcord_reward) == (to_fixed(5.0), 25 * 10**6)
        assert [(o.strike_1e18, o.size_1e18, o.is_call) for o in parameters.options] == [
            (to_fixed(o.strike_usd), to_fixed(o.size_coin), o.kind == "call") for o in config.vault.options
        ]
        assert all(vault.functions.keepers(keeper).call() for keeper in example.keepers)
        check = read_check(vault)
        assert not check.needs_rebalance and abs(check.delta_deviation_coin) < 1e-4


def test_the_pool_is_seeded_at_the_oracle_price(example: DeployedSystem) -> None:
    assert read_oracle_round(example.oracle).price_usd == 3000.0
    pool = read_pool(example.pool)
    reserves = {pool.token0: pool.reserve0, pool.token1: pool.reserve1}
    assert reserves[example.risk_asset.address] == 1000 * 10**18
    assert reserves[example.stable.address] == 3_000_000 * 10**6


def test_the_hedge_funded_is_the_books_delta_by_hedgekeeper_pricing(example: DeployedSystem) -> None:
    options = example.config.vault.options
    strikes = np.array([o.strike_usd for o in options])
    t_years = np.array([o.expiry_days / 365 for o in options])
    delta = black_scholes_greeks(3000.0, strikes, t_years, 0.8, np.array([o.kind == "call" for o in options])).delta
    expected = float(np.sum(np.array([o.size_coin for o in options]) * delta))
    assert hedge_coin(example.config.vault, 3000.0) == pytest.approx(expected, rel=1e-12)
    held = example.risk_asset.functions.balanceOf(example.vaults[0].address).call()
    assert held == to_fixed(expected, 18) or abs(held - to_fixed(expected, 18)) <= 1


def test_a_bad_field_is_named(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("outer_band_coin = 2.0", "outer_band_coin = 0.1")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match="vault.*narrower than inner_band_coin"):
        load_system_config(bad)
    bad.write_text(EXAMPLE.read_text().replace("fee_bps = 30", "fee_bps = 30\nfee_pips = 3000"))
    with pytest.raises(ConfigError, match="pool.fee_pips"):
        load_system_config(bad)


def test_a_keeper_index_beyond_the_accounts_is_refused(chain: Chain) -> None:
    config = load_system_config(EXAMPLE).model_copy(update={"keeper_account_indexes": [99]})
    with pytest.raises(ConfigError, match="keeper_account_indexes: account 99 does not exist"):
        deploy_system(config, chain)


def test_the_cli_deploys_the_example_in_process() -> None:
    result = RUNNER.invoke(app, ["chain", "deploy", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    addresses = json.loads(result.stdout)
    assert len(addresses["vaults"]) == 3 and addresses["pool"].startswith("0x")


def test_the_cli_deploys_on_a_node_named_in_the_file(anvil_node: AnvilNode, tmp_path: Path) -> None:
    config = tmp_path / "chain.toml"
    backend = f'kind = "rpc"\nurl = "{anvil_node.url}"\nreceipt_poll_latency_s = 0.01'
    text = EXAMPLE.read_text().replace('kind = "in_process"', backend)
    config.write_text(text)
    result = RUNNER.invoke(app, ["chain", "deploy", str(config)])
    assert result.exit_code == 0, result.output
    assert "vault 2" in result.stdout and "chain id 31337" in result.stdout


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["chain", "deploy", str(tmp_path / "missing.toml")])
    assert result.exit_code == 1
    assert "no such file" in result.output and "Traceback" not in result.output
