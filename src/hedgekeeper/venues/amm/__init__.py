"""AMM pools as liquidity sources, exact to the contracts' integer arithmetic.

Amounts are Python ints in token base units (wei), and every function rounds and
refuses (raises where the contract reverts) as the Solidity code does, so a quote
here is what the chain would execute from the same state. Floats appear only in
the routing view (``pool_quote``) and the price readers (``price``).

- ``pool``: ``AmmPool``, the protocol both pool kinds satisfy, and ``SwapResult``.
- ``constant_product``: ``ConstantProductPool``, Uniswap v2's ``getAmountOut`` / ``getAmountIn``.
- ``concentrated``: ``ConcentratedPool``, Uniswap v3's swap loop across ticks.
- ``tick_table``: initialized ticks and the bitmap's word-bounded search; positions.
- ``full_math``, ``tick_math``, ``sqrt_price_math``, ``swap_math``, ``liquidity_math``:
  ports of the v3-core libraries of the same names.
- ``solidity_ints``: Solidity integer ranges; ``errors``: ``AmmError`` and its kinds.
- ``price``: ``sqrt_price_x96`` to and from human prices with token decimals.
- ``pool_quote``: the USD cost, average price and impact of buying or selling a coin.

>>> from hedgekeeper.venues.amm import ConcentratedPool, PoolTokens, quote_pool, price_to_sqrt_price_x96
>>> from hedgekeeper.venues.orders import Side
>>> sqrt_price = price_to_sqrt_price_x96(1 / 3000, 6, 18)  # USDC (token0) / WETH (token1) at 3000 USD/ETH
>>> full_range = [(-887220, 887220, 5 * 10**17)]  # about 9,129 ETH and 27.4M USDC
>>> pool = ConcentratedPool.from_positions(sqrt_price, full_range, fee_pips=3000, tick_spacing=60)
>>> tokens = PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6)
>>> quote = quote_pool(pool, tokens, Side.SELL, 10.0)
>>> quote.mid_price_usd, quote.notional_usd, round(quote.impact_bps, 1), quote.fee_usd
(3000.0, 29877.369168, 40.9, 90.0)
"""

from hedgekeeper.venues.amm.concentrated import ConcentratedPool, ConcentratedSwapResult
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity, IntegerOutOfRange
from hedgekeeper.venues.amm.pool import AmmPool, SwapResult
from hedgekeeper.venues.amm.pool_quote import PoolQuote, PoolTokens, quote_pool
from hedgekeeper.venues.amm.price import price_to_sqrt_price_x96, sqrt_price_x96_to_price
from hedgekeeper.venues.amm.tick_table import InitializedTick, LiquidityPosition, TickTable

__all__ = [
    "AmmError",
    "AmmPool",
    "ConcentratedPool",
    "ConcentratedSwapResult",
    "ConstantProductPool",
    "InitializedTick",
    "InsufficientLiquidity",
    "IntegerOutOfRange",
    "LiquidityPosition",
    "PoolQuote",
    "PoolTokens",
    "SwapResult",
    "TickTable",
    "price_to_sqrt_price_x96",
    "quote_pool",
    "sqrt_price_x96_to_price",
]
