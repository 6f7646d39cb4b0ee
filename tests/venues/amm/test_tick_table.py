"""TickTable: v3-core's TickBitmap cases, a literal bitmap as reference, positions and their checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.venues.amm.errors import AmmError, IntegerOutOfRange
from hedgekeeper.venues.amm.tick_math import MAX_TICK, MIN_TICK
from hedgekeeper.venues.amm.tick_table import InitializedTick, TickTable, max_liquidity_per_tick


def _table(ticks: list[int], tick_spacing: int = 1) -> TickTable:
    # Alternate +1 / -1 so the running liquidity stays in [0, 1] and closes at 0; an odd last tick nets 0.
    nets = [(-1) ** index for index in range(len(ticks))]
    if len(ticks) % 2:
        nets[-1] = 0
    return TickTable(tick_spacing, tuple(zip(sorted(ticks), nets, strict=True)))


def _bitmap_next(ticks: list[int], tick_spacing: int, tick: int, lte: bool) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord, word by word and bit by bit as the contract stores it."""
    words: dict[int, int] = {}
    for initialized in ticks:
        compressed = initialized // tick_spacing
        words[compressed >> 8] = words.get(compressed >> 8, 0) | 1 << (compressed % 256)
    compressed = tick // tick_spacing
    if lte:
        word_position, bit_position = compressed >> 8, compressed % 256
        masked = words.get(word_position, 0) & ((1 << bit_position) - 1 + (1 << bit_position))
        if masked:
            return (compressed - (bit_position - (masked.bit_length() - 1))) * tick_spacing, True
        return (compressed - bit_position) * tick_spacing, False
    word_position, bit_position = (compressed + 1) >> 8, (compressed + 1) % 256
    masked = words.get(word_position, 0) & ~((1 << bit_position) - 1) & (2**256 - 1)
    if masked:
        least_significant_bit = (masked & -masked).bit_length() - 1
        return (compressed + 1 + (least_significant_bit - bit_position)) * tick_spacing, True
    return (compressed + 1 + (255 - bit_position)) * tick_spacing, False


# Uniswap/v3-core test/TickBitmap.spec.ts, #nextInitializedTickWithinOneWord with ticks 70, 78, 84, 139, 240, 535
@pytest.mark.parametrize(
    ("extra", "tick", "lte", "expected"),
    [
        ((), 78, False, (84, True)),  # returns tick to right if at initialized tick
        ((), 77, False, (78, True)),  # returns the tick directly to the right
        ((), 255, False, (511, False)),  # returns the next words initialized tick if on the right boundary
        ((340,), 328, False, (340, True)),  # returns the next initialized tick from the next word
        ((), 508, False, (511, False)),  # does not exceed boundary
        ((), 383, False, (511, False)),  # skips half word
        ((), 78, True, (78, True)),  # returns same tick if initialized
        ((), 79, True, (78, True)),  # returns tick directly to the left of input tick if not initialized
        ((), 258, True, (256, False)),  # will not exceed the word boundary
        ((), 256, True, (256, False)),  # at the word boundary
        ((), 72, True, (70, True)),  # word boundary less 1 (next initialized tick in next word)
        ((), -1, True, (-256, False)),  # word boundary
        ((), 1023, True, (768, False)),  # entire empty word
        ((), 900, True, (768, False)),  # halfway through empty word
        ((329,), 456, True, (329, True)),  # boundary is initialized
    ],
)
def test_next_initialized_tick_matches_published_values(
    extra: tuple[int, ...], tick: int, lte: bool, expected: tuple[int, bool]
) -> None:
    table = _table([70, 78, 84, 139, 240, 535, *extra])
    assert table.next_initialized_tick_within_one_word(tick, lte) == expected


spacings = st.sampled_from([1, 10, 60, 200])


@given(
    tick_spacing=spacings,
    compressed_ticks=st.sets(st.integers(-3000, 3000), max_size=12),
    tick=st.integers(-3000 * 200, 3000 * 200),
    lte=st.booleans(),
)
def test_next_initialized_tick_matches_a_literal_bitmap(
    tick_spacing: int, compressed_ticks: set[int], tick: int, lte: bool
) -> None:
    ticks = [compressed * tick_spacing for compressed in compressed_ticks]
    table = _table(ticks, tick_spacing)
    assert table.next_initialized_tick_within_one_word(tick, lte) == _bitmap_next(ticks, tick_spacing, tick, lte)


positions_strategy = st.lists(
    st.tuples(st.integers(-50, 50), st.integers(1, 40), st.integers(1, 10**20)).map(
        lambda p: (p[0] * 60, (p[0] + p[1]) * 60, p[2])
    ),
    max_size=8,
)


@given(positions=positions_strategy, tick=st.integers(-6000, 6000))
def test_active_liquidity_is_the_sum_of_positions_spanning_the_tick(
    positions: list[tuple[int, int, int]], tick: int
) -> None:
    table = TickTable.from_positions(positions, 60)
    spanning = [liquidity for lower, upper, liquidity in positions if lower <= tick < upper]
    assert table.liquidity_at(tick) == sum(spanning)
    bounds = {bound for lower, upper, _ in positions for bound in (lower, upper)}
    assert [initialized.tick for initialized in table.ticks] == sorted(bounds)  # a zero net still initializes


# Uniswap/v3-core test/Tick.spec.ts, #tickSpacingToMaxLiquidityPerTick
@pytest.mark.parametrize(
    ("tick_spacing", "expected"),
    [
        (10, 1917569901783203986719870431555990),
        (60, 11505743598341114571880798222544994),
        (200, 38350317471085141830651933667504588),
        (887272, (2**128 - 1) // 3),  # entire range
        (2302, 441351967472034323558203122479595605),
    ],
)
def test_max_liquidity_per_tick_matches_published_values(tick_spacing: int, expected: int) -> None:
    assert max_liquidity_per_tick(tick_spacing) == expected


def test_a_tick_may_hold_the_maximum_gross_liquidity_but_no_more() -> None:
    cap = max_liquidity_per_tick(60)
    assert TickTable.from_positions([(-60, 60, cap)], 60).liquidity_at(0) == cap
    with pytest.raises(AmmError, match="'LO'"):
        TickTable.from_positions([(-60, 60, cap), (-60, 120, 1)], 60)


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ((60, 60, 1), "lower < upper"),
        ((120, 60, 1), "lower < upper"),
        ((MIN_TICK - 1, 0, 1), "lower < upper"),
        ((0, MAX_TICK + 1, 1), "lower < upper"),
        ((-30, 60, 1), "off the tick spacing 60"),
        ((-60, 60, 0), "zero liquidity"),
    ],
)
def test_positions_the_pool_would_not_mint_are_refused(position: tuple[int, int, int], message: str) -> None:
    with pytest.raises(AmmError, match=message):
        TickTable.from_positions([position], 60)


def test_negative_liquidity_is_refused_as_out_of_range() -> None:
    with pytest.raises(IntegerOutOfRange, match="liquidity = -5"):
        TickTable.from_positions([(-60, 60, -5)], 60)


@pytest.mark.parametrize(
    ("ticks", "message"),
    [
        (((-60, 5), (30, -5)), "not a multiple of 60"),
        (((-60, 5), (-60, -5)), "listed twice"),
        (((-60, 5), (60, -4)), "sums to 1, not 0"),
        (((-60, -5), (60, 5)), "outside uint128: ticks are missing"),
        (((-887280, 5), (60, -5)), "within"),
    ],
)
def test_incomplete_or_malformed_tick_lists_are_refused(ticks: tuple[tuple[int, int], ...], message: str) -> None:
    with pytest.raises(AmmError, match=message):
        TickTable(60, ticks)


def test_ticks_are_stored_sorted_whatever_order_they_come_in() -> None:
    table = TickTable(10, ((100, -7), (-100, 7)))
    assert table.ticks == (InitializedTick(-100, 7), InitializedTick(100, -7))
    assert table == TickTable(10, ((-100, 7), (100, -7)))


@pytest.mark.parametrize("tick_spacing", [0, -60, 16384])
def test_tick_spacings_the_factory_refuses_are_refused(tick_spacing: int) -> None:
    with pytest.raises(AmmError, match="tick_spacing"):
        TickTable(tick_spacing)
