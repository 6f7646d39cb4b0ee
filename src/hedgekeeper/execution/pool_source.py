"""A swap pool as a liquidity source: its exact quote as a cost curve, gas as the fixed cost.

Taking ``q`` coin through a pool costs ``side * (usd - q * m)`` USD against the
reference mid ``m``, where ``usd`` is what the pool's integer math makes the swap
pay or receive (its fee included, ``venues/amm/pool_quote.py``); the gas of the
swap is paid once if the pool is used. The cost is convex in ``q`` (the price moves
against the trader along the curve), as the router requires.
"""

from __future__ import annotations

from hedgekeeper.execution.liquidity import CurveSource
from hedgekeeper.venues.amm.pool import AmmPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens, quote_pool
from hedgekeeper.venues.orders import Side


def pool_source(name: str, venue: str, pool: AmmPool, tokens: PoolTokens, *, reference_mid_usd: float,
                gas_cost_usd: float, max_coin: float, max_samples: int = 256) -> CurveSource:
    """Return ``pool`` as a ``CurveSource`` costed against ``reference_mid_usd``.

    Parameters
    ----------
    name, venue : str, the source's name (unique among those routed together) and its venue
    pool : AmmPool, the pool as it stands
    tokens : PoolTokens
    reference_mid_usd : float, USD per coin, the mid every routed source is costed against
    gas_cost_usd : float >= 0, USD paid once per swap
    max_coin : float >= 0, the largest swap offered to the router either way, coin
    max_samples : int, points the curve is sampled at for the router

    Examples
    --------
    A v2 pool of 30M USDC and 10,000 WETH, 0.3% fee, at its own mid of 3,000 USD:
    buying 10 ETH costs about 40 bps of 30,000 USD, plus 5 USD of gas.

    >>> from hedgekeeper.venues.amm.constant_product import ConstantProductPool
    >>> pool = ConstantProductPool(30_000_000 * 10**6, 10_000 * 10**18)
    >>> tokens = PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6)
    >>> source = pool_source("v2", "chain", pool, tokens, reference_mid_usd=3_000.0, gas_cost_usd=5.0,
    ...                      max_coin=100.0)
    >>> round(source.cost_usd(10.0, Side.BUY), 2)
    125.39
    """

    def cost_usd(size_coin: float, side: Side) -> float:
        quote = quote_pool(pool, tokens, side, size_coin)
        return side.sign * (quote.notional_usd - quote.size_coin * reference_mid_usd)

    return CurveSource(name, venue, cost_usd, max_buy_coin=max_coin, max_sell_coin=max_coin,
                       fixed_cost_usd=gas_cost_usd, max_samples=max_samples)
