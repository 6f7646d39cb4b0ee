"""Concentrated-liquidity pools (Uniswap v3): ``UniswapV3Pool.swap`` replayed on Python ints.

The swap loop, step by step as the contract runs it: from the current tick find
the next initialized tick within the bitmap word (``TickTable``), clamp it to
``[MIN_TICK, MAX_TICK]``, aim at it or at the price limit if nearer, let
``compute_swap_step`` move the price with the active liquidity, and on reaching
an initialized tick cross it (add its ``liquidity_net`` going up, subtract it
going down). The loop ends when the amount is spent or the limit is reached.
Amounts, the price, the tick and the liquidity after match the contract exactly;
fee growth, oracle observations and the protocol fee (which never changes what
the trader pays or gets) are not tracked.

One shortcut, exact as well: once no initialized tick is left in the direction
of the swap the liquidity is zero, every remaining step pays nothing, and the
walk across empty words to the limit is skipped; its final tick is computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.liquidity_math import add_delta
from hedgekeeper.venues.amm.pool import SwapResult
from hedgekeeper.venues.amm.solidity_ints import as_int, as_uint
from hedgekeeper.venues.amm.swap_math import compute_swap_step, require_fee_pips
from hedgekeeper.venues.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from hedgekeeper.venues.amm.tick_table import TickTable

_WORD_BITS = 256


@dataclass(frozen=True, slots=True)
class ConcentratedSwapResult(SwapResult["ConcentratedPool"]):
    """A v3 swap: amounts, fee, the pool after, and the initialized ticks crossed in order.

    The price, tick and liquidity after are ``pool.sqrt_price_x96``, ``pool.tick``
    and ``pool.liquidity``. An exact-output swap that reaches its price limit
    delivers less than asked: compare ``amount_out`` with the request.

    Attributes
    ----------
    ticks_crossed : tuple of int, the initialized ticks crossed, in the order crossed
    """

    ticks_crossed: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ConcentratedPool:
    """A Uniswap v3 pool's swap state: ``slot0``'s price and tick, the active liquidity and the ticks.

    Attributes
    ----------
    sqrt_price_x96 : int, Q64.96 square root of the price (token1 per token0, base units),
        in ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO)``
    tick : int, the current tick: ``get_tick_at_sqrt_ratio(sqrt_price_x96)``, or one less when
        a downward swap stopped exactly on a tick's price (as the contract leaves it)
    liquidity : int, uint128, active liquidity, which must equal ``ticks.liquidity_at(tick)``
    fee_pips : int, hundredths of a bip (500 = 0.05%), in [0, 1e6)
    tick_spacing : int, equal to ``ticks.tick_spacing``
    ticks : TickTable, every initialized tick of the pool

    Examples
    --------
    A 0.05% pool at price 1 with 2e18 of liquidity over the full range (v3-core's
    "low fee, 1:1 price, 2e18 max range liquidity" swap test):

    >>> pool = ConcentratedPool.from_positions(2**96, [(-887270, 887270, 2 * 10**18)],
    ...                                        fee_pips=500, tick_spacing=10)
    >>> result = pool.swap_exact_input(10**18, zero_for_one=True)
    >>> result.amount_out, result.fee, result.pool.tick
    (666444407401233536, 500000000000002, -8107)
    """

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee_pips: int
    tick_spacing: int
    ticks: TickTable

    def __post_init__(self) -> None:
        require_fee_pips(self.fee_pips)
        if not isinstance(self.ticks, TickTable):
            raise AmmError(f"ticks must be a TickTable, got {type(self.ticks).__name__}")
        if self.ticks.tick_spacing != self.tick_spacing:
            raise AmmError(
                f"tick table spacing {self.ticks.tick_spacing} differs from the pool's {self.tick_spacing}"
            )
        price_tick = get_tick_at_sqrt_ratio(self.sqrt_price_x96)
        on_tick_price = get_sqrt_ratio_at_tick(price_tick) == self.sqrt_price_x96
        just_below = on_tick_price and self.tick == price_tick - 1 >= MIN_TICK
        if as_int("tick", self.tick, 24) != price_tick and not just_below:
            raise AmmError(
                f"tick {self.tick} does not hold sqrt_price_x96 {self.sqrt_price_x96} (its tick is {price_tick})"
            )
        expected = self.ticks.liquidity_at(self.tick)
        if as_uint("liquidity", self.liquidity, 128) != expected:
            raise AmmError(
                f"liquidity {self.liquidity} differs from {expected}, the ticks' sum at tick {self.tick}"
            )

    @classmethod
    def from_positions(
        cls,
        sqrt_price_x96: int,
        positions: Iterable[tuple[int, int, int]],
        *,
        fee_pips: int,
        tick_spacing: int,
    ) -> ConcentratedPool:
        """Return the pool initialized at ``sqrt_price_x96`` with ``positions`` minted.

        Parameters
        ----------
        sqrt_price_x96 : int, Q64.96, the initial price (as ``UniswapV3Pool.initialize``)
        positions : iterable of (tick_lower, tick_upper, liquidity), see ``LiquidityPosition``
        fee_pips : int, hundredths of a bip
        tick_spacing : int
        """
        ticks = TickTable.from_positions(positions, tick_spacing)
        tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
        return cls(sqrt_price_x96, tick, ticks.liquidity_at(tick), fee_pips, tick_spacing, ticks)

    def mid_price_raw(self) -> float:
        """Return ``(sqrt_price_x96 / 2**96) ** 2``, token1 base units per token0 base unit, before fees."""
        return (self.sqrt_price_x96 / (1 << 96)) ** 2

    def swap_exact_input(
        self, amount_in: int, zero_for_one: bool, sqrt_price_limit_x96: int | None = None
    ) -> ConcentratedSwapResult:
        """Return the swap paying in ``amount_in`` (fee included) or less if the price limit comes first.

        Parameters
        ----------
        amount_in : int, base units of token0 if ``zero_for_one`` else token1, in (0, 2**255)
        zero_for_one : bool, True when token0 is paid in (the price falls)
        sqrt_price_limit_x96 : int or None, Q64.96 price the swap may not pass; None for
            ``MIN_SQRT_RATIO + 1`` (or ``MAX_SQRT_RATIO - 1``), as the v3 periphery does

        Raises
        ------
        AmmError
            ``amount_in`` not positive, or a limit on the wrong side of the price or
            out of range (the contract's ``'AS'`` and ``'SPL'``).
        """
        if as_int("amount_in", amount_in, 256) <= 0:
            raise AmmError(f"amount_in = {amount_in} must be positive (UniswapV3Pool 'AS')")
        return self._swap(amount_in, zero_for_one, sqrt_price_limit_x96)

    def swap_exact_output(
        self, amount_out: int, zero_for_one: bool, sqrt_price_limit_x96: int | None = None
    ) -> ConcentratedSwapResult:
        """Return the swap receiving ``amount_out``, or less if the price limit comes first.

        Parameters
        ----------
        amount_out : int, base units of token1 if ``zero_for_one`` else token0, in (0, 2**255]
        zero_for_one : bool, True when token0 is paid in (the price falls)
        sqrt_price_limit_x96 : int or None, as in ``swap_exact_input``
        """
        if as_int("amount_out", -amount_out, 256) >= 0:
            raise AmmError(f"amount_out = {amount_out} must be positive (UniswapV3Pool 'AS')")
        return self._swap(-amount_out, zero_for_one, sqrt_price_limit_x96)

    def _limit(self, zero_for_one: bool, sqrt_price_limit_x96: int | None) -> int:
        if sqrt_price_limit_x96 is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        else:
            limit = as_uint("sqrt_price_limit_x96", sqrt_price_limit_x96, 160)
        valid = (
            MIN_SQRT_RATIO < limit < self.sqrt_price_x96
            if zero_for_one
            else self.sqrt_price_x96 < limit < MAX_SQRT_RATIO
        )
        if not valid:
            side = "below" if zero_for_one else "above"
            raise AmmError(
                f"price limit {limit} must lie {side} the price {self.sqrt_price_x96} and strictly inside"
                f" (MIN_SQRT_RATIO, MAX_SQRT_RATIO) (UniswapV3Pool 'SPL')"
            )
        return limit

    def _tick_at_limit(self, limit: int, zero_for_one: bool) -> int:
        # Where the contract's walk across empty words ends. Downward, its last step
        # aims at a word's first tick; stopping exactly on that tick's price leaves
        # the tick one below it. Upward steps end on a word's last tick, whose price
        # maps back to that same tick.
        tick = get_tick_at_sqrt_ratio(limit)
        on_word_start = tick % (self.tick_spacing * _WORD_BITS) == 0
        if zero_for_one and on_word_start and get_sqrt_ratio_at_tick(tick) == limit:
            return tick - 1
        return tick

    def _swap(
        self, amount_specified: int, zero_for_one: bool, sqrt_price_limit_x96: int | None
    ) -> ConcentratedSwapResult:
        limit = self._limit(zero_for_one, sqrt_price_limit_x96)
        exact_input = amount_specified > 0
        remaining = amount_specified
        sqrt_price, tick, liquidity = self.sqrt_price_x96, self.tick, self.liquidity
        paid_in = paid_out = fees = 0
        crossed: list[int] = []
        ticks = self.ticks
        while remaining != 0 and sqrt_price != limit:
            if liquidity == 0 and not ticks.has_initialized_tick(tick, zero_for_one):
                sqrt_price, tick = limit, self._tick_at_limit(limit, zero_for_one)
                break
            tick_next, initialized = ticks.next_initialized_tick_within_one_word(tick, zero_for_one)
            tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
            sqrt_price_next = get_sqrt_ratio_at_tick(tick_next)
            beyond_limit = sqrt_price_next < limit if zero_for_one else sqrt_price_next > limit
            step = compute_swap_step(
                sqrt_price, limit if beyond_limit else sqrt_price_next, liquidity, remaining, self.fee_pips
            )
            step_start, sqrt_price = sqrt_price, step.sqrt_price_next_x96
            paid_in += step.amount_in + step.fee_amount
            paid_out += step.amount_out
            fees += step.fee_amount
            remaining += -(step.amount_in + step.fee_amount) if exact_input else step.amount_out
            if sqrt_price == sqrt_price_next:
                if initialized:
                    net = ticks.liquidity_net(tick_next)
                    liquidity = add_delta(liquidity, -net if zero_for_one else net)
                    crossed.append(tick_next)
                tick = tick_next - 1 if zero_for_one else tick_next
            elif sqrt_price != step_start:
                tick = get_tick_at_sqrt_ratio(sqrt_price)
        as_int("amount paid in", paid_in, 256)
        as_int("amount paid out", paid_out, 256)
        pool = replace(self, sqrt_price_x96=sqrt_price, tick=tick, liquidity=liquidity)
        return ConcentratedSwapResult(paid_in, paid_out, fees, pool, tuple(crossed))
