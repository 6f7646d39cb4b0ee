"""Synthetic books: never crossed, spread widening and depth thinning as the vol rises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.market.simulators.books import BookLevels, BookParameters, book_levels, spread_usd

from market.simulators.configs import BOOK

EXACT = BookParameters(**(BOOK | {"size_noise": 0.0, "tick_size_usd": None}))
TICKED = BookParameters(**BOOK)


def _book(mid: np.ndarray, vol: np.ndarray, parameters: BookParameters, seed: int) -> BookLevels:
    return book_levels(mid, vol, parameters, np.random.default_rng(seed))


@given(mid=st.floats(1.0, 1e6), vol=st.floats(0.0, 20.0), seed=st.integers(0, 2**32))
def test_book_is_never_crossed_and_levels_are_strictly_ordered(mid: float, vol: float,
                                                               seed: int) -> None:
    for parameters in (EXACT, TICKED):
        book = _book(np.array([mid]), np.array([vol]), parameters, seed)
        assert book.bid_usd[0, 0] < mid < book.ask_usd[0, 0]
        assert np.all(np.diff(book.bid_usd) < 0.0) and np.all(np.diff(book.ask_usd) > 0.0)
        assert np.all(book.bid_size_coin > 0.0) and np.all(book.ask_size_coin > 0.0)


def test_spread_widens_monotonically_with_vol() -> None:
    vols = np.linspace(0.0, 5.0, 501)
    mids = np.full(vols.size, 60_000.0)
    exact = _book(mids, vols, EXACT, 81)
    exact_spread = exact.ask_usd[:, 0] - exact.bid_usd[:, 0]
    assert np.all(np.diff(exact_spread) > 0.0)
    np.testing.assert_allclose(exact_spread, spread_usd(mids, vols, EXACT))
    ticked = _book(mids, vols, TICKED, 81)
    ticked_spread = ticked.ask_usd[:, 0] - ticked.bid_usd[:, 0]
    assert np.all(np.diff(ticked_spread) >= 0.0) and ticked_spread[-1] > ticked_spread[0]


def test_depth_shrinks_with_vol_and_with_distance_from_mid() -> None:
    vols = np.linspace(0.0, 5.0, 51)
    book = _book(np.full(vols.size, 60_000.0), vols, EXACT, 82)
    for sizes in (book.bid_size_coin, book.ask_size_coin):
        assert np.all(np.diff(sizes, axis=0) < 0.0) and np.all(np.diff(sizes, axis=1) < 0.0)
    assert book.bid_size_coin[0, 0] == pytest.approx(EXACT.base_depth_coin)


def test_size_noise_keeps_the_mean_depth() -> None:
    count = 20_000
    book = _book(np.full(count, 60_000.0), np.full(count, 1.0), TICKED, 83)
    expected = TICKED.base_depth_coin * np.exp(-TICKED.depth_decay_per_vol)
    sizes = book.bid_size_coin[:, 0]
    assert abs(sizes.mean() - expected) < 4.0 * sizes.std() / np.sqrt(count)


def test_ticked_prices_sit_on_the_tick() -> None:
    book = _book(np.array([60_000.37]), np.array([0.8]), TICKED, 84)
    for prices in (book.bid_usd, book.ask_usd):
        np.testing.assert_allclose(prices / 0.5, np.round(prices / 0.5), atol=1e-9)


def test_same_generator_state_gives_the_same_book() -> None:
    mids, vols = np.array([100.0, 101.0]), np.array([0.5, 0.6])
    first, second = _book(mids, vols, TICKED, 5), _book(mids, vols, TICKED, 5)
    np.testing.assert_array_equal(first.bid_size_coin, second.bid_size_coin)
