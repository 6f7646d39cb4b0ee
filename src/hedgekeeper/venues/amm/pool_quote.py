"""The routing view of a pool: what buying or selling ``size_coin`` through it costs in USD, as floats.

For a pool between a coin and a USD stablecoin, a buy asks for exactly
``size_coin`` of the coin (exact output) and pays USD; a sell pays exactly
``size_coin`` in (exact input) and receives USD. The pool's own integer
arithmetic does the swap; this module converts units once, at the edge:

- ``size_coin`` to base units, rounded half-even (``Decimal(repr(size_coin))``, so 0.1 is 0.1);
- base units back to floats by exact division (``amount / 10**decimals``).

Units: ``*_coin`` in whole coins, ``*_usd`` in whole stablecoin units (taken as
USD), prices in USD per coin, impact in USD and in bps of the trade's value at mid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity
from hedgekeeper.venues.amm.pool import AmmPool, SwapResult
from hedgekeeper.venues.amm.price import require_decimals
from hedgekeeper.venues.orders import Side


@dataclass(frozen=True, slots=True)
class PoolTokens:
    """Which pool token is the coin (the other is the USD stablecoin), and both tokens' decimals.

    Attributes
    ----------
    coin_is_token0 : bool, True when the coin is the pool's token0
    coin_decimals, usd_decimals : int, ERC-20 decimals in [0, 77] (WETH 18, USDC 6)
    """

    coin_is_token0: bool
    coin_decimals: int
    usd_decimals: int

    def __post_init__(self) -> None:
        if not isinstance(self.coin_is_token0, bool):
            raise AmmError(f"coin_is_token0 must be a bool, got {self.coin_is_token0!r}")
        require_decimals("coin_decimals", self.coin_decimals)
        require_decimals("usd_decimals", self.usd_decimals)


@dataclass(frozen=True, slots=True)
class PoolQuote:
    """The cost of one trade through a pool.

    Attributes
    ----------
    side : Side, BUY (coin out, USD in) or SELL (coin in, USD out)
    size_coin : float, coin traded, as rounded to the coin's base units
    notional_usd : float, USD paid (buy) or received (sell), fee included
    average_price_usd : float, ``notional_usd / size_coin``, USD per coin
    mid_price_usd : float, the pool's marginal price before the trade and before fees, USD per coin
    impact_usd : float, cost against mid, fee included: ``notional - size * mid`` for a buy,
        ``size * mid - notional`` for a sell (positive is a cost)
    impact_bps : float, ``impact_usd`` in bps of ``size_coin * mid_price_usd``
    fee_usd : float, the pool fee's part of it (a sell's fee, paid in coin, valued at mid)
    swap : SwapResult, the exact integer swap, whose ``pool`` is the pool after the trade
    """

    side: Side
    size_coin: float
    notional_usd: float
    average_price_usd: float
    mid_price_usd: float
    impact_usd: float
    impact_bps: float
    fee_usd: float
    swap: SwapResult[Any]


def _coin_base_units(size_coin: float, decimals: int) -> int:
    if isinstance(size_coin, bool) or not isinstance(size_coin, float | int) or not math.isfinite(size_coin):
        raise AmmError(f"size_coin = {size_coin!r} must be a finite number")
    units = int(Decimal(repr(size_coin)).scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))
    if units <= 0:
        raise AmmError(f"size_coin = {size_coin!r} is not a positive number of base units (10**-{decimals} coin)")
    return units


def pool_mid_usd(pool: AmmPool, tokens: PoolTokens) -> float:
    """Return the pool's marginal price before fees, USD per coin.

    >>> from hedgekeeper.venues.amm.constant_product import ConstantProductPool
    >>> pool_mid_usd(ConstantProductPool(30_000_000 * 10**6, 10_000 * 10**18),
    ...              PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6))
    3000.0
    """
    raw_mid = pool.mid_price_raw()
    raw_usd_per_coin = raw_mid if tokens.coin_is_token0 else 1.0 / raw_mid
    return raw_usd_per_coin * 10**tokens.coin_decimals / 10**tokens.usd_decimals


def quote_pool(pool: AmmPool, tokens: PoolTokens, side: Side, size_coin: float) -> PoolQuote:
    """Return the USD cost of buying or selling ``size_coin`` of the coin through ``pool``.

    A buy is an exact-output swap of the coin, a sell an exact-input swap; both
    must fill entirely.

    Parameters
    ----------
    pool : AmmPool, a ``ConstantProductPool`` or ``ConcentratedPool`` between the coin and USD
    tokens : PoolTokens
    side : Side
    size_coin : float, coin, positive

    Raises
    ------
    AmmError
        A size that is not a positive number of base units, or a swap the pool refuses.
    InsufficientLiquidity
        The pool cannot fill ``size_coin`` in full.

    Examples
    --------
    Buy 10 ETH from a v2 USDC (token0) / WETH (token1) pair holding 30M USDC and 10,000 WETH:

    >>> from hedgekeeper.venues.amm.constant_product import ConstantProductPool
    >>> pool = ConstantProductPool(30_000_000 * 10**6, 10_000 * 10**18)
    >>> tokens = PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6)
    >>> quote = quote_pool(pool, tokens, Side.BUY, 10.0)
    >>> quote.mid_price_usd, round(quote.average_price_usd, 2), round(quote.impact_bps, 1)
    (3000.0, 3012.04, 40.1)
    """
    units = _coin_base_units(size_coin, tokens.coin_decimals)
    coin_scale, usd_scale = 10**tokens.coin_decimals, 10**tokens.usd_decimals
    mid_price_usd = pool_mid_usd(pool, tokens)
    if side is Side.BUY:
        swap = pool.swap_exact_output(units, zero_for_one=not tokens.coin_is_token0)
        filled, usd_units = swap.amount_out, swap.amount_in
        fee_usd = swap.fee / usd_scale
    elif side is Side.SELL:
        swap = pool.swap_exact_input(units, zero_for_one=tokens.coin_is_token0)
        filled, usd_units = swap.amount_in, swap.amount_out
        fee_usd = swap.fee / coin_scale * mid_price_usd
    else:
        raise AmmError(f"side must be a Side, got {side!r}")
    if filled != units:
        raise InsufficientLiquidity(f"the pool fills {filled / coin_scale} of {units / coin_scale} coin ({side})")
    traded_coin = units / coin_scale
    notional_usd = usd_units / usd_scale
    value_at_mid_usd = traded_coin * mid_price_usd
    impact_usd = side.sign * (notional_usd - value_at_mid_usd)
    return PoolQuote(
        side=side,
        size_coin=traded_coin,
        notional_usd=notional_usd,
        average_price_usd=notional_usd / traded_coin,
        mid_price_usd=mid_price_usd,
        impact_usd=impact_usd,
        impact_bps=impact_usd / value_at_mid_usd * 1e4,
        fee_usd=fee_usd,
        swap=swap,
    )
