"""Uniswap v3-core's pool swap tests as data: the pools of ``test/UniswapV3Pool.swaps.spec.ts`` and the
results its snapshot ``test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap`` records for each swap.

Each result is the pool's balance changes (positive: paid into the pool) and ``slot0.tick`` after the swap,
or ``None`` where the pool reverts with ``'SPL'`` (a price limit on the wrong side of the price).
"""

from __future__ import annotations

from typing import NamedTuple

from venues.amm.v3_core import (
    FEE_HIGH,
    FEE_LOW,
    FEE_MEDIUM,
    TICK_SPACINGS,
    encode_price_sqrt,
    get_max_tick,
    get_min_tick,
)

from hedgekeeper.venues.amm.concentrated import ConcentratedPool, ConcentratedSwapResult
from hedgekeeper.venues.amm.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO

E18 = 10**18
INT256_MAX = 2**255 - 1  # the swap-to-price helpers pay in type(int256).max and let the limit stop them


def _full_range(fee: int) -> tuple[int, int]:
    return get_min_tick(TICK_SPACINGS[fee]), get_max_tick(TICK_SPACINGS[fee])


def _max_liquidity_per_tick(tick_spacing: int) -> int:
    # test/shared/utilities.ts, getMaxLiquidityPerTick
    return (2**128 - 1) // ((get_max_tick(tick_spacing) - get_min_tick(tick_spacing)) // tick_spacing + 1)


class PoolCase(NamedTuple):
    fee_pips: int
    sqrt_price_x96: int
    positions: tuple[tuple[int, int, int], ...]


_MIN_60, _MAX_60 = _full_range(FEE_MEDIUM)
POOLS: dict[str, PoolCase] = {
    "low fee, 1:1 price, 2e18 max range liquidity": PoolCase(
        FEE_LOW, encode_price_sqrt(1, 1), ((*_full_range(FEE_LOW), 2 * E18),)
    ),
    "medium fee, 1:1 price, 2e18 max range liquidity": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 1), ((_MIN_60, _MAX_60, 2 * E18),)
    ),
    "high fee, 1:1 price, 2e18 max range liquidity": PoolCase(
        FEE_HIGH, encode_price_sqrt(1, 1), ((*_full_range(FEE_HIGH), 2 * E18),)
    ),
    "medium fee, 10:1 price, 2e18 max range liquidity": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(10, 1), ((_MIN_60, _MAX_60, 2 * E18),)
    ),
    "medium fee, 1:10 price, 2e18 max range liquidity": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 10), ((_MIN_60, _MAX_60, 2 * E18),)
    ),
    "medium fee, 1:1 price, 0 liquidity, all liquidity around current price": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 1), ((_MIN_60, -60, 2 * E18), (60, _MAX_60, 2 * E18))
    ),
    "medium fee, 1:1 price, additional liquidity around current price": PoolCase(
        FEE_MEDIUM,
        encode_price_sqrt(1, 1),
        ((_MIN_60, _MAX_60, 2 * E18), (_MIN_60, -60, 2 * E18), (60, _MAX_60, 2 * E18)),
    ),
    "low fee, large liquidity around current price (stable swap)": PoolCase(
        FEE_LOW, encode_price_sqrt(1, 1), ((-10, 10, 2 * E18),)
    ),
    "medium fee, token0 liquidity only": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 1), ((0, 2000 * 60, 2 * E18),)
    ),
    "medium fee, token1 liquidity only": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 1), ((-2000 * 60, 0, 2 * E18),)
    ),
    "close to max price": PoolCase(FEE_MEDIUM, encode_price_sqrt(2**127, 1), ((_MIN_60, _MAX_60, 2 * E18),)),
    "close to min price": PoolCase(FEE_MEDIUM, encode_price_sqrt(1, 2**127), ((_MIN_60, _MAX_60, 2 * E18),)),
    "max full range liquidity at 1:1 price with default fee": PoolCase(
        FEE_MEDIUM, encode_price_sqrt(1, 1), ((_MIN_60, _MAX_60, _max_liquidity_per_tick(60)),)
    ),
    "initialized at the max ratio": PoolCase(FEE_MEDIUM, MAX_SQRT_RATIO - 1, ((_MIN_60, _MAX_60, 2 * E18),)),
    "initialized at the min ratio": PoolCase(FEE_MEDIUM, MIN_SQRT_RATIO, ((_MIN_60, _MAX_60, 2 * E18),)),
}


class SwapCase(NamedTuple):
    exact_input: bool
    zero_for_one: bool
    amount: int
    sqrt_price_limit_x96: int | None


# The swaps as test/UniswapV3Pool.swaps.spec.ts names them (swapCaseToDescription).
_IN0_SMALL = "swap exactly 0.0000000000000010000 token0 for token1"
_IN1_SMALL = "swap exactly 0.0000000000000010000 token1 for token0"
_IN0 = "swap exactly 1.0000 token0 for token1"
_IN1 = "swap exactly 1.0000 token1 for token0"
_OUT1_SMALL = "swap token0 for exactly 0.0000000000000010000 token1"
_OUT1 = "swap token0 for exactly 1.0000 token1"
_OUT0_SMALL = "swap token1 for exactly 0.0000000000000010000 token0"
_OUT0 = "swap token1 for exactly 1.0000 token0"
_DOWN_04 = "swap token0 for token1 to price 0.40000"
_DOWN_25 = "swap token0 for token1 to price 2.5000"
_UP_04 = "swap token1 for token0 to price 0.40000"
_UP_25 = "swap token1 for token0 to price 2.5000"

SWAPS: dict[str, SwapCase] = {
    _IN0_SMALL: SwapCase(True, True, 1000, None),
    _IN1_SMALL: SwapCase(True, False, 1000, None),
    _IN0: SwapCase(True, True, E18, None),
    _IN1: SwapCase(True, False, E18, None),
    _OUT1_SMALL: SwapCase(False, True, 1000, None),
    _OUT1: SwapCase(False, True, E18, None),
    _OUT0_SMALL: SwapCase(False, False, 1000, None),
    _OUT0: SwapCase(False, False, E18, None),
    _DOWN_04: SwapCase(True, True, INT256_MAX, encode_price_sqrt(2, 5)),
    _DOWN_25: SwapCase(True, True, INT256_MAX, encode_price_sqrt(5, 2)),
    _UP_04: SwapCase(True, False, INT256_MAX, encode_price_sqrt(2, 5)),
    _UP_25: SwapCase(True, False, INT256_MAX, encode_price_sqrt(5, 2)),
}

# pool -> [(swap, (amount0Delta, amount1Delta, tickAfter))]; None: the swap reverts 'SPL'.
_RECORDED: dict[str, list[tuple[str, tuple[int, int, int] | None]]] = {
    "low fee, 1:1 price, 2e18 max range liquidity": [
        (_IN0_SMALL, (1000, -998, -1)),
        (_IN1_SMALL, (-998, 1000, 0)),
        (_IN0, (E18, -666444407401233536, -8107)),
        (_IN1, (-666444407401233536, E18, 8106)),
        (_OUT1_SMALL, (1002, -1000, -1)),
        (_OUT1, (2001000500250125077, -E18, -13864)),
        (_OUT0_SMALL, (-1000, 1002, 0)),
        (_OUT0, (-E18, 2001000500250125079, 13863)),
        (_DOWN_04, (1162859089713235953, -735088935932648266, -9164)),
        (_DOWN_25, None),
        (_UP_04, None),
        (_UP_25, (-735088935932648266, 1162859089713235954, 9163)),
    ],
    "medium fee, 1:1 price, 2e18 max range liquidity": [
        (_IN0_SMALL, (1000, -996, -1)),
        (_IN1_SMALL, (-996, 1000, 0)),
        (_IN0, (E18, -665331998665331998, -8090)),
        (_IN1, (-665331998665331998, E18, 8089)),
        (_OUT1_SMALL, (1005, -1000, -1)),
        (_OUT1, (2006018054162487463, -E18, -13864)),
        (_OUT0_SMALL, (-1000, 1005, 0)),
        (_OUT0, (-E18, 2006018054162487463, 13863)),
        (_DOWN_04, (1165774985123750584, -735088935932648267, -9164)),
        (_UP_25, (-735088935932648267, 1165774985123750584, 9163)),
    ],
    "high fee, 1:1 price, 2e18 max range liquidity": [
        (_IN0_SMALL, (1000, -989, -1)),
        (_IN1_SMALL, (-989, 1000, 0)),
        (_IN0, (E18, -662207357859531772, -8043)),
        (_IN1, (-662207357859531772, E18, 8042)),
        (_OUT1_SMALL, (1012, -1000, -1)),
        (_OUT1, (2020202020202020203, -E18, -13864)),
        (_OUT0_SMALL, (-1000, 1012, 0)),
        (_OUT0, (-E18, 2020202020202020203, 13863)),
        (_DOWN_04, (1174017838553918518, -735088935932648267, -9164)),
        (_UP_25, (-735088935932648267, 1174017838553918518, 9163)),
    ],
    "medium fee, 10:1 price, 2e18 max range liquidity": [
        (_IN0_SMALL, (1000, -9969, 23027)),
        (_IN1_SMALL, (-99, 1000, 23027)),
        (_IN0, (E18, -3869747612262812754, 4098)),
        (_IN1, (-86123526743846551, E18, 25954)),
        (_OUT1_SMALL, (102, -1000, 23027)),
        (_OUT1, (119138326055954425, -E18, 19584)),
        (_OUT0_SMALL, (-1000, 10032, 23027)),
        (_OUT0, (-632455532033675838, 36907032426281581270030941278837275671, 887271)),
        (_DOWN_04, (2537434431428990438, -5059644256269406930, -9164)),
        (_DOWN_25, (634358607857247610, -3162277660168379331, 9163)),
        (_UP_04, None),
        (_UP_25, None),
    ],
    "medium fee, 1:10 price, 2e18 max range liquidity": [
        (_IN0_SMALL, (1000, -99, -23028)),
        (_IN1_SMALL, (-9969, 1000, -23028)),
        (_IN0, (E18, -86123526743846551, -25955)),
        (_IN1, (-3869747612262812753, E18, -4099)),
        (_OUT1_SMALL, (10032, -1000, -23028)),
        (_OUT1, (36907032419362389223785084665766560335, -632455532033675838, -887272)),
        (_OUT0_SMALL, (-1000, 102, -23028)),
        (_OUT0, (-E18, 119138326055954425, -19585)),
        (_DOWN_04, None),
        (_UP_04, (-3162277660168379331, 634358607857247611, -9164)),
        (_UP_25, (-5059644256269406930, 2537434431428990440, 9163)),
    ],
    "medium fee, 1:1 price, 0 liquidity, all liquidity around current price": [
        (_IN0_SMALL, (1000, -991, -61)),
        (_IN1_SMALL, (-991, 1000, 60)),
        (_IN0, (E18, -662011820624678025, -8130)),
        (_IN1, (-662011820624678025, E18, 8129)),
        (_OUT1_SMALL, (1011, -1000, -61)),
        (_OUT1, (2024171064311638316, -E18, -13984)),
        (_OUT0_SMALL, (-1000, 1011, 60)),
        (_OUT0, (-E18, 2024171064311638316, 13983)),
        (_DOWN_04, (1159748196632793863, -729098226020826705, -9164)),
        (_UP_25, (-729098226020826705, 1159748196632793863, 9163)),
    ],
    "medium fee, 1:1 price, additional liquidity around current price": [
        (_IN0_SMALL, (1000, -996, -1)),
        (_IN0, (E18, -795933705287758544, -4476)),
        (_IN1, (-795933705287758544, E18, 4475)),
        (_OUT1, (1342022152495072924, -E18, -5794)),
        (_OUT0, (-E18, 1342022152495072924, 5793)),
        (_DOWN_04, (2325523181756544449, -1464187161953474971, -9164)),
        (_UP_25, (-1464187161953474971, 2325523181756544449, 9163)),
    ],
    "low fee, large liquidity around current price (stable swap)": [
        (_IN0_SMALL, (1000, -998, -1)),
        (_IN0, (1000700370186095, -999700069986002, -887272)),
        (_IN1, (-999700069986002, 1000700370186095, 887271)),
        (_OUT1_SMALL, (1002, -1000, -1)),
        (_OUT1, (1000700370186095, -999700069986002, -887272)),
        (_OUT0, (-999700069986002, 1000700370186095, 887271)),
        (_DOWN_04, (1000700370186095, -999700069986002, -9164)),
        (_UP_25, (-999700069986002, 1000700370186095, 9163)),
    ],
    "medium fee, token0 liquidity only": [
        (_IN0_SMALL, (0, 0, -887272)),
        (_IN1_SMALL, (-996, 1000, 0)),
        (_IN0, (0, 0, -887272)),
        (_IN1, (-665331998665331998, E18, 8089)),
        (_OUT1, (0, 0, -887272)),
        (_OUT0_SMALL, (-1000, 1005, 0)),
        (_OUT0, (-E18, 2006018054162487463, 13863)),
        (_DOWN_04, (0, 0, -9164)),
        (_UP_25, (-735088935932648267, 1165774985123750584, 9163)),
    ],
    "medium fee, token1 liquidity only": [
        (_IN0_SMALL, (1000, -996, -1)),
        (_IN1_SMALL, (0, 0, 887271)),
        (_IN0, (E18, -665331998665331998, -8090)),
        (_OUT1, (2006018054162487463, -E18, -13864)),
        (_OUT0, (0, 0, 887271)),
        (_DOWN_04, (1165774985123750584, -735088935932648267, -9164)),
        (_UP_25, (0, 0, 9163)),
    ],
    "close to max price": [
        (_IN0_SMALL, (1000, -26083549850867114346332688477747755628, 705098)),
        (_IN1_SMALL, (0, 1000, 880340)),
        (_IN0, (E18, -26087635650665564420687107504180041533, 13923)),
        (_IN1, (0, E18, 880340)),
        (_OUT1_SMALL, (2, -1000, 880340)),
        (_OUT1, (2, -E18, 880340)),
        (_OUT0, (0, 10740898373457544742072477595619363803, 887271)),
        (_DOWN_04, (3171793039286238109, -26087635650665564423434232548437664977, -9164)),
        (_DOWN_25, (1268717215714495281, -26087635650665564421536865952336637378, 9163)),
        (_UP_04, None),
    ],
    "close to min price": [
        (_IN0_SMALL, (1000, 0, -880303)),
        (_IN1_SMALL, (-26033697540846965126433148994127431276, 1000, -705093)),
        (_IN1, (-26037782196502120271413746514214063808, E18, -13924)),
        (_OUT1, (10790901831095468191587263901270792610, 0, -887272)),
        (_OUT0_SMALL, (-1000, 2, -880303)),
        (_UP_04, (-26037782196502120272263504962370659661, 1268717215714495283, -9164)),
        (_UP_25, (-26037782196502120274160871558471687260, 3171793039286238112, 9163)),
        (_DOWN_25, None),
    ],
    "max full range liquidity at 1:1 price with default fee": [
        (_IN0_SMALL, (1000, 0, -1)),
        (_IN1_SMALL, (0, 1000, 0)),
        (_IN0, (E18, -996999999999999318, -1)),
        (_IN1, (-996999999999999232, E18, 0)),
        (_OUT1_SMALL, (145660, -1000, -1)),
        (_OUT1, (1003009027081361181, -E18, -1)),
        (_OUT0, (-E18, 1003009027081361094, 0)),
        (_DOWN_04, (6706554036096900675845906992672697, -4228872409409224753601131225116702, -9164)),
        (_UP_25, (-4228872409409224753601131224936259, 6706554036096900675845906992220230, 9163)),
    ],
    "initialized at the max ratio": [
        (_IN0_SMALL, (1000, -36792225529204286454178948640580261338, 705098)),
        (_IN0, (E18, -36796311329002736528533367667012547243, 13923)),
        (_OUT1_SMALL, (2, -1000, 887219)),
        (_DOWN_04, (3171793039286238109, -36796311329002736531280492711270170687, -9164)),
        (_IN1, None),
        (_OUT0, None),
    ],
    "initialized at the min ratio": [
        (_IN1_SMALL, (-36792226666449146913445651103694411508, 1000, -705093)),
        (_IN1, (-36796311322104302058426248623781044040, E18, -13924)),
        (_OUT0_SMALL, (-1000, 2, -887220)),
        (_UP_25, (-36796311322104302061173373668038667492, 3171793039286238112, 9163)),
        (_IN0, None),
        (_OUT1, None),
    ],
}
RESULTS: list[tuple[str, str, tuple[int, int, int] | None]] = [
    (pool, swap, result) for pool, rows in _RECORDED.items() for swap, result in rows
]


def build_pool(pool_description: str) -> ConcentratedPool:
    """Return the pool the spec initializes and mints for ``pool_description``."""
    case = POOLS[pool_description]
    return ConcentratedPool.from_positions(
        case.sqrt_price_x96, case.positions, fee_pips=case.fee_pips, tick_spacing=TICK_SPACINGS[case.fee_pips]
    )


def run_swap(pool: ConcentratedPool, swap_description: str) -> ConcentratedSwapResult:
    """Return the swap the spec runs for ``swap_description`` (its helpers' price limits included)."""
    case = SWAPS[swap_description]
    method = pool.swap_exact_input if case.exact_input else pool.swap_exact_output
    return method(case.amount, case.zero_for_one, case.sqrt_price_limit_x96)
