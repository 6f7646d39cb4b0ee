"""Immutable, Decimal-backed values that carry their precision: ``Price``, ``Quantity``, ``Money``.

These are the numbers that cross the edge to a venue or into the books: an order's
price and size, a fee, a balance. They are exact (``decimal.Decimal``) and never
rounded silently:

- ``Price`` and ``Quantity`` are made by an instrument (``Instrument.make_price``,
  ``Instrument.make_qty``), which rounds to its tick or lot size in the direction
  the caller chose (``round_down=True`` or ``False``). Built directly, they refuse a
  value with more decimals than their precision instead of rounding it.
- ``Money`` keeps every digit it is given, in a named currency.

Analytics never use them: the portfolio converts to float64 once, on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hedgekeeper.errors import BadData

#: Currencies counted as US dollars, one for one: USD and the dollar stablecoins.
USD_CURRENCIES = frozenset({"USD", "USDT", "USDC", "DAI", "FDUSD", "PYUSD"})


def is_usd_currency(currency: str) -> bool:
    """Return whether ``currency`` counts as USD (USD or a dollar stablecoin).

    >>> is_usd_currency("USDT"), is_usd_currency("BTC")
    (True, False)
    """
    return currency in USD_CURRENCIES


def to_decimal(value: Decimal | float | int | str, name: str = "value") -> Decimal:
    """Return ``value`` as an exact, finite ``Decimal`` (a float through its shortest repr).

    Raises
    ------
    BadData
        If ``value`` is not a number or is NaN or infinite; the message names ``name``.

    >>> import numpy as np
    >>> to_decimal(0.1), to_decimal("105000.5"), to_decimal(np.float64(1.5))
    (Decimal('0.1'), Decimal('105000.5'), Decimal('1.5'))
    """
    try:
        # float() first: a NumPy float is a float whose repr names its type.
        number = Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BadData(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise BadData(f"{name} must be finite, got {value!r}")
    return number


def decimal_places(value: Decimal) -> int:
    """Return the number of decimal places of ``value`` as written (0 for integers).

    >>> decimal_places(Decimal("0.0005")), decimal_places(Decimal("10"))
    (4, 0)
    """
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A finite Decimal stored at exactly ``precision`` decimal places."""

    value: Decimal
    precision: int

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not self.value.is_finite():
            raise BadData(f"{type(self).__name__} needs a finite Decimal, got {self.value!r}")
        if self.precision < 0:
            raise BadData(f"{type(self).__name__} precision must be >= 0, got {self.precision}")
        exact = self.value.quantize(Decimal(1).scaleb(-self.precision))
        if exact != self.value:
            raise BadData(
                f"{type(self).__name__} {self.value} has more than {self.precision} decimals; "
                "make it with an instrument, which rounds in the direction you choose"
            )
        object.__setattr__(self, "value", exact)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"{self.value:f}"


class Price(_Fixed):
    """A price at its instrument's precision: USD per coin, or coin per coin for inverse options.

    >>> Price(Decimal("105000.5"), 1)
    Price(value=Decimal('105000.5'), precision=1)
    """

    __slots__ = ()


class Quantity(_Fixed):
    """A non-negative size at its instrument's precision, in contracts (the side is separate).

    >>> str(Quantity(Decimal("0.3"), 1))
    '0.3'
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        _Fixed.__post_init__(self)
        if self.value < 0:
            raise BadData(f"Quantity must be >= 0 (the side is separate), got {self.value}")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency, kept with every digit it was given.

    Parameters
    ----------
    amount : Decimal, finite, in units of ``currency``
    currency : str, e.g. ``"BTC"``, ``"USDT"``

    >>> Money(Decimal("12.50000000"), "BTC").precision
    8
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise BadData(f"Money needs a finite Decimal amount, got {self.amount!r} {self.currency}")
        if not self.currency:
            raise BadData("Money needs a currency")

    @property
    def precision(self) -> int:
        """Return the number of decimal places the amount carries."""
        return decimal_places(self.amount)

    def __float__(self) -> float:
        return float(self.amount)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"
