"""Contract arithmetic against hand-computed values, and entry averaging against P&L additivity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.venues.simulated.accounting import average_entry, fee_amount, funding_payment, notional_usd, pnl

from venues.simulated.builders import inverse_perpetual, linear_perpetual

D = Decimal
LINEAR = linear_perpetual()
INVERSE = inverse_perpetual()  # 10 USD of face per contract


def test_notional_is_coin_times_price_for_linear_and_face_for_inverse() -> None:
    assert notional_usd(LINEAR, D(-3), D("100.5")) == D("301.5")
    assert notional_usd(INVERSE, D(-3), D("100.5")) == D(30)


def test_fee_is_rate_times_notional_in_the_settlement_currency_and_a_negative_rate_is_a_rebate() -> None:
    assert fee_amount(LINEAR, D(2), D(50_000), D("0.0005")) == D(50)
    assert fee_amount(INVERSE, D(2_000), D(50_000), D("0.0005")) == D("0.0002")  # 10 USD of 20,000 / 50,000
    assert fee_amount(LINEAR, D(2), D(50_000), D("-0.0001")) == D(-10)


def test_pnl_of_linear_and_inverse_positions_by_hand() -> None:
    assert pnl(LINEAR, D(2), D(100), D(110)) == D(20)
    assert pnl(LINEAR, D(-2), D(100), D(110)) == D(-20)
    # 10,000 USD of face long from 50,000 to 100,000: 10,000 (1/50,000 - 1/100,000) = 0.1 BTC.
    assert pnl(INVERSE, D(1_000), D(50_000), D(100_000)) == D("0.1")


def test_inverse_entry_is_the_harmonic_mean_by_face() -> None:
    entry = average_entry(INVERSE, D(100), D(50_000), D(100), D(100_000))
    assert entry == pytest.approx(D(200) / (D(100) / 50_000 + D(100) / 100_000))
    assert round(entry, 4) == D("66666.6667")
    assert average_entry(LINEAR, D(1), D(100), D(3), D(104)) == D(103)


@given(st.sampled_from([LINEAR, INVERSE]), st.integers(1, 10_000), st.integers(1, 10_000),
       st.integers(1_000, 200_000), st.integers(1_000, 200_000), st.integers(1_000, 200_000), st.sampled_from([1, -1]))
def test_closing_an_averaged_position_realises_the_sum_of_closing_each_lot(
    instrument, first: int, second: int, entry_1: int, entry_2: int, exit_price: int, sign: int
) -> None:
    entry = average_entry(instrument, D(sign * first), D(entry_1), D(sign * second), D(entry_2))
    together = pnl(instrument, D(sign * (first + second)), entry, D(exit_price))
    apart = pnl(instrument, D(sign * first), D(entry_1), D(exit_price)) + pnl(
        instrument, D(sign * second), D(entry_2), D(exit_price))
    assert abs(together - apart) <= D("1e-18") * (1 + abs(apart))


def test_funding_is_paid_by_longs_at_a_positive_rate_and_received_by_shorts() -> None:
    assert funding_payment(LINEAR, D(2), D("0.0001"), D(100_000)) == D(20)
    assert funding_payment(LINEAR, D(-2), D("0.0001"), D(100_000)) == D(-20)
    assert funding_payment(LINEAR, D(2), D("-0.0001"), D(100_000)) == D(-20)
    # 500 contracts = 5,000 USD of face; 0.0001 of it at 50,000 USD per BTC is 0.00001 BTC.
    assert funding_payment(INVERSE, D(500), D("0.0001"), D(50_000)) == D("0.00001")
