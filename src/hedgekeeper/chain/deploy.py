"""Deploy and wire a whole local system from one call: tokens, oracle, pool, vaults, batcher, keepers.

``deploy_system(config)`` connects to the configured backend (the in-process EVM
by default), then, from the chain's first account (the deployer and owner):

1. deploys the stablecoin (USDC, 6 decimals) and the risk asset (WETH, 18);
2. deploys the oracle (8 decimals) and posts the first price;
3. deploys the pool (tokens in address order, as Uniswap sorts them) and seeds it
   with ``pool.risk_reserve_coin`` and as much stablecoin at the oracle price;
4. deploys the batcher;
5. deploys ``vault_count`` vaults with the configured book, bands and limits, each
   trusting the batcher and allowing the keepers, funded with collateral and with
   the risk asset that hedges its book at the oracle price (unless
   ``risk_asset_coin`` is given), so it starts inside its band.

``load_system_config(path)`` reads and validates a TOML file (``examples/chain.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic
from web3.contract import Contract

from hedgekeeper.chain.backends import BackendConfig, Chain, InProcessBackend, connect
from hedgekeeper.chain.compile import compile_contract
from hedgekeeper.chain.units import FIXED_ONE, to_fixed
from hedgekeeper.config import StrictModel, load_toml, validate
from hedgekeeper.errors import ConfigError
from hedgekeeper.pricing.black_scholes import black_scholes_greeks

SECONDS_PER_DAY = 86_400
SECONDS_PER_YEAR = 365 * SECONDS_PER_DAY
MAX_OPTIONS = 8  # vault.vy's MAX_OPTIONS
MAX_BATCH = 64  # batcher.vy's MAX_VAULTS

PositiveFloat = Annotated[float, pydantic.Field(gt=0.0)]
NonNegativeFloat = Annotated[float, pydantic.Field(ge=0.0)]
NonNegativeInt = Annotated[int, pydantic.Field(ge=0)]
Bps = Annotated[int, pydantic.Field(ge=0, lt=10_000)]


class TokenConfig(StrictModel):
    """An ERC-20 test token: name, ticker and decimals (base units per token as a power of ten)."""

    name: str
    symbol: str
    decimals: Annotated[int, pydantic.Field(ge=0, le=36)]


class OracleConfig(StrictModel):
    """The price oracle.

    Attributes
    ----------
    description : str, the pair, e.g. ``"ETH / USD"``
    decimals : int, decimals of the answer (8, as Chainlink's USD feeds), at most 18
    price_usd : float, the first answer, USD per coin
    deviation_threshold_bps : int, a move of at least this much (bps) makes an update due
    heartbeat_s : int, an update is due once the answer is this old, seconds
    """

    description: str = "ETH / USD"
    decimals: Annotated[int, pydantic.Field(ge=0, le=18)] = 8
    price_usd: PositiveFloat
    deviation_threshold_bps: NonNegativeInt = 50
    heartbeat_s: Annotated[int, pydantic.Field(gt=0)] = 3600


class PoolConfig(StrictModel):
    """The constant-product pool: fee (bps of the input) and the risk asset seeded, coin.

    The stablecoin side is seeded at the oracle price.
    """

    fee_bps: Bps = 30
    risk_reserve_coin: PositiveFloat = 1000.0


class OptionConfig(StrictModel):
    """One written option: ``kind`` call or put, strike USD per coin, expiry in days from deployment, size in coin."""

    kind: Literal["call", "put"]
    strike_usd: PositiveFloat
    expiry_days: PositiveFloat
    size_coin: PositiveFloat


class VaultConfig(StrictModel):
    """A vault's book, bands and limits.

    Attributes
    ----------
    options : list of OptionConfig, at most 8, the written book
    implied_vol : float, annualised decimal (0.8 is 80%), in (0, 10]
    target_delta_coin : float, the target net delta, coin
    inner_band_coin, outer_band_coin : float, band half-widths around the target, coin (outer >= inner)
    max_slippage_bps : int, the worst pool price accepted against the oracle, bps
    max_oracle_age_s : int, the oldest oracle answer a rebalance accepts, seconds
    cooldown_s : int, the least time between rebalances, seconds
    max_trade_coin : float, the largest trade per rebalance, coin
    ripcord_reward_usd : float, paid to whoever rebalances beyond the outer band, USD
    collateral_usd : float, stablecoin funded at deployment, USD
    risk_asset_coin : float or None, risk asset funded at deployment, coin; None hedges
        the book at the oracle price (target + the book's delta, at least 0)
    """

    options: Annotated[list[OptionConfig], pydantic.Field(max_length=MAX_OPTIONS)]
    implied_vol: Annotated[float, pydantic.Field(gt=0.0, le=10.0)]
    target_delta_coin: float = 0.0
    inner_band_coin: PositiveFloat
    outer_band_coin: PositiveFloat
    max_slippage_bps: Bps = 100
    max_oracle_age_s: NonNegativeInt = 3600
    cooldown_s: NonNegativeInt = 0
    max_trade_coin: PositiveFloat
    ripcord_reward_usd: NonNegativeFloat = 10.0
    collateral_usd: NonNegativeFloat = 100_000.0
    risk_asset_coin: NonNegativeFloat | None = None

    @pydantic.model_validator(mode="after")
    def _bands_nest(self) -> VaultConfig:
        if self.outer_band_coin < self.inner_band_coin:
            raise ValueError(
                f"outer_band_coin {self.outer_band_coin} is narrower than inner_band_coin {self.inner_band_coin}"
            )
        return self


class SystemConfig(StrictModel):
    """A whole local system (see the module docstring); ``[backend]`` picks the chain.

    Attributes
    ----------
    backend : InProcessBackend or RpcBackend, ``kind = "in_process"`` (default) or ``"rpc"`` with ``url``
    stable, risk_asset : TokenConfig (USDC 6 decimals, WETH 18 decimals by default)
    oracle, pool, vault : their configurations
    vault_count : int, identical vaults deployed, 1 to 64 (one batch)
    keeper_account_indexes : list of int, the chain's accounts allowed as keepers (index 0 is the deployer)
    keeper_addresses : list of str, more keeper addresses
    """

    backend: BackendConfig = InProcessBackend()
    stable: TokenConfig = TokenConfig(name="USD Coin", symbol="USDC", decimals=6)
    risk_asset: TokenConfig = TokenConfig(name="Wrapped Ether", symbol="WETH", decimals=18)
    oracle: OracleConfig
    pool: PoolConfig = PoolConfig()
    vault: VaultConfig
    vault_count: Annotated[int, pydantic.Field(ge=1, le=MAX_BATCH)] = 1
    keeper_account_indexes: list[NonNegativeInt] = [1]
    keeper_addresses: list[Annotated[str, pydantic.Field(pattern=r"^0x[0-9a-fA-F]{40}$")]] = []


def load_system_config(path: str | Path) -> SystemConfig:
    """Return the system configuration in the TOML file ``path``.

    Raises
    ------
    ConfigError
        The file is missing or malformed, or a field is invalid (named by its path).
    """
    return validate(SystemConfig, load_toml(path), source=str(path))


@dataclass(frozen=True)
class DeployedSystem:
    """Handles to a deployed system.

    Attributes
    ----------
    chain : Chain, the connection it lives on
    config : SystemConfig, or None when attached to an existing deployment
    deployer : str, the owner of every contract and the oracle's updater
    keepers : tuple of str, the allowlisted keeper addresses
    stable, risk_asset, oracle, pool, batcher : Contract
    vaults : tuple of Contract
    """

    chain: Chain
    config: SystemConfig | None
    deployer: str
    keepers: tuple[str, ...]
    stable: Contract
    risk_asset: Contract
    oracle: Contract
    pool: Contract
    batcher: Contract
    vaults: tuple[Contract, ...]

    def addresses(self) -> dict[str, Any]:
        """Return every contract's address by role, and the deployer and keepers."""
        return {
            "deployer": self.deployer,
            "keepers": list(self.keepers),
            "stable": self.stable.address,
            "risk_asset": self.risk_asset.address,
            "oracle": self.oracle.address,
            "pool": self.pool.address,
            "batcher": self.batcher.address,
            "vaults": [vault.address for vault in self.vaults],
        }


def attach_system(chain: Chain, addresses: Mapping[str, Any]) -> DeployedSystem:
    """Return handles to a system deployed earlier, from ``DeployedSystem.addresses()``.

    Parameters
    ----------
    chain : Chain, connected to the node the system lives on
    addresses : mapping, as ``addresses()`` returns it or ``hedgekeeper chain deploy --json`` prints it

    Raises
    ------
    ConfigError
        A role is missing from ``addresses``.
    """
    missing = [role for role in ("deployer", "keepers", *_ROLES, "vaults") if role not in addresses]
    if missing:
        raise ConfigError(f"addresses: missing {', '.join(missing)}")
    contracts = {role: contract_at(chain, name, addresses[role]) for role, name in _ROLES.items()}
    vaults = tuple(contract_at(chain, "vault", address) for address in addresses["vaults"])
    return DeployedSystem(
        chain, None, addresses["deployer"], tuple(addresses["keepers"]), vaults=vaults, **contracts
    )


_ROLES = {"stable": "erc20", "risk_asset": "erc20", "oracle": "oracle", "pool": "pool", "batcher": "batcher"}


def contract_at(chain: Chain, name: str, address: str) -> Contract:
    """Return the contract ``name`` (``"vault"``, ``"oracle"``, ...) at ``address``."""
    return chain.w3.eth.contract(address=chain.w3.to_checksum_address(address), abi=compile_contract(name).abi)


def deploy_contract(chain: Chain, name: str | Path, *args: Any, sender: str | None = None) -> Contract:
    """Deploy the contract ``name`` (or a ``.vy`` path) with constructor ``args``; return it.

    Raises
    ------
    TransactionReverted
        The constructor reverted.
    """
    compiled = compile_contract(name)
    sender = chain.accounts[0] if sender is None else sender
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = chain.transact(factory.constructor(*args), sender)
    return chain.w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def hedge_coin(vault: VaultConfig, spot_usd: float) -> float:
    """Return the risk asset that puts a fresh vault's net delta on its target, coin (at least 0).

    Net delta = held - sum(size * Black-Scholes delta), so held = target + sum(size * delta)
    with ``hedgekeeper.pricing`` at ``spot_usd`` and zero rates.
    """
    if not vault.options:
        return max(0.0, vault.target_delta_coin)
    strikes = np.array([o.strike_usd for o in vault.options])
    t_years = np.array([o.expiry_days * SECONDS_PER_DAY / SECONDS_PER_YEAR for o in vault.options])
    is_call = np.array([o.kind == "call" for o in vault.options])
    sizes = np.array([o.size_coin for o in vault.options])
    delta = black_scholes_greeks(spot_usd, strikes, t_years, vault.implied_vol, is_call).delta
    return max(0.0, vault.target_delta_coin + float(np.sum(sizes * delta)))


def deploy_vault(
    chain: Chain,
    config: VaultConfig,
    *,
    stable: Contract,
    risk_asset: Contract,
    oracle: Contract,
    pool: Contract,
    batcher: Contract | None,
    keepers: tuple[str, ...],
    spot_usd: float,
    stable_decimals: int,
    risk_decimals: int,
    sender: str,
) -> Contract:
    """Deploy one vault with its book, trust the batcher, allow the keepers, fund it; return it."""
    vault = deploy_contract(
        chain,
        "vault",
        stable.address,
        risk_asset.address,
        oracle.address,
        pool.address,
        to_fixed(config.implied_vol),
        to_fixed(config.target_delta_coin),
        to_fixed(config.inner_band_coin),
        to_fixed(config.outer_band_coin),
        config.max_slippage_bps,
        config.max_oracle_age_s,
        config.cooldown_s,
        to_fixed(config.max_trade_coin),
        to_fixed(config.ripcord_reward_usd, stable_decimals),
        sender=sender,
    )
    now_s = chain.timestamp()
    for option in config.options:
        expiry_ts = now_s + round(option.expiry_days * SECONDS_PER_DAY)
        function = vault.functions.add_option(
            to_fixed(option.strike_usd), expiry_ts, to_fixed(option.size_coin), option.kind == "call"
        )
        chain.transact(function, sender)
    if batcher is not None:
        chain.transact(vault.functions.set_batcher(batcher.address), sender)
    for keeper in keepers:
        chain.transact(vault.functions.set_keeper(keeper, True), sender)
    held = hedge_coin(config, spot_usd) if config.risk_asset_coin is None else config.risk_asset_coin
    if config.collateral_usd > 0:
        chain.transact(stable.functions.mint(vault.address, to_fixed(config.collateral_usd, stable_decimals)), sender)
    if held > 0:
        chain.transact(risk_asset.functions.mint(vault.address, to_fixed(held, risk_decimals)), sender)
    return vault


def deploy_system(config: SystemConfig, chain: Chain | None = None) -> DeployedSystem:
    """Deploy and wire the whole system described by ``config``; return its handles.

    Parameters
    ----------
    config : SystemConfig
    chain : Chain or None, an existing connection (None: ``connect(config.backend)``)

    Raises
    ------
    ConfigError
        A keeper account index is beyond the chain's accounts.
    TransactionReverted, NodeUnavailable
        From the chain.
    """
    chain = connect(config.backend) if chain is None else chain
    accounts = chain.accounts
    deployer = accounts[0]
    for index in config.keeper_account_indexes:
        if index >= len(accounts):
            raise ConfigError(f"keeper_account_indexes: account {index} does not exist (the chain has {len(accounts)})")
    named = [chain.w3.to_checksum_address(address) for address in config.keeper_addresses]
    keepers = tuple(dict.fromkeys([accounts[i] for i in config.keeper_account_indexes] + named))

    stable, risk_asset = (
        deploy_contract(chain, "erc20", token.name, token.symbol, token.decimals, sender=deployer)
        for token in (config.stable, config.risk_asset)
    )

    oracle = deploy_contract(
        chain,
        "oracle",
        config.oracle.decimals,
        config.oracle.description,
        config.oracle.deviation_threshold_bps,
        config.oracle.heartbeat_s,
        sender=deployer,
    )
    chain.transact(oracle.functions.submit(to_fixed(config.oracle.price_usd, config.oracle.decimals)), deployer)

    token0, token1 = sorted([stable, risk_asset], key=lambda token: int(token.address, 16))
    pool = deploy_contract(chain, "pool", token0.address, token1.address, config.pool.fee_bps, sender=deployer)
    risk_amount = to_fixed(config.pool.risk_reserve_coin, config.risk_asset.decimals)
    stable_amount = to_fixed(config.pool.risk_reserve_coin * config.oracle.price_usd, config.stable.decimals)
    for token, amount in ((risk_asset, risk_amount), (stable, stable_amount)):
        chain.transact(token.functions.mint(deployer, amount), deployer)
        chain.transact(token.functions.approve(pool.address, amount), deployer)
    amount0, amount1 = (risk_amount, stable_amount) if token0 is risk_asset else (stable_amount, risk_amount)
    chain.transact(pool.functions.add_liquidity(amount0, amount1), deployer)

    batcher = deploy_contract(chain, "batcher", sender=deployer)
    vaults = tuple(
        deploy_vault(
            chain,
            config.vault,
            stable=stable,
            risk_asset=risk_asset,
            oracle=oracle,
            pool=pool,
            batcher=batcher,
            keepers=keepers,
            spot_usd=config.oracle.price_usd,
            stable_decimals=config.stable.decimals,
            risk_decimals=config.risk_asset.decimals,
            sender=deployer,
        )
        for _ in range(config.vault_count)
    )
    return DeployedSystem(chain, config, deployer, keepers, stable, risk_asset, oracle, pool, batcher, vaults)


__all__ = [
    "FIXED_ONE",
    "DeployedSystem",
    "OptionConfig",
    "OracleConfig",
    "PoolConfig",
    "SystemConfig",
    "TokenConfig",
    "VaultConfig",
    "attach_system",
    "contract_at",
    "deploy_contract",
    "deploy_system",
    "deploy_vault",
    "hedge_coin",
    "load_system_config",
]
