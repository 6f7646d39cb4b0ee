"""The arbitrageur of a constant-product pool: the swap that brings its price to the market's.

A pool holding ``x`` coin and ``y`` USD (base units, ``k = x y``) quotes ``y / x``. At
the market's price ``p`` (USD base units per coin base unit) the arbitrageur trades
it to ``x' = sqrt(k / p)`` coin, buying ``x - x'`` coin out of a cheap pool or
selling ``x' - x`` into a dear one (the pool's fee aside: the arbitrage of a real
arbitrageur stops a fee short of the market, this one closes the gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedgekeeper.chain.deploy import DeployedSystem
from hedgekeeper.chain.reader import read_pool

MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True)
class ArbitrageSwap:
    """The swap that aligns a pool: ``buys_coin`` out of it (exact out) or sells it in (exact in), coin base units."""

    buys_coin: bool
    coin_units: int
    gap_bps: float


def arbitrage_swap(reserve_coin: int, reserve_usd: int, price_usd: float, coin_decimals: int,
                   usd_decimals: int) -> ArbitrageSwap:
    """Return the swap that brings the pool's price to ``price_usd`` (USD per coin), and the gap it closes.

    Examples
    --------
    1,000 ETH and 3,000,000 USDC quote 3,000; at 3,030 the arbitrageur buys 4.963 ETH out of it.

    >>> swap = arbitrage_swap(1_000 * 10**18, 3_000_000 * 10**6, 3_030.0, 18, 6)
    >>> swap.buys_coin, round(swap.coin_units / 1e18, 3), round(swap.gap_bps, 1)
    (True, 4.963, 99.0)
    """
    raw_price = Decimal(repr(price_usd)).scaleb(usd_decimals - coin_decimals)
    target_coin = int((Decimal(reserve_coin) * Decimal(reserve_usd) / raw_price).sqrt())
    gap_bps = abs(reserve_usd / reserve_coin / float(raw_price) - 1.0) * 1e4
    return ArbitrageSwap(target_coin < reserve_coin, abs(reserve_coin - target_coin), gap_bps)


def align_pool(system: DeployedSystem, price_usd: float) -> None:
    """Trade the system's pool to ``price_usd`` from the deployer, who mints what the swap needs."""
    chain, deployer = system.chain, system.deployer
    state = read_pool(system.pool)
    coin_is_token0 = state.token0 == system.risk_asset.address
    reserve_coin, reserve_usd = (state.reserve0, state.reserve1) if coin_is_token0 else (state.reserve1, state.reserve0)
    swap = arbitrage_swap(reserve_coin, reserve_usd, price_usd, system.risk_asset.functions.decimals().call(),
                          system.stable.functions.decimals().call())
    if swap.coin_units == 0:
        return
    pool = system.pool.functions
    if swap.buys_coin:  # the pool is cheap: buy the coin out of it
        chain.transact(system.stable.functions.mint(deployer, reserve_usd), deployer)
        chain.transact(system.stable.functions.approve(system.pool.address, MAX_UINT256), deployer)
        chain.transact(pool.swap_exact_out(not coin_is_token0, swap.coin_units, MAX_UINT256 // 2, deployer), deployer)
    else:  # the pool is dear: sell the coin into it
        chain.transact(system.risk_asset.functions.mint(deployer, swap.coin_units), deployer)
        chain.transact(system.risk_asset.functions.approve(system.pool.address, MAX_UINT256), deployer)
        chain.transact(pool.swap_exact_in(coin_is_token0, swap.coin_units, 0, deployer), deployer)
