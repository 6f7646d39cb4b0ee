"""Price, Quantity and Money: exact, immutable, never rounded silently."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.values import Money, Price, Quantity, decimal_places, is_usd_currency, to_decimal


def test_price_keeps_its_precision_and_is_immutable() -> None:
    price = Price(Decimal("105000.5"), 2)
    assert str(price) == "105000.50"
    assert price.precision == 2
    assert float(price) == 105000.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.value = Decimal(1)  # type: ignore[misc]


def test_price_with_more_decimals_than_its_precision_is_refused_not_rounded() -> None:
    with pytest.raises(BadData, match="more than 1 decimals"):
        Price(Decimal("105000.55"), 1)


def test_quantity_is_never_negative() -> None:
    with pytest.raises(BadData, match=">= 0"):
        Quantity(Decimal("-0.1"), 1)


def test_price_and_quantity_of_equal_value_differ() -> None:
    assert Price(Decimal(1), 0) != Quantity(Decimal(1), 0)
    assert Price(Decimal("1.0"), 1) == Price(Decimal("1.00"), 1)


def test_money_keeps_every_digit_and_its_currency() -> None:
    money = Money(Decimal("18.74215630"), "BTC")
    assert money.precision == 8
    assert str(money) == "18.74215630 BTC"


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_money_refuses_non_finite_amounts(amount: Decimal) -> None:
    with pytest.raises(BadData, match="finite"):
        Money(amount, "USDT")


def test_to_decimal_reads_floats_by_their_shortest_repr() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    with pytest.raises(BadData, match="size must be finite"):
        to_decimal(float("nan"), "size")
    with pytest.raises(BadData, match="must be a number"):
        to_decimal("ten")


def test_decimal_places_and_usd_currencies() -> None:
    assert decimal_places(Decimal("0.00001")) == 5
    assert decimal_places(Decimal("1E+1")) == 0
    assert all(is_usd_currency(code) for code in ("USD", "USDT", "USDC"))
    assert not is_usd_currency("ETH")
