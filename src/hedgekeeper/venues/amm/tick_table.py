"""A concentrated-liquidity pool's initialized ticks, searched as ``TickBitmap`` searches them.

Uniswap v3 keeps one bit per usable tick (``tick / tick_spacing``) in 256-bit
words and, in a swap, looks for the next initialized tick only within the
current word (``TickBitmap.nextInitializedTickWithinOneWord``). A step therefore
also stops at word boundaries, and each stop rounds: to reproduce the contract
to the wei the search must stop where it does. ``TickTable`` answers the same
question from a sorted tuple with ``bisect``, bounded to the same words.

A tick is initialized while any position uses it as a bound (its gross liquidity
is positive), even when its ``liquidity_net`` is zero; such ticks still end steps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.liquidity_math import add_delta
from hedgekeeper.venues.amm.solidity_ints import UINT128_MAX, as_int, as_uint
from hedgekeeper.venues.amm.tick_math import MAX_TICK, MIN_TICK

_WORD_BITS = 256
MAX_TICK_SPACING = 16383  # UniswapV3Factory.enableFeeAmount: 0 < tickSpacing < 16384


class InitializedTick(NamedTuple):
    """An initialized tick and the liquidity that enters when the price crosses it upward.

    Attributes
    ----------
    tick : int, int24, a multiple of the pool's tick spacing
    liquidity_net : int, int128, added crossing up (left to right), subtracted crossing down
    """

    tick: int
    liquidity_net: int


class LiquidityPosition(NamedTuple):
    """A liquidity position: ``liquidity`` active while ``tick_lower <= tick < tick_upper``.

    Attributes
    ----------
    tick_lower, tick_upper : int, int24, multiples of the tick spacing, lower < upper
    liquidity : int, uint128, positive
    """

    tick_lower: int
    tick_upper: int
    liquidity: int


def require_tick_spacing(tick_spacing: int) -> int:
    """Return ``tick_spacing`` if the factory would allow it: an int in ``[1, 16383]``."""
    as_int("tick_spacing", tick_spacing, 24)
    if not 0 < tick_spacing <= MAX_TICK_SPACING:
        raise AmmError(f"tick_spacing = {tick_spacing} is outside [1, {MAX_TICK_SPACING}]")
    return tick_spacing


def max_liquidity_per_tick(tick_spacing: int) -> int:
    """Return the most gross liquidity one tick may reference, as ``Tick.tickSpacingToMaxLiquidityPerTick``.

    ``type(uint128).max`` shared evenly by every usable tick, so that the active
    liquidity can never overflow uint128.

    Examples
    --------
    >>> max_liquidity_per_tick(60)
    11505743598341114571880798222544994
    """
    if as_int("tick_spacing", tick_spacing, 24) <= 0:
        raise AmmError(f"tick_spacing = {tick_spacing} must be positive")
    min_tick = -(-MIN_TICK // tick_spacing) * tick_spacing  # Solidity division truncates toward zero
    max_tick = (MAX_TICK // tick_spacing) * tick_spacing
    return UINT128_MAX // ((max_tick - min_tick) // tick_spacing + 1)


@dataclass(frozen=True, slots=True)
class TickTable:
    """The initialized ticks of a pool, validated and indexed for the swap loop.

    ``ticks`` may be given in any order as ``(tick, liquidity_net)`` pairs; it is
    stored sorted as ``InitializedTick``. The table must be complete (every
    initialized tick of the pool), which is checked: the running sum of
    ``liquidity_net`` from the left, the active liquidity, never goes negative or
    past uint128 and returns to zero after the last tick.

    Attributes
    ----------
    tick_spacing : int, in [1, 16383]
    ticks : tuple of InitializedTick, sorted by tick

    Examples
    --------
    >>> table = TickTable.from_positions([(-120, 120, 10**18), (0, 600, 5 * 10**17)], tick_spacing=60)
    >>> table.ticks[0], table.liquidity_at(0), table.liquidity_at(120)
    (InitializedTick(tick=-120, liquidity_net=1000000000000000000), 1500000000000000000, 500000000000000000)
    >>> table.next_initialized_tick_within_one_word(50, lte=False)
    (120, True)
    """

    tick_spacing: int
    ticks: tuple[InitializedTick, ...] = ()
    _compressed: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _active_after: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _net_by_tick: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spacing = require_tick_spacing(self.tick_spacing)
        ticks = tuple(
            sorted(
                InitializedTick(as_int("tick", tick, 24), as_int("liquidity_net", liquidity_net, 128))
                for tick, liquidity_net in self.ticks
            )
        )
        for earlier, later in zip(ticks, ticks[1:]):
            if earlier.tick == later.tick:
                raise AmmError(f"tick {later.tick} is listed twice")
        active = 0
        active_after: list[int] = []
        for tick, liquidity_net in ticks:
            if tick % spacing or not MIN_TICK <= tick <= MAX_TICK:
                raise AmmError(f"tick {tick} is not a multiple of {spacing} within [{MIN_TICK}, {MAX_TICK}]")
            active += liquidity_net
            if not 0 <= active <= UINT128_MAX:
                raise AmmError(f"active liquidity {active} above tick {tick} is outside uint128: ticks are missing")
            active_after.append(active)
        if active:
            raise AmmError(f"liquidity_net sums to {active}, not 0: the tick list is incomplete")
        object.__setattr__(self, "ticks", ticks)
        object.__setattr__(self, "_compressed", tuple(tick // spacing for tick, _ in ticks))
        object.__setattr__(self, "_active_after", tuple(active_after))
        object.__setattr__(self, "_net_by_tick", dict(ticks))

    @classmethod
    def from_positions(cls, positions: Iterable[tuple[int, int, int]], tick_spacing: int) -> TickTable:
        """Return the table that minting ``positions`` (``(tick_lower, tick_upper, liquidity)``) creates.

        Raises
        ------
        AmmError
            A position the pool would refuse to mint: bounds out of order (``'TLU'``),
            outside the tick range (``'TLM'``, ``'TUM'``), off the spacing, zero
            liquidity, or a tick's gross liquidity above ``max_liquidity_per_tick`` (``'LO'``).
        """
        require_tick_spacing(tick_spacing)
        cap = max_liquidity_per_tick(tick_spacing)
        gross: dict[int, int] = {}
        net: dict[int, int] = {}
        for tick_lower, tick_upper, liquidity in map(LiquidityPosition._make, positions):
            as_int("tick_lower", tick_lower, 24)
            as_int("tick_upper", tick_upper, 24)
            if not MIN_TICK <= tick_lower < tick_upper <= MAX_TICK:
                raise AmmError(
                    f"position [{tick_lower}, {tick_upper}) needs {MIN_TICK} <= lower < upper <= {MAX_TICK}"
                )
            if tick_lower % tick_spacing or tick_upper % tick_spacing:
                raise AmmError(f"position [{tick_lower}, {tick_upper}) is off the tick spacing {tick_spacing}")
            if as_uint("liquidity", liquidity, 128) == 0:
                raise AmmError(f"position [{tick_lower}, {tick_upper}) has zero liquidity")
            for tick, sign in ((tick_lower, 1), (tick_upper, -1)):
                gross[tick] = add_delta(gross.get(tick, 0), liquidity)
                if gross[tick] > cap:
                    raise AmmError(f"gross liquidity {gross[tick]} at tick {tick} exceeds {cap} per tick (Tick 'LO')")
                net[tick] = net.get(tick, 0) + sign * liquidity
        return cls(tick_spacing, tuple(net.items()))

    def liquidity_net(self, tick: int) -> int:
        """Return the ``liquidity_net`` of an initialized ``tick`` (KeyError if it is not initialized)."""
        return self._net_by_tick[tick]

    def liquidity_at(self, tick: int) -> int:
        """Return the active liquidity while the pool's current tick is ``tick``: net summed over ticks <= it."""
        index = bisect_right(self._compressed, tick // self.tick_spacing) - 1
        return self._active_after[index] if index >= 0 else 0

    def has_initialized_tick(self, tick: int, lte: bool) -> bool:
        """Return whether any tick is initialized at or below ``tick`` (``lte``), or above it."""
        if not self._compressed:
            return False
        compressed = tick // self.tick_spacing
        return self._compressed[0] <= compressed if lte else self._compressed[-1] > compressed

    def next_initialized_tick_within_one_word(self, tick: int, lte: bool) -> tuple[int, bool]:
        """Return the next initialized tick within ``tick``'s bitmap word, or the word's edge.

        As ``TickBitmap.nextInitializedTickWithinOneWord``: searching down (``lte``)
        from ``tick`` itself, up from the tick after it, never past the 256 usable
        ticks of the word. The result may lie beyond ``[MIN_TICK, MAX_TICK]``; the
        swap clamps it.

        Returns
        -------
        (int, bool), the tick, and whether it is initialized (False at a word edge)
        """
        compressed = tick // self.tick_spacing  # floor, as the contract rounds toward -infinity
        if lte:
            word_start = compressed - (compressed % _WORD_BITS)
            index = bisect_right(self._compressed, compressed) - 1
            if index >= 0 and self._compressed[index] >= word_start:
                return self._compressed[index] * self.tick_spacing, True
            return word_start * self.tick_spacing, False
        start = compressed + 1
        word_end = start - (start % _WORD_BITS) + _WORD_BITS - 1
        index = bisect_left(self._compressed, start)
        if index < len(self._compressed) and self._compressed[index] <= word_end:
            return self._compressed[index] * self.tick_spacing, True
        return word_end * self.tick_spacing, False
