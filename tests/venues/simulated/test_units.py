"""Market data units into ticks and contracts, with rounding that never improves a level."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.simulated.units import contracts_of_coin, public_level, public_price

from venues.simulated.builders import inverse_perpetual, linear_perpetual

D = Decimal


def test_linear_sizes_are_coin_over_contract_size_in_whole_lots() -> None:
    perpetual = linear_perpetual(tick="0.1", lot="0.001", min_size="0.001")
    assert public_level(perpetual, 100_000.04, 0.12345, is_bid=True) == (D("100000.0"), D("0.123"))
    assert public_level(perpetual, 100_000.04, 0.12345, is_bid=False) == (D("100000.1"), D("0.123"))


def test_numpy_floats_from_simulators_convert_exactly() -> None:
    perpetual = linear_perpetual(tick="0.1", lot="0.001", min_size="0.001")
    assert public_level(perpetual, np.float64(99_998.3), np.float64(0.25), is_bid=False) == (D("99998.3"), D("0.250"))


def test_inverse_sizes_are_usd_face_over_contract_size() -> None:
    # 0.5 BTC at 60,000 is 30,000 USD: 3,000 contracts of 10 USD.
    assert contracts_of_coin(inverse_perpetual(), 0.5, D(60_000)) == D(3_000)


@pytest.mark.parametrize("price", [0.0, -1.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_prices_are_bad_data(price: float) -> None:
    with pytest.raises(BadData, match="price of BTC_USDC-PERPETUAL"):
        public_price(linear_perpetual(), price, is_bid=True)


def test_negative_sizes_are_bad_data() -> None:
    with pytest.raises(BadData, match="must be >= 0 coin"):
        contracts_of_coin(linear_perpetual(), -1.0, D(100))


@given(st.floats(1.0, 1e6, allow_nan=False), st.floats(0.0, 1e4, allow_nan=False), st.booleans(),
       st.sampled_from([linear_perpetual(tick="0.1", lot="0.001", min_size="0.001"), inverse_perpetual()]))
def test_the_float_shortcut_gives_the_exact_paths_answer(price_usd: float, size_coin: float, is_bid: bool,
                                                         instrument: Instrument) -> None:
    price = public_price(instrument, price_usd, is_bid=is_bid)
    assert public_level(instrument, price_usd, size_coin, is_bid=is_bid) == (
        price, contracts_of_coin(instrument, size_coin, price))
